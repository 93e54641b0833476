/**
 * Promotions, shipping and tax (contract, "Additions to v1"): the admin's routes and their
 * errors; a cart priced for a destination; codes applied and refused with their reason;
 * checkouts whose amounts add up exactly; a code's limits under racing checkouts; a use given
 * back by an order cancelled before payment and kept by a paid one; a return refunded after its
 * share of the discount; prices with tax on top.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, withRoles, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf, newProduct, settledOrder } from "../helpers/commerce.js";
import { TEST_CARDS } from "../../lib/payments/simulated.js";
import { acquireBus, releaseBus } from "../../lib/events/registry.js";
import { EVENT_TYPES, type EventEnvelope } from "../../lib/contracts/events.js";
import type { EventBus } from "../../lib/events/bus.js";

const V1 = "/api/v1";
let shop: TestShop;
let adm: Account;
let transport: EventBus;
const seen: EventEnvelope[] = [];
const record = async (e: EventEnvelope) => void seen.push(e);

const tag = () => randomUUID().slice(0, 8).toUpperCase();
const ADDRESS = (country = "DE") => ({ name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country });
const card = (cardNumber: string = TEST_CARDS.approved) => ({ method: "card", cardNumber, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" });
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function promotion(body: Record<string, unknown>) {
	const res = await adm.http.post(`${V1}/promotions`, { code: `C${tag()}`, type: "percent", value: 10, ...body });
	expect(res.status, JSON.stringify(res.body)).toBe(201);
	return res.body as { id: string; code: string; redemptions: number };
}
async function add(acc: Account, productId: string, quantity = 1, variantId?: string) {
	const res = await acc.http.post(`${V1}/cart/items`, { productId, quantity, ...(variantId ? { variantId } : {}) });
	expect(res.status, JSON.stringify(res.body)).toBe(200);
	return res.body;
}
function checkout(acc: Account, over: Record<string, unknown> = {}, cardNumber?: string) {
	return acc.http.post(`${V1}/orders`, { shippingAddress: ADDRESS(), payment: card(cardNumber), ...over }, { "idempotency-key": randomUUID() });
}

/** Every order's amounts add up: lines to totals, totals to the total. */
function expectExact(
	o: {
		items: { lineTotal: number; discount: number; tax: number; unitPrice: number; quantity: number }[];
		subtotal: number;
		discountTotal: number;
		shippingTotal: number;
		shippingTax: number;
		taxTotal: number;
		total: number;
	},
	pricesIncludeTax = true,
) {
	for (const i of o.items) expect(i.lineTotal).toBe(i.unitPrice * i.quantity);
	expect(sum(o.items.map(i => i.lineTotal))).toBe(o.subtotal);
	expect(sum(o.items.map(i => i.discount))).toBe(o.discountTotal);
	// The items' taxes plus the shipping's make the tax exactly (contract).
	expect(sum(o.items.map(i => i.tax)) + o.shippingTax).toBe(o.taxTotal);
	expect(o.total).toBe(o.subtotal - o.discountTotal + o.shippingTotal + (pricesIncludeTax ? 0 : o.taxTotal));
}

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products", "orders", "pricing", "tickets"], env: ADMIN_ENV });
	adm = await admin(shop);
	transport = await acquireBus(shop.broker);
	await transport.subscribe("test-recorder", EVENT_TYPES, record);
	// Two ways to ship to Germany, one to France, none elsewhere; German VAT.
	for (const m of [
		{ name: "Standard", countries: ["DE", "AT"], price: 490, currency: "EUR", freeOver: 10000, minDays: 2, maxDays: 4 },
		{ name: "Express", countries: ["DE"], price: 990, currency: "EUR", minDays: 1, maxDays: 1 },
		{ name: "France", countries: ["FR"], price: 1290, currency: "EUR", minDays: 3, maxDays: 6 },
	]) {
		expect((await adm.http.post(`${V1}/shipping-methods`, m)).status).toBe(201);
	}
	expect((await adm.http.put(`${V1}/tax-rates/DE`, { rate: 1900 })).status).toBe(200);
	expect((await adm.http.put(`${V1}/tax-rates/FR`, { rate: 2000 })).status).toBe(200);
});
afterAll(async () => {
	await transport?.unsubscribe("test-recorder", record);
	if (shop) await releaseBus(shop.broker);
	await shop?.stop();
});

