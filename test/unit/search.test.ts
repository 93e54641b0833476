import { beforeEach, describe, expect, it } from "vitest";
import { MemorySearchIndex } from "../../lib/search/memory-index.js";
import { ReferenceSearchIndex, referenceFacets, passesFilters } from "../helpers/reference-index.js";
import { editVariants, fold, queryWords, tokenize, withinOneEdit, wordMatches } from "../../lib/search/text.js";
import type { SearchIndex, SearchQuery, SearchSort, SearchableProduct, SearchableVariant } from "../../lib/search/search-index.js";
import { generateCategories, generateProducts, random, sampleQueries, toSearchable } from "../../scripts/catalog-generator.js";

const AT = (day: number): string => new Date(Date.UTC(2026, 0, day)).toISOString();

function product(id: string, name: string, description: string, more: Partial<SearchableProduct> = {}): SearchableProduct {
	return { id, sku: `SKU-${id}`, name, description, categories: [], price: 1000, available: 1, createdAt: AT(1), ...more };
}

function variant(id: string, sku: string, options: Record<string, string>, price: number, available: number, active = true): SearchableVariant {
	return { id, sku, options, price, available, active };
}

const SHOES_VARIANTS = [
	variant("v1", "RUN-42-41-RED", { size: "41", colour: "Red" }, 7999, 2),
	variant("v2", "RUN-42-42-BLU", { size: "42", colour: "Blue" }, 8499, 0),
	variant("v3", "RUN-42-43-RED", { size: "43", colour: "Red" }, 7999, 1),
	variant("v4", "RUN-42-42-RED", { size: "42", colour: "Red" }, 7999, 3),
	variant("v5", "RUN-42-43-GRN", { size: "43", colour: "Green" }, 7999, 9, false),
];

const CATALOG: SearchableProduct[] = [
	product("p1", "Café Crème Mug", "A ceramic mug for espresso lovers.", {
		sku: "MUG-001",
		categories: ["kitchen", "mugs"],
		price: 1200,
		available: 5,
		createdAt: AT(3),
	}),
	product("p2", "Espresso Machine", "Makes café quality coffee. Comes with a mug.", {
		sku: "ESP-9000",
		categories: ["kitchen", "appliances"],
		price: 24999,
		available: 0,
		createdAt: AT(5),
	}),
	product("p3", "Running Shoes", "Lightweight shoes for road running.", {
		sku: "RUN-42",
		categories: ["shoes"],
		price: 7999,
		available: 6,
		createdAt: AT(2),
		options: [
			{ name: "size", values: ["41", "42", "43"] },
			{ name: "colour", values: ["Red", "Blue"] },
		],
		variants: SHOES_VARIANTS,
	}),
	product("p4", "Wireless Headphones", "Noise cancelling over-ear headphones with a long battery.", {
		sku: "HP-100",
		categories: ["audio"],
		price: 14999,
		available: 12,
		createdAt: AT(4),
	}),
	product("p5", "Headphone Stand", "A wooden stand for wireless headphones.", {
		sku: "HP-STAND",
		categories: ["audio", "accessories"],
		price: 2500,
		available: 3,
		createdAt: AT(4),
	}),
	product("p6", "T-Shirt", "Organic cotton shirt.", {
		sku: "TS-1",
		categories: ["clothing"],
		price: 1999,
		available: 4,
		createdAt: AT(6),
		options: [
			{ name: "Size", values: ["S", "M"] },
			{ name: "Colour", values: ["Black", "White"] },
		],
		variants: [variant("t1", "TS-1-S-BLK", { Size: "S", Colour: "Black" }, 1999, 4), variant("t2", "TS-1-M-WHT", { Size: "M", Colour: "White" }, 1999, 0)],
	}),
	product("p7", "Mug Rack", "Holds six mugs.", { sku: "RACK-6", categories: ["kitchen"], price: 1000, available: 0, createdAt: AT(1) }),
	product("p8", "Grand Piano", "A concert instrument.", { sku: "PIANO", categories: ["music"], price: 100000, available: 1, createdAt: AT(7) }),
	product("p9", "Guitar Pick", "Plastic pick.", { sku: "PICK", categories: ["music"], price: 99, available: 100, createdAt: AT(7) }),
];

const ALL = 1000;
const q = (query: Partial<SearchQuery>): SearchQuery => ({ sort: "relevance", offset: 0, limit: ALL, ...query });

