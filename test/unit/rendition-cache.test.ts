import { Readable } from "node:stream";
import type { ServerResponse } from "node:http";
import type { Context, ServiceBroker } from "moleculer";
import { describe, expect, it } from "vitest";
import { RenditionCache } from "../../services/api/rendition-cache.js";
import {
	imageTag,
	largestEntryBytes,
	renditionKey,
	renditionPurgeTagsOf,
	renditionPurgeTagsOfWrite,
	renditionRead,
	renditionTags,
} from "../../lib/http/cache/rendition-keys.js";

const IMAGE = "3f2c9a4e-8b1d-4c6f-9e2a-7d5b1c0f8a93";
const PRODUCT = "b7e1d2c3-4f5a-4b6c-8d9e-0f1a2b3c4d5e";

describe("the image cache's rules", () => {
	it("takes GETs of a rendition's path, and nothing else", () => {
		expect(renditionRead("GET", `/media/${IMAGE}/card.webp`)).toEqual({ imageId: IMAGE, preset: "card", format: "webp" });
		expect(renditionRead("HEAD", `/media/${IMAGE}/card.webp`)).toBeNull();
		expect(renditionRead("DELETE", `/media/${IMAGE}/card.webp`)).toBeNull();
		for (const path of [
			`/media/${IMAGE}/huge.webp`,
			`/media/${IMAGE}/card.gif`,
			`/media/${IMAGE}/original`,
			`/media/../card.webp`,
			`/media/%2e%2e/card.webp`,
			`/media/__proto__/card.webp`,
			`/media/${IMAGE}/card.webp/x`,
			`/products/${PRODUCT}`,
		])
			expect(renditionRead("GET", path), path).toBeNull();
	});

	it("keys a rendition by image, preset and format only", () => {
		const read = renditionRead("GET", `/media/${IMAGE}/thumb.avif`)!;
		expect(renditionKey(read)).toBe(`${IMAGE}/thumb.avif`);
		expect(renditionKey(read)).not.toBe(renditionKey(renditionRead("GET", `/media/${IMAGE}/thumb.jpg`)!));
	});

	it("tags a rendition with its image and the product the media service names, ignoring anything else", () => {
		const read = renditionRead("GET", `/media/${IMAGE}/card.webp`)!;
		expect(renditionTags(read, `image/${IMAGE} product/${PRODUCT}`)).toEqual([imageTag(IMAGE), `product/${PRODUCT}`]);
		expect(renditionTags(read, undefined)).toEqual([imageTag(IMAGE)]);
		expect(renditionTags(read, "product-lists category/x product/../../x")).toEqual([imageTag(IMAGE)]);
	});

	it("is purged by a removed image and a deleted product, not by other catalog news", () => {
		expect(renditionPurgeTagsOf({ type: "media.image-removed", payload: { productId: PRODUCT, imageId: IMAGE } } as never)).toEqual([imageTag(IMAGE)]);
		expect(renditionPurgeTagsOf({ type: "product.deleted", payload: { productId: PRODUCT } } as never)).toEqual([`product/${PRODUCT}`]);
		for (const type of ["product.updated", "media.image-updated", "media.image-added", "stock.changed"])
			expect(renditionPurgeTagsOf({ type, payload: { productId: PRODUCT, imageId: IMAGE } } as never), type).toEqual([]);
	});

	it("is purged at once by a delete through this gateway", () => {
		expect(renditionPurgeTagsOfWrite("DELETE", `/products/${PRODUCT}/images/${IMAGE}`)).toEqual([imageTag(IMAGE)]);
		expect(renditionPurgeTagsOfWrite("DELETE", `/products/${PRODUCT}`)).toEqual([`product/${PRODUCT}`]);
		expect(renditionPurgeTagsOfWrite("PATCH", `/products/${PRODUCT}/images/${IMAGE}`)).toEqual([]);
		expect(renditionPurgeTagsOfWrite("DELETE", `/cart/items/${IMAGE}`)).toEqual([]);
	});

	it("stores no rendition over an eighth of its budget", () => {
		expect(largestEntryBytes(64 * 1024 * 1024)).toBe(8 * 1024 * 1024);
		expect(largestEntryBytes(0)).toBe(0);
	});
});