describe("promotions: the admin's routes", () => {
	it("creates codes (201), unique whatever their case (409), and frees a deleted one's code", async () => {
		const code = `Welcome${tag()}`;
		const res = await adm.http.post(`${V1}/promotions`, { code, type: "percent", value: 10, maxRedemptions: 100 });
		expect(res.status).toBe(201);
		expect(res.body).toEqual({
			id: expect.any(String),
			code: code.toUpperCase(),
			type: "percent",
			value: 10,
			currency: null,
			minSubtotal: null,
			startsAt: null,
			endsAt: null,
			maxRedemptions: 100,
			perCustomerLimit: null,
			active: true,
			redemptions: 0,
			createdAt: expect.any(String),
			updatedAt: expect.any(String),
		});
		const again = await adm.http.post(`${V1}/promotions`, { code: code.toLowerCase(), type: "fixed", value: 500, currency: "EUR" });
		expect(again.status).toBe(409);
		expect(again.body.data).toEqual({ field: "code" });
		expect((await adm.http.get(`${V1}/promotions/${res.body.id}`)).body.code).toBe(code.toUpperCase());
		expect((await adm.http.get(`${V1}/promotions`)).body.rows.map((p: { id: string }) => p.id)).toContain(res.body.id);
		const patched = await adm.http.patch(`${V1}/promotions/${res.body.id}`, { value: 15, active: false });
		expect(patched.body).toMatchObject({ value: 15, active: false });
		expect((await adm.http.delete(`${V1}/promotions/${res.body.id}`)).status).toBe(204);
		expect((await adm.http.get(`${V1}/promotions/${res.body.id}`)).status).toBe(404);
		expect((await adm.http.post(`${V1}/promotions`, { code, type: "percent", value: 5 })).status).toBe(201);
	});

	it("refuses what a code cannot be, naming the field (422), and is for admins only", async () => {
		const cases: [Record<string, unknown>, string][] = [
			[{ code: "x", type: "percent", value: 10 }, "code"],
			[{ code: "OK-CODE", type: "percent", value: 150 }, "value"],
			[{ code: "OK-CODE", type: "fixed", value: 500 }, "currency"],
			[{ code: "OK-CODE", type: "percent", value: 10, minSubtotal: 1000 }, "currency"],
			[{ code: "OK-CODE", type: "percent", value: 10, startsAt: "2026-05-01T00:00:00Z", endsAt: "2026-04-01T00:00:00Z" }, "endsAt"],
			[{ code: "OK-CODE", type: "percent", value: 10, startsAt: "2026-02-30T00:00:00Z" }, "startsAt"],
			[{ code: "OK-CODE", type: "bogus", value: 10 }, "type"],
			[{ code: "OK-CODE", type: "percent", value: 10, maxRedemptions: 0 }, "maxRedemptions"],
			[{ code: "OK-CODE", type: "percent", value: 10, colour: "red" }, "colour"],
		];
		for (const [body, field] of cases) {
			const res = await adm.http.post(`${V1}/promotions`, body);
			expect(res.status, JSON.stringify(body)).toBe(422);
			expect(fieldsOf(res.body), JSON.stringify(body)).toContain(field);
		}
		const ann = await customer(shop, "Ann");
		expect((await ann.http.post(`${V1}/promotions`, { code: "MINE", type: "percent", value: 100 })).status).toBe(403);
		expect((await ann.http.get(`${V1}/promotions`)).status).toBe(403);
		const agent = await withRoles(shop, ["agent"]);
		expect((await agent.http.get(`${V1}/tax-rates`)).status).toBe(403);
	});
});