async function ids(index: SearchIndex, query: Partial<SearchQuery>): Promise<string[]> {
	return (await index.search(q(query))).ids;
}
async function idSet(index: SearchIndex, text: string, more: Partial<SearchQuery> = {}): Promise<string[]> {
	return (await ids(index, { q: text, ...more })).sort();
}

let index: MemorySearchIndex;
beforeEach(async () => {
	index = new MemorySearchIndex();
	await index.replaceAll(CATALOG);
});

describe("text rules", () => {
	it("folds case and accents and splits on anything not a letter or digit", () => {
		expect(fold("Café CRÈME İstanbul")).toBe("cafe creme istanbul");
		expect(tokenize("T-Shirt/XL, 2×größe")).toEqual(["t", "shirt", "xl", "2", "große"]);
	});

	it("one edit is a substitution, insertion, deletion or a swap of neighbours, never two", () => {
		expect(withinOneEdit("headphones", "headphomes")).toBe(true);
		expect(withinOneEdit("headphones", "haedphones")).toBe(true);
		expect(withinOneEdit("headphones", "headphone")).toBe(true);
		expect(withinOneEdit("headphones", "headphonesx")).toBe(true);
		expect(withinOneEdit("headphones", "haedphomes")).toBe(false);
		expect(withinOneEdit("abc", "bca")).toBe(false);
	});

	it("edit variants are exactly the strings one edit away", () => {
		const variants = editVariants("shoes", ["e", "h", "o", "s", "x"]);
		for (const v of variants) expect(withinOneEdit("shoes", v)).toBe(true);
		expect(variants.has("shose")).toBe(true);
		expect(variants.has("shoe")).toBe(true);
		expect(variants.has("shoxes")).toBe(true);
		expect(variants.has("shoes")).toBe(false);
	});

	it("only the last word is a prefix, only words of 5+ letters tolerate a typo", () => {
		const [first, last] = queryWords("shoe runn");
		expect(first).toEqual({ text: "shoe", prefix: false, typo: false });
		expect(last).toEqual({ text: "runn", prefix: true, typo: false });
		expect(wordMatches(last!, "running")).toBe(true);
		expect(wordMatches(first!, "shoes")).toBe(false);
		// a 5+ letter prefix with a typo in it
		expect(wordMatches(queryWords("headphn")[0]!, "headphones")).toBe(true);
	});
});

describe("what a shopper finds", () => {
	it("ignores case and accents", async () => {
		expect(await idSet(index, "cafe")).toEqual(["p1", "p2"]);
		expect(await idSet(index, "CAFÉ")).toEqual(["p1", "p2"]);
		expect(await idSet(index, "creme")).toEqual(["p1"]);
		expect(await idSet(index, "CRÈME MUG")).toEqual(["p1"]);
	});

	it("needs every word, in any field", async () => {
		expect(await idSet(index, "espresso mug")).toEqual(["p1", "p2"]);
		expect(await idSet(index, "wireless stand")).toEqual(["p5"]);
		expect(await idSet(index, "wireless piano")).toEqual([]);
	});

	it("takes the last word as a prefix, and only the last", async () => {
		expect(await idSet(index, "head")).toEqual(["p4", "p5"]);
		expect(await idSet(index, "wireless head")).toEqual(["p4", "p5"]);
		expect(await idSet(index, "head wireless")).toEqual([]);
		expect(await idSet(index, "m")).toEqual(["p1", "p2", "p6", "p7"]);
		expect(await idSet(index, "ru")).toEqual(["p3"]);
	});

	it("forgives one typo in words of 5 letters or more, none in shorter ones", async () => {
		expect(await idSet(index, "headphomes")).toEqual(["p4", "p5"]);
		expect(await idSet(index, "haedphones")).toEqual(["p4", "p5"]);
		expect(await idSet(index, "wireles headphones")).toEqual(["p4", "p5"]);
		expect(await idSet(index, "shose")).toEqual(["p3"]);
		expect(await idSet(index, "runnign shoes")).toEqual(["p3"]);
		// two typos in one word: nothing
		expect(await idSet(index, "haedphomes")).toEqual([]);
		// four letters: no typo allowed (not last, so not a prefix either)
		expect(await idSet(index, "rakc mug")).toEqual([]);
		expect(await idSet(index, "mgu rack")).toEqual([]);
		expect(await idSet(index, "rack mgu")).toEqual([]);
		// a typo inside a 5+ letter prefix being typed
		expect(await idSet(index, "headphn")).toEqual(["p4", "p5"]);
	});

	it("finds SKUs whole, without separators and by their parts, the variants' too", async () => {
		expect(await idSet(index, "MUG-001")).toEqual(["p1"]);
		expect(await idSet(index, "mug001")).toEqual(["p1"]);
		expect(await idSet(index, "esp-9000")).toEqual(["p2"]);
		expect(await idSet(index, "9000")).toEqual(["p2"]);
		expect(await idSet(index, "RUN-42-42-BLU")).toEqual(["p3"]);
		expect(await idSet(index, "run4243")).toEqual(["p3"]);
		expect(await idSet(index, "TS-1-M-WHT")).toEqual(["p6"]);
	});

	it("finds option values of active variants", async () => {
		expect(await idSet(index, "blue")).toEqual(["p3"]);
		expect(await idSet(index, "black shirt")).toEqual(["p6"]);
		expect(await idSet(index, "green")).toEqual([]);
	});

	it("ranks name matches above description-only matches", async () => {
		const espresso = await ids(index, { q: "espresso" });
		expect(espresso).toEqual(["p2", "p1"]);
		const mug = await ids(index, { q: "mug" });
		expect(mug.indexOf("p2")).toBe(2);
		expect(mug.slice(0, 2).sort()).toEqual(["p1", "p7"]);
		// two words in the name beat one
		expect((await ids(index, { q: "wireless headphones" }))[0]).toBe("p4");
	});

	it("browses everything that passes the filters when there is no text", async () => {
		expect((await index.search(q({}))).total).toBe(CATALOG.length);
		expect((await index.search(q({ q: "  !!  " }))).total).toBe(CATALOG.length);
	});
});

