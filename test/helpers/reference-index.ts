/**
 * The search semantics as the plainest possible code: every query scans every product. Too slow
 * for a shop (O(products x tokens) per query), it is the oracle the tests compare the real
 * index with, and a readable statement of what each filter, sort and facet means.
 *
 * Relevance here is only "more query words found in the name first, then name, then id": the
 * engine's score is the real index's business, so tests compare relevance results as sets.
 */
import { fold, productText, queryWords, wordMatches, type ProductText } from "../../lib/search/text.js";
import {
	PRICE_BUCKETS,
	priceBucket,
	priceFacet,
	type SearchFacets,
	type SearchIndex,
	type SearchQuery,
	type SearchResult,
	type SearchableProduct,
} from "../../lib/search/search-index.js";

interface Entry {
	product: SearchableProduct;
	text: ProductText;
	foldName: string;
	created: number;
}

export class ReferenceSearchIndex implements SearchIndex {
	readonly kind = "reference";
	private readonly entries = new Map<string, Entry>();

	get size(): number {
		return this.entries.size;
	}

	async replaceAll(products: Iterable<SearchableProduct> | AsyncIterable<SearchableProduct>): Promise<void> {
		this.entries.clear();
		for await (const p of products) await this.upsert(p);
	}

	async upsert(product: SearchableProduct): Promise<void> {
		const created = Date.parse(product.createdAt);
		this.entries.set(product.id, { product, text: productText(product), foldName: fold(product.name), created: Number.isNaN(created) ? 0 : created });
	}

	async remove(id: string): Promise<void> {
		this.entries.delete(id);
	}

	async search(query: SearchQuery): Promise<SearchResult> {
		const words = queryWords(query.q);
		const hits: { e: Entry; nameHits: number }[] = [];
		for (const e of this.entries.values()) {
			if (!passesFilters(e.product, query)) continue;
			const all = [...e.text.name, ...e.text.description, ...e.text.sku, ...e.text.options];
			if (!words.every(w => all.some(t => wordMatches(w, t)))) continue;
			hits.push({ e, nameHits: words.filter(w => e.text.name.some(t => wordMatches(w, t))).length });
		}
		const byId = (a: Entry, b: Entry): number => cmp(a.product.id, b.product.id);
		const byName = (a: Entry, b: Entry): number => cmp(a.foldName, b.foldName) || byId(a, b);
		const order: Record<SearchQuery["sort"], (a: (typeof hits)[number], b: (typeof hits)[number]) => number> = {
			relevance: (a, b) => (words.length ? b.nameHits - a.nameHits : 0) || byName(a.e, b.e),
			price: (a, b) => a.e.product.price - b.e.product.price || byId(a.e, b.e),
			"-price": (a, b) => b.e.product.price - a.e.product.price || byId(a.e, b.e),
			name: (a, b) => byName(a.e, b.e),
			"-createdAt": (a, b) => b.e.created - a.e.created || byId(a.e, b.e),
		};
		hits.sort(order[query.sort]);
		const result: SearchResult = { ids: hits.slice(query.offset, query.offset + query.limit).map(h => h.e.product.id), total: hits.length };
		if (query.facets) result.facets = referenceFacets(hits.map(h => h.e.product));
		return result;
	}
}

function cmp(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

export function passesFilters(p: SearchableProduct, q: SearchQuery): boolean {
	if (q.categories && !p.categories.some(c => q.categories!.includes(c))) return false;
	if (q.minPrice !== undefined && p.price < q.minPrice) return false;
	if (q.maxPrice !== undefined && p.price > q.maxPrice) return false;
	if (q.inStock === true && !(p.available > 0)) return false;
	if (q.inStock === false && p.available > 0) return false;
	if (q.options && q.options.length > 0) {
		const groups = new Map<string, string[]>();
		for (const { name, value } of q.options) groups.set(fold(name), [...(groups.get(fold(name)) ?? []), fold(value)]);
		const variantMatches = (options: Record<string, string>): boolean => {
			const mine = new Map(Object.entries(options).map(([n, v]) => [fold(n), fold(v)]));
			return [...groups].every(([name, values]) => values.includes(mine.get(name) ?? "\u0000"));
		};
		if (!(p.variants ?? []).some(v => v.active && variantMatches(v.options))) return false;
	}
	return true;
}

/** Facets by counting each product of the result once per category and option value. */
export function referenceFacets(products: SearchableProduct[]): SearchFacets {
	const cats = new Map<string, number>();
	const options = new Map<string, { display: string; values: Map<string, { value: string; count: number }> }>();
	const prices = new Array<number>(PRICE_BUCKETS.length).fill(0);
	let inStock = 0;
	for (const p of products) {
		for (const c of new Set(p.categories)) cats.set(c, (cats.get(c) ?? 0) + 1);
		prices[priceBucket(p.price)]!++;
		if (p.available > 0) inStock++;
		const seen = new Set<string>();
		for (const v of p.variants ?? []) {
			if (!v.active) continue;
			for (const [name, value] of Object.entries(v.options)) {
				const key = `${fold(name)}\u0000${fold(value)}`;
				if (seen.has(key)) continue;
				seen.add(key);
				const o = options.get(fold(name)) ?? { display: fold(name), values: new Map() };
				options.set(fold(name), o);
				const entry = o.values.get(fold(value)) ?? { value, count: 0 };
				entry.count++;
				o.values.set(fold(value), entry);
			}
		}
	}
	const out: SearchFacets["options"] = {};
	for (const o of options.values()) out[o.display] = [...o.values.values()].sort((a, b) => b.count - a.count || cmp(a.value, b.value));
	return {
		categories: [...cats].map(([slug, count]) => ({ slug, count })).sort((a, b) => b.count - a.count || cmp(a.slug, b.slug)),
		options: out,
		price: priceFacet(prices),
		inStock,
	};
}
