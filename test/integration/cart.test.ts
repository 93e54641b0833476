import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf, newProduct } from "../helpers/commerce.js";

let shop: TestShop;
let adm: Account;

const V1 = "/api/v1";

const createProduct = (over: Record<string, unknown> = {}) => newProduct<{ id: string; sku: string; name: string; price: number }>(adm, over);

const fields = (res: { body: { data?: { field: string }[] } }) => fieldsOf(res.body);

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products", "orders", "pricing"], env: ADMIN_ENV });
	adm = await admin(shop);
});
afterAll(async () => {
	await shop?.stop();
});

/** The cart of the contract's additions with nothing in it: no code, no destination, so no shipping and no tax. */
const EMPTY = {
	items: [],
	subtotal: 0,
	discount: 0,
	shipping: 0,
	shippingTax: 0,
	tax: 0,
	total: 0,
	currency: "EUR",
	promotion: null,
	promotionRefusal: null,
	shippingMethod: null,
};
/** A line of a product sold as itself: keyed by the product's id, no variant, nothing off, no tax without a destination. */
const line = (l: { productId: string; sku: string; name: string; unitPrice: number; quantity: number; lineTotal: number }) => ({
	itemId: l.productId,
	variantId: null,
	options: null,
	discount: 0,
	tax: 0,
	...l,
});

