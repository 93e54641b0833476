/**
 * Fulfilment end to end, in-process through the gateway: parcels that add up to the order, never
 * more than ordered under 10 concurrent requests, tracking on the events and in the customer's
 * notification, the v1 ship step, and a return of a shipped line refunded.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, withRoles, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf, newProduct } from "../helpers/commerce.js";
import { currentBus } from "../../lib/events/registry.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";

const V1 = "/api/v1";
let shop: TestShop;
let boss: Account;
let ann: Account;
const seen: EventEnvelope[] = [];

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products", "orders", "pricing", "tickets", "notifications"], env: ADMIN_ENV });
	boss = await admin(shop);
	ann = await customer(shop, "Ann");
	await currentBus(shop.broker)!.subscribe("fulfilment-test-observer", ["order.fulfilment-created", "order.shipped"], async e => void seen.push(e));
});
afterAll(async () => {
	await shop?.stop();
});

const checkoutBody = {
	shippingAddress: { name: "Ann", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" },
	payment: { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" },
};

/** A paid order of `buyer` with these lines (product id, quantity). */
async function paidOrder(buyer: Account, lines: [string, number][]): Promise<any> {
	for (const [productId, quantity] of lines) expect((await buyer.http.post(`${V1}/cart/items`, { productId, quantity })).status).toBe(200);
	const placed = await buyer.http.post(`${V1}/orders`, checkoutBody, { "idempotency-key": randomUUID() });
	expect(placed.status, JSON.stringify(placed.body)).toBe(202);
	return eventually(
		async () => {
			const o = (await buyer.http.get(`${V1}/orders/${placed.body.id}`)).body;
			return o.status === "paid" ? o : undefined;
		},
		15_000,
		"the order to be paid",
	);
}

const fulfil = (orderId: string, body: object) => boss.http.post(`${V1}/orders/${orderId}/fulfilments`, body);