describe("shipping methods and tax rates", () => {
	it("lists the methods that ship to a country, cheapest first, to anyone", async () => {
		const de = await shop.http.get(`${V1}/shipping-methods?country=DE`);
		expect(de.status).toBe(200);
		expect(de.body.map((m: { name: string }) => m.name)).toEqual(["Standard", "Express"]);
		expect(de.body[0]).toEqual({
			id: expect.any(String),
			name: "Standard",
			countries: ["DE", "AT"],
			price: 490,
			currency: "EUR",
			freeOver: 10000,
			minDays: 2,
			maxDays: 4,
			active: true,
			createdAt: expect.any(String),
			updatedAt: expect.any(String),
		});
		expect((await shop.http.get(`${V1}/shipping-methods?country=JP`)).body).toEqual([]);
		expect((await shop.http.get(`${V1}/shipping-methods?country=XX`)).status).toBe(422);
	});

	it("refuses bad methods naming the field, changes and deletes them", async () => {
		const base = { name: "Cargo bike", countries: ["DE"], price: 300, currency: "EUR", minDays: 0, maxDays: 1 };
		const cases: [Record<string, unknown>, string][] = [
			[{ ...base, minDays: 5, maxDays: 2 }, "maxDays"],
			[{ ...base, countries: ["*", "DE"] }, "countries"],
			[{ ...base, countries: [] }, "countries"],
			[{ ...base, countries: ["ZZ"] }, "countries[0]"],
			[{ ...base, price: -1 }, "price"],
			[{ ...base, freeOver: 0 }, "freeOver"],
		];
		for (const [body, field] of cases) {
			const res = await adm.http.post(`${V1}/shipping-methods`, body);
			expect(res.status, JSON.stringify(body)).toBe(422);
			expect(
				fieldsOf(res.body).some(f => f.startsWith(field)),
				`${JSON.stringify(body)} → ${JSON.stringify(res.body.data)}`,
			).toBe(true);
		}
		const made = await adm.http.post(`${V1}/shipping-methods`, { ...base, countries: ["LU"] });
		expect(made.status).toBe(201);
		const changed = await adm.http.patch(`${V1}/shipping-methods/${made.body.id}`, { price: 250 });
		expect(changed.body.price).toBe(250);
		expect((await adm.http.patch(`${V1}/shipping-methods/${made.body.id}`, { minDays: 9 })).status).toBe(422);
		expect((await adm.http.delete(`${V1}/shipping-methods/${made.body.id}`)).status).toBe(204);
		expect((await shop.http.get(`${V1}/shipping-methods?country=LU`)).body).toEqual([]);
		expect((await adm.http.delete(`${V1}/shipping-methods/${made.body.id}`)).status).toBe(404);
	});

	it("sets tax rates in basis points per country", async () => {
		const set = await adm.http.put(`${V1}/tax-rates/AT`, { rate: 2000 });
		expect(set.body).toEqual({ country: "AT", rate: 2000, updatedAt: expect.any(String) });
		expect((await adm.http.put(`${V1}/tax-rates/AT`, { rate: 1000 })).body.rate).toBe(1000);
		const list = await adm.http.get(`${V1}/tax-rates`);
		expect(list.body.map((r: { country: string }) => r.country)).toEqual(expect.arrayContaining(["AT", "DE", "FR"]));
		expect((await adm.http.put(`${V1}/tax-rates/AT`, { rate: 10001 })).status).toBe(422);
		expect((await adm.http.put(`${V1}/tax-rates/XX`, { rate: 100 })).status).toBe(404);
		await adm.http.put(`${V1}/tax-rates/AT`, { rate: 2000 });
	});
});

