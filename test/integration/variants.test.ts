/**
 * Variants (contract, "Additions to v1"): a product in sizes and colours, each combination with
 * its own SKU, price and stock; the admin routes and their errors; what the product shows; search
 * by option and by SKU with facets; and selling variants: cart lines by item, holds, no oversell,
 * returns per variant.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf, newProduct } from "../helpers/commerce.js";

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