describe("cart", () => {
	it("starts empty and needs a signed-in user", async () => {
		const ann = await customer(shop, "Ann");
		const res = await ann.http.get(`${V1}/cart`);
		expect(res.status).toBe(200);
		expect(res.body).toEqual(EMPTY);
		expect((await shop.http.get(`${V1}/cart`)).status).toBe(401);
		expect((await shop.http.post(`${V1}/cart/items`, { productId: "x", quantity: 1 })).status).toBe(401);
	});

	it("adds products with current prices; the same product adds up", async () => {
		const ann = await customer(shop, "Ann");
		const pen = await createProduct({ name: "Pen", price: 250 });
		const ink = await createProduct({ name: "Ink", price: 1000 });
		const first = await ann.http.post(`${V1}/cart/items`, { productId: pen.id, quantity: 2 });
		expect(first.status).toBe(200);
		expect(first.body).toEqual({
			...EMPTY,
			items: [line({ productId: pen.id, sku: pen.sku, name: "Pen", unitPrice: 250, quantity: 2, lineTotal: 500 })],
			subtotal: 500,
			total: 500,
		});
		await ann.http.post(`${V1}/cart/items`, { productId: ink.id, quantity: 1 });
		const again = await ann.http.post(`${V1}/cart/items`, { productId: pen.id, quantity: 3 });
		expect(again.body.items).toEqual([
			line({ productId: pen.id, sku: pen.sku, name: "Pen", unitPrice: 250, quantity: 5, lineTotal: 1250 }),
			line({ productId: ink.id, sku: ink.sku, name: "Ink", unitPrice: 1000, quantity: 1, lineTotal: 1000 }),
		]);
		expect(again.body.subtotal).toBe(2250);

		// Prices are the catalog's current ones, not the ones at the time of adding.
		await adm.http.patch(`${V1}/products/${pen.id}`, { price: 300 });
		const now = await ann.http.get(`${V1}/cart`);
		expect(now.body.items[0]).toMatchObject({ unitPrice: 300, lineTotal: 1500 });
		expect(now.body.subtotal).toBe(2500);
	});

	it("keeps quantities within 1..99", async () => {
		const ann = await customer(shop, "Ann");
		const p = await createProduct();
		for (const quantity of [0, 100, -1, 1.5, "2"]) {
			const res = await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity });
			expect(res.status, String(quantity)).toBe(422);
			expect(fields(res)).toEqual(["quantity"]);
		}
		await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 90 });
		const over = await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 10 });
		expect(over.status).toBe(422);
		expect(fields(over)).toEqual(["quantity"]);
		expect((await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 9 })).body.items[0].quantity).toBe(99);
		expect((await ann.http.patch(`${V1}/cart/items/${p.id}`, { quantity: 100 })).status).toBe(422);
		expect((await ann.http.patch(`${V1}/cart/items/${p.id}`, { quantity: 0 })).status).toBe(422);
	});

	it("answers 404 for unknown, inactive and deleted products and 422 for malformed input", async () => {
		const ann = await customer(shop, "Ann");
		const unknown = await ann.http.post(`${V1}/cart/items`, { productId: randomUUID(), quantity: 1 });
		expect(unknown.status).toBe(404);
		const inactive = await createProduct({ active: false });
		expect((await ann.http.post(`${V1}/cart/items`, { productId: inactive.id, quantity: 1 })).status).toBe(404);
		const deleted = await createProduct();
		await adm.http.delete(`${V1}/products/${deleted.id}`);
		expect((await ann.http.post(`${V1}/cart/items`, { productId: deleted.id, quantity: 1 })).status).toBe(404);

		for (const productId of ["a.b", "$where", "", 42]) {
			const res = await ann.http.post(`${V1}/cart/items`, { productId, quantity: 1 });
			expect(res.status, String(productId)).toBe(422);
			expect(fields(res)).toEqual(["productId"]);
		}
		expect((await ann.http.post(`${V1}/cart/items`, { quantity: 1 })).status).toBe(422);
		expect((await ann.http.post(`${V1}/cart/items`, { productId: deleted.id, quantity: 1, price: 1 })).status).toBe(422);
		expect((await ann.http.post(`${V1}/cart/items`, "not json", { "content-type": "application/json" })).status).toBe(400);
	});

	it("changes and removes lines; unknown lines are 404", async () => {
		const ann = await customer(shop, "Ann");
		const a = await createProduct();
		const b = await createProduct();
		await ann.http.post(`${V1}/cart/items`, { productId: a.id, quantity: 1 });
		await ann.http.post(`${V1}/cart/items`, { productId: b.id, quantity: 1 });
		const changed = await ann.http.patch(`${V1}/cart/items/${a.id}`, { quantity: 7 });
		expect(changed.status).toBe(200);
		expect(changed.body.items[0]).toMatchObject({ productId: a.id, quantity: 7, lineTotal: 7000 });
		const removed = await ann.http.delete(`${V1}/cart/items/${b.id}`);
		expect(removed.status).toBe(200);
		expect(removed.body.items.map((i: { productId: string }) => i.productId)).toEqual([a.id]);
		expect((await ann.http.delete(`${V1}/cart/items/${b.id}`)).status).toBe(404);
		expect((await ann.http.patch(`${V1}/cart/items/${b.id}`, { quantity: 2 })).status).toBe(404);
		expect((await ann.http.patch(`${V1}/cart/items/${a.id}`, { quantity: 2, extra: true })).status).toBe(422);
		// An id in the path that is not in the shop's id format names nothing.
		expect((await ann.http.patch(`${V1}/cart/items/a.b`, { quantity: 2 })).status).toBe(404);

		const cleared = await ann.http.delete(`${V1}/cart`);
		expect(cleared.status).toBe(200);
		expect(cleared.body).toEqual(EMPTY);
		const fresh = await customer(shop, "Fresh");
		expect((await fresh.http.delete(`${V1}/cart`)).body).toEqual(EMPTY);
	});

	it("is one per user", async () => {
		const ann = await customer(shop, "Ann");
		const bob = await customer(shop, "Bob");
		const p = await createProduct();
		await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 2 });
		expect((await bob.http.get(`${V1}/cart`)).body.items).toEqual([]);
		expect((await bob.http.delete(`${V1}/cart/items/${p.id}`)).status).toBe(404);
		expect((await ann.http.get(`${V1}/cart`)).body.items).toHaveLength(1);
	});

	it("holds one currency", async () => {
		const ann = await customer(shop, "Ann");
		const eur = await createProduct({ currency: "EUR" });
		const usd = await createProduct({ currency: "USD" });
		await ann.http.post(`${V1}/cart/items`, { productId: eur.id, quantity: 1 });
		const mixed = await ann.http.post(`${V1}/cart/items`, { productId: usd.id, quantity: 1 });
		expect(mixed.status).toBe(422);
		expect(fields(mixed)).toEqual(["productId"]);
		await ann.http.delete(`${V1}/cart`);
		expect((await ann.http.post(`${V1}/cart/items`, { productId: usd.id, quantity: 1 })).body).toMatchObject({ currency: "USD", subtotal: 1000 });
	});

	it("counts every one of concurrent adds", async () => {
		const ann = await customer(shop, "Ann");
		const p = await createProduct();
		const results = await Promise.all(Array.from({ length: 8 }, () => ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 2 })));
		expect(results.map(r => r.status)).toEqual(Array(8).fill(200));
		expect((await ann.http.get(`${V1}/cart`)).body.items[0].quantity).toBe(16);
	});

	it("leaves out products that left the catalog", async () => {
		const ann = await customer(shop, "Ann");
		const stays = await createProduct();
		const goes = await createProduct();
		await ann.http.post(`${V1}/cart/items`, { productId: stays.id, quantity: 1 });
		await ann.http.post(`${V1}/cart/items`, { productId: goes.id, quantity: 1 });
		await adm.http.delete(`${V1}/products/${goes.id}`);
		const cart = await ann.http.get(`${V1}/cart`);
		expect(cart.body.items.map((i: { productId: string }) => i.productId)).toEqual([stays.id]);
		expect(cart.body.subtotal).toBe(1000);
		// It is gone from the cart, not just hidden.
		expect((await ann.http.delete(`${V1}/cart/items/${goes.id}`)).status).toBe(404);
	});

	it("adds once per Idempotency-Key: a retry answers the first result, and so does a takeover after its node died mid-request", async () => {
		const ann = await customer(shop, "Ann");
		const p = await createProduct();
		const key = randomUUID();
		const first = await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 2 }, { "idempotency-key": key });
		expect(first.status).toBe(200);
		const retry = await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 2 }, { "idempotency-key": key });
		expect(retry.body.items[0].quantity).toBe(2);
		// The node that served it died after the cart write and before the key recorded the answer:
		// the key is left "started", held by a process that is no more, and the retry takes it over.
		const keys = (
			shop.broker.getLocalService("orders") as unknown as { collection(n: string): { updateWhere(q: object, u: object): Promise<number> } }
		).collection("idempotency_keys");
		const held = {
			state: "started",
			response: null,
			lockedBy: { nodeID: shop.broker.nodeID, instanceID: "a-process-that-died" },
			lockedAt: new Date().toISOString(),
		};
		expect(await keys.updateWhere({ _id: `${ann.id}:${key}` }, { $set: held })).toBe(1);
		const takeover = await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 2 }, { "idempotency-key": key });
		expect(takeover.status).toBe(200);
		expect(takeover.body.items[0].quantity).toBe(2);
		expect((await ann.http.get(`${V1}/cart`)).body.items[0].quantity).toBe(2);
		// Another key adds again; the same key with another body is a 409.
		expect((await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 1 }, { "idempotency-key": randomUUID() })).body.items[0].quantity).toBe(3);
		expect((await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 5 }, { "idempotency-key": key })).status).toBe(409);
	});
});
