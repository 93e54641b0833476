/**
 * The catalog: products (sold as themselves or in variants), categories, stock reservations,
 * and what the search read model keeps of a product. Pure: the products service loads and
 * stores; the seed script shares the collection specs.
 *
 * Inventory lives on the product document: `stock` is on hand, `available` is stock not held
 * by pending orders, `holds.<orderId>` is what one order holds of it. Holding, committing and
 * releasing are each one conditional update of one document, so they are atomic on NeDB and
 * on MongoDB alike, in one process or across nodes; `available` can never go below zero.
 */
import type { Static } from "typebox";
import type { CategoryFields, Product } from "../http/schemas.js";
import type { CollectionSpec, Query } from "../store/index.js";
import type { ItemQuantity } from "../contracts/events.js";
import type { SearchableProduct } from "../search/search-index.js";
import type { MinorUnits } from "./money.js";
import { itemIdOf, liveVariants, newVariant, publicVariant, variantAggregates, type NewVariant, type ProductOption, type VariantRecord } from "./variants.js";

import { isId } from "../contracts/ids.js";
import { imagesFor, thumbnailOf, type GalleryImage } from "../media/gallery.js";
import type { PRODUCT_SORTS } from "../contracts/http/catalog.js";
export { MAX_CATEGORIES_PER_PRODUCT, SKU_PATTERN, SLUG_PATTERN } from "../contracts/http/catalog.js";

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
	/** The options its variants are combinations of (lib/domain/variants.ts); absent: none. */
	options?: ProductOption[];
	/** Append-only: a deleted variant is marked, so that `variants.<i>` always names the same one. */
	variants?: VariantRecord[];
	/** Counts the admin's changes to options and variants, for their compare-and-set; holds never change it. */
	revision?: number;
	/** Its images as the media service's last event said (lib/media/gallery.ts), and that event's gallery revision. */
	images?: GalleryImage[];
	imagesRevision?: number;
	/** Made by `npm run seed -- --products N`. */
	generated?: boolean;
	createdAt: string;
	updatedAt: string;
}

/**
 * What a client sees of a product: `id` for `_id`, a SKU always (a deleted one's last), no stock
 * bookkeeping; for a product with variants, `price`, `stock` and `available` as its variants
 * make them.
 */
export type PublicProduct = Static<typeof Product>;

/** A product in search results: with its first image's small rendition, or null. */
export type ProductSearchRow = PublicProduct & { thumbnail: string | null };

export function searchRow(p: ProductRecord): ProductSearchRow {
	return { ...publicProduct(p), thumbnail: thumbnailOf(p.images) };
}

export function publicProduct(p: ProductRecord): PublicProduct {
	const own = variantAggregates(p.variants, p.price);
	return {
		id: p._id,
		sku: p.sku ?? p.deletedSku ?? "",
		name: p.name,
		description: p.description,
		price: own?.price ?? p.price,
		currency: p.currency,
		categories: p.categories,
		stock: own?.stock ?? p.stock,
		available: own?.available ?? p.available,
		active: p.active,
		options: p.options ?? [],
		variants: liveVariants(p.variants).map(v => ({ ...publicVariant(v), images: imagesFor(p.images, v.id) })),
		images: imagesFor(p.images),
		createdAt: p.createdAt,
		updatedAt: p.updatedAt,
	};
}

/** What a new product is made of: the admin's request, or a demo or generated product. */
export interface NewProduct {
	sku: string;
	name: string;
	description?: string;
	price: MinorUnits;
	currency: string;
	categories?: string[];
	stock?: number;
	active?: boolean;
	options?: ProductOption[];
	variants?: NewVariant[];
}

/**
 * A new product as stored, however it is made (POST /products, the demo catalog, the generated
 * one): nothing held, nothing deleted. Sold in variants, its own stock is 0 and its price the
 * lowest variant's.
 */
export function newProduct(id: string, p: NewProduct, at: string): ProductRecord {
	const variants = (p.variants ?? []).map(v => newVariant(v, at));
	const stock = variants.length > 0 ? 0 : (p.stock ?? 0);
	return {
		_id: id,
		sku: p.sku,
		name: p.name,
		description: p.description ?? "",
		price: variants.length > 0 ? Math.min(...variants.map(v => v.price)) : p.price,
		currency: p.currency,
		categories: p.categories ?? [],
		stock,
		available: stock,
		active: p.active ?? true,
		holds: {},
		restocked: {},
		...(p.options?.length || variants.length > 0 ? { options: p.options ?? [] } : {}),
		...(variants.length > 0 ? { variants } : {}),
		deletedAt: null,
		createdAt: at,
		updatedAt: at,
	};
}

