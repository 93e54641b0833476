/**
 * Invariants of the checkout saga: what must hold however the events interleave or repeat.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { newProduct, settledOrder, stockOf } from "../helpers/commerce.js";
import { TEST_CARDS } from "../../lib/payments/simulated.js";
import { acquireBus, releaseBus } from "../../lib/events/registry.js";
import { EVENT_TYPES, type EventEnvelope, type EventPayloads, type EventType } from "../../lib/contracts/events.js";
import type { EventBus } from "../../lib/events/bus.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { buildAsyncApi } from "../../lib/events/asyncapi.js";

const V1 = "/api/v1";
/** The order an event is about (events about tickets have none). */
const orderOf = (e: EventEnvelope) => (e.payload as { orderId?: string }).orderId;
const ADDRESS = { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };
const card = (cardNumber: string = TEST_CARDS.approved) => ({ method: "card", cardNumber, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" });
let keys = 0;

interface ShopParts {
	shop: TestShop;
	adm: Account;
	transport: EventBus;
	seen: EventEnvelope[];
	recorder: (e: EventEnvelope) => Promise<void>;
}

async function open(env: Record<string, string> = {}): Promise<ShopParts> {
	const shop = await startShop({ services: ["users", "api", "products", "orders", "pricing"], env: { ...ADMIN_ENV, ...env } });
	const seen: EventEnvelope[] = [];
	const recorder = async (e: EventEnvelope) => void seen.push(e);
	const transport = await acquireBus(shop.broker);
	await transport.subscribe("test-recorder", EVENT_TYPES, recorder);
	return { shop, adm: await admin(shop), transport, seen, recorder };
}

async function close(parts: ShopParts | undefined) {
	if (!parts) return;
	await parts.transport.unsubscribe("test-recorder", parts.recorder);
	await releaseBus(parts.shop.broker);
	await parts.shop.stop();
}

const createProduct = (p: ShopParts, over: Record<string, unknown> = {}) => newProduct<{ id: string }>(p.adm, over);

async function fill(acc: Account, lines: [string, number][]) {
	for (const [productId, quantity] of lines) expect((await acc.http.post(`${V1}/cart/items`, { productId, quantity })).status).toBe(200);
}

function checkout(acc: Account, cardNumber: string = TEST_CARDS.approved, key = `saga-${++keys}`) {
	return acc.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment: card(cardNumber) }, { "idempotency-key": key });
}

const settled = (acc: Account, id: string, final?: (s: string) => boolean) => settledOrder(acc, id, final);

const product = (p: ShopParts, id: string) => stockOf(p.adm, id);

type RawService = {
	collection(name: string): { find(opts?: object): Promise<Record<string, unknown>[]> };
	relayOutbox(): Promise<void>;
	provider?: { ledger(): Promise<{ kind: string; amount: number; key: string }[]> };
};
const service = (p: ShopParts, name: string) => p.shop.broker.getLocalService(name) as unknown as RawService;

/** Everything the two services keep, as stored. */
async function storedState(p: ShopParts) {
	const dump = async (svc: string, coll: string) =>
		(
			await service(p, svc)
				.collection(coll)
				.find({ sort: ["_id"] })
		).map(d => JSON.stringify(d));
	return {
		orders: await dump("orders", "orders"),
		carts: await dump("orders", "carts"),
		products: await dump("products", "products"),
		reservations: await dump("products", "reservations"),
		ledger: (await service(p, "orders").provider!.ledger()).length,
	};
}

/** Until both outboxes are empty and no relay is running. */
async function quiet(p: ShopParts) {
	await eventually(
		async () => {
			await Promise.all([service(p, "orders").relayOutbox(), service(p, "products").relayOutbox()]);
			const pending = [
				...(await service(p, "orders").collection("orders").find({})),
				...(await service(p, "products").collection("reservations").find({})),
			].filter(d => Array.isArray(d.outbox) && d.outbox.length > 0);
			return pending.length === 0 ? true : undefined;
		},
		10_000,
		"the outboxes to drain",
	);
}