describe("a cart priced for a destination", () => {
	it("adds the cheapest shipping (free over its threshold) and shows the tax the prices contain", async () => {
		const ann = await customer(shop, "Ann");
		const p = await newProduct(adm, { price: 2380, stock: 50 });
		await add(ann, p.id, 2);
		const cart = await ann.http.get(`${V1}/cart?country=DE`);
		expect(cart.status).toBe(200);
		expect(cart.body).toMatchObject({ subtotal: 4760, discount: 0, shipping: 490, total: 5250, currency: "EUR", promotion: null });
		expect(cart.body.shippingMethod).toMatchObject({ name: "Standard", price: 490 });
		// 19 % contained in 4760 (760) and in 490 (78.24 → 78).
		expect(cart.body.tax).toBe(760 + 78);
		expect(cart.body.shippingTax).toBe(78);
		expect(cart.body.items[0]).toMatchObject({ itemId: p.id, discount: 0, tax: 760 });

		const express = (await shop.http.get(`${V1}/shipping-methods?country=DE`)).body.find((m: { name: string }) => m.name === "Express");
		const chosen = await ann.http.get(`${V1}/cart?country=DE&shippingMethodId=${express.id}`);
		expect(chosen.body).toMatchObject({ shipping: 990, total: 5750 });
		const wrong = await ann.http.get(`${V1}/cart?country=FR&shippingMethodId=${express.id}`);
		expect(wrong.status).toBe(422);
		expect(fieldsOf(wrong.body)).toEqual(["shippingMethodId"]);
		const nowhere = await ann.http.get(`${V1}/cart?country=JP`);
		expect(nowhere.status).toBe(422);
		expect(fieldsOf(nowhere.body)).toEqual(["country"]);
		expect((await ann.http.get(`${V1}/cart?country=germany`)).status).toBe(422);

		await add(ann, p.id, 3);
		expect((await ann.http.get(`${V1}/cart?country=DE`)).body).toMatchObject({ subtotal: 11900, shipping: 0, total: 11900 });
		// No destination: no shipping, no tax.
		expect((await ann.http.get(`${V1}/cart`)).body).toMatchObject({ shipping: 0, tax: 0, total: 11900, shippingMethod: null });
	});

	it("applies a code, and refuses one it cannot take with the reason (422)", async () => {
		const ann = await customer(shop, "Ann");
		const p = await newProduct(adm, { price: 2000, stock: 50 });
		await add(ann, p.id, 1);
		const put = (code: string) => ann.http.put(`${V1}/cart/promotion`, { code });
		const refusal = async (code: string) => {
			const res = await put(code);
			expect(res.status, code).toBe(422);
			expect(fieldsOf(res.body)).toEqual(["code"]);
			return res.body.data[0].type as string;
		};
		expect(await refusal("NO-SUCH-CODE")).toBe("unknown");
		expect(await refusal((await promotion({ startsAt: "2099-01-01T00:00:00Z" })).code)).toBe("not_active_yet");
		expect(await refusal((await promotion({ startsAt: "2020-01-01T00:00:00Z", endsAt: "2020-02-01T00:00:00Z" })).code)).toBe("expired");
		expect(await refusal((await promotion({ minSubtotal: 5000, currency: "EUR" })).code)).toBe("min_subtotal");
		expect(await refusal((await promotion({ type: "fixed", value: 500, currency: "USD" })).code)).toBe("currency");
		expect(await refusal((await promotion({ active: false })).code)).toBe("inactive");

		const good = await promotion({ type: "fixed", value: 500, currency: "EUR" });
		const applied = await put(good.code.toLowerCase());
		expect(applied.status).toBe(200);
		expect(applied.body).toMatchObject({ subtotal: 2000, discount: 500, total: 1500, promotion: { code: good.code } });
		expect(applied.body.items[0].discount).toBe(500);
		// The code stays on the cart; once the admin takes it away, the cart says why it no longer applies.
		await adm.http.patch(`${V1}/promotions/${good.id}`, { active: false });
		const after = await ann.http.get(`${V1}/cart`);
		expect(after.body).toMatchObject({ discount: 0, promotion: null, promotionRefusal: { reason: "inactive" } });
		const refused = await checkout(ann);
		expect(refused.status).toBe(422);
		expect(refused.body.data).toEqual([expect.objectContaining({ field: "promotion", type: "inactive" })]);
		const removed = await ann.http.delete(`${V1}/cart/promotion`);
		expect(removed.body).toMatchObject({ promotion: null, promotionRefusal: null, discount: 0 });
		expect((await checkout(ann)).status).toBe(202);
	});
});