describe("sorts and paging", () => {
	const SORTS: SearchSort[] = ["relevance", "price", "-price", "name", "-createdAt"];
	const byName = (a: SearchableProduct, b: SearchableProduct): number =>
		fold(a.name) < fold(b.name) ? -1 : fold(a.name) > fold(b.name) ? 1 : a.id < b.id ? -1 : 1;
	// Without text, relevance has nothing to rank by and is by name.
	const expected: Record<SearchSort, (a: SearchableProduct, b: SearchableProduct) => number> = {
		relevance: byName,
		price: (a, b) => a.price - b.price || (a.id < b.id ? -1 : 1),
		"-price": (a, b) => b.price - a.price || (a.id < b.id ? -1 : 1),
		name: byName,
		"-createdAt": (a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? -1 : 1),
	};

	for (const sort of SORTS) {
		it(`${sort}: pages put together are the whole sorted list, with id breaking ties`, async () => {
			const full = await ids(index, { sort });
			expect(full).toEqual([...CATALOG].sort(expected[sort]).map(p => p.id));
			for (const size of [1, 2, 4]) {
				const pages: string[] = [];
				for (let offset = 0; offset < CATALOG.length + size; offset += size) pages.push(...(await ids(index, { sort, offset, limit: size })));
				expect(pages).toEqual(full);
			}
		});
	}

	it("pages a text search in relevance order the same way", async () => {
		const full = await ids(index, { q: "m" });
		const pages: string[] = [];
		for (let offset = 0; offset < full.length; offset += 2) pages.push(...(await ids(index, { q: "m", offset, limit: 2 })));
		expect(pages).toEqual(full);
	});

	it("answers an empty page past the end with the total", async () => {
		expect(await index.search(q({ offset: 50, limit: 10 }))).toEqual({ ids: [], total: CATALOG.length });
	});
});

