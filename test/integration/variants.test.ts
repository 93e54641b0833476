/**
 * Variants (contract, "Additions to v1"): a product in sizes and colours, each combination with
 * its own SKU, price and stock; the admin routes and their errors; what the product shows; search
 * by option and by SKU with facets; and selling variants: cart lines by item, holds, no oversell,
 * returns per variant.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf, newProduct, settledOrder } from "../helpers/commerce.js";
import { TEST_CARDS } from "../../lib/payments/simulated.js";
import { acquireBus, releaseBus } from "../../lib/events/registry.js";
import { EVENT_TYPES, type EventEnvelope } from "../../lib/contracts/events.js";
import type { EventBus } from "../../lib/events/bus.js";

const V1 = "/api/v1";
let shop: TestShop;
let adm: Account;
let ann: Account;

const tag = () => randomUUID().slice(0, 6).toUpperCase();
const SIZES = { name: "size", values: ["S", "M", "L"] };
const COLOURS = { name: "colour", values: ["Black", "Blanc cassé"] };

interface Variant {
	id: string;
	sku: string;
	options: Record<string, string>;
	price: number;
	stock: number;
	available: number;
	active: boolean;
}

async function tshirt(name = `T-shirt ${tag()}`, over: Record<string, unknown> = {}) {
	return newProduct(adm, { name, price: 2500, stock: 0, options: [SIZES, COLOURS], ...over });
}
async function addVariant(productId: string, body: Record<string, unknown>): Promise<Variant> {
	const res = await adm.http.post(`${V1}/products/${productId}/variants`, { sku: `V-${tag()}`, price: 1900, stock: 5, ...body });
	expect(res.status, JSON.stringify(res.body)).toBe(201);
	return res.body as Variant;
}
const product = async (id: string) => (await adm.http.get(`${V1}/products/${id}`)).body;

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products", "orders", "pricing", "tickets"], env: ADMIN_ENV });
	adm = await admin(shop);
	ann = await customer(shop, "Ann");
});
afterAll(async () => {
	await shop?.stop();
});

describe("variants: the admin's routes", () => {
	it("adds variants (201) and shows the product at its lowest active price with its variants' stock summed", async () => {
		const p = await tshirt();
		expect(p.options).toEqual([SIZES, COLOURS]);
		expect(p.variants).toEqual([]);
		const sm = await addVariant(p.id, { options: { size: "S", colour: "Black" }, price: 2100, stock: 4 });
		expect(sm).toEqual({ id: expect.any(String), sku: sm.sku, options: { size: "S", colour: "Black" }, price: 2100, stock: 4, available: 4, active: true });
		await addVariant(p.id, { options: { size: "M", colour: "Black" }, price: 1900, stock: 2 });
		await addVariant(p.id, { options: { size: "L", colour: "Blanc cassé" }, price: 1500, stock: 3, active: false });
		const shown = await product(p.id);
		expect(shown.price).toBe(1900); // L is not active
		expect([shown.stock, shown.available]).toEqual([9, 9]);
		expect(shown.variants.map((v: Variant) => v.options.size)).toEqual(["S", "M", "L"]);
		expect(JSON.stringify(shown)).not.toMatch(/holds|restocked|deletedAt|revision|_id/);
	});

	it("refuses options a product does not have, values it does not list, and missing options, naming the option (422)", async () => {
		const p = await tshirt();
		const cases: [Record<string, string>, string][] = [
			[{ size: "XXL", colour: "Black" }, "options.size"],
			[{ size: "S" }, "options.colour"],
			[{ size: "S", colour: "Black", fabric: "wool" }, "options.fabric"],
		];
		for (const [options, field] of cases) {
			const res = await adm.http.post(`${V1}/products/${p.id}/variants`, { sku: `V-${tag()}`, price: 100, options });
			expect(res.status, JSON.stringify(options)).toBe(422);
			expect(fieldsOf(res.body)).toContain(field);
		}
		const plain = await newProduct(adm);
		const none = await adm.http.post(`${V1}/products/${plain.id}/variants`, { sku: `V-${tag()}`, price: 100, options: { size: "S" } });
		expect(none.status).toBe(422);
		expect(fieldsOf(none.body)).toEqual(["options"]);
		const bad = await adm.http.post(`${V1}/products/${p.id}/variants`, { sku: "has space", price: -1, options: { size: "S", colour: "Black" }, extra: 1 });
		expect(bad.status).toBe(422);
		expect(fieldsOf(bad.body)).toEqual(expect.arrayContaining(["sku", "price", "extra"]));
		const twice = await adm.http.post(`${V1}/products`, {
			sku: `P-${tag()}`,
			name: "X",
			price: 1,
			currency: "EUR",
			options: [SIZES, { name: "Size", values: ["a"] }],
		});
		expect(twice.status).toBe(422);
		expect(fieldsOf(twice.body)).toEqual(["options[1].name"]);
		const reserved = await adm.http.post(`${V1}/products`, {
			sku: `P-${tag()}`,
			name: "X",
			price: 1,
			currency: "EUR",
			options: [{ name: "constructor", values: ["a"] }],
		});
		expect(reserved.status).toBe(422);
		const four = await adm.http.post(`${V1}/products`, {
			sku: `P-${tag()}`,
			name: "X",
			price: 1,
			currency: "EUR",
			options: ["a", "b", "c", "d"].map(name => ({ name, values: ["x"] })),
		});
		expect(four.status).toBe(422);
		expect(fieldsOf(four.body)).toEqual(["options"]);
	});

	it("keeps SKUs unique across products and variants (409), and frees a deleted variant's SKU", async () => {
		const p = await tshirt();
		const other = await newProduct(adm);
		const v = await addVariant(p.id, { options: { size: "S", colour: "Black" } });
		for (const sku of [other.sku, v.sku]) {
			const dup = await adm.http.post(`${V1}/products/${p.id}/variants`, { sku, price: 100, options: { size: "M", colour: "Black" } });
			expect(dup.status, sku).toBe(409);
			expect(dup.body.data).toEqual({ field: "sku" });
		}
		const asProduct = await adm.http.post(`${V1}/products`, { sku: v.sku, name: "Clash", price: 100, currency: "EUR" });
		expect(asProduct.status).toBe(409);
		const patched = await adm.http.patch(`${V1}/products/${other.id}`, { sku: v.sku });
		expect(patched.status).toBe(409);
		const same = await adm.http.post(`${V1}/products/${p.id}/variants`, { sku: `V-${tag()}`, price: 100, options: { size: "S", colour: "Black" } });
		expect(same.status).toBe(409);
		expect(same.body.type).toBe("VARIANT_EXISTS");

		expect((await adm.http.delete(`${V1}/products/${p.id}/variants/${v.id}`)).status).toBe(204);
		expect((await adm.http.delete(`${V1}/products/${p.id}/variants/${v.id}`)).status).toBe(404);
		expect((await product(p.id)).variants).toEqual([]);
		// Its SKU and its combination are free again.
		const again = await addVariant(p.id, { sku: v.sku, options: { size: "S", colour: "Black" } });
		expect(again.id).not.toBe(v.id);
	});

	it("changes a variant and its stock; held units cannot be removed; a product in variants has no stock of its own to adjust", async () => {
		const p = await tshirt();
		const v = await addVariant(p.id, { options: { size: "M", colour: "Black" }, stock: 3 });
		const changed = await adm.http.patch(`${V1}/products/${p.id}/variants/${v.id}`, { price: 2222, options: { size: "L", colour: "Black" } });
		expect(changed.status).toBe(200);
		expect(changed.body).toMatchObject({ id: v.id, price: 2222, options: { size: "L", colour: "Black" } });
		expect((await product(p.id)).price).toBe(2222);

		const up = await adm.http.patch(`${V1}/products/${p.id}/variants/${v.id}/inventory`, { delta: 4 });
		expect(up.body).toMatchObject({ stock: 7, available: 7 });
		const set = await adm.http.patch(`${V1}/products/${p.id}/variants/${v.id}/inventory`, { stock: 2 });
		expect(set.body).toMatchObject({ stock: 2, available: 2 });
		const below = await adm.http.patch(`${V1}/products/${p.id}/variants/${v.id}/inventory`, { delta: -3 });
		expect(below.status).toBe(409);
		const both = await adm.http.patch(`${V1}/products/${p.id}/variants/${v.id}/inventory`, { delta: 1, stock: 1 });
		expect(both.status).toBe(422);
		const own = await adm.http.patch(`${V1}/products/${p.id}/inventory`, { delta: 1 });
		expect(own.status).toBe(409);
		expect(own.body.type).toBe("HAS_VARIANTS");
		expect((await adm.http.patch(`${V1}/products/${p.id}/variants/${randomUUID()}`, { price: 1 })).status).toBe(404);
		expect((await adm.http.patch(`${V1}/products/${randomUUID()}/variants/${v.id}/inventory`, { delta: 1 })).status).toBe(404);
		expect((await ann.http.patch(`${V1}/products/${p.id}/variants/${v.id}`, { price: 1 })).status).toBe(403);

		// An option value a variant uses cannot be taken away.
		const strand = await adm.http.patch(`${V1}/products/${p.id}`, { options: [{ name: "size", values: ["S", "M"] }, COLOURS] });
		expect(strand.status).toBe(422);
		expect(fieldsOf(strand.body)).toEqual(["options"]);
		const widen = await adm.http.patch(`${V1}/products/${p.id}`, { options: [{ name: "size", values: ["S", "M", "L", "XL"] }, COLOURS] });
		expect(widen.status).toBe(200);
		expect(widen.body.options[0].values).toEqual(["S", "M", "L", "XL"]);
	});
});

describe("variants: search", () => {
	let word: string;
	let shirt: { id: string };
	let skuOfBlackM: string;
	beforeAll(async () => {
		word = `zq${tag().toLowerCase()}`;
		shirt = await tshirt(`Organic ${word} tee`);
		skuOfBlackM = `TEE-${tag()}`;
		await addVariant(shirt.id, { options: { size: "S", colour: "Black" }, price: 1500, stock: 0 });
		await addVariant(shirt.id, { sku: skuOfBlackM, options: { size: "M", colour: "Black" }, price: 1700, stock: 2 });
		await addVariant(shirt.id, { options: { size: "L", colour: "Blanc cassé" }, price: 1900, stock: 1 });
		const hoodie = await tshirt(`Heavy ${word} hoodie`);
		await addVariant(hoodie.id, { options: { size: "L", colour: "Black" }, price: 4900, stock: 1 });
		await newProduct(adm, { name: `Plain ${word} mug`, price: 900, stock: 3 });
	});
	const names = (res: { body: { rows: { name: string }[] } }) => res.body.rows.map(r => r.name).sort();

	it("filters by option values (option=name:value, repeatable) and counts facets over the whole result", async () => {
		const m = await shop.http.get(`${V1}/products?q=${word}&option=size:M`);
		expect(m.status).toBe(200);
		expect(names(m)).toEqual([`Organic ${word} tee`]);
		const l = await shop.http.get(`${V1}/products?q=${word}&option=size:L&option=colour:Black`);
		expect(names(l)).toEqual([`Heavy ${word} hoodie`]);
		// Values are matched like text: case and accents do not matter.
		expect(names(await shop.http.get(`${V1}/products?q=${word}&option=COLOUR:blanc%20casse`))).toEqual([`Organic ${word} tee`]);

		const f = await shop.http.get(`${V1}/products?q=${word}&facets=true&pageSize=1`);
		expect(f.status).toBe(200);
		expect(f.body.rows).toHaveLength(1);
		expect(f.body.total).toBe(3);
		expect(f.body.facets.inStock).toBe(3);
		const sizes = Object.fromEntries(f.body.facets.options.size.map((b: { value: string; count: number }) => [b.value, b.count]));
		expect(sizes).toEqual({ S: 1, M: 1, L: 2 });
		expect(f.body.facets.price.reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(3);
		expect((await shop.http.get(`${V1}/products?q=${word}`)).body.facets).toBeUndefined();
		expect((await shop.http.get(`${V1}/products?option=size`)).status).toBe(422);
	});

	it("finds a product by a variant's SKU, and follows stock and deletions at once", async () => {
		expect(names(await shop.http.get(`${V1}/products?q=${skuOfBlackM}`))).toEqual([`Organic ${word} tee`]);
		const before = await shop.http.get(`${V1}/products?q=${word}&inStock=false`);
		expect(names(before)).toEqual([]);
		const p = await product(shirt.id);
		for (const v of p.variants as Variant[]) await adm.http.patch(`${V1}/products/${shirt.id}/variants/${v.id}/inventory`, { stock: 0 });
		expect(names(await shop.http.get(`${V1}/products?q=${word}&inStock=false`))).toEqual([`Organic ${word} tee`]);
		expect((await adm.http.delete(`${V1}/products/${shirt.id}`)).status).toBe(204);
		expect(names(await shop.http.get(`${V1}/products?q=${word}`))).toEqual([`Heavy ${word} hoodie`, `Plain ${word} mug`]);
	});
});

describe("variants: selling them", () => {
	let transport: EventBus;
	const seen: EventEnvelope[] = [];
	const record = async (e: EventEnvelope) => void seen.push(e);
	const ADDRESS = { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };
	const payment = { method: "card", cardNumber: TEST_CARDS.approved, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" };
	const checkout = (acc: Account) => acc.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment }, { "idempotency-key": randomUUID() });
	const variantOf = async (productId: string, variantId: string) => ((await product(productId)).variants as Variant[]).find(v => v.id === variantId)!;
	const add = (acc: Account, productId: string, variantId: string | undefined, quantity = 1) =>
		acc.http.post(`${V1}/cart/items`, { productId, quantity, ...(variantId === undefined ? {} : { variantId }) });

	type RawService = {
		collection(name: string): { find(opts?: object): Promise<Record<string, unknown>[]> };
		relayOutbox(): Promise<void>;
	};
	const raw = (name: string) => shop.broker.getLocalService(name) as unknown as RawService;
	/** Until the outboxes are empty (every event written has been published). */
	const quiet = () =>
		eventually(
			async () => {
				await Promise.all([raw("orders").relayOutbox(), raw("products").relayOutbox()]);
				const docs = [...(await raw("orders").collection("orders").find({})), ...(await raw("products").collection("reservations").find({}))];
				return docs.every(d => !Array.isArray(d.outbox) || d.outbox.length === 0) ? true : undefined;
			},
			10_000,
			"the outboxes to drain",
		);

	beforeAll(async () => {
		transport = await acquireBus(shop.broker);
		await transport.subscribe("test-recorder", EVENT_TYPES, record);
	});
	afterAll(async () => {
		await transport?.unsubscribe("test-recorder", record);
		await releaseBus(shop.broker);
	});

	it("asks for the variant of a product sold in variants (422 variantId) and refuses unknown, inactive and misplaced ones", async () => {
		const p = await tshirt();
		const v = await addVariant(p.id, { options: { size: "S", colour: "Black" } });
		const off = await addVariant(p.id, { options: { size: "M", colour: "Black" }, active: false });
		const plain = await newProduct(adm, { stock: 3 });
		for (const [productId, variantId, type] of [
			[p.id, undefined, "variantRequired"],
			[p.id, randomUUID(), "unknownVariant"],
			[p.id, off.id, "unknownVariant"],
			[plain.id, v.id, "unknownVariant"],
		] as const) {
			const res = await add(ann, productId, variantId);
			expect(res.status, JSON.stringify(res.body)).toBe(422);
			expect(res.body.data).toEqual([expect.objectContaining({ field: "variantId", type })]);
		}
		expect((await add(ann, p.id, "not-an-id")).status).toBe(422);
		expect((await ann.http.get(`${V1}/cart`)).body.items).toEqual([]);
	});

	it("sells one variant: the cart line and the order item name it (options, SKU, price), and only its stock moves", async () => {
		const buyer = await customer(shop, "Vera");
		const p = await tshirt();
		const small = await addVariant(p.id, { options: { size: "S", colour: "Black" }, price: 1500, stock: 4 });
		const large = await addVariant(p.id, { options: { size: "L", colour: "Black" }, price: 1900, stock: 4 });
		expect((await add(buyer, p.id, small.id, 2)).status).toBe(200);
		expect((await add(buyer, p.id, large.id, 1)).status).toBe(200);
		// The same variant again is the same line.
		const cart = (await add(buyer, p.id, small.id, 1)).body;
		expect(cart.items).toHaveLength(2);
		const smallLine = cart.items.find((i: { variantId: string }) => i.variantId === small.id);
		expect(smallLine).toMatchObject({
			itemId: small.id,
			productId: p.id,
			quantity: 3,
			unitPrice: 1500,
			sku: small.sku,
			options: { size: "S", colour: "Black" },
		});
		expect(cart.subtotal).toBe(3 * 1500 + 1900);

		const placed = await checkout(buyer);
		expect(placed.status, JSON.stringify(placed.body)).toBe(202);
		const order = await settledOrder(buyer, placed.body.id);
		expect(order.status).toBe("paid");
		expect(order.items).toEqual(
			expect.arrayContaining([
				expect.objectContaining({
					itemId: small.id,
					productId: p.id,
					variantId: small.id,
					sku: small.sku,
					options: { size: "S", colour: "Black" },
					quantity: 3,
					unitPrice: 1500,
				}),
				expect.objectContaining({ itemId: large.id, variantId: large.id, sku: large.sku, quantity: 1, unitPrice: 1900 }),
			]),
		);
		await quiet();
		expect(await variantOf(p.id, small.id)).toMatchObject({ stock: 1, available: 1 });
		expect(await variantOf(p.id, large.id)).toMatchObject({ stock: 3, available: 3 });
		expect(await product(p.id)).toMatchObject({ stock: 4, available: 4 });
	});

	it("sells a variant's last units once: racing checkouts for more units than it has", async () => {
		const units = 3;
		const buyers = 8;
		const p = await tshirt();
		const scarce = await addVariant(p.id, { options: { size: "M", colour: "Black" }, stock: units });
		const plenty = await addVariant(p.id, { options: { size: "L", colour: "Black" }, stock: 50 });
		const accounts = await Promise.all(Array.from({ length: buyers }, (_, i) => customer(shop, `Racer${i}`)));
		for (const acc of accounts) expect((await add(acc, p.id, scarce.id)).status).toBe(200);

		const placed = await Promise.all(accounts.map(acc => checkout(acc)));
		expect(placed.map(r => r.status)).toEqual(Array(buyers).fill(202));
		const final = await Promise.all(placed.map((r, i) => settledOrder(accounts[i]!, r.body.id)));
		expect(final.filter(o => o.status === "paid")).toHaveLength(units);
		const refused = final.filter(o => o.status === "cancelled");
		expect(refused).toHaveLength(buyers - units);
		for (const o of refused) expect(o.statusHistory.at(-1)).toMatchObject({ reason: "out_of_stock" });
		await quiet();
		expect(await variantOf(p.id, scarce.id)).toMatchObject({ stock: 0, available: 0 });
		expect(await variantOf(p.id, plenty.id)).toMatchObject({ stock: 50, available: 50 });
		// The variant ran out: stock.changed says so, naming the variant.
		expect(seen.some(e => e.type === "stock.changed" && (e.payload as { variantId?: string | null }).variantId === scarce.id)).toBe(true);
	});

	it("restocks the returned variant only; replaying every event of these orders changes nothing", async () => {
		const from = seen.length;
		const buyer = await customer(shop, "Rita");
		const p = await tshirt();
		const black = await addVariant(p.id, { options: { size: "S", colour: "Black" }, price: 1500, stock: 5 });
		const white = await addVariant(p.id, { options: { size: "S", colour: "Blanc cassé" }, price: 1500, stock: 5 });
		await add(buyer, p.id, black.id, 2);
		await add(buyer, p.id, white.id, 2);
		const placed = await checkout(buyer);
		const paid = await settledOrder(buyer, placed.body.id);
		expect(paid.status).toBe("paid");
		for (const step of ["ship", "deliver"]) expect((await adm.http.post(`${V1}/orders/${paid.id}/${step}`, {})).status).toBe(200);

		const ticket = await buyer.http.post(`${V1}/tickets`, {
			type: "return",
			subject: "Too small",
			message: "The black ones are too small",
			orderId: paid.id,
			items: [{ itemId: black.id, quantity: 2 }],
		});
		expect(ticket.status, JSON.stringify(ticket.body)).toBe(201);
		expect((await adm.http.post(`${V1}/tickets/${ticket.body.id}/return/approve`, {})).status).toBe(200);
		const refunded = await eventually(
			async () => {
				const o = (await buyer.http.get(`${V1}/orders/${paid.id}`)).body;
				return o.refunds.length > 0 ? o : undefined;
			},
			10_000,
			"the return's refund",
		);
		expect(refunded.refunds.map((r: { amount: number }) => r.amount)).toEqual([2 * 1500]);
		expect(refunded.status).toBe("delivered"); // half of the order: a partial refund
		await eventually(async () => ((await variantOf(p.id, black.id)).stock === 5 ? true : undefined), 10_000, "the restock");
		await quiet();
		expect(await variantOf(p.id, black.id)).toMatchObject({ stock: 5, available: 5 });
		expect(await variantOf(p.id, white.id)).toMatchObject({ stock: 3, available: 3 });

		const before = JSON.stringify(await product(p.id));
		const order = JSON.stringify((await buyer.http.get(`${V1}/orders/${paid.id}`)).body);
		const events = seen.slice(from).filter(e => (e.payload as { orderId?: string }).orderId === paid.id);
		for (const t of ["order.placed", "stock.reserved", "order.paid", "return.approved"])
			expect(
				events.map(e => e.type),
				t,
			).toContain(t);
		// As the same deliveries (skipped by id), then as new ones (each handler idempotent on its own).
		for (const e of events) await transport.publish([e]);
		for (const e of events) await transport.publish([{ ...e, id: randomUUID() }]);
		await quiet();
		expect(JSON.stringify(await product(p.id))).toBe(before);
		expect(JSON.stringify((await buyer.http.get(`${V1}/orders/${paid.id}`)).body)).toBe(order);
	});
});
