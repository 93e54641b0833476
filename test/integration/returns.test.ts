/**
 * Tickets on orders and returns (RMA), end to end against the real catalog and orders
 * services: ownership of the order, customer and order details for agents, what can be
 * returned, and an approved return refunded and restocked exactly once.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, withRoles, type Account, type TestShop } from "../helpers/shop.js";
import type { Collection } from "../../lib/store/index.js";
import type { TicketRecord } from "../../lib/domain/tickets.js";

let shop: TestShop;
let boss: Account;
let agent: Account;
let ann: Account;
let bob: Account;

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products", "orders", "pricing", "tickets", "notifications"], env: ADMIN_ENV });
	boss = await admin(shop);
	agent = await withRoles(shop, ["customer", "agent"], "Agent");
	ann = await customer(shop, "Ann");
	bob = await customer(shop, "Bob");
});
afterAll(async () => {
	await shop?.stop();
});

// ---- helpers: the checkout flow of the contract

interface Product {
	id: string;
	price: number;
	stock: number;
}

async function newProduct(price: number, stock = 50): Promise<Product> {
	const res = await boss.http.post("/api/v1/products", {
		sku: `SKU-${randomUUID().slice(0, 8)}`,
		name: "Mug",
		description: "A mug",
		price,
		currency: "EUR",
		stock,
	});
	if (res.status !== 201) throw new Error(`product: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body;
}

const checkoutBody = {
	shippingAddress: { name: "Ann", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" },
	payment: { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123" },
};

/** A paid order of `buyer` with these lines. */
async function paidOrder(buyer: Account, lines: [Product, number][]): Promise<{ id: string; total: number }> {
	for (const [p, quantity] of lines) {
		const added = await buyer.http.post("/api/v1/cart/items", { productId: p.id, quantity });
		if (added.status !== 200) throw new Error(`cart: ${added.status} ${JSON.stringify(added.body)}`);
	}
	const placed = await buyer.http.post("/api/v1/orders", checkoutBody, { "idempotency-key": randomUUID() });
	if (placed.status !== 202) throw new Error(`checkout: ${placed.status} ${JSON.stringify(placed.body)}`);
	return eventually(
		async () => {
			const o = await buyer.http.get(`/api/v1/orders/${placed.body.id}`);
			if (o.body.status === "cancelled") throw new Error(`order cancelled: ${JSON.stringify(o.body.statusHistory)}`);
			return o.body.status === "paid" ? o.body : undefined;
		},
		15_000,
		"the order to be paid",
	);
}

async function deliveredOrder(buyer: Account, lines: [Product, number][]): Promise<{ id: string; total: number }> {
	const order = await paidOrder(buyer, lines);
	for (const step of ["ship", "deliver"]) {
		const res = await boss.http.post(`/api/v1/orders/${order.id}/${step}`, {});
		if (res.status !== 200) throw new Error(`${step}: ${res.status} ${JSON.stringify(res.body)}`);
	}
	return (await buyer.http.get(`/api/v1/orders/${order.id}`)).body;
}

async function openReturn(buyer: Account, orderId: string, items: { productId: string; quantity: number }[]) {
	return buyer.http.post("/api/v1/tickets", { type: "return", subject: "Return", message: "Please take these back", orderId, items });
}

/** The tickets service's own collection, for what HTTP cannot show: its outbox, and a forced race. */
function ticketsCollection(): Collection<TicketRecord> {
	return (shop.broker.getLocalService("tickets") as unknown as { collection(name: string): Collection<TicketRecord> }).collection("tickets");
}

/** Every event the ticket caused has been handled by every consumer (in-process, publishing waits for them). */
async function ticketEventsHandled(ticketId: string): Promise<void> {
	await eventually(
		async () => (((await ticketsCollection().findById(ticketId))?.outbox ?? []).length === 0 ? true : undefined),
		10_000,
		"the ticket's events",
	);
}

const stockOf = async (p: Product): Promise<number> => (await shop.http.get(`/api/v1/products/${p.id}`)).body.stock;
const fieldsOf = (body: { data?: { field: string }[] }) => (body.data ?? []).map(p => p.field);

// ---- tests

