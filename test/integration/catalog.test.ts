import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf, newProduct } from "../helpers/commerce.js";

let shop: TestShop;
let adm: Account;
let ann: Account;
let sku = 0;

const V1 = "/api/v1";

async function createCategory(slug: string, name: string, parentId?: string) {
	const res = await adm.http.post(`${V1}/categories`, { slug, name, ...(parentId ? { parentId } : {}) });
	expect(res.status, JSON.stringify(res.body)).toBe(201);
	return res.body as { id: string; slug: string; name: string; parentId: string | null };
}

const createProduct = (over: Record<string, unknown> = {}) => newProduct(adm, { description: "A thing", ...over });

const fields = (res: { body: { data?: { field: string }[] } }) => fieldsOf(res.body);

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products"], env: ADMIN_ENV });
	adm = await admin(shop);
	ann = await customer(shop, "Ann");
});
afterAll(async () => {
	await shop?.stop();
});

describe("categories", () => {
	it("builds a tree, admin only", async () => {
		const garden = await createCategory("garden", "Garden");
		const tools = await createCategory("garden-tools", "Tools", garden.id);
		expect(tools).toEqual({ id: expect.any(String), slug: "garden-tools", name: "Tools", parentId: garden.id });
		await createCategory("garden-plants", "Plants", garden.id);

		const tree = await shop.http.get(`${V1}/categories`);
		expect(tree.status).toBe(200);
		const node = tree.body.find((n: { slug: string }) => n.slug === "garden");
		expect(node.parentId).toBeNull();
		expect(node.children.map((c: { slug: string }) => c.slug)).toEqual(["garden-plants", "garden-tools"]);
		expect(JSON.stringify(tree.body)).not.toContain("_id");

		expect((await ann.http.post(`${V1}/categories`, { slug: "nope", name: "Nope" })).status).toBe(403);
		expect((await shop.http.post(`${V1}/categories`, { slug: "nope", name: "Nope" })).status).toBe(401);
	});

	it("refuses duplicate slugs, bad slugs and unknown parents", async () => {
		await createCategory("kitchenware", "Kitchenware");
		const dup = await adm.http.post(`${V1}/categories`, { slug: "kitchenware", name: "Again" });
		expect(dup.status).toBe(409);
		expect(dup.body.data).toEqual({ field: "slug" });
		const bad = await adm.http.post(`${V1}/categories`, { slug: "Not A Slug", name: "X" });
		expect(bad.status).toBe(422);
		expect(fields(bad)).toContain("slug");
		const orphan = await adm.http.post(`${V1}/categories`, { slug: "orphan", name: "X", parentId: "no-such-category" });
		expect(orphan.status).toBe(422);
		expect(fields(orphan)).toEqual(["parentId"]);
		const extra = await adm.http.post(`${V1}/categories`, { slug: "extra", name: "X", color: "red" });
		expect(extra.status).toBe(422);
	});

	it("renames a slug everywhere and refuses loops", async () => {
		const parent = await createCategory("lighting", "Lighting");
		const child = await createCategory("lamps", "Lamps", parent.id);
		const product = await createProduct({ categories: ["lamps"] });

		const renamed = await adm.http.patch(`${V1}/categories/${child.id}`, { slug: "lamps-and-lights", name: "Lamps & lights" });
		expect(renamed.status).toBe(200);
		expect(renamed.body).toMatchObject({ slug: "lamps-and-lights", name: "Lamps & lights", parentId: parent.id });
		expect((await shop.http.get(`${V1}/products/${product.id}`)).body.categories).toEqual(["lamps-and-lights"]);

		const loop = await adm.http.patch(`${V1}/categories/${parent.id}`, { parentId: child.id });
		expect(loop.status).toBe(422);
		expect(fields(loop)).toEqual(["parentId"]);
		expect((await adm.http.patch(`${V1}/categories/${parent.id}`, { parentId: parent.id })).status).toBe(422);
		expect((await adm.http.patch(`${V1}/categories/no-such-id`, { name: "X" })).status).toBe(404);
	});

	it("deletes only an empty leaf", async () => {
		const parent = await createCategory("toys", "Toys");
		const child = await createCategory("puzzles", "Puzzles", parent.id);
		expect((await adm.http.delete(`${V1}/categories/${parent.id}`)).status).toBe(409);
		const p = await createProduct({ categories: ["puzzles"] });
		const inUse = await adm.http.delete(`${V1}/categories/${child.id}`);
		expect(inUse.status).toBe(409);
		expect(inUse.body.type).toBe("CATEGORY_IN_USE");
		expect((await adm.http.delete(`${V1}/products/${p.id}`)).status).toBe(204);
		expect((await adm.http.delete(`${V1}/categories/${child.id}`)).status).toBe(204);
		expect((await adm.http.delete(`${V1}/categories/${child.id}`)).status).toBe(404);
		expect((await adm.http.delete(`${V1}/categories/${parent.id}`)).status).toBe(204);
	});
});

