/**
 * The product search read model: what the products service puts in and asks of a search index.
 * Separate from the catalog documents so that the service can keep one in memory (memory-index.ts)
 * or point the same interface at a remote engine (docs/search.md has the shape of an OpenSearch index);
 * the semantics below are the contract's "Search and facets" section and are binding for both.
 *
 * Only active, non-deleted products are put in the index; the caller removes the others.
 */
import type { Static } from "typebox";
import type { Facets } from "../http/schemas.js";

export interface SearchableVariant {
	id: string;
	sku: string;
	options: Record<string, string>;
	price: number;
	available: number;
	active: boolean;
}

export interface SearchableProduct {
	id: string;
	sku: string;
	name: string;
	description: string;
	/** Category slugs. */
	categories: string[];
	/** Integer minor units; for a product with variants the lowest ACTIVE variant price. */
	price: number;
	/** Units not held; for a product with variants the sum over active variants. */
	available: number;
	/** ISO 8601. */
	createdAt: string;
	options?: { name: string; values: string[] }[];
	variants?: SearchableVariant[];
}

export type SearchSort = "relevance" | "price" | "-price" | "name" | "-createdAt";

export interface SearchQuery {
	q?: string;
	/** Match any of these slugs (the caller expands a category to its subtree). */
	categories?: string[];
	/** Inclusive, on `price`. */
	minPrice?: number;
	maxPrice?: number;
	/** true: available > 0; false: available <= 0. */
	inStock?: boolean;
	/**
	 * Grouped by name: a product matches when one of its active variants has, for every name
	 * given, one of the values given for that name (names and values compared case- and
	 * accent-insensitively). A product without variants never matches.
	 */
	options?: { name: string; value: string }[];
	sort: SearchSort;
	offset: number;
	limit: number;
	facets?: boolean;
}

/** The facets of a search (the contract's "Search and facets", lib/http/schemas.ts). */
export type SearchFacets = Static<typeof Facets>;

export interface SearchResult {
	ids: string[];
	total: number;
	facets?: SearchFacets;
}

export interface SearchIndex {
	readonly kind: string;
	readonly size: number;
	/** (Re)build from scratch. Searches keep answering from the previous contents until it is done. */
	replaceAll(products: Iterable<SearchableProduct> | AsyncIterable<SearchableProduct>): Promise<void>;
	/** Add or replace one. */
	upsert(product: SearchableProduct): Promise<void>;
	/** Safe for an id that is not in the index. */
	remove(id: string): Promise<void>;
	search(query: SearchQuery): Promise<SearchResult>;
}

/** Lower bounds of the price facet's buckets, in minor units; the last bucket has no upper bound. */
export const PRICE_BUCKETS: readonly number[] = [0, 1000, 2500, 5000, 10000, 25000, 50000, 100000];

/** The bucket of a price: the index of the last lower bound at or below it (negative prices: 0). */
export function priceBucket(price: number): number {
	let b = 0;
	while (b + 1 < PRICE_BUCKETS.length && price >= PRICE_BUCKETS[b + 1]!) b++;
	return b;
}

/** Bucket counts → the facet's non-empty buckets. */
export function priceFacet(counts: ArrayLike<number>): SearchFacets["price"] {
	const out: SearchFacets["price"] = [];
	for (let b = 0; b < PRICE_BUCKETS.length; b++) {
		const count = counts[b] ?? 0;
		if (count > 0) out.push({ min: PRICE_BUCKETS[b]!, max: b + 1 < PRICE_BUCKETS.length ? PRICE_BUCKETS[b + 1]! : null, count });
	}
	return out;
}
