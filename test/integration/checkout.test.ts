import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf, newProduct, settledOrder, stockOf } from "../helpers/commerce.js";
import { TEST_CARDS } from "../../lib/payments/simulated.js";

let shop: TestShop;
let adm: Account;
let keys = 0;

const V1 = "/api/v1";
const YEAR = new Date().getUTCFullYear() + 3;
const ADDRESS = { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };
const card = (cardNumber: string = TEST_CARDS.approved, over: Record<string, unknown> = {}) => ({
	method: "card",
	cardNumber,
	expMonth: 12,
	expYear: YEAR,
	cvc: "123",
	...over,
});
const order = (over: Record<string, unknown> = {}) => ({ shippingAddress: ADDRESS, payment: card(), ...over });
const newKey = () => `checkout-${process.pid}-${++keys}`;

const createProduct = (over: Record<string, unknown> = {}) => newProduct(adm, { price: 1250, ...over });

async function fill(acc: Account, productId: string, quantity = 1) {
	const res = await acc.http.post(`${V1}/cart/items`, { productId, quantity });
	expect(res.status, JSON.stringify(res.body)).toBe(200);
}

function checkout(acc: Account, body: unknown, key: string | null = newKey()) {
	return acc.http.post(`${V1}/orders`, body, key === null ? {} : { "idempotency-key": key });
}

const settled = (acc: Account, id: string) => settledOrder(acc, id, undefined, 10_000);

const product = (id: string) => stockOf(adm, id);

const fields = (res: { body: { data?: { field: string }[] } }) => fieldsOf(res.body);

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products", "orders", "pricing"], env: ADMIN_ENV });
	adm = await admin(shop);
});
afterAll(async () => {
	await shop?.stop();
});

const plain = (productId: string) => ({ itemId: productId, productId, variantId: null, options: null, discount: 0, tax: 0 });

