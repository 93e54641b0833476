import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { newProduct, stockOf } from "../helpers/commerce.js";
import { TEST_CARDS } from "../../lib/payments/simulated.js";
import { acquireBus, releaseBus } from "../../lib/events/registry.js";
import { EVENT_TYPES, type EventEnvelope, type EventPayloads } from "../../lib/contracts/events.js";
import type { EventBus } from "../../lib/events/bus.js";

let shop: TestShop;
let adm: Account;
let transport: EventBus;
const seen: EventEnvelope[] = [];
const record = async (e: EventEnvelope) => void seen.push(e);
let keys = 0;

const V1 = "/api/v1";
/** The order an event is about (events about tickets have none). */
const orderOf = (e: EventEnvelope) => (e.payload as { orderId?: string }).orderId;
const ADDRESS = { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };
const card = (cardNumber: string = TEST_CARDS.approved) => ({ method: "card", cardNumber, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" });

const createProduct = (over: Record<string, unknown> = {}) => newProduct(adm, over);

/** Check out what is given; answers the order as the 202 returned it. */
async function place(acc: Account, lines: [string, number][], cardNumber: string = TEST_CARDS.approved) {
	for (const [productId, quantity] of lines) expect((await acc.http.post(`${V1}/cart/items`, { productId, quantity })).status).toBe(200);
	const res = await acc.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment: card(cardNumber) }, { "idempotency-key": `orders-${++keys}` });
	expect(res.status, JSON.stringify(res.body)).toBe(202);
	return res.body as { id: string; status: string };
}

async function status(acc: Account, id: string, wanted: string) {
	return eventually(
		async () => {
			const res = await acc.http.get(`${V1}/orders/${id}`);
			return res.body.status === wanted ? res.body : undefined;
		},
		10_000,
		`order ${id} to be ${wanted}`,
	);
}

async function paidOrder(acc: Account, lines: [string, number][]) {
	const o = await place(acc, lines);
	return status(acc, o.id, "paid");
}

const product = (id: string) => stockOf(adm, id);

function approveReturn(payload: EventPayloads["return.approved"], id: string = randomUUID()): EventEnvelope<"return.approved"> {
	return { id, type: "return.approved", key: payload.ticketId, source: "tickets", occurredAt: new Date().toISOString(), requestId: null, payload };
}

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products", "orders", "pricing"], env: ADMIN_ENV });
	adm = await admin(shop);
	transport = await acquireBus(shop.broker);
	await transport.subscribe("test-recorder", EVENT_TYPES, record);
});
afterAll(async () => {
	await transport?.unsubscribe("test-recorder", record);
	if (shop) await releaseBus(shop.broker);
	await shop?.stop();
});

describe("order history", () => {
	it("shows customers their own orders, newest first, and admins everyone's", async () => {
		const ann = await customer(shop, "Ann");
		const bob = await customer(shop, "Bob");
		const p = await createProduct({ stock: 100 });
		const first = await place(ann, [[p.id, 1]]);
		const second = await place(ann, [[p.id, 2]]);
		const bobs = await place(bob, [[p.id, 1]]);

		const mine = await ann.http.get(`${V1}/orders`);
		expect(mine.status).toBe(200);
		expect(mine.body).toMatchObject({ total: 2, page: 1, pageSize: 20, totalPages: 1 });
		expect(mine.body.rows.map((o: { id: string }) => o.id)).toEqual([second.id, first.id]);

		expect((await ann.http.get(`${V1}/orders/${bobs.id}`)).status).toBe(404);
		expect((await ann.http.post(`${V1}/orders/${bobs.id}/cancel`)).status).toBe(404);
		expect((await ann.http.get(`${V1}/orders?all=true`)).status).toBe(403);
		expect((await adm.http.get(`${V1}/orders/${bobs.id}`)).status).toBe(200);

		const all = await adm.http.get(`${V1}/orders?all=true&pageSize=100`);
		const ids = all.body.rows.map((o: { id: string }) => o.id);
		expect(ids).toEqual(expect.arrayContaining([first.id, second.id, bobs.id]));
		expect((await adm.http.get(`${V1}/orders`)).body.total).toBe(0); // admin's own

		await status(ann, first.id, "paid");
		await status(ann, second.id, "paid");
		expect((await ann.http.get(`${V1}/orders?status=paid`)).body.total).toBe(2);
		expect((await ann.http.get(`${V1}/orders?status=shipped`)).body.total).toBe(0);
		expect((await ann.http.get(`${V1}/orders?pageSize=101`)).status).toBe(422);
		expect((await ann.http.get(`${V1}/orders?status=lost`)).status).toBe(422);
		expect((await ann.http.get(`${V1}/orders/no-such-order`)).status).toBe(404);
		expect((await shop.http.get(`${V1}/orders`)).status).toBe(401);
	});
});

