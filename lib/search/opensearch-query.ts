/**
 * The shape of a remote SearchIndex on OpenSearch (or Elasticsearch, whose query DSL this subset
 * shares): the index mapping, a product as a document, a SearchQuery as a request body, and a
 * response back as a SearchResult. Pure translation, no HTTP: a shop that outgrows one node's
 * memory adds a small client that PUTs `indexDefinition()`, indexes `toDocument(p)` under `p.id`
 * (bulk for replaceAll, refresh_interval 1s keeps the contract's one second), POSTs
 * `toSearchBody(q)` to `_search` and maps the answer with `fromSearchResponse` (docs/search.md).
 *
 * Where it differs from the in-memory index: folding is OpenSearch's asciifolding (ß → ss, not ß);
 * the last word is a prefix OR a whole word with one typo, not a prefix with a typo in it; name
 * matches rank first through a large constant boost per word found in the name, not a strict tier.
 */
import { fold, queryWords, skuTokens, tokenize, TYPO_MIN_LENGTH } from "./text.js";
import { PRICE_BUCKETS, type SearchFacets, type SearchQuery, type SearchResult, type SearchableProduct } from "./search-index.js";

/** Text fields and their weights; the SKU and option tokens are computed here, not by an analyzer. */
export const TEXT_FIELDS = ["name^3", "sku_terms^3", "options_text^1.5", "description"] as const;
/** A word found in the name adds this to the score: larger than any text score, so name matches come first. */
export const NAME_TIER_BOOST = 1000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface OpenSearchDocument {
	id: string;
	sku: string;
	name: string;
	description: string;
	sku_terms: string;
	options_text: string;
	categories: string[];
	price: number;
	available: number;
	created_at: string;
	/** Every variant; `options` as folded "name=value" keywords, so one terms query tests a name's values. */
	variants: { id: string; active: boolean; options: string[] }[];
}

/** Settings and mappings for `PUT /<index>`. */
export function indexDefinition(): JsonObject {
	const text = { type: "text", analyzer: "shop_text" };
	return {
		settings: {
			index: { refresh_interval: "1s" },
			analysis: {
				tokenizer: { shop_tokens: { type: "pattern", pattern: "[^\\p{L}\\p{N}]+" } },
				analyzer: {
					shop_text: { type: "custom", tokenizer: "shop_tokens", filter: ["lowercase", "asciifolding"] },
					// SKU and option tokens arrive folded and split already.
					shop_terms: { type: "custom", tokenizer: "whitespace" },
				},
				normalizer: { shop_fold: { type: "custom", filter: ["lowercase", "asciifolding"] } },
			},
		},
		mappings: {
			dynamic: "strict",
			properties: {
				id: { type: "keyword" },
				sku: { type: "keyword" },
				name: { ...text, fields: { sort: { type: "keyword", normalizer: "shop_fold" } } },
				description: text,
				sku_terms: { type: "text", analyzer: "shop_terms" },
				options_text: { type: "text", analyzer: "shop_terms" },
				categories: { type: "keyword" },
				price: { type: "long" },
				available: { type: "long" },
				created_at: { type: "date" },
				variants: { type: "nested", properties: { id: { type: "keyword" }, active: { type: "boolean" }, options: { type: "keyword" } } },
			},
		},
	};
}

const optionKey = (name: string, value: string): string => `${fold(name)}=${fold(value)}`;

export function toDocument(p: SearchableProduct): OpenSearchDocument {
	const skus: string[] = [];
	skuTokens(p.sku, skus);
	const options: string[] = [];
	for (const o of p.options ?? []) for (const v of o.values) options.push(...tokenize(v));
	for (const v of p.variants ?? []) {
		skuTokens(v.sku, skus);
		if (v.active) for (const value of Object.values(v.options)) options.push(...tokenize(value));
	}
	return {
		id: p.id,
		sku: p.sku,
		name: p.name,
		description: p.description,
		sku_terms: [...new Set(skus)].join(" "),
		options_text: [...new Set(options)].join(" "),
		categories: p.categories,
		price: p.price,
		available: p.available,
		created_at: p.createdAt,
		variants: (p.variants ?? []).map(v => ({ id: v.id, active: v.active, options: Object.entries(v.options).map(([n, value]) => optionKey(n, value)) })),
	};
}

/** One word of the query: it must be found in some text field (every word: a bool `must` each). */
function wordClause(word: string, last: boolean): JsonObject {
	const fuzziness = word.length >= TYPO_MIN_LENGTH ? 1 : 0;
	const exactOrTypo: JsonObject = {
		multi_match: { query: word, fields: [...TEXT_FIELDS], fuzziness, fuzzy_transpositions: true, prefix_length: 0, max_expansions: 50 },
	};
	if (!last) return exactOrTypo;
	// The last word as typed so far: a prefix of a term, or (5+ letters) the whole word with a typo.
	const prefix: JsonObject = { multi_match: { query: word, type: "bool_prefix", fields: [...TEXT_FIELDS] } };
	return fuzziness ? { bool: { should: [prefix, exactOrTypo], minimum_should_match: 1 } } : prefix;
}

/** Found in the name: the same match limited to the name, as a constant boost (the relevance tier). */
function nameTierClause(word: string, last: boolean): JsonObject {
	const fuzziness = word.length >= TYPO_MIN_LENGTH ? 1 : 0;
	const filter: JsonObject = last
		? { bool: { should: [{ match_bool_prefix: { name: word } }, { match: { name: { query: word, fuzziness } } }], minimum_should_match: 1 } }
		: { match: { name: { query: word, fuzziness } } };
	return { constant_score: { filter, boost: NAME_TIER_BOOST } };
}

