/**
 * The gateway's cache of public catalog reads, in one process through real HTTP: what it answers
 * from the cache (read from its metrics), its validators and headers, who bypasses it, and that the
 * catalog's events purge exactly the answers that show what changed.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, freePort, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { newProduct, settledOrder } from "../helpers/commerce.js";
import { TEST_CARDS } from "../../lib/payments/simulated.js";
import { CACHE_METRICS } from "../../services/api/catalog-cache.js";

const V1 = "/api/v1";
const ADDRESS = { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };
const CARD = { method: "card", cardNumber: TEST_CARDS.approved, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" };
const ADMIN_META = { meta: { user: { id: "admin-test", roles: ["admin"] } } };

let shop: TestShop;
let adm: Account;
let ann: Account;

beforeAll(async () => {
	shop = await startShop({
		services: ["users", "api", "products", "orders", "pricing"],
		env: { ...ADMIN_ENV, METRICS_ENABLED: "true", METRICS_PORT: String(await freePort()), CATALOG_CACHE_LIST_TTL_MS: "1000" },
	});
	adm = await admin(shop);
	ann = await customer(shop, "Ann");
}, 60_000);
afterAll(async () => {
	await shop?.stop();
});

/** How many catalog reads the gateway answered with `result` so far. */
function reads(result: "hit" | "miss" | "bypass"): number {
	const item = shop.broker.metrics.getMetric(CACHE_METRICS.requests)?.get({ result }) as { value?: number } | undefined;
	return item?.value ?? 0;
}
/** The hits that `read` adds. */
async function hitsOf(read: () => Promise<unknown>): Promise<number> {
	const before = reads("hit");
	await read();
	return reads("hit") - before;
}
const get = (url: string, headers?: Record<string, string>) => shop.http.get(`${V1}${url}`, headers);
const product = (over: Record<string, unknown> = {}) => newProduct(adm, { description: "Cached", ...over });