describe("tickets on orders", () => {
	it("a customer cannot open a ticket on someone else's order, nor on one that does not exist: 404", async () => {
		const mug = await newProduct(1000);
		const order = await deliveredOrder(ann, [[mug, 1]]);
		const complaint = await bob.http.post("/api/v1/tickets", { type: "complaint", subject: "Broken", message: "It broke", orderId: order.id });
		expect(complaint.status).toBe(404);
		const ret = await openReturn(bob, order.id, [{ productId: mug.id, quantity: 1 }]);
		expect(ret.status).toBe(404);
		expect((await bob.http.post("/api/v1/tickets", { type: "inquiry", subject: "x", message: "y", orderId: randomUUID() })).status).toBe(404);
		expect((await bob.http.get("/api/v1/tickets")).body.total).toBe(0);
	});

	it("agents (and the owner) see the customer and the order with the ticket", async () => {
		const mug = await newProduct(1250);
		const order = await deliveredOrder(ann, [[mug, 2]]);
		const t = await ann.http.post("/api/v1/tickets", { type: "complaint", subject: "Chipped", message: "One is chipped", orderId: order.id });
		expect(t.status).toBe(201);
		expect(t.body.orderId).toBe(order.id);

		const res = await agent.http.get(`/api/v1/tickets/${t.body.id}`);
		expect(res.status).toBe(200);
		expect(res.body.customer).toEqual({ id: ann.id, name: "Ann", email: ann.email });
		expect(res.body.order).toEqual({ id: order.id, status: "delivered", total: 2500, currency: "EUR", createdAt: expect.any(String) });
		expect((await ann.http.get(`/api/v1/tickets/${t.body.id}`)).body.order).toMatchObject({ id: order.id, total: 2500 });
	});

	it("any ticket type may name an order that is not delivered yet; a return may not: 422 on orderId", async () => {
		const mug = await newProduct(500);
		const order = await paidOrder(ann, [[mug, 1]]);
		expect((await ann.http.post("/api/v1/tickets", { type: "inquiry", subject: "When?", message: "When does it ship?", orderId: order.id })).status).toBe(
			201,
		);
		const ret = await openReturn(ann, order.id, [{ productId: mug.id, quantity: 1 }]);
		expect(ret.status).toBe(422);
		expect(fieldsOf(ret.body)).toEqual(["orderId"]);
	});
});

describe("what can be returned", () => {
	it("only products of the order, only quantities not yet returned or waiting for a decision", async () => {
		const cup = await newProduct(800);
		const plate = await newProduct(1500);
		const other = await newProduct(100);
		const order = await deliveredOrder(ann, [
			[cup, 3],
			[plate, 1],
		]);

		const notInOrder = await openReturn(ann, order.id, [{ productId: other.id, quantity: 1 }]);
		expect(notInOrder.status).toBe(422);
		expect(fieldsOf(notInOrder.body)).toEqual(["items[0].productId"]);
		const tooMany = await openReturn(ann, order.id, [{ productId: cup.id, quantity: 4 }]);
		expect(tooMany.status).toBe(422);
		expect(fieldsOf(tooMany.body)).toEqual(["items[0].quantity"]);

		const first = await openReturn(ann, order.id, [{ productId: cup.id, quantity: 2 }]);
		expect(first.status).toBe(201);
		expect(first.body).toMatchObject({
			type: "return",
			orderId: order.id,
			items: [{ productId: cup.id, quantity: 2 }],
			return: { status: "requested", reason: null },
		});

		// The pending return still holds its two cups.
		const overPending = await openReturn(ann, order.id, [{ productId: cup.id, quantity: 2 }]);
		expect(overPending.status).toBe(422);
		expect(overPending.body.data[0]).toMatchObject({ field: "items[0].quantity", message: expect.stringContaining("Only 1") });

		const second = await openReturn(ann, order.id, [
			{ productId: cup.id, quantity: 1 },
			{ productId: plate.id, quantity: 1 },
		]);
		expect(second.status).toBe(201);
		const nothingLeft = await openReturn(ann, order.id, [{ productId: plate.id, quantity: 1 }]);
		expect(nothingLeft.status).toBe(422);

		// A rejected return gives its items back.
		const rejected = await agent.http.post(`/api/v1/tickets/${first.body.id}/return/reject`, { reason: "Used" });
		expect(rejected.status).toBe(200);
		expect((await openReturn(ann, order.id, [{ productId: cup.id, quantity: 2 }])).status).toBe(201);
	});

	it("two returns of the same items opened at once: one gets them", async () => {
		const bowl = await newProduct(900);
		const order = await deliveredOrder(ann, [[bowl, 1]]);
		// Force the race: the first return waits just before it is stored until the second one has
		// counted what is returnable too (it reaches its own insert), so both counted nothing claimed.
		const tickets = ticketsCollection();
		const insert = tickets.insert.bind(tickets);
		let release: () => void = () => undefined;
		const gate = new Promise<void>(resolve => (release = resolve));
		let calls = 0;
		tickets.insert = async doc => {
			calls++;
			if (calls === 1) await gate;
			if (calls === 2) release();
			return insert(doc);
		};
		try {
			const results = await Promise.all([1, 2].map(() => openReturn(ann, order.id, [{ productId: bowl.id, quantity: 1 }])));
			expect(calls).toBeGreaterThanOrEqual(2);
			expect(results.map(r => r.status).sort()).toEqual([201, 422]);
		} finally {
			tickets.insert = insert;
		}
		expect(
			(await ann.http.get("/api/v1/tickets?type=return&pageSize=100")).body.rows.filter((t: { orderId: string }) => t.orderId === order.id),
		).toHaveLength(1);
	});
});

