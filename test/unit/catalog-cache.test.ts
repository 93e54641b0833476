import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PURGE_ALL, TaggedLru, sizeOf, type CachedAnswer } from "../../lib/http/cache/tagged-lru.js";
import {
	TAG,
	precedesItsWrite,
	bypassReason,
	cacheControl,
	cacheKey,
	catalogRead,
	etagOf,
	notModified,
	purgeTagsOf,
	purgeTagsOfWrite,
	representation,
	surrogateKeys,
} from "../../lib/http/cache/catalog-keys.js";

function answer(bytes: number, tags: string[], expiresAt = Number.MAX_SAFE_INTEGER): CachedAnswer {
	const body = Buffer.alloc(bytes, 97);
	return { body, etag: etagOf(body), tags, cacheControl: "public", storedAt: 0, expiresAt };
}

describe("the catalog cache's LRU by bytes", () => {
	it("never holds more bytes than its bound, and evicts the least recently used first", () => {
		const one = sizeOf("a", answer(1000, ["t"]));
		const lru = new TaggedLru(one * 3);
		for (const k of ["a", "b", "c"]) expect(lru.put(k, answer(1000, ["t"]), lru.beginFill())).toBe(true);
		expect(lru.get("a", 0)).toBeDefined(); // a is now the most recently used
		lru.put("d", answer(1000, ["t"]), lru.beginFill());
		expect(lru.get("b", 0)).toBeUndefined();
		expect(["a", "c", "d"].every(k => lru.get(k, 0))).toBe(true);
		expect(lru.bytes).toBeLessThanOrEqual(one * 3);
	});

	it("keeps its byte count exact and within bound under any sequence of puts and purges", () => {
		fc.assert(
			fc.property(
				fc.array(
					fc.oneof(
						fc.record({ put: fc.integer({ min: 0, max: 20 }), size: fc.integer({ min: 0, max: 3000 }), tag: fc.integer({ min: 0, max: 4 }) }),
						fc.record({ purge: fc.integer({ min: 0, max: 5 }) }),
					),
					{ maxLength: 200 },
				),
				ops => {
					const lru = new TaggedLru(10_000);
					const live = new Map<string, number>();
					for (const op of ops) {
						if ("put" in op) {
							const key = `k${op.put}`;
							const a = answer(op.size, [`t${op.tag}`, "all"]);
							if (lru.put(key, a, lru.beginFill())) live.set(key, sizeOf(key, a));
						} else lru.purge([op.purge === 5 ? PURGE_ALL : `t${op.purge}`]);
						expect(lru.bytes).toBeLessThanOrEqual(10_000);
					}
					let sum = 0;
					for (const [key, bytes] of live) if (lru.get(key, 0)) sum += bytes;
					expect(lru.bytes).toBe(sum);
				},
			),
		);
	});

	it("refuses an answer larger than the whole cache", () => {
		const lru = new TaggedLru(500);
		expect(lru.put("big", answer(1000, []), lru.beginFill())).toBe(false);
		expect(lru.size).toBe(0);
	});

	it("drops an answer once it expires", () => {
		const lru = new TaggedLru(1e6);
		lru.put("a", answer(10, [], 1000), lru.beginFill());
		expect(lru.get("a", 999)).toBeDefined();
		expect(lru.get("a", 1000)).toBeUndefined();
		expect(lru.size).toBe(0);
	});
});