describe("checkout with a variant, a code, shipping and tax", () => {
	it("charges exactly what the cart showed, item by item, and says so on order.placed and order.paid", async () => {
		const ann = await customer(shop, "Ann");
		const shirt = await newProduct(adm, { price: 2500, stock: 0, options: [{ name: "size", values: ["S", "M", "L"] }] });
		const m = (await adm.http.post(`${V1}/products/${shirt.id}/variants`, { sku: `TEE-M-${tag()}`, options: { size: "M" }, price: 1999, stock: 10 })).body;
		const mug = await newProduct(adm, { price: 1333, stock: 10 });
		await add(ann, shirt.id, 3, m.id);
		await add(ann, mug.id, 1);
		const code = await promotion({ value: 15 });
		await ann.http.put(`${V1}/cart/promotion`, { code: code.code });
		const shown = (await ann.http.get(`${V1}/cart?country=FR`)).body;

		const res = await checkout(ann, { shippingAddress: ADDRESS("FR") });
		expect(res.status, JSON.stringify(res.body)).toBe(202);
		const o = res.body;
		expect(o).toMatchObject({
			subtotal: 3 * 1999 + 1333,
			discountTotal: shown.discount,
			shippingTotal: 1290,
			taxTotal: shown.tax,
			total: shown.total,
			promotion: { code: code.code, discount: shown.discount },
			shippingMethod: { name: "France", price: 1290 },
		});
		expect(o.items[0]).toMatchObject({
			itemId: m.id,
			productId: shirt.id,
			variantId: m.id,
			options: { size: "M" },
			sku: m.sku,
			unitPrice: 1999,
			quantity: 3,
		});
		expect(o.items[1]).toMatchObject({ itemId: mug.id, variantId: null, options: null });
		expectExact(o);
		// 15 % of 7330 is 1099.5 → 1100 (half to even); the lines share it in proportion.
		expect(o.discountTotal).toBe(1100);
		const paid = await settledOrder(ann, o.id);
		expect(paid.status).toBe("paid");
		expect(paid.payment.status).toBe("captured");
		const placed = seen.find(e => e.type === "order.placed" && (e.payload as { orderId: string }).orderId === o.id) as EventEnvelope<"order.placed">;
		expect(placed.payload.charges).toEqual({
			subtotal: o.subtotal,
			discountTotal: 1100,
			shippingTotal: 1290,
			taxTotal: o.taxTotal,
			promotion: { code: code.code, discount: 1100 },
			shippingMethod: o.shippingMethod,
		});
		expect(placed.payload.items).toEqual([
			{ productId: shirt.id, variantId: m.id, quantity: 3 },
			{ productId: mug.id, quantity: 1 },
		]);
		await eventually(async () =>
			seen.some(e => e.type === "promotion.redeemed" && (e.payload as { orderId: string }).orderId === o.id) ? true : undefined,
		);
		// The variant's units were taken; the cart is empty, its code gone with the order.
		const after = (await adm.http.get(`${V1}/products/${shirt.id}`)).body.variants[0];
		expect([after.stock, after.available]).toEqual([7, 7]);
		expect((await ann.http.get(`${V1}/cart`)).body).toMatchObject({ items: [], promotion: null });
	});

	it("refuses a destination nothing ships to, naming the address's country", async () => {
		const ann = await customer(shop, "Ann");
		await add(ann, (await newProduct(adm)).id, 1);
		const res = await checkout(ann, { shippingAddress: ADDRESS("JP") });
		expect(res.status).toBe(422);
		expect(fieldsOf(res.body)).toEqual(["shippingAddress.country"]);
		const bad = await checkout(ann, { shippingMethodId: randomUUID() });
		expect(bad.status).toBe(422);
		expect(fieldsOf(bad.body)).toEqual(["shippingMethodId"]);
	});
});