describe("fulfilment", () => {
	it("ships and delivers a paid order, admin only, one step at a time", async () => {
		const ann = await customer(shop, "Ann");
		const p = await createProduct();
		const o = await paidOrder(ann, [[p.id, 1]]);

		expect((await ann.http.post(`${V1}/orders/${o.id}/ship`)).status).toBe(403);
		const early = await adm.http.post(`${V1}/orders/${o.id}/deliver`);
		expect(early.status).toBe(409);
		const shipped = await adm.http.post(`${V1}/orders/${o.id}/ship`);
		expect(shipped.status).toBe(200);
		expect(shipped.body.status).toBe("shipped");
		expect((await adm.http.post(`${V1}/orders/${o.id}/ship`)).status).toBe(409);
		expect((await ann.http.post(`${V1}/orders/${o.id}/cancel`)).status).toBe(409);
		const delivered = await adm.http.post(`${V1}/orders/${o.id}/deliver`);
		expect(delivered.status).toBe(200);
		expect(delivered.body.statusHistory.map((h: { status: string }) => h.status)).toEqual(["pending", "paid", "shipped", "delivered"]);
		expect((await adm.http.post(`${V1}/orders/${o.id}/cancel`)).status).toBe(409);
		expect((await adm.http.post(`${V1}/orders/no-such-order/ship`)).status).toBe(404);
		await eventually(async () => (seen.some(e => e.type === "order.delivered" && orderOf(e) === o.id) ? true : undefined), 5000, "order.delivered");
	});

	it("cannot ship a pending or cancelled order", async () => {
		const ann = await customer(shop, "Ann");
		const p = await createProduct({ stock: 0 });
		const o = await place(ann, [[p.id, 1]]);
		await status(ann, o.id, "cancelled");
		const res = await adm.http.post(`${V1}/orders/${o.id}/ship`);
		expect(res.status).toBe(409);
		expect(res.body.type).toBe("INVALID_ORDER_STATUS");
	});
});

