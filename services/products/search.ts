/**
 * Search and browse (`GET /products`) from a read model: every products node keeps its own
 * in-memory index of the products on sale (lib/search/memory-index.ts), built from the catalog
 * at start and kept current by the catalog's events (product.created / updated / deleted,
 * stock.changed), which reach every node. The catalog's documents stay the truth: the index
 * answers which products and in what order, and the page is read from the database, so the
 * figures shown (price, stock) are the current ones.
 *
 * An event only names the product; the index re-reads it. So an event applied twice, late or
 * out of order leaves the index as the product is now, and one that arrives while the index is
 * being built is applied after the build (the index replays it).
 */
import { offsetOf } from "../../lib/paging.js";
import type { Collection } from "../../lib/store/index.js";
import { MemorySearchIndex, type MemoryIndexStats } from "../../lib/search/memory-index.js";
import type { SearchFacets, SearchIndex, SearchableProduct } from "../../lib/search/search-index.js";
import { onSale, searchableProduct, slugsUnder, type CategoryRecord, type ProductRecord, type ProductSort } from "../../lib/domain/catalog.js";
import type { CATALOG } from "../../lib/contracts/http/catalog.js";
import type { ParamsOf } from "../../lib/contracts/params.js";

export type SearchParams = ParamsOf<(typeof CATALOG)["products.search"]>;

/** Products read from the database per batch while building. */
const BUILD_BATCH = 5000;
/** The index's memory is estimated again at most this often after changes (a walk over its dictionary). */
const FIGURES_EVERY_MS = 10_000;

/** What the index reports (the products service turns them into metrics). */
export interface SearchIndexFigures {
	/** Estimated memory of the index itself. */
	bytes: number;
	/** The last full build, when this report follows one. */
	buildSeconds?: number;
}

export class ProductSearch {
	private readonly index: SearchIndex & { stats?(): MemoryIndexStats } = new MemorySearchIndex();
	private built = false;
	private figuresDue: NodeJS.Timeout | null = null;

	constructor(
		private readonly products: Collection<ProductRecord>,
		private readonly categories: Collection<CategoryRecord>,
		private readonly report: (figures: SearchIndexFigures) => void = () => undefined,
	) {}

	/** Has the index been built since start (readiness)? */
	get ready(): boolean {
		return this.built;
	}

	get size(): number {
		return this.index.size;
	}

	/** (Re)build the index from the catalog. Searches answer from the previous contents until it is done. */
	async build(): Promise<void> {
		const started = performance.now();
		await this.index.replaceAll(this.productsOnSale());
		this.built = true;
		this.report({ bytes: this.bytes(), buildSeconds: (performance.now() - started) / 1000 });
	}

	private bytes(): number {
		return this.index.stats?.().estimatedBytes ?? 0;
	}

	/** After a change: the memory figure again, once the changes of the next few seconds are in. */
	private reportSoon(): void {
		if (this.figuresDue || !this.built) return;
		this.figuresDue = setTimeout(() => {
			this.figuresDue = null;
			this.report({ bytes: this.bytes() });
		}, FIGURES_EVERY_MS);
		this.figuresDue.unref();
	}

	/** Stop reporting (the service stops). */
	stop(): void {
		if (this.figuresDue) clearTimeout(this.figuresDue);
		this.figuresDue = null;
	}

	/** One pass over the products on sale, a batch at a time (lib/store Collection.scan). */
	private async *productsOnSale(): AsyncIterable<SearchableProduct> {
		for await (const p of this.products.scan({ active: true, deletedAt: null }, BUILD_BATCH)) yield searchableProduct(p);
	}

	/** The product changed: the index takes it as it is now (or drops it when it is no longer on sale). */
	async refresh(productId: string): Promise<void> {
		const p = await this.products.findById(productId);
		if (p && onSale(p)) await this.index.upsert(searchableProduct(p));
		else await this.index.remove(productId);
		this.reportSoon();
	}

	async search(params: SearchParams): Promise<{ rows: ProductRecord[]; total: number; facets?: SearchFacets }> {
		const { q, category, minPrice, maxPrice, inStock, page, pageSize, facets } = params;
		const categories = category ? slugsUnder(await this.categories.find(), category) : undefined;
		if (categories?.length === 0) return { rows: [], total: 0, ...(facets ? { facets: { categories: [], options: {}, price: [], inStock: 0 } } : {}) };
		const sort: ProductSort = params.sort ?? (q ? "relevance" : "-createdAt");
		const options = (params.option ?? []).map(o => {
			const at = o.indexOf(":");
			return { name: o.slice(0, at).trim(), value: o.slice(at + 1).trim() };
		});
		const result = await this.index.search({
			q,
			categories,
			minPrice,
			maxPrice,
			inStock,
			options: options.length ? options : undefined,
			sort,
			offset: offsetOf(page, pageSize),
			limit: pageSize,
			facets,
		});
		const found = await this.products.findByIds(result.ids);
		const byId = new Map(found.map(p => [p._id, p]));
		// A product taken off sale a moment ago may still be in the index until its event arrives: not shown.
		const rows = result.ids.map(id => byId.get(id)).filter((p): p is ProductRecord => !!p && onSale(p));
		return { rows, total: result.total, ...(result.facets ? { facets: result.facets } : {}) };
	}
}
