/**
 * Search and browse (`GET /products`): the portable query path over the products collection,
 * the same on NeDB and MongoDB (lib/domain/catalog.ts builds the queries). Relevance ranks name
 * matches above description-only matches.
 */
import { offsetOf } from "../../lib/paging.js";
import type { Collection } from "../../lib/store/index.js";
import { relevanceTiers, slugsUnder, sortFields, textQuery, type CategoryRecord, type ProductRecord, type ProductSort } from "../../lib/domain/catalog.js";
import type { CATALOG } from "../../lib/contracts/http/catalog.js";
import type { ParamsOf } from "../../lib/contracts/params.js";

export type SearchParams = ParamsOf<(typeof CATALOG)["products.search"]>;

export class ProductSearch {
	constructor(
		private readonly products: Collection<ProductRecord>,
		private readonly categories: Collection<CategoryRecord>,
	) {}

	async search(params: SearchParams): Promise<{ rows: ProductRecord[]; total: number }> {
		const { q, category, minPrice, maxPrice, inStock, page, pageSize } = params;
		const filters = { q, minPrice, maxPrice, inStock, categorySlugs: category ? slugsUnder(await this.categories.find(), category) : undefined };
		if (filters.categorySlugs?.length === 0) return { rows: [], total: 0 };
		const sort: ProductSort = params.sort ?? (q ? "relevance" : "-createdAt");
		const offset = offsetOf(page, pageSize);
		if (!q || sort !== "relevance") {
			const query = textQuery(filters);
			const [rows, total] = await Promise.all([
				this.products.find({ query, sort: sortFields(sort === "relevance" ? "-createdAt" : sort), limit: pageSize, offset }),
				this.products.count(query),
			]);
			return { rows, total };
		}
		// Relevance: name matches, then description-only matches; a page may span both.
		const { inName, inDescription, nameMatches } = relevanceTiers({ ...filters, q });
		const [nameCount, total] = await Promise.all([this.products.count(inName), this.products.count(textQuery(filters))]);
		const rows: ProductRecord[] = [];
		if (offset < nameCount) rows.push(...(await this.products.find({ query: inName, sort: sortFields("name"), limit: pageSize, offset })));
		// The second group, read in name order, skipping what the first group already showed.
		let skip = Math.max(0, offset - nameCount);
		const batch = 500;
		for (let from = 0; rows.length < pageSize && offset + rows.length < total; from += batch) {
			const chunk = await this.products.find({ query: inDescription, sort: sortFields("name"), limit: batch, offset: from });
			for (const p of chunk) {
				if (nameMatches(p.name)) continue;
				if (skip > 0) skip--;
				else if (rows.length < pageSize) rows.push(p);
			}
			if (chunk.length < batch) break;
		}
		return { rows, total };
	}
}