describe("cancel", () => {
	it("cancels a pending order: the hold is released and the authorization voided", async () => {
		const ann = await customer(shop, "Ann");
		const p = await createProduct({ stock: 5 });
		// This card's capture never succeeds: the order stays pending with its stock held.
		const o = await place(ann, [[p.id, 2]], TEST_CARDS.processingError);
		await eventually(async () => ((await product(p.id)).available === 3 ? true : undefined), 5000, "the stock to be held");
		const res = await ann.http.post(`${V1}/orders/${o.id}/cancel`);
		expect(res.status).toBe(200);
		expect(res.body.status).toBe("cancelled");
		expect(res.body.statusHistory[1]).toMatchObject({ status: "cancelled", reason: "cancelled_by_customer" });
		expect(res.body.payment.status).toBe("voided");
		await eventually(async () => ((await product(p.id)).available === 5 ? true : undefined), 5000, "the hold to be released");
		expect(await product(p.id)).toMatchObject({ stock: 5, available: 5 });
		expect((await ann.http.post(`${V1}/orders/${o.id}/cancel`)).status).toBe(409);
	});

	it("cancels a paid order: refunded in full, stock back", async () => {
		const ann = await customer(shop, "Ann");
		const p = await createProduct({ stock: 5, price: 1500 });
		const o = await paidOrder(ann, [[p.id, 2]]);
		await eventually(async () => ((await product(p.id)).stock === 3 ? true : undefined), 5000, "the stock to be committed");

		const res = await adm.http.post(`${V1}/orders/${o.id}/cancel`);
		expect(res.status).toBe(200);
		expect(res.body.status).toBe("refunded");
		expect(res.body.statusHistory).toEqual([
			{ status: "pending", at: expect.any(String) },
			{ status: "paid", at: expect.any(String) },
			{ status: "cancelled", at: expect.any(String), reason: "cancelled_by_admin" },
			{ status: "refunded", at: expect.any(String), reason: "cancelled_by_admin" },
		]);
		expect(res.body.refunds).toEqual([{ id: expect.any(String), amount: 3000, reason: "cancelled_by_admin", at: expect.any(String) }]);
		expect(res.body.payment.status).toBe("refunded");
		await eventually(async () => ((await product(p.id)).stock === 5 ? true : undefined), 5000, "the stock to come back");
		expect(await product(p.id)).toMatchObject({ stock: 5, available: 5 });
		await eventually(async () => (seen.some(e => e.type === "order.refunded" && orderOf(e) === o.id) ? true : undefined), 5000, "order.refunded");
		const refunded = seen.find(e => e.type === "order.refunded" && orderOf(e) === o.id) as EventEnvelope<"order.refunded">;
		expect(refunded.payload).toMatchObject({ amount: 3000, full: true, currency: "EUR" });
		expect(seen.filter(e => e.type === "order.cancelled" && orderOf(e) === o.id).map(e => (e.payload as { refunded: boolean }).refunded)).toEqual([true]);
		expect((await ann.http.post(`${V1}/orders/${o.id}/cancel`)).status).toBe(409);
	});

	it("answers 404 for a malformed id and 422 for extra fields", async () => {
		const ann = await customer(shop, "Ann");
		expect((await ann.http.post(`${V1}/orders/a.b/cancel`)).status).toBe(404);
		const p = await createProduct();
		const o = await paidOrder(ann, [[p.id, 1]]);
		expect((await ann.http.post(`${V1}/orders/${o.id}/cancel`, { reason: "x" })).status).toBe(422);
	});
});

