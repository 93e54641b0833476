import { describe, expect, it } from "vitest";
import {
	categoryTree,
	escapeRegex,
	filterQuery,
	holdOrder,
	makesCycle,
	markerPath,
	publicProduct,
	relevanceTiers,
	slugsUnder,
	sortFields,
	statusAfterCancel,
	textQuery,
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
function regexOf(query: Record<string, unknown>, field: string): RegExp {
	return (query[field] as { $regex: RegExp }).$regex;
}

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

describe("search queries", () => {
	it("always filters to active products and adds the asked filters", () => {
		expect(filterQuery({})).toEqual({ active: true });
		expect(filterQuery({ categorySlugs: ["a", "b"], minPrice: 100, maxPrice: 500, inStock: true })).toEqual({
			active: true,
			categories: { $in: ["a", "b"] },
			price: { $gte: 100, $lte: 500 },
			available: { $gt: 0 },
		});
		expect(filterQuery({ inStock: false })).toEqual({ active: true, available: { $lte: 0 } });
		expect(filterQuery({ minPrice: 0 })).toEqual({ active: true, price: { $gte: 0 } });
	});

	it("matches text case-insensitively and literally (no regex injection)", () => {
		const q = textQuery({ q: "c++ (2nd" });
		const [inName] = (q.$or as Record<string, unknown>[]).map(c => regexOf(c, Object.keys(c)[0]!));
		expect(inName!.test("Learning C++ (2nd edition)")).toBe(true);
		expect(inName!.test("Learning C (2nd edition)")).toBe(false);
		expect(escapeRegex(".*")).toBe("\\.\\*");
		expect(textQuery({})).toEqual({ active: true });
	});

	it("splits relevance into name matches and description matches", () => {
		const { inName, inDescription, nameMatches } = relevanceTiers({ q: "lamp", minPrice: 5 });
		expect(regexOf(inName, "name").test("Reading LAMP")).toBe(true);
		expect(regexOf(inDescription, "description").test("A desk with a Lamp")).toBe(true);
		expect(inDescription.price).toEqual({ $gte: 5 });
		expect(inName.active).toBe(true);
		expect(nameMatches("Lamp shade")).toBe(true);
		expect(nameMatches("Desk")).toBe(false);
		// Only regex features every store has: no lookaround (FerretDB uses RE2).
		expect(regexOf(inName, "name").source).not.toMatch(/\(\?[=!<]/);
	});

	it("always ends the sort with the id, so pages neither overlap nor skip", () => {
		expect(sortFields("price")).toEqual(["price", "_id"]);
		expect(sortFields("-price")).toEqual(["-price", "-_id"]);
		expect(sortFields("name")).toEqual(["name", "_id"]);
		expect(sortFields("-createdAt")).toEqual(["-createdAt", "-_id"]);
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
			"name",
			"price",
			"sku",
			"stock",
			"updatedAt",
		]);
	});
});