describe("filters", () => {
	it("categories: any of them", async () => {
		expect((await ids(index, { categories: ["audio"] })).sort()).toEqual(["p4", "p5"]);
		expect((await ids(index, { categories: ["mugs", "music"] })).sort()).toEqual(["p1", "p8", "p9"]);
		expect(await ids(index, { categories: ["nothing-here"] })).toEqual([]);
		expect(await idSet(index, "mug", { categories: ["appliances"] })).toEqual(["p2"]);
	});

	it("price range, both ends inclusive", async () => {
		expect(await ids(index, { minPrice: 1000, maxPrice: 2500, sort: "price" })).toEqual(["p7", "p1", "p6", "p5"]);
		expect(await ids(index, { maxPrice: 99 })).toEqual(["p9"]);
		expect(await ids(index, { minPrice: 100000 })).toEqual(["p8"]);
	});

	it("in stock or not", async () => {
		expect((await ids(index, { inStock: false })).sort()).toEqual(["p2", "p7"]);
		expect((await ids(index, { inStock: true })).length).toBe(CATALOG.length - 2);
		expect(await idSet(index, "mug", { inStock: true })).toEqual(["p1"]);
	});

	it("options: one active variant must have a wanted value for every name", async () => {
		expect(await ids(index, { options: [{ name: "size", value: "42" }] })).toEqual(["p3"]);
		expect(
			await ids(index, {
				options: [
					{ name: "size", value: "42" },
					{ name: "colour", value: "red" },
				],
			}),
		).toEqual(["p3"]);
		// size 41 only comes in red: no single variant is 41 and blue
		expect(
			await ids(index, {
				options: [
					{ name: "size", value: "41" },
					{ name: "colour", value: "Blue" },
				],
			}),
		).toEqual([]);
		// two values for one name: either
		expect(
			await ids(index, {
				options: [
					{ name: "size", value: "41" },
					{ name: "size", value: "44" },
					{ name: "colour", value: "blue" },
				],
			}),
		).toEqual([]);
		expect(
			await ids(index, {
				options: [
					{ name: "size", value: "42" },
					{ name: "size", value: "44" },
					{ name: "colour", value: "blue" },
				],
			}),
		).toEqual(["p3"]);
		// the green variant is inactive
		expect(await ids(index, { options: [{ name: "colour", value: "green" }] })).toEqual([]);
		expect(
			await ids(index, {
				options: [
					{ name: "size", value: "43" },
					{ name: "colour", value: "green" },
				],
			}),
		).toEqual([]);
		// names and values compared without case or accents
		expect(
			await ids(index, {
				options: [
					{ name: "SIZE", value: "m" },
					{ name: "colour", value: "WHITE" },
				],
			}),
		).toEqual(["p6"]);
		expect(
			await ids(index, {
				options: [
					{ name: "size", value: "m" },
					{ name: "colour", value: "black" },
				],
			}),
		).toEqual([]);
		// a product without variants never matches; an unknown name matches nothing
		expect(await ids(index, { options: [{ name: "flavour", value: "mint" }] })).toEqual([]);
	});

	it("combines text and every filter", async () => {
		expect(await idSet(index, "shoes", { categories: ["shoes"], minPrice: 5000, inStock: true, options: [{ name: "colour", value: "red" }] })).toEqual([
			"p3",
		]);
		expect(await idSet(index, "shoes", { maxPrice: 5000 })).toEqual([]);
	});
});

describe("facets", () => {
	const cases: Partial<SearchQuery>[] = [
		{},
		{ q: "m" },
		{ categories: ["kitchen"] },
		{ inStock: true, maxPrice: 20000 },
		{ q: "shoes", options: [{ name: "size", value: "42" }] },
		{ q: "nothing-at-all" },
	];
	for (const c of cases) {
		it(`are counted over the whole result, not the page: ${JSON.stringify(c)}`, async () => {
			const got = await index.search(q({ ...c, limit: 1, facets: true }));
			const all = await ids(index, c);
			const expected = referenceFacets(CATALOG.filter(p => all.includes(p.id)));
			expect(got.facets).toEqual(expected);
		});
	}

	it("have the contract's shape: categories most first, price buckets, in stock, option values of active variants", async () => {
		const { facets } = await index.search(q({ facets: true }));
		expect(facets!.categories[0]).toEqual({ slug: "kitchen", count: 3 });
		expect(facets!.price).toEqual([
			{ min: 0, max: 1000, count: 1 },
			{ min: 1000, max: 2500, count: 3 },
			{ min: 2500, max: 5000, count: 1 },
			{ min: 5000, max: 10000, count: 1 },
			{ min: 10000, max: 25000, count: 2 },
			{ min: 100000, max: null, count: 1 },
		]);
		expect(facets!.inStock).toBe(7);
		// "colour" and "Colour" are one option; named as first seen. The inactive Green is not counted.
		expect(facets!.options.colour).toEqual(["Black", "Blue", "Red", "White"].map(value => ({ value, count: 1 })));
		expect(facets!.options.size).toEqual(["41", "42", "43", "M", "S"].map(value => ({ value, count: 1 })));
		expect(Object.keys(facets!.options).sort()).toEqual(["colour", "size"]);
	});
});

