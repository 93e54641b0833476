/**
 * The catalog: products, categories, stock reservations, and how a search becomes a query.
 * Pure: the products service loads and stores; the seed script shares the collection specs.
 *
 * Inventory lives on the product document: `stock` is on hand, `available` is stock not held
 * by pending orders, `holds.<orderId>` is what one order holds of it. Holding, committing and
 * releasing are each one conditional update of one document, so they are atomic on NeDB and
 * on MongoDB alike, in one process or across nodes; `available` can never go below zero.
 */
import type { CollectionSpec, Query } from "../store/index.js";
import type { ItemQuantity } from "../contracts/events.js";
import type { MinorUnits } from "./money.js";

import { isId } from "../contracts/ids.js";
import { PRODUCT_SORTS } from "../contracts/http/catalog.js";
import { escapeRegex } from "../text.js";
export { MAX_CATEGORIES_PER_PRODUCT, SKU_PATTERN, SLUG_PATTERN } from "../contracts/http/catalog.js";
export { escapeRegex };

export interface ProductRecord {
	_id: string;
	/** Unset once the product is deleted, so the SKU can be used again (the index is sparse). */
	sku?: string;
	name: string;
	description: string;
	price: MinorUnits;
	currency: string;
	categories: string[];
	stock: number;
	available: number;
	active: boolean;
	/** orderId → quantity this order holds. */
	holds: Record<string, number>;
	/** Put-back markers (`<returnId>` or `<orderId>` of a cancelled paid order) → when. */
	restocked: Record<string, string>;
	deletedAt: string | null;
	deletedSku?: string;
	/** Made by `npm run seed -- --products N`. */
	generated?: boolean;
	createdAt: string;
	updatedAt: string;
}

/** What a client sees of a product: `id` for `_id`, a SKU always (a deleted one's last), no stock bookkeeping. */
export type PublicProduct = Omit<ProductRecord, "_id" | "sku" | "holds" | "restocked" | "deletedAt" | "deletedSku" | "generated"> & { id: string; sku: string };

export function publicProduct(p: ProductRecord): PublicProduct {
	return {
		id: p._id,
		sku: p.sku ?? p.deletedSku ?? "",
		name: p.name,
		description: p.description,
		price: p.price,
		currency: p.currency,
		categories: p.categories,
		stock: p.stock,
		available: p.available,
		active: p.active,
		createdAt: p.createdAt,
		updatedAt: p.updatedAt,
	};
}

export interface CategoryRecord {
	_id: string;
	slug: string;
	name: string;
	parentId: string | null;
	createdAt: string;
	updatedAt: string;
}

export interface PublicCategory {
	id: string;
	slug: string;
	name: string;
	parentId: string | null;
}
export interface CategoryNode extends PublicCategory {
	children: CategoryNode[];
}

export function publicCategory(c: CategoryRecord): PublicCategory {
	return { id: c._id, slug: c.slug, name: c.name, parentId: c.parentId };
}

/** The categories as a forest: roots first, children nested, each level by name. */
export function categoryTree(categories: readonly CategoryRecord[]): CategoryNode[] {
	const nodes = new Map<string, CategoryNode>(categories.map(c => [c._id, { ...publicCategory(c), children: [] }]));
	const roots: CategoryNode[] = [];
	for (const node of nodes.values()) {
		const parent = node.parentId ? nodes.get(node.parentId) : undefined;
		(parent ? parent.children : roots).push(node);
	}
	const byName = (list: CategoryNode[]) => {
		list.sort((a, b) => a.name.localeCompare(b.name) || a.slug.localeCompare(b.slug));
		list.forEach(n => byName(n.children));
	};
	byName(roots);
	return roots;
}

/** A category's slug and the slugs of every category below it. */
export function slugsUnder(categories: readonly CategoryRecord[], slug: string): string[] {
	const root = categories.find(c => c.slug === slug);
	if (!root) return [];
	const result = [root.slug];
	const queue = [root._id];
	while (queue.length) {
		const id = queue.shift()!;
		for (const c of categories) {
			if (c.parentId === id) {
				result.push(c.slug);
				queue.push(c._id);
			}
		}
	}
	return result;
}

/** Would giving `id` the parent `parentId` make a loop (itself or one of its descendants)? */
export function makesCycle(categories: readonly CategoryRecord[], id: string, parentId: string): boolean {
	const byId = new Map(categories.map(c => [c._id, c]));
	for (let at: string | null = parentId, steps = 0; at !== null && steps <= categories.length; steps++) {
		if (at === id) return true;
		at = byId.get(at)?.parentId ?? null;
	}
	return false;
}

// ---------------------------------------------------------------------------------------------
// Search

export const SORTS = PRODUCT_SORTS;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

export interface SearchFilters {
	q?: string;
	/** A category slug with the slugs below it; browsing a parent shows its children's products. */
	categorySlugs?: string[];
	minPrice?: number;
	maxPrice?: number;
	inStock?: boolean;
}