describe("products", () => {
	it("creates a product in the contract's shape", async () => {
		await createCategory("stationery", "Stationery");
		const res = await adm.http.post(`${V1}/products`, {
			sku: "PEN-1",
			name: "Fountain pen",
			description: "Blue ink",
			price: 2599,
			currency: "EUR",
			categories: ["stationery"],
			stock: 7,
		});
		expect(res.status).toBe(201);
		expect(res.headers.get("location")).toBe(`${V1}/products/${res.body.id}`);
		expect(res.body).toEqual({
			id: expect.any(String),
			sku: "PEN-1",
			name: "Fountain pen",
			description: "Blue ink",
			price: 2599,
			currency: "EUR",
			categories: ["stationery"],
			stock: 7,
			available: 7,
			active: true,
			// Additions to v1: a product without variants is sold as itself.
			options: [],
			variants: [],
			// Second set: product images (none yet).
			images: [],
			createdAt: expect.any(String),
			updatedAt: expect.any(String),
		});
		const got = await shop.http.get(`${V1}/products/${res.body.id}`);
		expect(got.status).toBe(200);
		expect(got.body).toEqual(res.body);
	});

	it("refuses bad input with the field, and a taken SKU with 409", async () => {
		await createProduct({ sku: "TAKEN-1" });
		const dup = await adm.http.post(`${V1}/products`, { sku: "TAKEN-1", name: "X", price: 1, currency: "EUR" });
		expect(dup.status).toBe(409);
		expect(dup.body.data).toEqual({ field: "sku" });

		const cases: [Record<string, unknown>, string][] = [
			[{ price: -1 }, "price"],
			[{ price: 10.5 }, "price"],
			[{ price: "10" }, "price"],
			[{ currency: "eur" }, "currency"],
			[{ currency: "XYZ" }, "currency"],
			[{ categories: ["no-such-category"] }, "categories"],
			[{ name: "" }, "name"],
			[{ sku: "has space" }, "sku"],
			[{ stock: -3 }, "stock"],
		];
		for (const [change, field] of cases) {
			const res = await adm.http.post(`${V1}/products`, { sku: `BAD-${++sku}`, name: "X", price: 100, currency: "EUR", ...change });
			expect(res.status, JSON.stringify(change)).toBe(422);
			expect(fields(res), JSON.stringify(change)).toContain(field);
		}
		const missing = await adm.http.post(`${V1}/products`, { name: "X" });
		expect(missing.status).toBe(422);
		expect(fields(missing)).toEqual(expect.arrayContaining(["sku", "price", "currency"]));
		expect((await adm.http.post(`${V1}/products`, { sku: "EXTRA-1", name: "X", price: 1, currency: "EUR", holds: { x: 1 } })).status).toBe(422);
		expect((await ann.http.post(`${V1}/products`, { sku: "C-1", name: "X", price: 1, currency: "EUR" })).status).toBe(403);
		expect((await shop.http.post(`${V1}/products`, { sku: "C-1", name: "X", price: 1, currency: "EUR" })).status).toBe(401);
	});

	it("updates a product, admin only", async () => {
		const p = await createProduct();
		const res = await adm.http.patch(`${V1}/products/${p.id}`, { price: 1500, name: "Renamed" });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id: p.id, price: 1500, name: "Renamed", stock: 10 });
		expect(res.body.updatedAt >= p.updatedAt).toBe(true);

		const other = await createProduct();
		const clash = await adm.http.patch(`${V1}/products/${p.id}`, { sku: other.sku });
		expect(clash.status).toBe(409);
		expect((await adm.http.patch(`${V1}/products/${p.id}`, { stock: 99 })).status).toBe(422); // stock moves through /inventory
		expect((await adm.http.patch(`${V1}/products/${p.id}`, { price: -5 })).status).toBe(422);
		expect((await adm.http.patch(`${V1}/products/no-such-product`, { price: 5 })).status).toBe(404);
		expect((await ann.http.patch(`${V1}/products/${p.id}`, { price: 5 })).status).toBe(403);
	});

	it("answers 404 for an unknown product and for an id not in the id format", async () => {
		const res = await shop.http.get(`${V1}/products/${randomUUID()}`);
		expect(res.status).toBe(404);
		expect((await shop.http.get(`${V1}/products/does-not-exist`)).status).toBe(404);
		expect((await shop.http.get(`${V1}/products/a.b$c`)).status).toBe(404);
	});

	it("hides inactive products from customers but not from admins", async () => {
		const p = await createProduct({ active: false, name: "Hidden gadget" });
		expect((await shop.http.get(`${V1}/products/${p.id}`)).status).toBe(404);
		expect((await ann.http.get(`${V1}/products/${p.id}`)).status).toBe(404);
		expect((await adm.http.get(`${V1}/products/${p.id}`)).status).toBe(200);
		expect((await shop.http.get(`${V1}/products?q=Hidden%20gadget`)).body.total).toBe(0);
	});

	it("deletes softly: gone from the catalog, SKU free again", async () => {
		const p = await createProduct({ sku: "REUSE-ME", name: "Soon gone" });
		expect((await adm.http.delete(`${V1}/products/${p.id}`)).status).toBe(204);
		expect((await shop.http.get(`${V1}/products/${p.id}`)).status).toBe(404);
		expect((await adm.http.get(`${V1}/products/${p.id}`)).status).toBe(404);
		expect((await adm.http.delete(`${V1}/products/${p.id}`)).status).toBe(404);
		expect((await adm.http.patch(`${V1}/products/${p.id}`, { active: true })).status).toBe(404);
		expect((await shop.http.get(`${V1}/products?q=Soon%20gone`)).body.total).toBe(0);
		const again = await adm.http.post(`${V1}/products`, { sku: "REUSE-ME", name: "New one", price: 1, currency: "EUR" });
		expect(again.status).toBe(201);
		expect(again.body.id).not.toBe(p.id);
	});
});