describe("changes", () => {
	it("upsert replaces an entry: its old words no longer find it", async () => {
		await index.upsert({ ...CATALOG[0]!, name: "Tea Cup", description: "Porcelain.", sku: "CUP-1" });
		expect(await idSet(index, "cafe")).toEqual(["p2"]);
		expect(await idSet(index, "mug001")).toEqual([]);
		expect(await idSet(index, "porcelain")).toEqual(["p1"]);
		expect(await idSet(index, "cup-1")).toEqual(["p1"]);
		expect(index.size).toBe(CATALOG.length);
	});

	it("upsert of a price or stock change moves the product in sorts and filters", async () => {
		await index.upsert({ ...CATALOG[7]!, price: 1, available: 0 });
		expect((await ids(index, { sort: "price" }))[0]).toBe("p8");
		expect((await ids(index, { inStock: false })).sort()).toEqual(["p2", "p7", "p8"]);
	});

	it("upsert adds a new product and changes its variants", async () => {
		await index.upsert(product("p10", "Trail Shoes", "For mountains.", { variants: [variant("x", "TR-1", { size: "44" }, 5000, 1)] }));
		expect(await idSet(index, "shoes")).toEqual(["p10", "p3"]);
		expect(await ids(index, { options: [{ name: "size", value: "44" }] })).toEqual(["p10"]);
		await index.upsert(product("p10", "Trail Shoes", "For mountains.", { variants: [variant("x", "TR-1", { size: "44" }, 5000, 1, false)] }));
		expect(await ids(index, { options: [{ name: "size", value: "44" }] })).toEqual([]);
		expect(index.size).toBe(CATALOG.length + 1);
	});

	it("remove takes a product out; removing an unknown id is harmless", async () => {
		await index.remove("p4");
		await index.remove("p4");
		await index.remove("never-there");
		expect(await idSet(index, "headphones")).toEqual(["p5"]);
		expect(index.size).toBe(CATALOG.length - 1);
		expect((await index.search(q({ facets: true }))).facets!.categories.find(c => c.slug === "audio")).toEqual({ slug: "audio", count: 1 });
		// the next product does not inherit its words
		await index.upsert(product("p11", "Desk Lamp", "Bright."));
		expect(await idSet(index, "headphones")).toEqual(["p5"]);
		expect(await idSet(index, "lamp")).toEqual(["p11"]);
	});

	it("a removed product is gone from long posting lists too (kept there as tombstones)", async () => {
		const many = Array.from({ length: 600 }, (_, i) =>
			product(`m${String(i).padStart(3, "0")}`, `Bulk Widget ${i}`, "Common words.", { categories: ["bulk"], price: i }),
		);
		await index.replaceAll(many);
		for (let i = 0; i < 600; i += 2) await index.remove(`m${String(i).padStart(3, "0")}`);
		expect(index.stats().tombstones).toBeGreaterThan(0);
		const odd = many.filter((_, i) => i % 2 === 1).map(p => p.id);
		expect(await idSet(index, "widget")).toEqual(odd);
		expect(await idSet(index, "w")).toEqual(odd);
		expect(await idSet(index, "bulk common wid")).toEqual(odd);
		expect(await ids(index, { categories: ["bulk"], sort: "price" })).toEqual(odd);
		const { facets, total } = await index.search(q({ q: "widget", facets: true, limit: 1 }));
		expect(total).toBe(300);
		expect(facets!.categories).toEqual([{ slug: "bulk", count: 300 }]);
		// and back: the same id again is a new product
		await index.upsert(many[0]!);
		expect((await idSet(index, "widget")).length).toBe(301);
	});

	it("replaceAll starts again from scratch", async () => {
		await index.replaceAll([product("only", "Only One", "Alone.")]);
		expect(index.size).toBe(1);
		expect(await idSet(index, "mug")).toEqual([]);
		expect(await idSet(index, "only")).toEqual(["only"]);
	});

	it("keeps answering during replaceAll and keeps the changes made meanwhile", async () => {
		async function* slowly(): AsyncGenerator<SearchableProduct> {
			for (const p of CATALOG.slice(0, 3)) {
				await new Promise(r => setTimeout(r, 5));
				yield p;
			}
		}
		const rebuild = index.replaceAll(slowly());
		await new Promise(r => setTimeout(r, 2));
		expect(index.size).toBe(CATALOG.length); // still the old contents
		await index.upsert(product("new", "Brand New Kettle", "Hot."));
		await index.remove("p1");
		await rebuild;
		expect(index.size).toBe(3);
		expect(await idSet(index, "kettle")).toEqual(["new"]);
		expect(await idSet(index, "creme")).toEqual([]);
	});
});