function filterClauses(q: SearchQuery): JsonObject[] {
	const filters: JsonObject[] = [];
	if (q.categories) filters.push({ terms: { categories: q.categories } });
	if (q.minPrice !== undefined || q.maxPrice !== undefined) {
		const range: JsonObject = {};
		if (q.minPrice !== undefined) range.gte = q.minPrice;
		if (q.maxPrice !== undefined) range.lte = q.maxPrice;
		filters.push({ range: { price: range } });
	}
	if (q.inStock === true) filters.push({ range: { available: { gt: 0 } } });
	if (q.inStock === false) filters.push({ range: { available: { lte: 0 } } });
	if (q.options && q.options.length > 0) {
		const groups = new Map<string, string[]>();
		for (const { name, value } of q.options) groups.set(fold(name), [...(groups.get(fold(name)) ?? []), optionKey(name, value)]);
		// One nested query: every group's clause must hold for the same (active) variant.
		const inVariant: JsonObject[] = [{ term: { "variants.active": true } }, ...[...groups.values()].map(keys => ({ terms: { "variants.options": keys } }))];
		filters.push({ nested: { path: "variants", query: { bool: { filter: inVariant } } } });
	}
	return filters;
}

const SORTS: Record<SearchQuery["sort"], Json[]> = {
	relevance: [{ _score: "desc" }, { "name.sort": "asc" }, { id: "asc" }],
	price: [{ price: "asc" }, { id: "asc" }],
	"-price": [{ price: "desc" }, { id: "asc" }],
	name: [{ "name.sort": "asc" }, { id: "asc" }],
	"-createdAt": [{ created_at: "desc" }, { id: "asc" }],
};

/** The facets as aggregations: computed over every hit of the query, not the page. */
export function facetAggregations(): JsonObject {
	return {
		categories: { terms: { field: "categories", size: 1000, order: [{ _count: "desc" }, { _key: "asc" }] } },
		price: {
			range: {
				field: "price",
				ranges: PRICE_BUCKETS.map((from, i): JsonObject => (i + 1 < PRICE_BUCKETS.length ? { from, to: PRICE_BUCKETS[i + 1]! } : { from })),
			},
		},
		in_stock: { filter: { range: { available: { gt: 0 } } } },
		options: {
			nested: { path: "variants" },
			aggs: {
				active: {
					filter: { term: { "variants.active": true } },
					// reverse_nested: count products, not variants.
					aggs: { values: { terms: { field: "variants.options", size: 1000 }, aggs: { products: { reverse_nested: {} } } } },
				},
			},
		},
	};
}

/** The `_search` request body of a query. */
export function toSearchBody(q: SearchQuery): JsonObject {
	const words = queryWords(q.q);
	const must = words.map(w => wordClause(w.text, w.prefix));
	const should = words.map(w => nameTierClause(w.text, w.prefix));
	const filter = filterClauses(q);
	const bool: JsonObject = {};
	if (must.length) bool.must = must;
	if (should.length) bool.should = should;
	if (filter.length) bool.filter = filter;
	const sort = q.sort === "relevance" && words.length === 0 ? SORTS.name : SORTS[q.sort];
	const body: JsonObject = {
		from: q.offset,
		size: q.limit,
		track_total_hits: true,
		_source: false,
		docvalue_fields: ["id"],
		query: Object.keys(bool).length ? { bool } : { match_all: {} },
		sort,
	};
	if (q.facets) body.aggs = facetAggregations();
	return body;
}

// ---------------------------------------------------------------------------------------------
// Back from OpenSearch

interface Bucket {
	key: string | number;
	doc_count: number;
	from?: number;
	to?: number;
	products?: { doc_count: number };
}
export interface OpenSearchResponse {
	hits: { total: { value: number } | number; hits: { _id: string; fields?: { id?: string[] } }[] };
	aggregations?: {
		categories?: { buckets: Bucket[] };
		price?: { buckets: Bucket[] };
		in_stock?: { doc_count: number };
		options?: { active?: { values?: { buckets: Bucket[] } } };
	};
}

export function fromSearchResponse(res: OpenSearchResponse, facets: boolean): SearchResult {
	const total = typeof res.hits.total === "number" ? res.hits.total : res.hits.total.value;
	const result: SearchResult = { ids: res.hits.hits.map(h => h.fields?.id?.[0] ?? h._id), total };
	if (facets) result.facets = facetsFrom(res.aggregations ?? {});
	return result;
}

function facetsFrom(aggs: NonNullable<OpenSearchResponse["aggregations"]>): SearchFacets {
	const options: SearchFacets["options"] = {};
	const values = (aggs.options?.active?.values?.buckets ?? [])
		.map(b => ({ key: String(b.key), count: b.products?.doc_count ?? b.doc_count }))
		.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
	for (const { key, count } of values) {
		const at = key.indexOf("=");
		(options[key.slice(0, at)] ??= []).push({ value: key.slice(at + 1), count });
	}
	return {
		categories: (aggs.categories?.buckets ?? []).map(b => ({ slug: String(b.key), count: b.doc_count })),
		options,
		price: (aggs.price?.buckets ?? []).filter(b => b.doc_count > 0).map(b => ({ min: b.from ?? 0, max: b.to ?? null, count: b.doc_count })),
		inStock: aggs.in_stock?.doc_count ?? 0,
	};
}