describe("a code's limits under racing checkouts", () => {
	it("gives exactly maxRedemptions orders the discount when 50 customers race for 5 uses", async () => {
		const code = await promotion({ value: 20, maxRedemptions: 5 });
		const p = await newProduct(adm, { price: 1000, stock: 500 });
		const racers = await Promise.all(Array.from({ length: 50 }, (_, i) => customer(shop, `Racer${i}`)));
		for (const r of racers) {
			await add(r, p.id, 1);
			expect((await r.http.put(`${V1}/cart/promotion`, { code: code.code })).status).toBe(200);
		}
		const answers = await Promise.all(racers.map(r => checkout(r)));
		const placed = answers.filter(a => a.status === 202);
		const refused = answers.filter(a => a.status === 422);
		expect(placed).toHaveLength(5);
		expect(refused).toHaveLength(45);
		for (const r of refused) expect(r.body.data).toEqual([expect.objectContaining({ field: "promotion", type: "used_up" })]);
		for (const o of placed) expect(o.body).toMatchObject({ discountTotal: 200, shippingTotal: 490, total: 800 + 490 });
		expect((await adm.http.get(`${V1}/promotions/${code.id}`)).body.redemptions).toBe(5);
		console.log(`[race] code with maxRedemptions 5: 50 checkouts, ${placed.length} placed with the discount, ${refused.length} refused (used_up)`);
	});

	it("lets one customer use a code only perCustomerLimit times, however many checkouts race", async () => {
		const code = await promotion({ value: 10, perCustomerLimit: 1 });
		const p = await newProduct(adm, { price: 1000, stock: 100 });
		const ann = await customer(shop, "Ann");
		await add(ann, p.id, 1);
		await ann.http.put(`${V1}/cart/promotion`, { code: code.code });
		const answers = await Promise.all(Array.from({ length: 8 }, () => checkout(ann)));
		const withCode = answers.filter(a => a.status === 202 && a.body.discountTotal > 0);
		expect(withCode).toHaveLength(1);
		for (const a of answers.filter(x => x.status !== 202)) expect(a.body.data?.[0]?.type).toMatch(/already_used|empty/);
		expect((await adm.http.get(`${V1}/promotions/${code.id}`)).body.redemptions).toBe(1);
	});

	it("gives a use back when its order is cancelled before payment, and keeps it for a paid order cancelled later", async () => {
		const code = await promotion({ value: 10, maxRedemptions: 1 });
		const p = await newProduct(adm, { price: 1000, stock: 100 });
		const ann = await customer(shop, "Ann");
		await add(ann, p.id, 1);
		await ann.http.put(`${V1}/cart/promotion`, { code: code.code });
		const declined = await checkout(ann, {}, TEST_CARDS.declined);
		expect(declined.status).toBe(202);
		expect((await settledOrder(ann, declined.body.id)).status).toBe("cancelled");
		await eventually(
			async () => ((await adm.http.get(`${V1}/promotions/${code.id}`)).body.redemptions === 0 ? true : undefined),
			5000,
			"the use to go back",
		);
		expect(seen.some(e => e.type === "promotion.released" && (e.payload as { orderId: string }).orderId === declined.body.id)).toBe(true);

		// The next order with the code takes the use for good.
		await add(ann, p.id, 1);
		expect((await ann.http.put(`${V1}/cart/promotion`, { code: code.code })).status).toBe(200);
		const paid = await checkout(ann);
		expect(paid.body.discountTotal).toBe(100);
		await settledOrder(ann, paid.body.id);
		expect((await ann.http.post(`${V1}/orders/${paid.body.id}/cancel`)).status).toBe(200);
		expect((await settledOrder(ann, paid.body.id, s => s === "refunded")).status).toBe("refunded");
		await new Promise(r => setTimeout(r, 300));
		expect((await adm.http.get(`${V1}/promotions/${code.id}`)).body.redemptions).toBe(1);
		const bob = await customer(shop, "Bob");
		await add(bob, p.id, 1);
		const used = await bob.http.put(`${V1}/cart/promotion`, { code: code.code });
		expect(used.body.data?.[0]?.type).toBe("used_up");
	});
});

