import { describe, expect, it } from "vitest";
import type { VariantRecord } from "../../lib/domain/variants.js";
import {
	categoryTree,
	holdOrder,
	makesCycle,
	markerPath,
	publicProduct,
	searchableProduct,
	stockPaths,
	slugsUnder,
	statusAfterCancel,
	type CategoryRecord,
	type ProductRecord,
} from "../../lib/domain/catalog.js";

const AT = "2026-01-01T00:00:00.000Z";
const cat = (id: string, slug: string, name: string, parentId: string | null = null): CategoryRecord => ({
	_id: id,
	slug,
	name,
	parentId,
	createdAt: AT,
	updatedAt: AT,
});
const CATEGORIES = [
	cat("1", "electronics", "Electronics"),
	cat("2", "phones", "Phones", "1"),
	cat("3", "audio", "Audio", "1"),
	cat("4", "earbuds", "Earbuds", "3"),
	cat("5", "books", "Books"),
];

/** What a query's `$regex` conditions say about a document (enough to check the regexes we build). */

describe("category tree", () => {
	it("nests children under parents, each level by name", () => {
		const tree = categoryTree(CATEGORIES);
		expect(tree.map(n => n.slug)).toEqual(["books", "electronics"]);
		const electronics = tree[1]!;
		expect(electronics.children.map(n => n.slug)).toEqual(["audio", "phones"]);
		expect(electronics.children[0]!.children).toEqual([{ id: "4", slug: "earbuds", name: "Earbuds", parentId: "3", children: [] }]);
	});

	it("finds a category's slug with every slug below it", () => {
		expect(slugsUnder(CATEGORIES, "electronics").sort()).toEqual(["audio", "earbuds", "electronics", "phones"]);
		expect(slugsUnder(CATEGORIES, "audio").sort()).toEqual(["audio", "earbuds"]);
		expect(slugsUnder(CATEGORIES, "nope")).toEqual([]);
	});

	it("refuses a parent that would make a loop", () => {
		expect(makesCycle(CATEGORIES, "1", "1")).toBe(true);
		expect(makesCycle(CATEGORIES, "1", "4")).toBe(true);
		expect(makesCycle(CATEGORIES, "3", "2")).toBe(false);
		expect(makesCycle(CATEGORIES, "4", "5")).toBe(false);
	});
});

describe("reservations", () => {
	it("turns a cancel into a release before payment and a restock after it", () => {
		expect(statusAfterCancel("reserving")).toBe("released");
		expect(statusAfterCancel("held")).toBe("released");
		expect(statusAfterCancel("committed")).toBe("restocked");
		for (const done of ["rejected", "released", "restocked"] as const) expect(statusAfterCancel(done)).toBe(done);
	});

	it("holds lines in a fixed order", () => {
		expect(
			holdOrder([
				{ productId: "b", quantity: 1 },
				{ productId: "a", quantity: 2 },
			]).map(i => i.productId),
		).toEqual(["a", "b"]);
	});

	it("builds marker paths only from ids in the shop's id format", () => {
		const id = "0b7c11aa-0000-4000-8000-000000000001";
		expect(markerPath("holds", id)).toBe(`holds.${id}`);
		for (const bad of ["a.b", "$where", "__proto__", "constructor", "0b7c-11", ""]) expect(() => markerPath("restocked", bad), bad).toThrow();
	});
});

describe("product view", () => {
	it("shows the contract's fields only", () => {
		const p: ProductRecord = {
			_id: "p1",
			sku: "S1",
			name: "N",
			description: "D",
			price: 100,
			currency: "EUR",
			categories: ["c"],
			stock: 5,
			available: 3,
			active: true,
			holds: { o1: 2 },
			restocked: { r1: AT },
			deletedAt: null,
			createdAt: AT,
			updatedAt: AT,
		};
		expect(Object.keys(publicProduct(p)).sort()).toEqual([
			"active",
			"available",
			"categories",
			"createdAt",
			"currency",
			"description",
			"id",
			"images",
			"name",
			"options",
			"price",
			"sku",
			"stock",
			"updatedAt",
			"variants",
		]);
	});

	it("shows a product with variants at its lowest active price and the sums of its live variants' stock", () => {
		const variant = (id: string, price: number, stock: number, available: number, extra: Partial<VariantRecord> = {}): VariantRecord => ({
			id,
			sku: `S-${id}`,
			options: { size: id },
			price,
			stock,
			available,
			active: true,
			holds: {},
			restocked: {},
			deletedAt: null,
			createdAt: AT,
			updatedAt: AT,
			...extra,
		});
		const p: ProductRecord = {
			_id: "p1",
			sku: "S1",
			name: "T-shirt",
			description: "",
			price: 999,
			currency: "EUR",
			categories: [],
			stock: 0,
			available: 0,
			active: true,
			holds: {},
			restocked: {},
			deletedAt: null,
			createdAt: AT,
			updatedAt: AT,
			options: [{ name: "size", values: ["S", "M", "L", "XL"] }],
			variants: [
				variant("S", 1500, 4, 2),
				variant("M", 1200, 1, 1, { active: false }),
				variant("L", 1400, 3, 3),
				variant("XL", 900, 9, 9, { deletedAt: AT, sku: undefined, deletedSku: "S-XL" }),
			],
		};
		const shown = publicProduct(p);
		expect(shown.price).toBe(1400); // M is inactive, XL deleted
		expect([shown.stock, shown.available]).toEqual([8, 6]); // S + M + L
		expect(shown.variants.map(v => v.sku)).toEqual(["S-S", "S-M", "S-L"]);
		expect(JSON.stringify(shown)).not.toMatch(/holds|restocked|deletedAt/);
		// Search counts what can be bought: the active variants.
		expect(searchableProduct(p).available).toBe(5);
		expect(searchableProduct(p).variants?.map(v => v.id)).toEqual(["S", "M", "L"]);
	});

	it("names every stock field of an item by where it lives", () => {
		expect(stockPaths(null).available).toBe("available");
		const at2 = stockPaths(2);
		expect([at2.stock, at2.available]).toEqual(["variants.2.stock", "variants.2.available"]);
		const orderId = "7d1b8c1e-3f7a-4c55-9d41-0c6b8a5f3e21";
		expect(at2.hold(orderId)).toBe(`variants.2.holds.${orderId}`);
		expect(at2.match("v9")).toEqual({ "variants.2.id": "v9" });
		expect(() => at2.hold("__proto__")).toThrow(RangeError);
		expect(() => stockPaths(-1)).toThrow(RangeError);
	});
});
