/**
 * What the gateway's catalog cache stores and what removes it, as pure functions:
 *
 * - which requests are public catalog reads (`GET /products`, `GET /products/:id`, `GET /categories`)
 *   and which must bypass the cache (a caller who says who they are);
 * - the key of an answer: the path, the query with its parameters sorted, and the representation
 *   (language and encoding, as far as the answer really varies by them);
 * - its surrogate keys (the products and categories it shows), sent as `Surrogate-Key` so a CDN can
 *   purge the same way;
 * - the surrogate keys each catalog event (or write through the gateway) makes stale.
 */
import { createHash } from "node:crypto";
import type { EventEnvelope, EventType } from "../../contracts/events.js";

export type CatalogRead = { kind: "product"; id: string } | { kind: "list"; byCategory: boolean } | { kind: "categories" };

/** Surrogate keys. A product page shows one product; a list page shows its products and depends on all of them. */
export const TAG = {
	product: (id: string) => `product/${id}`,
	category: (slug: string) => `category/${slug}`,
	/** Every search or browse page: any product change may add or drop a row, reorder, or change a facet. */
	lists: "product-lists",
	/** The category tree, and pages that depend on it (a category filter takes the subtree). */
	tree: "category-tree",
} as const;

const SEGMENT = /^[^/?#]+$/;

/** The catalog read a request is, from its method and path under the API prefix (`/products/…`); null when it is none. */
export function catalogRead(method: string | undefined, path: string, query: URLSearchParams): CatalogRead | null {
	if (method !== "GET") return null;
	const p = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
	if (p === "/products") return { kind: "list", byCategory: query.has("category") };
	if (p === "/categories") return { kind: "categories" };
	if (p.startsWith("/products/")) {
		const id = p.slice("/products/".length);
		if (SEGMENT.test(id)) return { kind: "product", id: decodeURIComponent(id) };
	}
	return null;
}

/** Why a request must not be answered from (or stored in) the shared cache, or null. */
export function bypassReason(headers: Record<string, string | string[] | undefined>): "authorization" | "cookie" | null {
	if (headers.authorization !== undefined) return "authorization";
	// The shop sets no cookie of its own; any cookie may identify a customer to something in front of it.
	if (headers.cookie !== undefined) return "cookie";
	return null;
}

/** The query with its parameters sorted by name (repeated ones keep their order), percent-encoding made uniform. */
export function normalisedQuery(query: URLSearchParams): string {
	const pairs = [...query.entries()];
	// Array.prototype.sort is stable: repeated parameters (`option=a&option=b`) keep their order.
	pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
	return new URLSearchParams(pairs).toString();
}

export interface Offered {
	/** Languages the catalog answers in, the default first. */
	languages: readonly string[];
	/** Content encodings the gateway produces, `identity` first. */
	encodings: readonly string[];
}

/** Weighted items of an Accept-* header, best first (`q=0` dropped). */
function preferences(header: string | string[] | undefined): string[] {
	const value = Array.isArray(header) ? header.join(",") : (header ?? "");
	return value
		.split(",")
		.map((part, at) => {
			const [name = "", ...params] = part.trim().split(";");
			const q = params.map(s => s.trim()).find(s => s.startsWith("q="));
			return { name: name.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1, at };
		})
		.filter(p => p.name && Number.isFinite(p.q) && p.q > 0)
		.sort((a, b) => b.q - a.q || a.at - b.at)
		.map(p => p.name);
}

/**
 * The representation an answer is in: the offered language and encoding the request gets. Only what
 * the answer really varies by is part of the key, so equivalent headers share one entry.
 */
export function representation(headers: Record<string, string | string[] | undefined>, offered: Offered): string {
	const wantedLanguages = preferences(headers["accept-language"]);
	const language =
		wantedLanguages.map(w => offered.languages.find(l => l === w || l === w.split("-")[0] || (w === "*" ? l : undefined))).find(Boolean) ??
		offered.languages[0];
	const wantedEncodings = preferences(headers["accept-encoding"]);
	const encoding = wantedEncodings.map(w => offered.encodings.find(e => e === w || w === "*")).find(Boolean) ?? offered.encodings[0];
	return `${language ?? ""};${encoding ?? "identity"}`;
}

/** The cache key: representation, path and normalised query. */
export function cacheKey(path: string, query: URLSearchParams, repr: string): string {
	const p = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
	const q = normalisedQuery(query);
	return `${repr} ${p}${q ? `?${q}` : ""}`;
}

interface ProductShown {
	id?: unknown;
	categories?: unknown;
}
const productTags = (p: ProductShown): string[] => [
	...(typeof p.id === "string" ? [TAG.product(p.id)] : []),
	...(Array.isArray(p.categories) ? p.categories.filter((c): c is string => typeof c === "string").map(TAG.category) : []),
];
function categoryTags(nodes: unknown, into: string[]): void {
	if (!Array.isArray(nodes)) return;
	for (const n of nodes as { slug?: unknown; children?: unknown }[]) {
		if (typeof n?.slug === "string") into.push(TAG.category(n.slug));
		categoryTags(n?.children, into);
	}
}

/** The surrogate keys of an answer: what it shows, and what it depends on. */
export function surrogateKeys(read: CatalogRead, data: unknown, query?: URLSearchParams): string[] {
	const tags: string[] = [];
	if (read.kind === "product") tags.push(...productTags((data ?? {}) as ProductShown));
	else if (read.kind === "list") {
		tags.push(TAG.lists);
		if (read.byCategory) tags.push(TAG.tree, TAG.category(query?.get("category") ?? ""));
		const rows = (data as { rows?: unknown } | null)?.rows;
		if (Array.isArray(rows)) for (const p of rows as ProductShown[]) if (typeof p?.id === "string") tags.push(TAG.product(p.id));
	} else {
		tags.push(TAG.tree);
		categoryTags(data, tags);
	}
	return [...new Set(tags)];
}

/** The ids of the products an event's items name. */
const itemProducts = (items: readonly { productId: string }[]) => items.map(i => TAG.product(i.productId));

/**
 * The surrogate keys an event makes stale; empty for events the catalog's answers do not show.
 * A product's own change can move it into or out of any list (a name, a price, a category, an
 * active flag, stock running out): product and lists. A hold, a sale, a release or a restock
 * changes only its `available` and `stock` figures, and a new gallery its images (and a list's
 * thumbnail): the answers that show it (lists included, through the product's own key).
 */
export function purgeTagsOf(event: Pick<EventEnvelope, "type" | "payload">): string[] {
	const e = event as { type: EventType; payload: Record<string, unknown> };
	switch (e.type) {
		case "product.created":
		case "product.updated":
		case "product.deleted":
		case "stock.changed":
			return [TAG.product(e.payload.productId as string), TAG.lists];
		case "media.image-added":
		case "media.image-updated":
		case "media.image-removed":
			return [TAG.product(e.payload.productId as string)];
		case "stock.reserved":
		case "order.paid":
		case "order.cancelled":
		case "return.approved":
			return itemProducts(e.payload.items as { productId: string }[]);
		default:
			return [];
	}
}

/**
 * Events that announce a change the products service writes only once it has consumed them (a sale
 * leaves the stock on `order.paid`, a release or restock follows `order.cancelled` and
 * `return.approved`, a gallery is copied onto the product from `media.image-*`). Purging on them is
 * not enough: a read between the purge and that write would be stored with the old figures. The
 * answers that show these products are served uncached for a while instead (the settle window),
 * then cached again.
 */
export function precedesItsWrite(type: string): boolean {
	return type === "order.paid" || type === "order.cancelled" || type === "return.approved" || type.startsWith("media.image-");
}

/** The events the cache follows (see purgeTagsOf). */
export const PURGING_EVENTS: readonly EventType[] = [
	"product.created",
	"product.updated",
	"product.deleted",
	"stock.changed",
	"media.image-added",
	"media.image-updated",
	"media.image-removed",
	"stock.reserved",
	"order.paid",
	"order.cancelled",
	"return.approved",
];

/**
 * What a successful catalog write through this gateway makes stale, at once (its event purges every
 * other gateway, and this one again): read-your-writes on the gateway that took the write.
 */
export function purgeTagsOfWrite(method: string | undefined, path: string): string[] {
	if (!method || method === "GET" || method === "HEAD" || method === "OPTIONS") return [];
	if (path === "/categories" || path.startsWith("/categories/")) return [TAG.tree, TAG.lists];
	const m = /^\/products(?:\/([^/?#]+))?/.exec(path);
	if (!m) return [];
	return m[1] ? [TAG.product(decodeURIComponent(m[1])), TAG.lists] : [TAG.lists];
}

/** A strong validator of an answer's body. */
export function etagOf(body: Buffer): string {
	return `"${createHash("sha1").update(body).digest("base64url")}"`;
}

/** Does `If-None-Match` name this ETag (weak comparison, RFC 9110 13.1.2)? */
export function notModified(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
	if (ifNoneMatch === undefined) return false;
	const value = Array.isArray(ifNoneMatch) ? ifNoneMatch.join(",") : ifNoneMatch;
	if (value.trim() === "*") return true;
	const bare = etag.replace(/^W\//, "");
	return value.split(",").some(tag => tag.trim().replace(/^W\//, "") === bare);
}

export interface CachePolicy {
	/** How long a shared cache (a CDN) may keep it without asking, in seconds. */
	sMaxAge: number;
	/** How long past that a shared cache may serve it while it asks again, in seconds. */
	staleWhileRevalidate: number;
}

/** Browsers revalidate every time (max-age=0, cheap with the ETag); shared caches keep it and are purged. */
export function cacheControl(p: CachePolicy): string {
	return `public, max-age=0, s-maxage=${p.sMaxAge}, stale-while-revalidate=${p.staleWhileRevalidate}`;
}