describe("the image cache", () => {
	const broker = { isMetricsEnabled: () => false } as unknown as ServiceBroker;
	const read = renditionRead("GET", `/media/${IMAGE}/card.webp`)!;
	const headers = (length: number) => ({
		ETag: '"abc-card-webp"',
		"Cache-Control": "public, max-age=31536000, immutable",
		"Content-Length": String(length),
		"Surrogate-Key": `image/${IMAGE} product/${PRODUCT}`,
	});

	/** The action's answer to a fill, streamed through the cache to a sink; resolves when it has all gone through. */
	async function fill(cache: RenditionCache, body: Buffer, declared = body.length): Promise<Buffer> {
		const f = cache.lookup(read, undefined, fakeResponse().res, true);
		if (f === true || !f) throw new Error("expected a fill");
		const ctx = { meta: { $statusCode: 200, $responseType: "image/webp", $responseHeaders: headers(declared) } } as unknown as Context<unknown, never>;
		const out = cache.afterCall(ctx, f, fakeResponse().res, Readable.from([body.subarray(0, 10), body.subarray(10)]), () => true) as Readable;
		const chunks: Buffer[] = [];
		for await (const c of out) chunks.push(c as Buffer);
		return Buffer.concat(chunks);
	}
	function fakeResponse() {
		const sent: { status?: number; headers: Record<string, string>; body?: Buffer } = { headers: {} };
		const res = {
			setHeader: (k: string, v: string) => (sent.headers[k.toLowerCase()] = v),
			writeHead: (s: number) => (sent.status = s),
			end: (b?: Buffer) => (sent.body = b),
		} as unknown as ServerResponse;
		return { res, sent };
	}

	it("passes the answer on unchanged and answers the next request itself, with its headers and 304", async () => {
		const cache = new RenditionCache(broker, 1024 * 1024);
		const body = Buffer.alloc(5000, 7);
		expect((await fill(cache, body)).equals(body)).toBe(true);
		const hit = fakeResponse();
		expect(cache.answer(read, undefined, hit.res)).toBe(true);
		expect(hit.sent).toMatchObject({ status: 200, headers: { "content-type": "image/webp", "content-length": "5000", etag: '"abc-card-webp"' } });
		expect(hit.sent.body?.equals(body)).toBe(true);
		const notModified = fakeResponse();
		expect(cache.answer(read, '"abc-card-webp"', notModified.res)).toBe(true);
		expect(notModified.sent.status).toBe(304);
		expect(notModified.sent.body).toBeUndefined();
	});

	it("does not keep a rendition over an eighth of its budget, nor one shorter than it said", async () => {
		const small = new RenditionCache(broker, 8 * 4000);
		await fill(small, Buffer.alloc(5000, 1));
		expect(small.answer(read, undefined, fakeResponse().res)).toBe(false);
		const cache = new RenditionCache(broker, 1024 * 1024);
		await fill(cache, Buffer.alloc(3000, 1), 4000);
		expect(cache.answer(read, undefined, fakeResponse().res)).toBe(false);
	});

	it("forgets a rendition when its image is removed or its product deleted, and does not store it again", async () => {
		const cache = new RenditionCache(broker, 1024 * 1024);
		await fill(cache, Buffer.alloc(100, 1));
		cache.purgeEvent("media.image-updated", { productId: PRODUCT, imageId: IMAGE });
		expect(cache.answer(read, undefined, fakeResponse().res)).toBe(true);
		cache.purgeEvent("media.image-removed", { productId: PRODUCT, imageId: IMAGE });
		expect(cache.answer(read, undefined, fakeResponse().res)).toBe(false);
		// Another media node may still answer it from memory for a while: not stored again.
		await fill(cache, Buffer.alloc(100, 1));
		expect(cache.answer(read, undefined, fakeResponse().res)).toBe(false);

		const other = new RenditionCache(broker, 1024 * 1024);
		await fill(other, Buffer.alloc(100, 1));
		other.purgeEvent("product.deleted", { productId: PRODUCT });
		expect(other.answer(read, undefined, fakeResponse().res)).toBe(false);
		await fill(other, Buffer.alloc(100, 1));
		expect(other.answer(read, undefined, fakeResponse().res)).toBe(false);
	});
});