function envelope<T extends EventType>(type: T, payload: EventPayloads[T], key: string): EventEnvelope<T> {
	return { id: randomUUID(), type, key, source: "test", occurredAt: new Date().toISOString(), requestId: null, payload };
}

describe("checkout saga", () => {
	let p: ShopParts;
	beforeAll(async () => {
		p = await open();
	});
	afterAll(async () => {
		await close(p);
	});

	it("sells the last units once: N concurrent checkouts for fewer units", async () => {
		const units = 3;
		const buyers = 8;
		const item = await createProduct(p, { stock: units, price: 4999 });
		const accounts = await Promise.all(Array.from({ length: buyers }, (_, i) => customer(p.shop, `Racer${i}`)));
		for (const acc of accounts) await fill(acc, [[item.id, 1]]);

		const placed = await Promise.all(accounts.map(acc => checkout(acc)));
		expect(placed.map(r => r.status)).toEqual(Array(buyers).fill(202));
		const final = await Promise.all(placed.map((r, i) => settled(accounts[i]!, r.body.id)));

		const paid = final.filter(o => o.status === "paid");
		const cancelled = final.filter(o => o.status === "cancelled");
		expect(paid).toHaveLength(units);
		expect(cancelled).toHaveLength(buyers - units);
		for (const o of cancelled) expect(o.statusHistory.at(-1)).toMatchObject({ status: "cancelled", reason: "out_of_stock" });
		await quiet(p);
		expect(await product(p, item.id)).toMatchObject({ stock: 0, available: 0 });
		const captures = (await service(p, "orders").provider!.ledger()).filter(l => l.kind === "capture" && final.some(o => l.key === `${o.id}:capture`));
		expect(captures).toHaveLength(units);
	});

	it("holds atomically when reservations really run at the same time (and twice)", async () => {
		const units = 7;
		const item = await createProduct(p, { stock: units });
		const orders: string[] = Array.from({ length: 20 }, () => randomUUID());
		const placed = orders.map(orderId =>
			envelope("order.placed", { orderId, userId: "u", items: [{ productId: item.id, quantity: 1 }], total: 1000, currency: "EUR" }, orderId),
		);
		// Every placement delivered twice, all concurrently: an at-least-once transport may do that.
		const duplicates = placed.map(e => ({ ...e, id: randomUUID() }));
		await Promise.all([...placed, ...duplicates].map(e => p.transport.publish([e])));

		const reservations = (await service(p, "products").collection("reservations").find({})).filter(r => orders.includes(r._id as string));
		expect(reservations.filter(r => r.status === "held")).toHaveLength(units);
		expect(reservations.filter(r => r.status === "rejected")).toHaveLength(orders.length - units);
		const raw = (await service(p, "products").collection("products").find({})).find(d => d._id === item.id)!;
		expect(raw.available).toBe(0);
		expect(raw.stock).toBe(units);
		expect(Object.keys(raw.holds as object)).toHaveLength(units);

		// Cancel everything, twice and concurrently: every unit comes back, once.
		const cancels = orders.map(orderId =>
			envelope(
				"order.cancelled",
				{ orderId, userId: "u", items: [{ productId: item.id, quantity: 1 }], reason: "cancelled_by_customer", refunded: false },
				orderId,
			),
		);
		await Promise.all([...cancels, ...cancels.map(e => ({ ...e, id: randomUUID() }))].map(e => p.transport.publish([e])));
		expect(await product(p, item.id)).toMatchObject({ stock: units, available: units });
		const after = (await service(p, "products").collection("products").find({})).find(d => d._id === item.id)!;
		expect(after.holds).toEqual({});
	});

	it("one Idempotency-Key, concurrent requests: one order, one charge", async () => {
		const ann = await customer(p.shop, "Ann");
		const item = await createProduct(p, { stock: 10 });
		await fill(ann, [[item.id, 2]]);
		const key = `same-key-${randomUUID()}`;
		const answers = await Promise.all(Array.from({ length: 5 }, () => checkout(ann, TEST_CARDS.approved, key)));
		expect(answers.map(r => r.status)).toEqual(Array(5).fill(202));
		const ids = new Set(answers.map(r => r.body.id));
		expect(ids.size).toBe(1);
		const [orderId] = [...ids];
		await settled(ann, orderId!);
		expect((await ann.http.get(`${V1}/orders`)).body.total).toBe(1);
		expect((await service(p, "orders").provider!.ledger()).filter(l => l.key === `${orderId}:capture`)).toHaveLength(1);
		expect(p.seen.filter(e => e.type === "order.placed" && orderOf(e) === orderId)).toHaveLength(1);
		await quiet(p);
		expect(await product(p, item.id)).toMatchObject({ stock: 8, available: 8 });
	});

	it("carries the checkout's X-Request-ID through every event of its saga", async () => {
		const ann = await customer(p.shop, "Ann");
		const item = await createProduct(p);
		await fill(ann, [[item.id, 1]]);
		const requestId = `req-${randomUUID()}`;
		const res = await ann.http.post(
			`${V1}/orders`,
			{ shippingAddress: ADDRESS, payment: card() },
			{ "idempotency-key": `saga-${++keys}`, "x-request-id": requestId },
		);
		expect(res.headers.get("x-request-id")).toBe(requestId);
		await settled(ann, res.body.id);
		await quiet(p);
		const chain = p.seen.filter(e => orderOf(e) === res.body.id);
		expect(chain.map(e => e.type).sort()).toEqual(["order.paid", "order.placed", "payment.captured", "stock.reserved"]);
		for (const e of chain) expect(e.requestId, e.type).toBe(requestId);
	});

	it("a declined payment releases its hold", async () => {
		const ann = await customer(p.shop, "Ann");
		const item = await createProduct(p, { stock: 2 });
		await fill(ann, [[item.id, 2]]);
		const res = await checkout(ann, TEST_CARDS.declined);
		const done = await settled(ann, res.body.id);
		expect(done.status).toBe("cancelled");
		expect(done.statusHistory.at(-1).reason).toBe("payment_declined");
		// The stock was held before the charge was tried...
		expect(p.seen.some(e => e.type === "stock.reserved" && orderOf(e) === res.body.id)).toBe(true);
		// ...and is free again.
		await quiet(p);
		expect(await product(p, item.id)).toMatchObject({ stock: 2, available: 2 });
		expect(p.seen.filter(e => e.type === "payment.declined" && orderOf(e) === res.body.id)).toHaveLength(1);
	});

	it("replaying every event of finished sagas changes nothing", async () => {
		const from = p.seen.length;
		const ann = await customer(p.shop, "Ann");
		const a = await createProduct(p, { stock: 5, price: 1000 });
		const b = await createProduct(p, { stock: 1, price: 2500 });
		const orderIds: string[] = [];
		const run = async (lines: [string, number][], cardNumber: string = TEST_CARDS.approved) => {
			await fill(ann, lines);
			const res = await checkout(ann, cardNumber);
			orderIds.push(res.body.id);
			return settled(ann, res.body.id);
		};
		const paid = await run([[a.id, 2]]);
		await run([[a.id, 1]], TEST_CARDS.declined);
		const toCancel = await run([[b.id, 1]]);
		await run([[b.id, 1]]); // out of stock
		const cancelled = await p.adm.http.post(`${V1}/orders/${toCancel.id}/cancel`);
		expect(cancelled.body.status).toBe("refunded");
		await p.adm.http.post(`${V1}/orders/${paid.id}/ship`);
		await p.adm.http.post(`${V1}/orders/${paid.id}/deliver`);
		await p.transport.publish([
			envelope(
				"return.approved",
				{ ticketId: randomUUID(), returnId: randomUUID(), userId: ann.id, orderId: paid.id, items: [{ productId: a.id, quantity: 1 }] },
				"t",
			),
		]);
		await quiet(p);

		const events = p.seen.slice(from);
		const types = new Set(events.map(e => e.type));
		for (const t of [
			"order.placed",
			"stock.reserved",
			"stock.rejected",
			"order.paid",
			"order.cancelled",
			"payment.captured",
			"payment.declined",
			"payment.refunded",
			"order.refunded",
			"return.approved",
		])
			expect(types, t).toContain(t);
		const before = await storedState(p);
		expect(before.orders.length).toBeGreaterThan(0);

		// What the services really emitted is what the AsyncAPI document promises (no field more or less).
		const messages = (buildAsyncApi() as { components: { messages: Record<string, { payload: object }> } }).components.messages;
		const ajv = new Ajv2020({ strict: false, allErrors: true });
		(formats as unknown as { default: (a: Ajv2020) => void }).default(ajv);
		for (const e of events.filter(e => e.source === "orders" || e.source === "products")) {
			const validate = ajv.compile(messages[e.type]!.payload);
			expect(validate(e), `${e.type}: ${JSON.stringify(validate.errors)}`).toBe(true);
		}

		// The same envelopes again (skipped by event id), then as new deliveries with new ids (each handler must be idempotent on its own).
		for (const e of events) await p.transport.publish([e]);
		for (const e of events) await p.transport.publish([{ ...e, id: randomUUID() }]);
		await quiet(p);

		expect(await storedState(p)).toEqual(before);
		// And no new event was caused: everything seen since are the replays themselves.
		expect(p.seen.length - from).toBe(events.length * 3);
		expect(await product(p, a.id)).toMatchObject({ stock: 4, available: 4 }); // 5, 2 sold, 1 returned
		expect(await product(p, b.id)).toMatchObject({ stock: 1, available: 1 });
		expect(orderIds).toHaveLength(4);
	});
});