describe("against the brute-force reference on a generated catalog", () => {
	const categories = generateCategories(5);
	const generated = [...generateProducts({ count: 2500, seed: 5, categories })];
	const products = generated.map(toSearchable);
	const queries = sampleQueries(generated, 150, 9);
	const optionPairs = [
		...new Set(products.flatMap(p => (p.variants ?? []).flatMap(v => Object.entries(v.options).map(([n, val]) => `${n}\u0000${val}`)))),
	].map(s => {
		const [name, value] = s.split("\u0000");
		return { name: name!, value: value! };
	});
	const slugs = categories.map(c => c.slug);
	const r = random(17);
	const pickOf = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

	function randomQuery(text: string | undefined): SearchQuery {
		const query: SearchQuery = {
			sort: pickOf(["relevance", "price", "-price", "name", "-createdAt"] as const),
			offset: 0,
			limit: ALL * 10,
			facets: r() < 0.3,
		};
		if (text !== undefined) query.q = text;
		if (r() < 0.3) query.categories = [pickOf(slugs), pickOf(slugs), pickOf(slugs)].slice(0, 1 + Math.floor(r() * 3));
		if (r() < 0.3) query.minPrice = Math.floor(r() * 5000);
		if (r() < 0.3) query.maxPrice = Math.floor(r() * 20000);
		if (r() < 0.3) query.inStock = r() < 0.7;
		if (r() < 0.2) query.options = [pickOf(optionPairs), pickOf(optionPairs)].slice(0, 1 + Math.floor(r() * 2));
		return query;
	}

	it("agrees with it on totals, ids, order and facets over hundreds of queries", async () => {
		const memory = new MemorySearchIndex();
		const reference = new ReferenceSearchIndex();
		await memory.replaceAll(products);
		await reference.replaceAll(products);
		const current = new Map(products.map(p => [p.id, p]));
		// Churn first: the index after updates must still be right.
		for (let i = 0; i < 200; i++) {
			const p = products[(i * 37) % products.length]!;
			if (i % 3 === 0) {
				await memory.remove(p.id);
				await reference.remove(p.id);
				current.delete(p.id);
			} else {
				const changed = { ...p, name: `${p.name} ${pickOf(queries)}`, price: p.price + i, available: i % 2 };
				await memory.upsert(changed);
				await reference.upsert(changed);
				current.set(p.id, changed);
			}
		}
		expect(memory.size).toBe(reference.size);
		const texts: (string | undefined)[] = [...queries, ...Array.from({ length: 150 }, () => undefined)];
		let checked = 0;
		for (const text of texts) {
			const query = randomQuery(text);
			const got = await memory.search(query);
			const want = await reference.search(query);
			const label = JSON.stringify(query);
			expect(got.total, label).toBe(want.total);
			if (query.q && query.sort === "relevance") {
				expect([...got.ids].sort(), label).toEqual([...want.ids].sort());
				// Name tiers are in order: no product with fewer words in its name before one with more.
				const nameHitsOf = (id: string): number => queryWords(query.q).filter(w => tokenize(current.get(id)!.name).some(t => wordMatches(w, t))).length;
				const hits = got.ids.slice(0, 50).map(nameHitsOf);
				for (let i = 1; i < hits.length; i++) expect(hits[i]!, label).toBeLessThanOrEqual(hits[i - 1]!);
			} else {
				expect(got.ids, label).toEqual(want.ids);
			}
			if (query.facets) expect(got.facets, label).toEqual(want.facets);
			checked++;
		}
		expect(checked).toBeGreaterThanOrEqual(300);
		// And the filters alone against the reference's predicate, page by page.
		for (let i = 0; i < 20; i++) {
			const filters = { ...randomQuery(undefined), sort: "price" as const, limit: 37 };
			const want = [...current.values()].filter(p => passesFilters(p, filters));
			const got: string[] = [];
			for (let offset = 0; offset < want.length; offset += 37) got.push(...(await memory.search({ ...filters, offset })).ids);
			expect(got.sort()).toEqual(want.map(p => p.id).sort());
		}
	}, 60_000);
});