/** The condition that the product's options and variants are as read (no admin changed them meanwhile). */
export function revisionIs(p: Pick<ProductRecord, "revision">): Query {
	return p.revision === undefined ? { revision: { $exists: false } } : { revision: p.revision };
}

/** Is it for sale: in the catalog and active (search shows only these). */
export function onSale(p: ProductRecord): boolean {
	return p.active && p.deletedAt === null;
}

/** What the search read model keeps of a product on sale (lib/search/search-index.ts). */
export function searchableProduct(p: ProductRecord): SearchableProduct {
	const shown = publicProduct(p);
	const variants = liveVariants(p.variants);
	return {
		id: p._id,
		sku: shown.sku,
		name: p.name,
		description: p.description,
		categories: p.categories,
		price: shown.price,
		// Only what can be bought counts as in stock: a product's own units, or its active variants'.
		available: variants.length ? variants.filter(v => v.active).reduce((s, v) => s + v.available, 0) : p.available,
		createdAt: p.createdAt,
		...(variants.length && {
			options: p.options ?? [],
			variants: variants.map(v => ({ id: v.id, sku: v.sku ?? "", options: v.options, price: v.price, available: v.available, active: v.active })),
		}),
	};
}

/**
 * Where an item's stock lives in its product document: the product's own fields, or those of
 * its variant at `variantAt` in the variants array. Every path the inventory writes comes from here.
 */
export function stockPaths(variantAt: number | null) {
	const at = variantAt === null ? "" : `variants.${variantAt}.`;
	if (variantAt !== null && !(Number.isSafeInteger(variantAt) && variantAt >= 0)) throw new RangeError(`Not a variant index: ${variantAt}`);
	return {
		stock: `${at}stock`,
		available: `${at}available`,
		/** The marker of what one order holds. */
		hold: (orderId: string) => at + markerPath("holds", orderId),
		/** The marker of one put-back (a return, or a cancelled paid order). */
		restocked: (key: string) => at + markerPath("restocked", key),
		/** Only the variant that was at this index (never another): part of every condition. */
		match: (variantId: string | null | undefined): Query => (variantAt === null ? {} : { [`${at}id`]: variantId }),
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

export type PublicCategory = Static<typeof CategoryFields>;
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

/** How a search may be sorted (search is the read model in services/products/search.ts). */
export type ProductSort = (typeof PRODUCT_SORTS)[number];

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

/** Holding lines in a fixed order (by item id) keeps two orders for the same two items from each holding one. */
export function holdOrder(items: readonly ItemQuantity[]): ItemQuantity[] {
	return [...items].sort((a, b) => (itemIdOf(a) < itemIdOf(b) ? -1 : itemIdOf(a) > itemIdOf(b) ? 1 : 0));
}

/** Field paths built from ids: only ever from an id in the shop's format (lib/contracts/ids.ts). */
export function markerPath(map: "holds" | "restocked", key: string): string {
	if (!isId(key)) throw new RangeError(`Not an id for ${map}: ${JSON.stringify(key)}`);
	return `${map}.${key}`;
}

// ---------------------------------------------------------------------------------------------
// Storage

/**
 * The products service's collections. Searches do not query them (each node's index answers),
 * so the products need only the indexes of lookups: by SKU (unique for a product's own; a
 * variant's is unique through the SKU registry) and by category (a category in use).
 */
export const CATALOG_COLLECTIONS: Record<string, CollectionSpec> = {
	products: {
		indexes: [
			{ fields: { sku: 1 }, unique: true, sparse: true },
			{ fields: { "variants.sku": 1 }, sparse: true },
			{ fields: { categories: 1 } },
			{ fields: { generated: 1 }, sparse: true },
		],
	},
	categories: { indexes: [{ fields: { slug: 1 }, unique: true }, { fields: { parentId: 1 } }] },
	reservations: { indexes: [{ fields: { status: 1 } }] },
	/** SKU → who owns it, product or variant (services/products/skus.ts). */
	sku_claims: {},
};