describe("inventory", () => {
	it("adds, removes and sets stock", async () => {
		const p = await createProduct({ stock: 5 });
		const up = await adm.http.patch(`${V1}/products/${p.id}/inventory`, { delta: 3 });
		expect(up.status).toBe(200);
		expect(up.body).toMatchObject({ stock: 8, available: 8 });
		const down = await adm.http.patch(`${V1}/products/${p.id}/inventory`, { delta: -8 });
		expect(down.body).toMatchObject({ stock: 0, available: 0 });
		const set = await adm.http.patch(`${V1}/products/${p.id}/inventory`, { stock: 42 });
		expect(set.body).toMatchObject({ stock: 42, available: 42 });
	});

	it("never goes below zero and wants exactly one of delta and stock", async () => {
		const p = await createProduct({ stock: 2 });
		const under = await adm.http.patch(`${V1}/products/${p.id}/inventory`, { delta: -3 });
		expect(under.status).toBe(409);
		expect((await shop.http.get(`${V1}/products/${p.id}`)).body).toMatchObject({ stock: 2, available: 2 });
		const both = await adm.http.patch(`${V1}/products/${p.id}/inventory`, { delta: 1, stock: 3 });
		expect(both.status).toBe(422);
		expect(fields(both)).toEqual(["delta", "stock"]);
		expect((await adm.http.patch(`${V1}/products/${p.id}/inventory`, {})).status).toBe(422);
		expect((await adm.http.patch(`${V1}/products/${p.id}/inventory`, { stock: -1 })).status).toBe(422);
		expect((await adm.http.patch(`${V1}/products/${p.id}/inventory`, { delta: 0.5 })).status).toBe(422);
		expect((await adm.http.patch(`${V1}/products/no-such/inventory`, { delta: 1 })).status).toBe(404);
		expect((await ann.http.patch(`${V1}/products/${p.id}/inventory`, { delta: 1 })).status).toBe(403);
	});

	it("counts concurrent adjustments exactly", async () => {
		const p = await createProduct({ stock: 0 });
		const results = await Promise.all(Array.from({ length: 10 }, () => adm.http.patch(`${V1}/products/${p.id}/inventory`, { delta: 1 })));
		expect(results.every(r => r.status === 200)).toBe(true);
		expect((await shop.http.get(`${V1}/products/${p.id}`)).body).toMatchObject({ stock: 10, available: 10 });
	});
});