describe("returns after a discount", () => {
	it("refunds what was paid for the returned units, after their share of the discount, never the shipping", async () => {
		const ann = await customer(shop, "Ann");
		const agent = await withRoles(shop, ["agent"]);
		const p = await newProduct(adm, { price: 1000, stock: 10 });
		const q = await newProduct(adm, { price: 3000, stock: 10 });
		await add(ann, p.id, 3);
		await add(ann, q.id, 1);
		await ann.http.put(`${V1}/cart/promotion`, { code: (await promotion({ type: "fixed", value: 1000, currency: "EUR" })).code });
		const o = (await checkout(ann)).body;
		expect(o).toMatchObject({ subtotal: 6000, discountTotal: 1000, shippingTotal: 490, total: 5490 });
		expectExact(o);
		await settledOrder(ann, o.id);
		await adm.http.post(`${V1}/orders/${o.id}/ship`);
		await adm.http.post(`${V1}/orders/${o.id}/deliver`);
		const pLine = o.items.find((i: { productId: string }) => i.productId === p.id);
		const ticket = await ann.http.post(`${V1}/tickets`, {
			type: "return",
			subject: "Too many",
			message: "Two back",
			orderId: o.id,
			items: [{ itemId: p.id, quantity: 2 }],
		});
		expect(ticket.status, JSON.stringify(ticket.body)).toBe(201);
		expect(ticket.body.items).toEqual([{ itemId: p.id, productId: p.id, variantId: null, quantity: 2 }]);
		expect((await agent.http.post(`${V1}/tickets/${ticket.body.id}/return/approve`)).status).toBe(200);
		const refunded = await eventually(async () => {
			const res = await ann.http.get(`${V1}/orders/${o.id}`);
			return res.body.refunds.length ? res.body : undefined;
		});
		// The line paid 3000 − 500 (its half of the discount): two of three units are worth floor(2500 × 2 / 3).
		expect(pLine.discount).toBe(500);
		expect(refunded.refunds[0].amount).toBe(Math.floor((2500 * 2) / 3));
	});
});

describe("prices without tax", () => {
	it("adds the destination's tax on top, to goods after the discount and to shipping", async () => {
		const net = await startShop({ services: ["users", "api", "products", "orders", "pricing"], env: { ...ADMIN_ENV, PRICES_INCLUDE_TAX: "false" } });
		try {
			const a = await admin(net);
			await a.http.post(`${V1}/shipping-methods`, { name: "Std", countries: ["*"], price: 500, currency: "EUR", minDays: 1, maxDays: 3 });
			await a.http.put(`${V1}/tax-rates/DE`, { rate: 1900 });
			const code = (await a.http.post(`${V1}/promotions`, { code: "NET10", type: "percent", value: 10 })).body.code;
			const ann = await customer(net, "Ann");
			const p = await newProduct(a, { price: 1000, stock: 10 });
			expect((await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 3 })).status).toBe(200);
			await ann.http.put(`${V1}/cart/promotion`, { code });
			const o = (await ann.http.post(`${V1}/orders`, { shippingAddress: ADDRESS(), payment: card() }, { "idempotency-key": "net-1" })).body;
			// Goods 3000 − 300 = 2700, tax 513; shipping 500, tax 95.
			expect(o).toMatchObject({ subtotal: 3000, discountTotal: 300, shippingTotal: 500, taxTotal: 513 + 95, total: 2700 + 500 + 608 });
			expectExact(o, false);
			expect((await settledOrder(ann, o.id)).payment.status).toBe("captured");
		} finally {
			await net.stop();
		}
	});
});