describe("support interface", () => {
	it("summarizes an order for its owner, or for anyone when no user is given", async () => {
		const ann = await customer(shop, "Ann");
		const bob = await customer(shop, "Bob");
		const p = await createProduct({ name: "Kettle", price: 4200 });
		const o = await paidOrder(ann, [[p.id, 2]]);
		const summary = await shop.broker.call("orders.summaryForUser", { orderId: o.id, userId: ann.id });
		expect(summary).toEqual({
			id: o.id,
			userId: ann.id,
			status: "paid",
			total: 8400,
			currency: "EUR",
			createdAt: o.createdAt,
			items: [{ itemId: p.id, productId: p.id, variantId: null, options: null, sku: p.sku, name: "Kettle", quantity: 2, unitPrice: 4200 }],
		});
		expect(await shop.broker.call("orders.summaryForUser", { orderId: o.id })).toEqual(summary);
		await expect(shop.broker.call("orders.summaryForUser", { orderId: o.id, userId: bob.id })).rejects.toMatchObject({ code: 404 });
		await expect(shop.broker.call("orders.summaryForUser", { orderId: "nope" })).rejects.toMatchObject({ code: 404 });
	});

	it("refunds approved returns line by line, once per return, never beyond the capture", async () => {
		const ann = await customer(shop, "Ann");
		const apple = await createProduct({ price: 1000, stock: 10 });
		const book = await createProduct({ price: 2000, stock: 10 });
		const o = await paidOrder(ann, [
			[apple.id, 3],
			[book.id, 1],
		]);
		await adm.http.post(`${V1}/orders/${o.id}/ship`);
		await adm.http.post(`${V1}/orders/${o.id}/deliver`);
		await eventually(async () => ((await product(apple.id)).stock === 7 ? true : undefined), 5000, "the stock to be committed");
		const base = { ticketId: randomUUID(), userId: ann.id, orderId: o.id };

		const first = approveReturn({ ...base, returnId: randomUUID(), items: [{ productId: apple.id, quantity: 1 }] });
		await transport.publish([first]);
		let got = (await ann.http.get(`${V1}/orders/${o.id}`)).body;
		expect(got.status).toBe("delivered");
		expect(got.refunds).toEqual([{ id: expect.any(String), amount: 1000, reason: "return", at: expect.any(String) }]);
		expect(got.payment.status).toBe("partially_refunded");
		expect(await product(apple.id)).toMatchObject({ stock: 8, available: 8 });

		// The same return again, as the same event and as a new one: nothing more happens.
		await transport.publish([first]);
		await transport.publish([approveReturn(first.payload)]);
		got = (await ann.http.get(`${V1}/orders/${o.id}`)).body;
		expect(got.refunds).toHaveLength(1);
		expect(await product(apple.id)).toMatchObject({ stock: 8, available: 8 });

		// The rest of the order: a full refund.
		await transport.publish([
			approveReturn({
				...base,
				returnId: randomUUID(),
				items: [
					{ productId: apple.id, quantity: 2 },
					{ productId: book.id, quantity: 1 },
				],
			}),
		]);
		got = (await ann.http.get(`${V1}/orders/${o.id}`)).body;
		expect(got.status).toBe("refunded");
		expect(got.refunds.map((r: { amount: number }) => r.amount)).toEqual([1000, 4000]);
		expect(got.payment.status).toBe("refunded");
		expect(got.statusHistory.at(-1)).toMatchObject({ status: "refunded", reason: "return" });

		// A return of more than was bought refunds nothing more.
		await transport.publish([approveReturn({ ...base, returnId: randomUUID(), items: [{ productId: apple.id, quantity: 1 }] })]);
		got = (await ann.http.get(`${V1}/orders/${o.id}`)).body;
		expect(got.refunds.map((r: { amount: number }) => r.amount)).toEqual([1000, 4000]);

		await eventually(
			async () => (seen.filter(e => e.type === "order.refunded" && orderOf(e) === o.id).length === 2 ? true : undefined),
			5000,
			"two order.refunded events",
		);
		const refunds = seen.filter(e => e.type === "order.refunded" && orderOf(e) === o.id).map(e => e.payload as EventPayloads["order.refunded"]);
		expect(refunds.map(r => [r.amount, r.full])).toEqual([
			[1000, false],
			[4000, true],
		]);
		expect(seen.filter(e => e.type === "payment.refunded" && orderOf(e) === o.id)).toHaveLength(2);
		const orders = shop.broker.getLocalService("orders") as unknown as { provider: { ledger(): Promise<{ kind: string; amount: number; key: string }[]> } };
		expect(
			(await orders.provider.ledger()).filter(l => l.kind === "refund" && l.key.startsWith("return:")).reduce((s, l) => s + l.amount, 0),
		).toBeGreaterThanOrEqual(5000);
	});

	it("ignores a return for an order of someone else", async () => {
		const ann = await customer(shop, "Ann");
		const bob = await customer(shop, "Bob");
		const p = await createProduct();
		const o = await paidOrder(ann, [[p.id, 1]]);
		await transport.publish([
			approveReturn({ ticketId: randomUUID(), returnId: randomUUID(), userId: bob.id, orderId: o.id, items: [{ productId: p.id, quantity: 1 }] }),
		]);
		expect((await ann.http.get(`${V1}/orders/${o.id}`)).body.refunds).toEqual([]);
	});
});