describe("purging by surrogate key", () => {
	it("removes exactly the answers carrying the tag", () => {
		const lru = new TaggedLru(1e6);
		lru.put("/products/1", answer(10, ["product/1"]), lru.beginFill());
		lru.put("/products/2", answer(10, ["product/2"]), lru.beginFill());
		lru.put("/products?q=x", answer(10, ["product-lists", "product/1", "product/3"]), lru.beginFill());
		expect(lru.purge(["product/1"])).toBe(2);
		expect(lru.get("/products/1", 0)).toBeUndefined();
		expect(lru.get("/products?q=x", 0)).toBeUndefined();
		expect(lru.get("/products/2", 0)).toBeDefined();
		expect(lru.purge(["product/9"])).toBe(0);
		expect(lru.purge([PURGE_ALL])).toBe(1);
		expect(lru.bytes).toBe(0);
	});

	it("refuses a fill that a purge of one of its tags overtook, and keeps one that no purge concerns", () => {
		const lru = new TaggedLru(1e6);
		const stale = lru.beginFill();
		const other = lru.beginFill();
		lru.purge(["product/1"]);
		expect(lru.put("/products/1", answer(10, ["product/1"]), stale)).toBe(false);
		expect(lru.put("/products/2", answer(10, ["product/2"]), other)).toBe(true);
		const before = lru.beginFill();
		lru.purge([PURGE_ALL]);
		expect(lru.put("/products/2", answer(10, ["product/2"]), before)).toBe(false);
	});

	it("stores no answer carrying a held tag until the hold ends, and others meanwhile", () => {
		const lru = new TaggedLru(1e6);
		lru.purge(["product/1"], { now: 1000, until: 4000 });
		const at = (storedAt: number, tags: string[]) => ({ ...answer(10, tags), storedAt });
		expect(lru.put("/products/1", at(3999, ["product/1"]), lru.beginFill())).toBe(false);
		expect(lru.put("/products?q=x", at(3999, ["product-lists", "product/1"]), lru.beginFill())).toBe(false);
		expect(lru.put("/products/2", at(3999, ["product/2"]), lru.beginFill())).toBe(true);
		expect(lru.put("/products/1", at(4000, ["product/1"]), lru.beginFill())).toBe(true);
	});

	it("refuses a fill older than the purges it remembers", () => {
		const lru = new TaggedLru(1e6);
		const old = lru.beginFill();
		for (let i = 0; i < 5000; i++) lru.purge([`product/x${i}`]);
		expect(lru.put("/products/2", answer(10, ["product/2"]), old)).toBe(false);
	});
});