describe("the gateway's catalog cache", () => {
	it("answers a repeated public read from the cache, byte for byte, with its validators and surrogate keys", async () => {
		const p = await product({ categories: [] });
		const first = await get(`/products/${p.id}`);
		expect(first.status).toBe(200);
		expect(first.headers.get("x-cache")).toBe("MISS");
		expect(first.headers.get("cache-control")).toMatch(/^public, max-age=0, s-maxage=\d+, stale-while-revalidate=\d+$/);
		expect(first.headers.get("surrogate-key")?.split(" ")).toContain(`product/${p.id}`);
		const etag = first.headers.get("etag")!;
		expect(etag).toMatch(/^".+"$/);

		let again!: Awaited<ReturnType<typeof get>>;
		expect(await hitsOf(async () => (again = await get(`/products/${p.id}`)))).toBe(1);
		expect(again.status).toBe(200);
		expect(again.headers.get("x-cache")).toBe("HIT");
		expect(again.body).toEqual(first.body);
		expect(again.headers.get("etag")).toBe(etag);
		expect(again.headers.get("content-type")).toContain("application/json");
		expect(again.headers.get("x-content-type-options")).toBe("nosniff");

		const revalidated = await get(`/products/${p.id}`, { "if-none-match": etag });
		expect(revalidated.status).toBe(304);
		expect(revalidated.body).toBeNull();
		expect((await get(`/products/${p.id}`, { "if-none-match": '"something-else"' })).status).toBe(200);
	});

	it("answers 304 on a miss too when the answer is unchanged", async () => {
		const first = await get("/categories");
		const etag = first.headers.get("etag")!;
		// The category tree lives only CATALOG_CACHE_LIST_TTL_MS here: the next read is a miss.
		await new Promise(resolve => setTimeout(resolve, 1100));
		const misses = reads("miss");
		const again = await get("/categories", { "if-none-match": etag });
		expect(reads("miss")).toBe(misses + 1);
		expect(again.status).toBe(304);
	});

	it("keeps a search page once it is asked again, keyed by its parameters in any order", async () => {
		const tag = randomUUID().slice(0, 8);
		await product({ name: `Lamp ${tag}` });
		const a = await get(`/products?q=${tag}&pageSize=5&page=1`);
		expect(a.body.total).toBe(1);
		expect(a.headers.get("surrogate-key")?.split(" ")).toContain("product-lists");
		expect(a.headers.get("etag")).toMatch(/^".+"$/);
		// Asked once, not kept (most searches are not asked again within the list TTL); asked again, kept.
		expect(await hitsOf(() => get(`/products?page=1&q=${tag}&pageSize=5`))).toBe(0);
		expect(await hitsOf(() => get(`/products?pageSize=5&page=1&q=${tag}`))).toBe(1);
		expect(await hitsOf(() => get(`/products?page=2&q=${tag}&pageSize=5`))).toBe(0);
	});

	it("never serves or keeps what a caller who says who they are reads", async () => {
		const p = await product();
		await get(`/products/${p.id}`);
		const bypasses = reads("bypass");
		const asAdmin = await adm.http.get(`${V1}/products/${p.id}`);
		expect(asAdmin.status).toBe(200);
		expect(asAdmin.headers.get("x-cache")).toBeNull();
		expect(asAdmin.headers.get("cache-control")).toBe("private, no-cache");
		const withCookie = await get(`/products/${p.id}`, { cookie: "session=abc" });
		expect(withCookie.headers.get("x-cache")).toBeNull();
		expect(withCookie.headers.get("cache-control")).toBe("private, no-cache");
		expect(reads("bypass")).toBe(bypasses + 2);
		// A customer's own things never reach the cache at all.
		expect((await ann.http.get(`${V1}/cart`)).headers.get("x-cache")).toBeNull();
	});

	it("shows a write through this gateway on the very next read", async () => {
		const p = await product();
		await get(`/products/${p.id}`);
		expect((await adm.http.patch(`${V1}/products/${p.id}`, { name: "Renamed at once" })).status).toBe(200);
		const after = await get(`/products/${p.id}`);
		expect(after.body.name).toBe("Renamed at once");
		expect(after.headers.get("x-cache")).toBe("MISS");
	});

	it("purges exactly the answers that show a product changed elsewhere (its event), and keeps the others", async () => {
		const tag = randomUUID().slice(0, 8);
		const changed = await product({ name: `Chair ${tag}` });
		const other = await product({ name: `Table ${tag}` });
		await get(`/products/${changed.id}`);
		await get(`/products/${other.id}`);
		const list = await get(`/products?q=${tag}`);
		expect(list.body.total).toBe(2);
		expect(await hitsOf(() => get(`/products/${changed.id}`))).toBe(1);

		// Not through the gateway: only the product.updated event can tell it.
		await shop.broker.call("products.update", { id: changed.id, price: 777 }, ADMIN_META);
		await eventually(async () => ((await get(`/products/${changed.id}`)).body.price === 777 ? true : undefined), 5000, "the new price");
		const listed = await get(`/products?q=${tag}`);
		expect(listed.body.rows.find((i: { id: string }) => i.id === changed.id).price).toBe(777);
		// The other product's answer was not touched.
		let otherAgain!: Awaited<ReturnType<typeof get>>;
		expect(await hitsOf(async () => (otherAgain = await get(`/products/${other.id}`)))).toBe(1);
		expect(otherAgain.body.price).toBe(other.price);
	});

	it("purges a product whose last unit is sold, so no cached answer offers it", async () => {
		const tag = randomUUID().slice(0, 8);
		const last = await product({ name: `Vase ${tag}`, stock: 1 });
		expect((await get(`/products/${last.id}`)).body.available).toBe(1);
		expect(await hitsOf(() => get(`/products/${last.id}`))).toBe(1);
		expect((await get(`/products?q=${tag}&inStock=true`)).body.total).toBe(1);

		expect((await ann.http.post(`${V1}/cart/items`, { productId: last.id, quantity: 1 })).status).toBe(200);
		const placed = await ann.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment: CARD }, { "idempotency-key": randomUUID() });
		expect(placed.status, JSON.stringify(placed.body)).toBe(202);
		expect((await settledOrder(ann, placed.body.id)).status).toBe("paid");

		// Held at once (stock.reserved), then taken out of the stock once paid (order.paid, then the products service's write).
		await eventually(async () => ((await get(`/products/${last.id}`)).body.stock === 0 ? true : undefined), 5000, "the sale committed");
		await eventually(async () => ((await get(`/products?q=${tag}&inStock=true`)).body.total === 0 ? true : undefined), 5000, "lists without it");
		const shown = await get(`/products/${last.id}`);
		expect(shown.body).toMatchObject({ available: 0, stock: 0 });
	});

	it("answers a hit with the CORS headers moleculer-web would have sent", async () => {
		const own = await startShop({ services: ["users", "api", "products"], env: { CORS_ORIGINS: "https://shop.example" } });
		try {
			const origin = { origin: "https://shop.example" };
			const first = await own.http.get(`${V1}/categories`, origin);
			const hit = await own.http.get(`${V1}/categories`, origin);
			expect(first.headers.get("x-cache")).toBe("MISS");
			expect(hit.headers.get("x-cache")).toBe("HIT");
			expect(hit.headers.get("access-control-allow-origin")).toBe(first.headers.get("access-control-allow-origin"));
			expect(hit.headers.get("access-control-allow-origin")).toBe("https://shop.example");
		} finally {
			await own.stop();
		}
	});

	it("counts what it holds", () => {
		const bytes = shop.broker.metrics.getMetric(CACHE_METRICS.bytes)?.get({}) as { value?: number } | undefined;
		expect(bytes?.value).toBeGreaterThan(0);
	});
});
