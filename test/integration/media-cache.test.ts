/**
 * The gateway's image cache, in one process through real HTTP: a rendition asked for again is
 * answered by the gateway (its hit/miss metric, and with the media service gone), with the same
 * bytes and headers as the media service's answer, 304 for its ETag, and gone once the image or its
 * product is deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, eventually, freePort, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { newProduct } from "../helpers/commerce.js";
import { makeImage, rawRequest, uploadImage } from "../helpers/images.js";
import { IMAGE_CACHE_METRICS } from "../../services/api/rendition-cache.js";

const V1 = "/api/v1";
let shop: TestShop;
let adm: Account;

beforeAll(async () => {
	shop = await startShop({ env: { ...ADMIN_ENV, METRICS_ENABLED: "true", METRICS_PORT: String(await freePort()) } });
	adm = await admin(shop);
}, 60_000);
afterAll(async () => {
	await shop?.stop();
});

function reads(result: "hit" | "miss" | "bypass"): number {
	const item = shop.broker.metrics.getMetric(IMAGE_CACHE_METRICS.requests)?.get({ result }) as { value?: number } | undefined;
	return item?.value ?? 0;
}
const get = async (url: string, headers: Record<string, string> = {}) => {
	const res = await fetch(shop.baseUrl + url, { headers });
	return { res, data: Buffer.from(await res.arrayBuffer()) };
};
/** The headers a rendition answer is about (the ones a browser or CDN acts on). */
const served = (res: Response) =>
	Object.fromEntries(
		["content-type", "content-length", "cache-control", "etag", "surrogate-key", "x-content-type-options"].map(h => [h, res.headers.get(h)]),
	);

async function newImage(): Promise<{ productId: string; id: string; url: string }> {
	const p = await newProduct(adm);
	const up = await uploadImage(shop.baseUrl, p.id, await makeImage("jpeg", 900, 600), { token: adm.accessToken });
	expect(up.status, JSON.stringify(up.body)).toBe(201);
	return { productId: p.id, ...(up.body as { id: string; url: string }) };
}

describe("the gateway's image cache", () => {
	it("answers a rendition asked for again itself: same bytes and headers, no action call", async () => {
		const image = await newImage();
		const url = `${V1}/media/${image.id}/card.webp`;
		const misses = reads("miss");
		const first = await get(url);
		expect(first.res.status).toBe(200);
		expect(first.res.headers.get("x-cache")).toBe("MISS");
		expect(reads("miss") - misses).toBe(1);

		const hits = reads("hit");
		const again = await get(`${url}?v=${image.url.split("v=")[1]}`);
		expect(reads("hit") - hits).toBe(1);
		expect(reads("miss") - misses).toBe(1);
		expect(again.res.status).toBe(200);
		expect(again.res.headers.get("x-cache")).toBe("HIT");
		expect(again.data.equals(first.data)).toBe(true);
		expect(served(again.res)).toEqual(served(first.res));
		expect(again.res.headers.get("x-request-id")).toBeTruthy();
		expect(served(again.res)).toMatchObject({
			"content-type": "image/webp",
			"content-length": String(first.data.length),
			"cache-control": "public, max-age=31536000, immutable",
			"surrogate-key": `image/${image.id} product/${image.productId}`,
		});
	});

	it("answers 304 from the cache for the rendition's ETag, and the bytes for another", async () => {
		const image = await newImage();
		const url = `${V1}/media/${image.id}/thumb.jpg`;
		const etag = (await get(url)).res.headers.get("etag")!;
		const hits = reads("hit");
		const notModified = await get(url, { "if-none-match": etag });
		expect(notModified.res.status).toBe(304);
		expect(notModified.data.length).toBe(0);
		expect(notModified.res.headers.get("etag")).toBe(etag);
		expect((await get(url, { "if-none-match": '"other"' })).res.status).toBe(200);
		expect(reads("hit") - hits).toBe(2);
	});

	it("forgets a deleted image at once: 404, and the next upload's renditions are its own", async () => {
		const image = await newImage();
		const url = `${V1}/media/${image.id}/card.avif`;
		await get(url);
		expect((await get(url)).res.headers.get("x-cache")).toBe("HIT");
		const auth = { authorization: `Bearer ${adm.accessToken}` };
		expect((await rawRequest(shop.baseUrl, "DELETE", `${V1}/products/${image.productId}/images/${image.id}`, auth)).status).toBe(204);
		expect((await get(url)).res.status).toBe(404);
	});

	it("forgets the images of a deleted product within a second (the product's event)", async () => {
		const image = await newImage();
		const url = `${V1}/media/${image.id}/large.webp`;
		await get(url);
		expect((await get(url)).res.headers.get("x-cache")).toBe("HIT");
		// Deleted behind the gateway's back: only the events can tell it.
		await shop.broker.call("products.remove", { id: image.productId }, { meta: { user: { id: "admin-test", roles: ["admin"] } } });
		await eventually(async () => ((await get(url)).res.status === 404 ? true : undefined), 1000, "the deleted product's rendition gone");
	});

	it("keeps answering what it holds with the media service gone, and counts its bytes", async () => {
		const image = await newImage();
		const url = `${V1}/media/${image.id}/thumb.webp`;
		const first = await get(url);
		const media = shop.broker.getLocalService("media");
		expect(media).toBeTruthy();
		await shop.broker.destroyService(media!);
		const hit = await get(url);
		expect(hit.res.status).toBe(200);
		expect(hit.data.equals(first.data)).toBe(true);
		expect((await get(`${V1}/media/${image.id}/card.webp`)).res.status).not.toBe(200);
		const bytes = shop.broker.metrics.getMetric(IMAGE_CACHE_METRICS.bytes)?.get({}) as { value?: number } | undefined;
		expect(bytes?.value).toBeGreaterThan(0);
	});
});