/** The filters every search applies, without the text condition. */
export function filterQuery(f: SearchFilters): Query {
	const query: Query = { active: true };
	if (f.categorySlugs) query.categories = { $in: f.categorySlugs };
	if (f.minPrice !== undefined || f.maxPrice !== undefined) {
		query.price = { ...(f.minPrice !== undefined ? { $gte: f.minPrice } : {}), ...(f.maxPrice !== undefined ? { $lte: f.maxPrice } : {}) };
	}
	if (f.inStock === true) query.available = { $gt: 0 };
	if (f.inStock === false) query.available = { $lte: 0 };
	return query;
}

/**
 * The portable text search: a case-insensitive, escaped regular expression over name and
 * description. It runs the same on NeDB and on MongoDB (FerretDB v1 has no `$text`).
 * On NeDB the whole collection is in memory and every search scans it (NeDB indexes one field
 * and only for equality and ranges); on MongoDB an unanchored regex cannot use an index either,
 * but the other filters and the sort run on the compound indexes below.
 */
export function textQuery(f: SearchFilters): Query {
	const base = filterQuery(f);
	if (!f.q) return base;
	const re = new RegExp(escapeRegex(f.q), "i");
	return { ...base, $or: [{ name: { $regex: re } }, { description: { $regex: re } }] };
}

/**
 * Relevance without a text index: products whose name matches come first, then those that
 * match only in the description; each group by name. `inName` and `inDescription` are the
 * queries; a product matching both is in the first group, so the caller drops it from the second
 * with `nameMatches` (no portable "does not match": NeDB has no field-level `$not`, MongoDB no
 * top-level one, and FerretDB's RE2 regexes no lookahead).
 */
export function relevanceTiers(f: SearchFilters & { q: string }): { inName: Query; inDescription: Query; nameMatches: (name: string) => boolean } {
	const base = filterQuery(f);
	const re = new RegExp(escapeRegex(f.q), "i");
	return {
		inName: { ...base, name: { $regex: re } },
		inDescription: { ...base, description: { $regex: re } },
		nameMatches: name => re.test(name),
	};
}

/** The sort of a search, with `_id` last so that pages never overlap or skip. */
export function sortFields(sort: ProductSort): string[] {
	switch (sort) {
		case "price":
			return ["price", "_id"];
		case "-price":
			return ["-price", "-_id"];
		case "name":
		case "relevance":
			return ["name", "_id"];
		case "-createdAt":
			return ["-createdAt", "-_id"];
	}
}

// ---------------------------------------------------------------------------------------------
// Reservations: one document per order in the products service, the saga's memory there.

/**
 * reserving → held | rejected      (order.placed)
 * held      → committed            (order.paid: stock goes down)
 * reserving | held → released      (order.cancelled before payment: holds go back to available)
 * committed → restocked            (order.cancelled after payment: stock and available go back up)
 */
export const RESERVATION_STATUSES = ["reserving", "held", "rejected", "committed", "released", "restocked"] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

export interface ReservationRecord {
	_id: string;
	status: ReservationStatus;
	items: ItemQuantity[];
	createdAt: string;
	updatedAt: string;
}

/** What `order.cancelled` turns a reservation into; the same status means nothing to do. */
export function statusAfterCancel(status: ReservationStatus): ReservationStatus {
	switch (status) {
		case "reserving":
		case "held":
			return "released";
		case "committed":
			return "restocked";
		default:
			return status;
	}
}

/** Holding lines in a fixed order (by product id) keeps two orders for the same two products from each holding one. */
export function holdOrder(items: readonly ItemQuantity[]): ItemQuantity[] {
	return [...items].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}

/** Field paths built from ids: only ever from an id in the shop's format (lib/contracts/ids.ts). */
export function markerPath(map: "holds" | "restocked", key: string): string {
	if (!isId(key)) throw new RangeError(`Not an id for ${map}: ${JSON.stringify(key)}`);
	return `${map}.${key}`;
}

// ---------------------------------------------------------------------------------------------
// Storage

/**
 * The products service's collections. MongoDB gets the compound indexes for the filters and
 * sorts a search uses (equality first, then the sort field, then `_id` as the tie-breaker);
 * NeDB indexes only the first field of each, which is enough for the `sku`/`slug` uniqueness.
 */
export const CATALOG_COLLECTIONS: Record<string, CollectionSpec> = {
	products: {
		indexes: [
			{ fields: { sku: 1 }, unique: true, sparse: true },
			{ fields: { active: 1, price: 1, _id: 1 } },
			{ fields: { active: 1, name: 1, _id: 1 } },
			{ fields: { active: 1, createdAt: -1, _id: -1 } },
			{ fields: { categories: 1, active: 1, price: 1 } },
			{ fields: { generated: 1 }, sparse: true },
		],
	},
	categories: { indexes: [{ fields: { slug: 1 }, unique: true }, { fields: { parentId: 1 } }] },
	reservations: { indexes: [{ fields: { status: 1 } }] },
};