describe("deciding a return", () => {
	it("approved twice (even at once) refunds once and restocks once", async () => {
		const lamp = await newProduct(4999);
		const order = await deliveredOrder(ann, [[lamp, 2]]);
		const stockBefore = await stockOf(lamp);
		const t = await openReturn(ann, order.id, [{ productId: lamp.id, quantity: 1 }]);
		expect(t.status).toBe(201);

		const decisions = await Promise.all([
			agent.http.post(`/api/v1/tickets/${t.body.id}/return/approve`, {}),
			boss.http.post(`/api/v1/tickets/${t.body.id}/return/approve`, {}),
		]);
		expect(decisions.map(d => d.status).sort()).toEqual([200, 409]);
		const approved = decisions.find(d => d.status === 200)!;
		expect(approved.body.return).toEqual({ status: "approved", reason: null });
		expect(decisions.find(d => d.status === 409)!.body.type).toBe("RETURN_ALREADY_DECIDED");

		const again = await agent.http.post(`/api/v1/tickets/${t.body.id}/return/approve`, {});
		expect(again.status).toBe(409);
		expect(again.body).toMatchObject({ type: "RETURN_ALREADY_DECIDED", data: { status: "approved" } });
		expect((await agent.http.post(`/api/v1/tickets/${t.body.id}/return/reject`, { reason: "Changed my mind" })).status).toBe(409);

		// Once every event of the ticket is handled no other approval can arrive; then count.
		await ticketEventsHandled(t.body.id);
		const refunded = await eventually(async () => {
			const o = (await ann.http.get(`/api/v1/orders/${order.id}`)).body;
			return o.refunds.length > 0 ? o : undefined;
		});
		expect(refunded.refunds).toHaveLength(1);
		expect(refunded.refunds[0].amount).toBe(4999);
		expect(refunded.status).toBe("delivered"); // one of two lamps: a partial refund
		await eventually(async () => ((await stockOf(lamp)) === stockBefore + 1 ? true : undefined), 10_000, "the lamp back in stock");

		const notes = await eventually(async () => {
			const rows = (await ann.http.get("/api/v1/me/notifications?pageSize=100")).body.rows as { type: string; ref: { id: string } }[];
			return rows.some(n => n.type === "order.refunded" && n.ref.id === order.id) ? rows : undefined;
		});
		expect(notes.filter(n => n.type === "return.approved" && n.ref.id === t.body.id)).toHaveLength(1);
		expect(notes.filter(n => n.type === "order.refunded" && n.ref.id === order.id)).toHaveLength(1);
		expect(await stockOf(lamp)).toBe(stockBefore + 1);
	});

	it("returning the whole order refunds the order", async () => {
		const chair = await newProduct(12000);
		const order = await deliveredOrder(ann, [[chair, 1]]);
		const t = await openReturn(ann, order.id, [{ productId: chair.id, quantity: 1 }]);
		expect((await agent.http.post(`/api/v1/tickets/${t.body.id}/return/approve`, { reason: "Arrived damaged" })).body.return).toEqual({
			status: "approved",
			reason: "Arrived damaged",
		});
		await ticketEventsHandled(t.body.id);
		const o = await eventually(async () => {
			const current = (await ann.http.get(`/api/v1/orders/${order.id}`)).body;
			return current.refunds.length > 0 ? current : undefined;
		});
		expect(o.status).toBe("refunded");
		expect(o.refunds.map((r: { amount: number }) => r.amount)).toEqual([12000]);
	});

	it("a rejected return refunds nothing and tells the customer why", async () => {
		const vase = await newProduct(3000);
		const order = await deliveredOrder(ann, [[vase, 1]]);
		const stockBefore = await stockOf(vase);
		const t = await openReturn(ann, order.id, [{ productId: vase.id, quantity: 1 }]);
		const res = await agent.http.post(`/api/v1/tickets/${t.body.id}/return/reject`, { reason: "Outside the return window" });
		expect(res.status).toBe(200);
		expect(res.body.return).toEqual({ status: "rejected", reason: "Outside the return window" });
		expect((await agent.http.post(`/api/v1/tickets/${t.body.id}/return/approve`, {})).status).toBe(409);

		await ticketEventsHandled(t.body.id);
		expect((await ann.http.get(`/api/v1/orders/${order.id}`)).body.refunds).toEqual([]);
		expect(await stockOf(vase)).toBe(stockBefore);
		const note = await eventually(async () => {
			const rows = (await ann.http.get("/api/v1/me/notifications?pageSize=100")).body.rows as { type: string; body: string; ref: { id: string } }[];
			return rows.find(n => n.type === "return.rejected" && n.ref.id === t.body.id);
		});
		expect(note.body).toContain("Outside the return window");
	});

	it("only agents and admins decide; a return waiting for a decision cannot be resolved or closed", async () => {
		const pot = await newProduct(700);
		const order = await deliveredOrder(ann, [[pot, 1]]);
		const t = await openReturn(ann, order.id, [{ productId: pot.id, quantity: 1 }]);
		expect((await ann.http.post(`/api/v1/tickets/${t.body.id}/return/approve`, {})).status).toBe(403);
		expect((await ann.http.post(`/api/v1/tickets/${t.body.id}/return/reject`, { reason: "x" })).status).toBe(403);

		const close = await agent.http.patch(`/api/v1/tickets/${t.body.id}`, { status: "closed" });
		expect(close.status).toBe(409);
		expect(close.body.type).toBe("RETURN_UNDECIDED");
		expect((await agent.http.post(`/api/v1/tickets/${t.body.id}/return/approve`, { unknown: 1 })).status).toBe(422);
		expect((await agent.http.post(`/api/v1/tickets/${t.body.id}/return/approve`, {})).status).toBe(200);
		expect((await agent.http.patch(`/api/v1/tickets/${t.body.id}`, { status: "closed" })).body.status).toBe("closed");
	});
});

describe("when the orders service is down", () => {
	it("a ticket still reads, with its order marked unavailable; a new ticket on an order is 503", async () => {
		const mug = await newProduct(1000);
		const order = await deliveredOrder(ann, [[mug, 1]]);
		const t = await ann.http.post("/api/v1/tickets", { type: "inquiry", subject: "Invoice", message: "Send the invoice", orderId: order.id });
		await shop.broker.destroyService(shop.broker.getLocalService("orders")!);

		const res = await agent.http.get(`/api/v1/tickets/${t.body.id}`);
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id: t.body.id, customer: { id: ann.id, name: "Ann" }, order: { id: order.id, unavailable: true } });
		const blocked = await ann.http.post("/api/v1/tickets", { type: "inquiry", subject: "Invoice", message: "Again", orderId: order.id });
		expect(blocked.status).toBe(503);
	});
});