describe("reservation expiry", () => {
	let p: ShopParts;
	beforeAll(async () => {
		p = await open({ RESERVATION_TTL_SECONDS: "1" });
	});
	afterAll(async () => {
		await close(p);
	});

	it("cancels a pending order whose payment never answers and releases its stock", async () => {
		const ann = await customer(p.shop, "Ann");
		const item = await createProduct(p, { stock: 3 });
		await fill(ann, [[item.id, 2]]);
		// The provider fails this card's capture every time: the payment step never completes.
		const res = await checkout(ann, TEST_CARDS.processingError);
		expect(res.status).toBe(202);
		const done = await settled(ann, res.body.id);
		expect(done.status).toBe("cancelled");
		expect(done.statusHistory.at(-1)).toMatchObject({ status: "cancelled", reason: "reservation_expired" });
		expect(done.payment.status).toBe("voided");
		await quiet(p);
		expect(await product(p, item.id)).toMatchObject({ stock: 3, available: 3 });
		expect(p.seen.filter(e => e.type === "order.cancelled" && orderOf(e) === res.body.id).map(e => (e.payload as { reason: string }).reason)).toEqual([
			"reservation_expired",
		]);
	});

	it("leaves orders that settle in time alone", async () => {
		const ann = await customer(p.shop, "Ann");
		const item = await createProduct(p, { stock: 3 });
		await fill(ann, [[item.id, 1]]);
		const res = await checkout(ann);
		const done = await settled(ann, res.body.id);
		expect(done.status).toBe("paid");
		await quiet(p);
		expect((await ann.http.get(`${V1}/orders/${res.body.id}`)).body.status).toBe("paid");
		expect(await product(p, item.id)).toMatchObject({ stock: 2, available: 2 });
	});
});