describe("checkout", () => {
	it("places a pending order, empties the cart, and settles to paid", async () => {
		const ann = await customer(shop, "Ann");
		const lamp = await createProduct({ name: "Lamp", price: 1999, stock: 5 });
		const bulb = await createProduct({ name: "Bulb", price: 350, stock: 20 });
		await fill(ann, lamp.id, 2);
		await fill(ann, bulb.id, 3);

		const res = await checkout(ann, order());
		expect(res.status).toBe(202);
		expect(res.body).toEqual({
			id: expect.any(String),
			userId: ann.id,
			status: "pending",
			// A product sold as itself, no code, no shipping methods and no tax rates set up: nothing is added.
			items: [
				{ ...plain(lamp.id), sku: lamp.sku, name: "Lamp", unitPrice: 1999, quantity: 2, lineTotal: 3998 },
				{ ...plain(bulb.id), sku: bulb.sku, name: "Bulb", unitPrice: 350, quantity: 3, lineTotal: 1050 },
			],
			subtotal: 5048,
			discountTotal: 0,
			shippingTotal: 0,
			shippingTax: 0,
			taxTotal: 0,
			promotion: null,
			shippingMethod: null,
			total: 5048,
			currency: "EUR",
			shippingAddress: ADDRESS,
			payment: { brand: "visa", last4: "4242", status: "authorized" },
			refunds: [],
			fulfilments: [],
			statusHistory: [{ status: "pending", at: expect.any(String) }],
			createdAt: expect.any(String),
			updatedAt: expect.any(String),
		});
		expect((await ann.http.get(`${V1}/cart`)).body.items).toEqual([]);

		const done = await settled(ann, res.body.id);
		expect(done.status).toBe("paid");
		expect(done.payment).toEqual({ brand: "visa", last4: "4242", status: "captured" });
		expect(done.statusHistory.map((h: { status: string }) => h.status)).toEqual(["pending", "paid"]);
		await eventually(async () => ((await product(lamp.id)).stock === 3 ? true : undefined), 5000, "stock to be committed");
		expect(await product(lamp.id)).toMatchObject({ stock: 3, available: 3 });
		expect(await product(bulb.id)).toMatchObject({ stock: 17, available: 17 });
	});

	it("freezes prices at checkout", async () => {
		const ann = await customer(shop, "Ann");
		const p = await createProduct({ price: 1000 });
		await fill(ann, p.id, 1);
		const res = await checkout(ann, order());
		await adm.http.patch(`${V1}/products/${p.id}`, { price: 5000 });
		const got = await ann.http.get(`${V1}/orders/${res.body.id}`);
		expect(got.body.items[0].unitPrice).toBe(1000);
		expect(got.body.total).toBe(1000);
	});

	it("needs an Idempotency-Key", async () => {
		const ann = await customer(shop, "Ann");
		await fill(ann, (await createProduct()).id);
		const res = await checkout(ann, order(), null);
		expect(res.status).toBe(422);
		expect(fields(res)).toEqual(["Idempotency-Key"]);
		expect((await checkout(ann, order(), "has spaces in it")).status).toBe(422);
		expect((await ann.http.get(`${V1}/cart`)).body.items).toHaveLength(1);
		expect((await shop.http.post(`${V1}/orders`, order(), { "idempotency-key": newKey() })).status).toBe(401);
	});

	it("refuses an empty cart, and the key can be used again once the cart is filled", async () => {
		const ann = await customer(shop, "Ann");
		const key = newKey();
		const empty = await checkout(ann, order(), key);
		expect(empty.status).toBe(422);
		expect(fields(empty)).toEqual(["cart"]);
		await fill(ann, (await createProduct()).id);
		const ok = await checkout(ann, order(), key);
		expect(ok.status).toBe(202);
	});

	it("refuses a cart whose product left the catalog", async () => {
		const ann = await customer(shop, "Ann");
		const p = await createProduct();
		await fill(ann, p.id);
		await adm.http.delete(`${V1}/products/${p.id}`);
		const res = await checkout(ann, order());
		expect(res.status).toBe(422);
		expect(fields(res)).toEqual(["cart"]);
		expect(res.body.message).toContain(p.id);
	});

	it("validates the address field by field", async () => {
		const ann = await customer(shop, "Ann");
		await fill(ann, (await createProduct()).id);
		const cases: [Record<string, unknown>, string][] = [
			[{ ...ADDRESS, country: "XX" }, "shippingAddress.country"],
			[{ ...ADDRESS, country: "de" }, "shippingAddress.country"],
			[{ ...ADDRESS, country: "DEU" }, "shippingAddress.country"],
			[{ ...ADDRESS, city: "" }, "shippingAddress.city"],
			[{ ...ADDRESS, postalCode: "<script>" }, "shippingAddress.postalCode"],
			[{ ...ADDRESS, line1: undefined }, "shippingAddress.line1"],
			[{ ...ADDRESS, phone: "123" }, "shippingAddress"],
		];
		for (const [shippingAddress, field] of cases) {
			const res = await checkout(ann, order({ shippingAddress }));
			expect(res.status, JSON.stringify(shippingAddress)).toBe(422);
			expect(
				fields(res).some(f => f.startsWith(field)),
				`${field} in ${fields(res)}`,
			).toBe(true);
		}
		expect((await checkout(ann, { payment: card() })).status).toBe(422);
		expect((await checkout(ann, order({ shippingAddress: { ...ADDRESS, line2: "Flat 3", region: "BE" } }))).status).toBe(202);
	});

	it("validates the card: Luhn, expiry, CVC, method", async () => {
		const ann = await customer(shop, "Ann");
		await fill(ann, (await createProduct()).id);
		const cases: [Record<string, unknown>, string][] = [
			[card("4242424242424241"), "payment.cardNumber"],
			[card("1234"), "payment.cardNumber"],
			[card(TEST_CARDS.approved, { expYear: 2020 }), "payment.expYear"],
			[card(TEST_CARDS.approved, { expMonth: 13 }), "payment.expMonth"],
			[card(TEST_CARDS.approved, { cvc: "12" }), "payment.cvc"],
			[card(TEST_CARDS.approved, { cvc: "abc" }), "payment.cvc"],
			[card(TEST_CARDS.approved, { method: "paypal" }), "payment.method"],
			[card(TEST_CARDS.approved, { cardholder: "Ann" }), "payment"],
		];
		for (const [payment, field] of cases) {
			const res = await checkout(ann, order({ payment }));
			expect(res.status, JSON.stringify(payment)).toBe(422);
			expect(
				fields(res).some(f => f.startsWith(field)),
				`${field} in ${fields(res)}`,
			).toBe(true);
			// The error never echoes the card number.
			expect(JSON.stringify(res.body)).not.toContain(String(payment.cardNumber));
		}
		expect((await ann.http.get(`${V1}/cart`)).body.items).toHaveLength(1);
	});

	it("answers the first answer again for the same key and body, and 409 for another body", async () => {
		const ann = await customer(shop, "Ann");
		await fill(ann, (await createProduct()).id, 2);
		const key = newKey();
		const first = await checkout(ann, order(), key);
		expect(first.status).toBe(202);
		await settled(ann, first.body.id);
		const again = await checkout(ann, order(), key);
		expect(again.status).toBe(202);
		expect(again.body).toEqual(first.body);
		const other = await checkout(ann, order({ shippingAddress: { ...ADDRESS, city: "Hamburg" } }), key);
		expect(other.status).toBe(409);
		expect(other.body.data).toEqual({ field: "Idempotency-Key" });
		expect((await ann.http.get(`${V1}/orders`)).body.total).toBe(1);

		// Keys belong to a user: another customer's identical key is a new checkout.
		const bob = await customer(shop, "Bob");
		await fill(bob, (await createProduct()).id);
		const bobs = await checkout(bob, order(), key);
		expect(bobs.status).toBe(202);
		expect(bobs.body.id).not.toBe(first.body.id);
	});

	it("cancels a declined payment and releases what it held", async () => {
		const ann = await customer(shop, "Ann");
		const p = await createProduct({ stock: 4 });
		await fill(ann, p.id, 3);
		const res = await checkout(ann, order({ payment: card(TEST_CARDS.declined) }));
		expect(res.status).toBe(202);
		const done = await settled(ann, res.body.id);
		expect(done.status).toBe("cancelled");
		expect(done.statusHistory).toEqual([
			{ status: "pending", at: expect.any(String) },
			{ status: "cancelled", at: expect.any(String), reason: "payment_declined" },
		]);
		expect(done.payment).toEqual({ brand: "visa", last4: "0002", status: "declined" });
		await eventually(async () => ((await product(p.id)).available === 4 ? true : undefined), 5000, "the hold to be released");
		expect(await product(p.id)).toMatchObject({ stock: 4, available: 4 });
	});

	it("cancels out_of_stock when the stock is short, holding nothing", async () => {
		const ann = await customer(shop, "Ann");
		const plenty = await createProduct({ stock: 50 });
		const scarce = await createProduct({ stock: 1 });
		await fill(ann, plenty.id, 5);
		await fill(ann, scarce.id, 2);
		const res = await checkout(ann, order());
		const done = await settled(ann, res.body.id);
		expect(done.status).toBe("cancelled");
		expect(done.statusHistory[1]).toMatchObject({ status: "cancelled", reason: "out_of_stock" });
		expect(done.payment.status).toBe("voided");
		expect(await product(plenty.id)).toMatchObject({ stock: 50, available: 50 });
		expect(await product(scarce.id)).toMatchObject({ stock: 1, available: 1 });
	});

	it("never stores the card number or the CVC", async () => {
		const ann = await customer(shop, "Ann");
		await fill(ann, (await createProduct()).id);
		const pan = "5555555555554444";
		const res = await checkout(ann, order({ payment: card(pan, { cvc: "987" }) }));
		expect(res.status).toBe(202);
		expect(res.body.payment).toEqual({ brand: "mastercard", last4: "4444", status: "authorized" });
		await settled(ann, res.body.id);
		const files: string[] = [];
		const walk = (dir: string) =>
			fs.readdirSync(dir, { withFileTypes: true }).forEach(e => (e.isDirectory() ? walk(path.join(dir, e.name)) : files.push(path.join(dir, e.name))));
		walk(shop.dataDir);
		expect(files.length).toBeGreaterThan(0);
		for (const f of files) {
			const text = fs.readFileSync(f, "utf8");
			expect(text, f).not.toContain(pan);
			expect(text, f).not.toMatch(/"cvc"|cardNumber/);
		}
	});
});