describe("search", () => {
	let ids: Record<string, string>;
	beforeAll(async () => {
		const sport = await createCategory("sport", "Sport");
		await createCategory("running", "Running", sport.id);
		await createCategory("cycling", "Cycling", sport.id);
		const make = async (name: string, description: string, price: number, categories: string[], stock: number) =>
			(await createProduct({ name, description, price, categories, stock })).id;
		ids = {
			shoe: await make("Zephyr running shoe", "Light running trainer for roads", 8900, ["running"], 5), // matches in name and description: listed once
			socks: await make("Merino socks", "Warm socks for running in winter", 1500, ["running"], 0),
			helmet: await make("Aero helmet", "Cycling helmet, MIPS", 12900, ["cycling"], 3),
			bottle: await make("Squeeze bottle", "For cycling and running (750 ml)", 900, ["cycling", "running"], 50),
		};
	});

	const names = (res: { body: { rows: { name: string }[] } }) => res.body.rows.map(r => r.name);

	it("finds text in name or description, case-insensitively, name matches first", async () => {
		const res = await shop.http.get(`${V1}/products?q=RUNNING&category=sport`);
		expect(res.status).toBe(200);
		expect(names(res)).toEqual(["Zephyr running shoe", "Merino socks", "Squeeze bottle"]);
		expect(res.body).toMatchObject({ total: 3, page: 1, pageSize: 20, totalPages: 1 });
	});

	it("pages through relevance results without overlap", async () => {
		const first = await shop.http.get(`${V1}/products?q=running&category=sport&pageSize=2`);
		const second = await shop.http.get(`${V1}/products?q=running&category=sport&pageSize=2&page=2`);
		expect(names(first)).toEqual(["Zephyr running shoe", "Merino socks"]);
		expect(names(second)).toEqual(["Squeeze bottle"]);
		expect(first.body.totalPages).toBe(2);
	});

	it("treats the query as text, not as a pattern", async () => {
		const res = await shop.http.get(`${V1}/products?q=${encodeURIComponent("(750 ml)")}`);
		expect(res.status).toBe(200);
		expect(names(res)).toEqual(["Squeeze bottle"]);
		for (const q of ["(((", ".*", "[a-", "\\", "$where"]) expect((await shop.http.get(`${V1}/products?q=${encodeURIComponent(q)}`)).status).toBe(200);
	});

	it("filters by category (with its subcategories), price and stock", async () => {
		expect(names(await shop.http.get(`${V1}/products?category=cycling&sort=name`))).toEqual(["Aero helmet", "Squeeze bottle"]);
		expect((await shop.http.get(`${V1}/products?category=sport`)).body.total).toBe(4);
		expect((await shop.http.get(`${V1}/products?category=no-such-category`)).body).toMatchObject({ rows: [], total: 0 });
		expect(names(await shop.http.get(`${V1}/products?category=sport&minPrice=1000&maxPrice=9000&sort=price`))).toEqual([
			"Merino socks",
			"Zephyr running shoe",
		]);
		expect(names(await shop.http.get(`${V1}/products?category=sport&inStock=true&sort=name`))).toEqual([
			"Aero helmet",
			"Squeeze bottle",
			"Zephyr running shoe",
		]);
		expect(names(await shop.http.get(`${V1}/products?category=sport&inStock=false`))).toEqual(["Merino socks"]);
	});

	it("sorts by price, name and newest", async () => {
		expect(names(await shop.http.get(`${V1}/products?category=sport&sort=price`))).toEqual([
			"Squeeze bottle",
			"Merino socks",
			"Zephyr running shoe",
			"Aero helmet",
		]);
		expect(names(await shop.http.get(`${V1}/products?category=sport&sort=-price`))).toEqual([
			"Aero helmet",
			"Zephyr running shoe",
			"Merino socks",
			"Squeeze bottle",
		]);
		expect(names(await shop.http.get(`${V1}/products?category=sport&sort=name`))).toEqual([
			"Aero helmet",
			"Merino socks",
			"Squeeze bottle",
			"Zephyr running shoe",
		]);
		expect(names(await shop.http.get(`${V1}/products?category=sport&sort=-createdAt`))).toEqual([
			"Squeeze bottle",
			"Aero helmet",
			"Merino socks",
			"Zephyr running shoe",
		]);
		expect(names(await shop.http.get(`${V1}/products?category=sport`))).toEqual(["Squeeze bottle", "Aero helmet", "Merino socks", "Zephyr running shoe"]);
	});

	it("refuses bad parameters with 422 and the field", async () => {
		const cases: [string, string][] = [
			["pageSize=101", "pageSize"],
			["pageSize=0", "pageSize"],
			["page=0", "page"],
			["page=abc", "page"],
			["minPrice=-1", "minPrice"],
			["maxPrice=1.5", "maxPrice"],
			["sort=cheapest", "sort"],
			["inStock=maybe", "inStock"],
			["minPrice=500&maxPrice=100", "minPrice"],
			[`q=${"x".repeat(201)}`, "q"],
		];
		for (const [qs, field] of cases) {
			const res = await shop.http.get(`${V1}/products?${qs}`);
			expect(res.status, qs).toBe(422);
			expect(fields(res), qs).toContain(field);
		}
		expect((await shop.http.get(`${V1}/products?pageSize=100`)).status).toBe(200);
	});

	it("never shows internal fields", async () => {
		const res = await shop.http.get(`${V1}/products?pageSize=100`);
		const json = JSON.stringify(res.body);
		for (const secret of ["_id", "holds", "restocked", "deletedAt"]) expect(json).not.toContain(secret);
		expect(res.body.rows.length).toBeGreaterThan(0);
		expect(ids.shoe).toBeTruthy();
	});
});
