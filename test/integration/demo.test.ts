/**
 * The demo shop (SEED_DEMO=true, what `npm start` gives a newcomer): the catalog with a T-shirt
 * sold in sizes and colours, shipping within the EU, VAT and the code WELCOME10, enough to sell
 * that T-shirt with a code and shipping at once; and a second start adds nothing twice.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { settledOrder } from "../helpers/commerce.js";
import { TEST_CARDS } from "../../lib/payments/simulated.js";
import { DEMO_PRODUCTS } from "../../services/products/demo-catalog.js";
import { DEMO_SHIPPING_METHODS, DEMO_TAX_RATES } from "../../services/pricing/demo-terms.js";

const V1 = "/api/v1";
let shop: TestShop;

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products", "orders", "pricing"], env: { ...ADMIN_ENV, SEED_DEMO: "true" } });
});
afterAll(async () => {
	await shop?.stop();
});

interface Variant {
	id: string;
	sku: string;
	options: Record<string, string>;
	price: number;
	available: number;
}

describe("the demo shop", () => {
	it("sells the demo T-shirt in size M with WELCOME10 and standard shipping to Germany, VAT included", async () => {
		const found = await shop.http.get(`${V1}/products?q=t-shirt&option=size:M`);
		expect(found.status).toBe(200);
		const tee = found.body.rows.find((p: { sku: string }) => p.sku === "APP-TEE");
		expect(tee, JSON.stringify(found.body.rows)).toBeTruthy();
		expect(tee.options).toEqual([
			{ name: "size", values: ["S", "M", "L"] },
			{ name: "colour", values: ["Black", "White"] },
		]);
		expect(tee.variants).toHaveLength(6);
		expect(tee.variants.find((v: Variant) => v.options.size === "L" && v.options.colour === "White").available).toBe(0);
		const m = (tee.variants as Variant[]).find(v => v.options.size === "M" && v.options.colour === "Black")!;

		const ann: Account = await customer(shop, "Ann");
		expect((await ann.http.post(`${V1}/cart/items`, { productId: tee.id, variantId: m.id, quantity: 2 })).status).toBe(200);
		const applied = await ann.http.put(`${V1}/cart/promotion`, { code: "welcome10" });
		expect(applied.status, JSON.stringify(applied.body)).toBe(200);
		const cart = (await ann.http.get(`${V1}/cart?country=DE`)).body;
		// 2 × 19.00 = 38.00, 10 % off 3.80, standard shipping 4.90 (free only from 50.00), 19 % VAT inside the prices.
		expect(cart).toMatchObject({ subtotal: 3800, discount: 380, shipping: 490, total: 3800 - 380 + 490, currency: "EUR" });
		expect(cart.shippingMethod).toMatchObject({ name: "Standard" });
		expect(cart.tax).toBe(Math.round(((3800 - 380 + 490) * 1900) / 11900));

		const placed = await ann.http.post(
			`${V1}/orders`,
			{
				shippingAddress: { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" },
				payment: { method: "card", cardNumber: TEST_CARDS.approved, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" },
			},
			{ "idempotency-key": randomUUID() },
		);
		expect(placed.status, JSON.stringify(placed.body)).toBe(202);
		const order = await settledOrder(ann, placed.body.id);
		expect(order).toMatchObject({
			status: "paid",
			subtotal: 3800,
			discountTotal: 380,
			shippingTotal: 490,
			shippingTax: cart.shippingTax,
			total: 3910,
			taxTotal: cart.tax,
		});
		expect(order.items).toEqual([expect.objectContaining({ variantId: m.id, sku: "APP-TEE-BLA-M", options: { size: "M", colour: "Black" }, quantity: 2 })]);

		// WELCOME10 is once per customer.
		expect((await ann.http.post(`${V1}/cart/items`, { productId: tee.id, variantId: m.id, quantity: 1 })).status).toBe(200);
		const again = await ann.http.put(`${V1}/cart/promotion`, { code: "WELCOME10" });
		expect(again.status).toBe(422);
	});

	it("starts again on the same data without adding anything twice", async () => {
		shop = await shop.restart();
		const adm = await admin(shop);
		const products = await adm.http.get(`${V1}/products?pageSize=100`);
		expect(products.body.total).toBe(DEMO_PRODUCTS.length);
		expect((await adm.http.get(`${V1}/shipping-methods`)).body).toHaveLength(DEMO_SHIPPING_METHODS.length);
		expect((await adm.http.get(`${V1}/tax-rates`)).body).toHaveLength(Object.keys(DEMO_TAX_RATES).length);
		const promotions = (await adm.http.get(`${V1}/promotions`)).body;
		expect(promotions.rows.map((p: { code: string }) => p.code)).toEqual(["WELCOME10"]);
		expect(promotions.rows[0].redemptions).toBe(1);
	});
});
