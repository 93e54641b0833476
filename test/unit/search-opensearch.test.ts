import { describe, expect, it } from "vitest";
import { fromSearchResponse, indexDefinition, NAME_TIER_BOOST, toDocument, toSearchBody, type OpenSearchResponse } from "../../lib/search/opensearch-query.js";
import type { SearchQuery, SearchableProduct } from "../../lib/search/search-index.js";

const SHOES: SearchableProduct = {
	id: "p3",
	sku: "RUN-42",
	name: "Running Shoes",
	description: "Lightweight shoes.",
	categories: ["shoes"],
	price: 7999,
	available: 3,
	createdAt: "2026-01-02T00:00:00.000Z",
	options: [{ name: "Colour", values: ["Rouge Crème"] }],
	variants: [
		{ id: "v1", sku: "RUN-42-41-RED", options: { Size: "41", Colour: "Rouge Crème" }, price: 7999, available: 3, active: true },
		{ id: "v2", sku: "RUN-42-43-GRN", options: { Size: "43", Colour: "Green" }, price: 7999, available: 0, active: false },
	],
};

const q = (query: Partial<SearchQuery>): SearchQuery => ({ sort: "relevance", offset: 0, limit: 20, ...query });
type Obj = Record<string, unknown>;
const bool = (body: Obj): Obj => ((body.query as Obj).bool as Obj) ?? {};

describe("OpenSearch mapping and documents", () => {
	it("maps text with a folding analyzer, the name with a sortable folded keyword, variants as nested", () => {
		const def = indexDefinition() as { settings: Obj; mappings: { properties: Record<string, Obj> } };
		const props = def.mappings.properties;
		expect(props.name).toMatchObject({ type: "text", analyzer: "shop_text", fields: { sort: { type: "keyword", normalizer: "shop_fold" } } });
		expect(props.variants).toMatchObject({ type: "nested", properties: { active: { type: "boolean" }, options: { type: "keyword" } } });
		expect(props.price).toEqual({ type: "long" });
		expect(JSON.stringify(def.settings)).toContain("asciifolding");
		expect((def.settings.index as Obj).refresh_interval).toBe("1s");
	});

	it("turns a product into a document with SKU parts, option tokens and folded variant option keys", () => {
		const doc = toDocument(SHOES);
		expect(doc.sku_terms.split(" ")).toEqual(["run", "42", "run42", "41", "red", "run4241red", "43", "grn", "run4243grn"]);
		// Options of active variants only (and the product's own option list).
		expect(doc.options_text.split(" ").sort()).toEqual(["41", "creme", "rouge"]);
		expect(doc.variants).toEqual([
			{ id: "v1", active: true, options: ["size=41", "colour=rouge creme"] },
			{ id: "v2", active: false, options: ["size=43", "colour=green"] },
		]);
		expect(doc).toMatchObject({ id: "p3", price: 7999, available: 3, created_at: SHOES.createdAt, categories: ["shoes"] });
	});
});