describe("fulfilments", () => {
	it("add up: a partial parcel with DHL tracking, then the rest with UPS; partially_shipped then shipped", async () => {
		const mug = await newProduct(boss, { stock: 20 });
		const lamp = await newProduct(boss, { stock: 20 });
		const order = await paidOrder(ann, [
			[mug.id, 3],
			[lamp.id, 1],
		]);
		const first = await fulfil(order.id, { items: [{ itemId: mug.id, quantity: 2 }], carrier: "dhl", trackingNumber: "JD0146000062" });
		expect(first.status, JSON.stringify(first.body)).toBe(201);
		expect(first.body.status).toBe("partially_shipped");
		expect(first.body.fulfilments).toEqual([
			{
				id: expect.any(String),
				items: [{ itemId: mug.id, quantity: 2 }],
				carrier: "dhl",
				trackingNumber: "JD0146000062",
				trackingUrl: "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id=JD0146000062",
				shippedAt: expect.any(String),
			},
		]);
		const rest = await fulfil(order.id, { carrier: "ups", trackingNumber: "1Z999AA10123456784" });
		expect(rest.status, JSON.stringify(rest.body)).toBe(201);
		expect(rest.body.status).toBe("shipped");
		expect(rest.body.fulfilments[1].items).toEqual([
			{ itemId: mug.id, quantity: 1 },
			{ itemId: lamp.id, quantity: 1 },
		]);
		expect(rest.body.statusHistory.map((h: { status: string }) => h.status)).toEqual(["pending", "paid", "partially_shipped", "shipped"]);
		const stored = (await ann.http.get(`${V1}/orders/${order.id}`)).body;
		expect(stored.fulfilments).toHaveLength(2);

		// Tracking on the events, and the customer's notifications link to it.
		const events = await eventually(async () => {
			const mine = seen.filter(e => (e.payload as { orderId: string }).orderId === order.id);
			return mine.length === 3 ? mine : undefined;
		});
		expect(events.map(e => e.type)).toEqual(["order.fulfilment-created", "order.fulfilment-created", "order.shipped"]);
		expect(events[0]!.payload).toMatchObject({ carrier: "dhl", trackingNumber: "JD0146000062", orderStatus: "partially_shipped" });
		expect(events[2]!.payload).toMatchObject({
			tracking: [
				{ carrier: "dhl", trackingNumber: "JD0146000062" },
				{ carrier: "ups", trackingNumber: "1Z999AA10123456784", trackingUrl: "https://www.ups.com/track?tracknum=1Z999AA10123456784" },
			],
		});
		const notes = await eventually(async () => {
			const rows = (await ann.http.get(`${V1}/me/notifications?pageSize=100`)).body.rows as { type: string; body: string; ref: { id: string } }[];
			const about = rows.filter(n => n.ref.id === order.id && ["order.shipped", "order.fulfilment-created"].includes(n.type));
			return about.length === 2 ? about : undefined;
		});
		expect(notes.find(n => n.type === "order.fulfilment-created")!.body).toContain("tracking-id=JD0146000062");
		expect(notes.find(n => n.type === "order.shipped")!.body).toContain("https://www.ups.com/track?tracknum=1Z999AA10123456784");
	});

	it("never ship more than ordered, also under 10 concurrent requests", async () => {
		const cup = await newProduct(boss, { stock: 20 });
		const order = await paidOrder(ann, [[cup.id, 3]]);
		const answers = await Promise.all(
			Array.from({ length: 10 }, (_, i) => fulfil(order.id, { items: [{ itemId: cup.id, quantity: 1 }], carrier: "gls", trackingNumber: `GLS${i}` })),
		);
		const statuses = answers.map(a => a.status).sort();
		expect(statuses, JSON.stringify(answers.filter(a => a.status !== 201).map(a => a.body))).toEqual([201, 201, 201, 422, 422, 422, 422, 422, 422, 422]);
		for (const refused of answers.filter(a => a.status === 422)) expect(fieldsOf(refused.body)[0]).toMatch(/^items/);
		const after = (await boss.http.get(`${V1}/orders/${order.id}`)).body;
		expect(after.status).toBe("shipped");
		expect(
			after.fulfilments.flatMap((f: { items: { quantity: number }[] }) => f.items).reduce((n: number, l: { quantity: number }) => n + l.quantity, 0),
		).toBe(3);
	});

	it("refuse bad input with 422 naming the field, a wrong status with 409, and non-admins", async () => {
		const cup = await newProduct(boss, { stock: 20 });
		const order = await paidOrder(ann, [[cup.id, 2]]);
		const cases: [object, string][] = [
			[{ carrier: "other", trackingNumber: "X1" }, "trackingUrl"],
			[{ carrier: "pigeon", trackingNumber: "X1" }, "carrier"],
			[{ carrier: "dhl" }, "trackingNumber"],
			[{ carrier: "dhl", trackingNumber: "X1", items: [{ itemId: cup.id, quantity: 3 }] }, "items[0].quantity"],
			[{ carrier: "dhl", trackingNumber: "X1", items: [{ itemId: randomUUID(), quantity: 1 }] }, "items[0].itemId"],
		];
		for (const [body, field] of cases) {
			const res = await fulfil(order.id, body);
			expect(res.status, JSON.stringify(body)).toBe(422);
			expect(fieldsOf(res.body), JSON.stringify(res.body)).toContain(field);
		}
		expect((await ann.http.post(`${V1}/orders/${order.id}/fulfilments`, { carrier: "dhl", trackingNumber: "X1" })).status).toBe(403);
		expect((await boss.http.post(`${V1}/orders/${order.id}/cancel`)).status).toBe(200);
		const late = await fulfil(order.id, { carrier: "dhl", trackingNumber: "X1" });
		expect(late.status).toBe(409);
		expect((await fulfil(randomUUID(), { carrier: "dhl", trackingNumber: "X1" })).status).toBe(404);
	});

	it("v1 ship is one parcel of everything left without tracking; a shipped line can be returned and is refunded", async () => {
		const agent = await withRoles(shop, ["customer", "agent"], "Agent");
		const mug = await newProduct(boss, { stock: 20, price: 1500 });
		const lamp = await newProduct(boss, { stock: 20, price: 4000 });
		const order = await paidOrder(ann, [
			[mug.id, 2],
			[lamp.id, 1],
		]);
		expect((await fulfil(order.id, { items: [{ itemId: lamp.id, quantity: 1 }], carrier: "correos", trackingNumber: "PK43BG0440928" })).status).toBe(201);
		const shipped = await boss.http.post(`${V1}/orders/${order.id}/ship`);
		expect(shipped.status).toBe(200);
		expect(shipped.body.status).toBe("shipped");
		expect(shipped.body.fulfilments[1]).toMatchObject({ items: [{ itemId: mug.id, quantity: 2 }], carrier: null, trackingNumber: null, trackingUrl: null });
		expect((await boss.http.post(`${V1}/orders/${order.id}/ship`)).status).toBe(409);
		expect((await boss.http.post(`${V1}/orders/${order.id}/deliver`)).status).toBe(200);

		const ticket = await ann.http.post(`${V1}/tickets`, {
			type: "return",
			subject: "Return",
			message: "The lamp is broken",
			orderId: order.id,
			items: [{ productId: lamp.id, quantity: 1 }],
		});
		expect(ticket.status, JSON.stringify(ticket.body)).toBe(201);
		expect((await agent.http.post(`${V1}/tickets/${ticket.body.id}/return/approve`, {})).status).toBe(200);
		const refunded = await eventually(async () => {
			const o = (await ann.http.get(`${V1}/orders/${order.id}`)).body;
			return o.refunds.length > 0 ? o : undefined;
		});
		expect(refunded.refunds[0].amount).toBe(4000);
	});
});