describe("what the catalog cache keys and tags", () => {
	const q = (s: string) => new URLSearchParams(s);

	it("knows the public catalog reads and nothing else", () => {
		expect(catalogRead("GET", "/products/abc", q(""))).toEqual({ kind: "product", id: "abc" });
		expect(catalogRead("GET", "/products/", q(""))).toEqual({ kind: "list", byCategory: false });
		expect(catalogRead("GET", "/products", q("category=shoes"))).toEqual({ kind: "list", byCategory: true });
		expect(catalogRead("GET", "/categories", q(""))).toEqual({ kind: "categories" });
		expect(catalogRead("POST", "/products", q(""))).toBeNull();
		expect(catalogRead("GET", "/products/abc/inventory", q(""))).toBeNull();
		expect(catalogRead("GET", "/orders", q(""))).toBeNull();
		expect(catalogRead("GET", "/cart", q(""))).toBeNull();
	});

	it("sorts the query's parameters, keeping the order of repeated ones, and ignores a trailing slash", () => {
		const a = cacheKey("/products", q("q=red%20shoe&page=2&option=size:9&option=color:red"), "en;identity");
		const b = cacheKey("/products/", q("option=size:9&page=2&q=red+shoe&option=color:red"), "en;identity");
		expect(a).toBe(b);
		expect(cacheKey("/products", q("option=color:red&option=size:9"), "en;identity")).not.toBe(a);
		expect(cacheKey("/products", q("page=2"), "en;identity")).not.toBe(cacheKey("/products", q("page=3"), "en;identity"));
		expect(cacheKey("/products", q("page=2"), "de;identity")).not.toBe(cacheKey("/products", q("page=2"), "en;identity"));
	});

	it("keys the representation by what the answer offers, so equivalent headers share an entry", () => {
		const offered = { languages: ["en", "de"], encodings: ["identity", "gzip"] };
		expect(representation({}, offered)).toBe("en;identity");
		expect(representation({ "accept-language": "de-AT,de;q=0.9,en;q=0.5" }, offered)).toBe("de;identity");
		expect(representation({ "accept-language": "fr, en;q=0.1" }, offered)).toBe("en;identity");
		expect(representation({ "accept-language": "fr" }, offered)).toBe("en;identity");
		expect(representation({ "accept-encoding": "br, gzip;q=0.8" }, offered)).toBe("en;gzip");
		expect(representation({ "accept-encoding": "gzip;q=0" }, offered)).toBe("en;identity");
		// What the gateway offers today: one language, no compression: every request the same entry.
		const today = { languages: ["en"], encodings: ["identity"] };
		expect(representation({ "accept-language": "de", "accept-encoding": "gzip, br" }, today)).toBe(representation({}, today));
	});

	it("bypasses a caller who says who they are", () => {
		expect(bypassReason({ authorization: "Bearer x" })).toBe("authorization");
		expect(bypassReason({ cookie: "sid=1" })).toBe("cookie");
		expect(bypassReason({ accept: "application/json" })).toBeNull();
	});

	it("tags an answer with the products and categories it shows", () => {
		expect(surrogateKeys({ kind: "product", id: "p1" }, { id: "p1", categories: ["shoes"] })).toEqual([TAG.product("p1"), TAG.category("shoes")]);
		expect(surrogateKeys({ kind: "list", byCategory: false }, { rows: [{ id: "p1" }, { id: "p2" }] })).toEqual([TAG.lists, "product/p1", "product/p2"]);
		expect(surrogateKeys({ kind: "list", byCategory: true }, { rows: [] }, q("category=shoes"))).toEqual([TAG.lists, TAG.tree, "category/shoes"]);
		expect(surrogateKeys({ kind: "categories" }, [{ slug: "a", children: [{ slug: "b", children: [] }] }])).toEqual([TAG.tree, "category/a", "category/b"]);
	});

	it("purges a changed product and every list for the catalog's events, only the shown products for stock movements", () => {
		for (const type of ["product.created", "product.updated", "product.deleted", "stock.changed"] as const)
			expect(purgeTagsOf({ type, payload: { productId: "p1", variantId: null } })).toEqual(["product/p1", TAG.lists]);
		const items = [
			{ productId: "p1", quantity: 1 },
			{ productId: "p2", variantId: "v", quantity: 2 },
		];
		expect(purgeTagsOf({ type: "stock.reserved", payload: { orderId: "o", items } })).toEqual(["product/p1", "product/p2"]);
		expect(
			purgeTagsOf({ type: "order.cancelled", payload: { orderId: "o", userId: "u", items, reason: "cancelled_by_customer", refunded: false } }),
		).toEqual(["product/p1", "product/p2"]);
		expect(purgeTagsOf({ type: "media.image-added", payload: { productId: "p3", imageId: "i", revision: 2, images: [] } })).toEqual(["product/p3"]);
		expect(purgeTagsOf({ type: "order.shipped", payload: { orderId: "o", userId: "u" } })).toEqual([]);
	});

	it("knows which events announce a change the products service writes after them", () => {
		expect(["order.paid", "order.cancelled", "return.approved", "media.image-added", "media.image-removed"].every(precedesItsWrite)).toBe(true);
		expect(["stock.reserved", "stock.changed", "product.updated"].some(precedesItsWrite)).toBe(false);
	});

	it("purges at once what a write through the gateway changes", () => {
		expect(purgeTagsOfWrite("PATCH", "/products/p1")).toEqual(["product/p1", TAG.lists]);
		expect(purgeTagsOfWrite("PATCH", "/products/p1/variants/v1/inventory")).toEqual(["product/p1", TAG.lists]);
		expect(purgeTagsOfWrite("POST", "/products")).toEqual([TAG.lists]);
		expect(purgeTagsOfWrite("DELETE", "/categories/c1")).toEqual([TAG.tree, TAG.lists]);
		expect(purgeTagsOfWrite("GET", "/products/p1")).toEqual([]);
		expect(purgeTagsOfWrite("POST", "/orders")).toEqual([]);
	});

	it("answers If-None-Match by weak comparison", () => {
		const tag = etagOf(Buffer.from("{}"));
		expect(notModified(tag, tag)).toBe(true);
		expect(notModified(`"other", W/${tag}`, tag)).toBe(true);
		expect(notModified("*", tag)).toBe(true);
		expect(notModified('"other"', tag)).toBe(false);
		expect(notModified(undefined, tag)).toBe(false);
		expect(etagOf(Buffer.from("{}"))).toBe(tag);
		expect(etagOf(Buffer.from("[]"))).not.toBe(tag);
	});

	it("tells browsers to revalidate and shared caches how long to keep it", () => {
		expect(cacheControl({ sMaxAge: 300, staleWhileRevalidate: 30 })).toBe("public, max-age=0, s-maxage=300, stale-while-revalidate=30");
	});
});