describe("OpenSearch query bodies", () => {
	it("needs every word; one typo from 5 letters; the last word as a prefix (or, long, with a typo)", () => {
		const body = toSearchBody(q({ q: "Wireless mug HEADPH" }));
		const must = bool(body).must as Obj[];
		expect(must).toHaveLength(3);
		expect(must[0]).toEqual({
			multi_match: {
				query: "wireless",
				fields: ["name^3", "sku_terms^3", "options_text^1.5", "description"],
				fuzziness: 1,
				fuzzy_transpositions: true,
				prefix_length: 0,
				max_expansions: 50,
			},
		});
		expect((must[1]!.multi_match as Obj).fuzziness).toBe(0);
		expect(must[2]).toMatchObject({
			bool: {
				minimum_should_match: 1,
				should: [{ multi_match: { query: "headph", type: "bool_prefix" } }, { multi_match: { query: "headph", fuzziness: 1 } }],
			},
		});
		// a short last word: the prefix only
		expect((bool(toSearchBody(q({ q: "he" }))).must as Obj[])[0]).toEqual({
			multi_match: { query: "he", type: "bool_prefix", fields: ["name^3", "sku_terms^3", "options_text^1.5", "description"] },
		});
	});

	it("folds the words as the index does and ranks name matches first with a constant boost per word", () => {
		const body = toSearchBody(q({ q: "Café crème" }));
		expect(((bool(body).must as Obj[])[0]!.multi_match as Obj).query).toBe("cafe");
		const should = bool(body).should as Obj[];
		expect(should).toHaveLength(2);
		expect(should[0]).toEqual({ constant_score: { filter: { match: { name: { query: "cafe", fuzziness: 0 } } }, boost: NAME_TIER_BOOST } });
		expect(body.sort).toEqual([{ _score: "desc" }, { "name.sort": "asc" }, { id: "asc" }]);
	});

	it("translates the filters; option pairs become one nested query so one variant must match them all", () => {
		const body = toSearchBody(
			q({
				categories: ["shoes", "boots"],
				minPrice: 1000,
				maxPrice: 5000,
				inStock: true,
				options: [
					{ name: "Size", value: "42" },
					{ name: "size", value: "43" },
					{ name: "Colour", value: "Crème" },
				],
			}),
		);
		expect(bool(body).must).toBeUndefined();
		expect(bool(body).filter).toEqual([
			{ terms: { categories: ["shoes", "boots"] } },
			{ range: { price: { gte: 1000, lte: 5000 } } },
			{ range: { available: { gt: 0 } } },
			{
				nested: {
					path: "variants",
					query: {
						bool: {
							filter: [
								{ term: { "variants.active": true } },
								{ terms: { "variants.options": ["size=42", "size=43"] } },
								{ terms: { "variants.options": ["colour=creme"] } },
							],
						},
					},
				},
			},
		]);
		expect(bool(toSearchBody(q({ inStock: false }))).filter).toEqual([{ range: { available: { lte: 0 } } }]);
		expect(toSearchBody(q({})).query).toEqual({ match_all: {} });
	});

	it("sorts with id as the last tie-breaker and pages with from/size and exact totals", () => {
		expect(toSearchBody(q({ sort: "price" })).sort).toEqual([{ price: "asc" }, { id: "asc" }]);
		expect(toSearchBody(q({ sort: "-price" })).sort).toEqual([{ price: "desc" }, { id: "asc" }]);
		expect(toSearchBody(q({ sort: "name" })).sort).toEqual([{ "name.sort": "asc" }, { id: "asc" }]);
		expect(toSearchBody(q({ sort: "-createdAt" })).sort).toEqual([{ created_at: "desc" }, { id: "asc" }]);
		// relevance without text has nothing to score: by name
		expect(toSearchBody(q({})).sort).toEqual([{ "name.sort": "asc" }, { id: "asc" }]);
		expect(toSearchBody(q({ offset: 40, limit: 20 }))).toMatchObject({ from: 40, size: 20, track_total_hits: true });
	});

	it("asks for facet aggregations only when facets are wanted, with the contract's price buckets", () => {
		expect(toSearchBody(q({})).aggs).toBeUndefined();
		const aggs = toSearchBody(q({ facets: true })).aggs as Record<string, Obj>;
		expect((aggs.price!.range as Obj).ranges).toEqual([
			{ from: 0, to: 1000 },
			{ from: 1000, to: 2500 },
			{ from: 2500, to: 5000 },
			{ from: 5000, to: 10000 },
			{ from: 10000, to: 25000 },
			{ from: 25000, to: 50000 },
			{ from: 50000, to: 100000 },
			{ from: 100000 },
		]);
		expect(aggs.in_stock).toEqual({ filter: { range: { available: { gt: 0 } } } });
		expect(JSON.stringify(aggs.options)).toContain("reverse_nested");
	});
});

describe("OpenSearch responses", () => {
	it("maps hits and aggregations back to a SearchResult", () => {
		const res: OpenSearchResponse = {
			hits: { total: { value: 42 }, hits: [{ _id: "a", fields: { id: ["a"] } }, { _id: "b" }] },
			aggregations: {
				categories: {
					buckets: [
						{ key: "shoes", doc_count: 30 },
						{ key: "boots", doc_count: 12 },
					],
				},
				price: {
					buckets: [
						{ key: "0-1000", from: 0, to: 1000, doc_count: 0 },
						{ key: "1000-2500", from: 1000, to: 2500, doc_count: 40 },
						{ key: "100000-*", from: 100000, doc_count: 2 },
					],
				},
				in_stock: { doc_count: 17 },
				options: {
					active: {
						values: {
							buckets: [
								{ key: "size=42", doc_count: 9, products: { doc_count: 5 } },
								{ key: "colour=red", doc_count: 7, products: { doc_count: 7 } },
								{ key: "size=41", doc_count: 5, products: { doc_count: 5 } },
							],
						},
					},
				},
			},
		};
		expect(fromSearchResponse(res, true)).toEqual({
			ids: ["a", "b"],
			total: 42,
			facets: {
				categories: [
					{ slug: "shoes", count: 30 },
					{ slug: "boots", count: 12 },
				],
				options: {
					colour: [{ value: "red", count: 7 }],
					size: [
						{ value: "41", count: 5 },
						{ value: "42", count: 5 },
					],
				},
				price: [
					{ min: 1000, max: 2500, count: 40 },
					{ min: 100000, max: null, count: 2 },
				],
				inStock: 17,
			},
		});
		expect(fromSearchResponse({ hits: { total: 3, hits: [] } }, false)).toEqual({ ids: [], total: 3 });
	});
});
