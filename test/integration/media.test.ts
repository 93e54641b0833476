/**
 * Product images (contract, "Product images"): uploads through the gateway's multipart route,
 * refused by content, size and pixels; renditions made once, cached for ever; the catalog's
 * products and search results showing them; a deleted product's images gone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import sharp from "sharp";
import { ADMIN_ENV, admin, customer, eventually, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { newProduct } from "../helpers/commerce.js";
import { DEMO_IMAGES } from "../../services/media/demo-images.js";
import { bombPng, GPS_IFD_TAG, jpegWithGps, makeImage, rawGet, rawRequest, uploadImage, uploadLarge, type TestFormat } from "../helpers/images.js";

const V1 = "/api/v1";
let shop: TestShop;
let adm: Account;
let ann: Account;

beforeAll(async () => {
	shop = await startShop({ env: ADMIN_ENV });
	adm = await admin(shop);
	ann = await customer(shop, "Ann");
}, 60_000);
afterAll(async () => {
	await shop?.stop();
});

const upload = (productId: string, file: Buffer, opts: Parameters<typeof uploadImage>[3] = {}) =>
	uploadImage(shop.baseUrl, productId, file, { token: adm.accessToken, ...opts });
const generated = async () => (await shop.broker.call<{ generated: number }>("media.stats")).generated;
const bytes = async (url: string, headers: Record<string, string> = {}) => {
	const res = await fetch(shop.baseUrl + url, { headers });
	return { res, data: Buffer.from(await res.arrayBuffer()) };
};

describe("uploading", () => {
	it.each<[TestFormat, string]>([
		["jpeg", "photo.jpg"],
		["png", "photo.png"],
		["webp", "photo.webp"],
		["avif", "photo.avif"],
	])("takes a %s image: 201 with its id, URL, size, alt and position", async (format, filename) => {
		const p = await newProduct(adm);
		const res = await upload(p.id, await makeImage(format, 320, 240), { filename, alt: JSON.stringify({ en: "A mug", es: "Una taza" }) });
		expect(res.status, JSON.stringify(res.body)).toBe(201);
		expect(res.body).toMatchObject({ width: 320, height: 240, alt: { en: "A mug", es: "Una taza" }, variantId: null, position: 0 });
		expect(res.body.url).toMatch(new RegExp(`^/api/v1/media/${res.body.id}/large\\.jpg\\?v=[0-9a-f]{16}$`));
		expect(res.headers.get("location")).toBe(`${V1}/products/${p.id}/images/${res.body.id}`);
	});

	it("goes by the content, not the name: a PNG named .jpg is a PNG, text named x.jpg and an SVG are 415", async () => {
		const p = await newProduct(adm);
		const png = await upload(p.id, await makeImage("png", 50, 40), { filename: "x.jpg", contentType: "image/jpeg" });
		expect(png.status, JSON.stringify(png.body)).toBe(201);
		expect((await shop.broker.call<{ format: string }[], { productId: string }>("media.records", { productId: p.id }))[0]!.format).toBe("png");
		const text = await upload(p.id, Buffer.from("hello, this is not a picture at all, just words\n".repeat(3)), {
			filename: "x.jpg",
			contentType: "image/jpeg",
		});
		expect(text.status).toBe(415);
		const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>');
		expect((await upload(p.id, svg, { filename: "x.svg", contentType: "image/svg+xml" })).status).toBe(415);
		expect((await upload(p.id, svg, { filename: "x.png", contentType: "image/png" })).status).toBe(415);
	});

	it("refuses a 12 MB file with 413 before reading it", async () => {
		const p = await newProduct(adm);
		const res = await uploadLarge(shop.baseUrl, p.id, 12 * 1024 * 1024, adm.accessToken);
		expect(res.status).toBe(413);
		expect(JSON.parse(res.body)).toMatchObject({ code: 413, type: "PAYLOAD_TOO_LARGE" });
	});

	it("refuses a 60-megapixel PNG of a few KB with 422 naming the file", async () => {
		const p = await newProduct(adm);
		const bomb = bombPng(8000, 7500);
		expect(bomb.length).toBeLessThan(100 * 1024);
		const res = await upload(p.id, bomb, { filename: "bomb.png" });
		expect(res.status, JSON.stringify(res.body)).toBe(422);
		expect(res.body.data?.[0], JSON.stringify(res.body)).toMatchObject({ field: "file", type: "pixels" });
	});

	it("strips EXIF (GPS) from everything it stores, after applying the orientation", async () => {
		const p = await newProduct(adm);
		const photo = await jpegWithGps(400, 200);
		const sent = await sharp(photo).metadata();
		expect(sent.exif?.includes(GPS_IFD_TAG)).toBe(true);
		expect(sent.orientation).toBe(6);
		const res = await upload(p.id, photo, { filename: "phone.jpg" });
		expect(res.status, JSON.stringify(res.body)).toBe(201);
		// Orientation 6: the stored image stands upright.
		expect(res.body).toMatchObject({ width: 200, height: 400 });
		for (const format of ["jpg", "webp", "avif"]) {
			const { res: got, data } = await bytes(`${V1}/media/${res.body.id}/card.${format}`);
			expect(got.status).toBe(200);
			const meta = await sharp(data).metadata();
			expect(meta.exif, format).toBeUndefined();
			expect(meta.orientation ?? 1).toBe(1);
		}
		const original = await shop.broker.call<string, { name: string }>("media.file", { name: `${res.body.id}/original` });
		expect((await sharp(Buffer.from(original, "base64")).metadata()).exif).toBeUndefined();
	});

	it("is for admins: a customer gets 403, nobody signed in 401", async () => {
		const p = await newProduct(adm);
		const file = await makeImage("png", 20, 20);
		expect((await uploadImage(shop.baseUrl, p.id, file, { token: ann.accessToken })).status).toBe(403);
		expect((await uploadImage(shop.baseUrl, p.id, file)).status).toBe(401);
	});

	it("404 for an unknown product, 422 for a variant the product does not have", async () => {
		const file = await makeImage("png", 20, 20);
		expect((await upload(crypto.randomUUID(), file)).status).toBe(404);
		const p = await newProduct(adm);
		const res = await upload(p.id, file, { variantId: crypto.randomUUID() });
		expect(res.status).toBe(422);
		expect(res.body.data[0].field).toBe("variantId");
	});
});

describe("renditions", () => {
	let image: { id: string; url: string };
	beforeAll(async () => {
		const p = await newProduct(adm);
		image = (await upload(p.id, await makeImage("jpeg", 2000, 1000))).body;
	});

	it.each([
		["thumb", 160, 80],
		["card", 480, 240],
		["large", 1200, 600],
	])("%s is %i px on the longest side, in webp, avif and jpg", async (preset, width, height) => {
		for (const [format, sharpFormat, type] of [
			["webp", "webp", "image/webp"],
			["avif", "heif", "image/avif"],
			["jpg", "jpeg", "image/jpeg"],
		]) {
			const { res, data } = await bytes(`${V1}/media/${image.id}/${preset}.${format}`);
			expect(res.status).toBe(200);
			expect(res.headers.get("content-type")).toBe(type);
			const meta = await sharp(data).metadata();
			expect([meta.format, meta.width, meta.height]).toEqual([sharpFormat, width, height]);
		}
	});

	it("never upscales a small image", async () => {
		const p = await newProduct(adm);
		const small = (await upload(p.id, await makeImage("png", 300, 100))).body;
		const { data } = await bytes(`${V1}/media/${small.id}/large.webp`);
		expect(await sharp(data).metadata()).toMatchObject({ width: 300, height: 100 });
	});

	it("is cacheable for ever, with an ETag, and 304 for If-None-Match", async () => {
		const { res } = await bytes(image.url);
		expect(res.status).toBe(200);
		expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		const etag = res.headers.get("etag")!;
		expect(etag).toMatch(/^"[0-9a-f]{16}-large-jpg"$/);
		const again = await bytes(image.url, { "if-none-match": etag });
		expect(again.res.status).toBe(304);
		expect(again.data.length).toBe(0);
		expect((await bytes(image.url, { "if-none-match": '"other"' })).res.status).toBe(200);
	});

	it("makes a rendition once however many ask for it first at the same time", async () => {
		const p = await newProduct(adm);
		const image = (await upload(p.id, await makeImage("jpeg", 1600, 1200))).body;
		const before = await generated();
		const answers = await Promise.all(Array.from({ length: 20 }, () => bytes(`${V1}/media/${image.id}/card.avif`)));
		expect(answers.map(a => a.res.status)).toEqual(Array(20).fill(200));
		expect(new Set(answers.map(a => a.data.toString("base64"))).size).toBe(1);
		expect((await generated()) - before).toBe(1);
		await bytes(`${V1}/media/${image.id}/card.avif`);
		expect((await generated()) - before).toBe(1);
	});

	it("404 for path tricks, unknown presets and formats", async () => {
		const p = await newProduct(adm);
		for (const path of [
			`${V1}/media/..%2f..%2fetc/card.webp`,
			`${V1}/media/%2e%2e/card.webp`,
			`${V1}/media/__proto__/card.webp`,
			`${V1}/media/${image.id}/..%2f.webp`,
			`${V1}/media/${image.id}/__proto__.webp`,
			`${V1}/media/${image.id}/card.svg`,
			`${V1}/media/${image.id}/huge.webp`,
			`${V1}/media/${crypto.randomUUID()}/card.webp`,
		])
			expect((await rawGet(shop.baseUrl, path)).status, path).toBe(404);
		const auth = { authorization: `Bearer ${adm.accessToken}` };
		for (const id of ["..", "%2e%2e", "__proto__", "..%2f..%2fmedia", "%2e%2e%2f%2e%2e"]) {
			const path = `${V1}/products/${p.id}/images/${id}`;
			expect((await rawRequest(shop.baseUrl, "PATCH", path, auth, JSON.stringify({ position: 0 }))).status, id).toBe(404);
			expect((await rawRequest(shop.baseUrl, "DELETE", path, auth)).status, id).toBe(404);
		}
		expect((await rawGet(shop.baseUrl, `${V1}/products/${p.id}/images/../../users`, { authorization: `Bearer ${adm.accessToken}` })).status).toBe(404);
	});
});

describe("the catalog shows them", () => {
	it("on the product (and its variant), changed and reordered, in search as thumbnail", async () => {
		const p = await newProduct(adm, { name: `Mug ${crypto.randomUUID().slice(0, 6)}`, options: [{ name: "colour", values: ["Red", "Blue"] }] });
		const v = await adm.http.post(`${V1}/products/${p.id}/variants`, {
			sku: `V-${crypto.randomUUID().slice(0, 6)}`,
			options: { colour: "Red" },
			price: 900,
			stock: 3,
		});
		expect(v.status).toBe(201);
		const first = (await upload(p.id, await makeImage("png", 100, 100), { alt: "Front" })).body;
		const second = (await upload(p.id, await makeImage("jpeg", 200, 100), { alt: JSON.stringify({ en: "Red", es: "Rojo" }), variantId: v.body.id })).body;
		expect(second.position).toBe(1);
		const shown = await eventually(async () => {
			const res = await shop.http.get(`${V1}/products/${p.id}`);
			return res.body.images?.length === 2 ? res.body : undefined;
		});
		expect(shown.images.map((i: { id: string }) => i.id)).toEqual([first.id, second.id]);
		expect(shown.images[0]).toEqual({ id: first.id, url: first.url, alt: { en: "Front" }, width: 100, height: 100, variantId: null, position: 0 });
		expect(shown.variants[0].images.map((i: { id: string }) => i.id)).toEqual([second.id]);

		const moved = await adm.http.patch(`${V1}/products/${p.id}/images/${second.id}`, { position: 0, alt: { en: "Red mug" } });
		expect(moved.status, JSON.stringify(moved.body)).toBe(200);
		expect(moved.body).toMatchObject({ position: 0, alt: { en: "Red mug" }, variantId: v.body.id });
		const search = await eventually(async () => {
			const res = await shop.http.get(`${V1}/products?q=${encodeURIComponent(p.name)}`);
			const row = res.body.rows.find((r: { id: string }) => r.id === p.id);
			return row?.images[0]?.id === second.id ? row : undefined;
		});
		expect(search.thumbnail).toBe(`${V1}/media/${second.id}/thumb.webp?v=${second.url.split("v=")[1]}`);
		expect((await bytes(search.thumbnail)).res.status).toBe(200);

		expect((await adm.http.patch(`${V1}/products/${p.id}/images/${second.id}`, { alt: { "not a language": "x" } })).status).toBe(422);
		expect((await adm.http.patch(`${V1}/products/${p.id}/images/${second.id}`, { variantId: crypto.randomUUID() })).status).toBe(422);
		expect((await ann.http.patch(`${V1}/products/${p.id}/images/${second.id}`, { position: 1 })).status).toBe(403);

		expect((await adm.http.delete(`${V1}/products/${p.id}/images/${second.id}`)).status).toBe(204);
		expect((await bytes(`${V1}/media/${second.id}/card.webp`)).res.status).toBe(404);
		await eventually(async () => ((await shop.http.get(`${V1}/products/${p.id}`)).body.images.length === 1 ? true : undefined));
	});

	it("a product without images has none and no thumbnail", async () => {
		const p = await newProduct(adm, { name: `Plain ${crypto.randomUUID().slice(0, 6)}` });
		expect((await shop.http.get(`${V1}/products/${p.id}`)).body.images).toEqual([]);
		const row = (await shop.http.get(`${V1}/products?q=${encodeURIComponent(p.name)}`)).body.rows.find((r: { id: string }) => r.id === p.id);
		expect(row.thumbnail).toBeNull();
	});

	it("deleting the product deletes its images and their files", async () => {
		const p = await newProduct(adm);
		const image = (await upload(p.id, await makeImage("webp", 300, 300))).body;
		expect((await bytes(`${V1}/media/${image.id}/thumb.jpg`)).res.status).toBe(200);
		expect((await shop.broker.call<string[], { imageId: string }>("media.files", { imageId: image.id })).sort()).toEqual([
			`${image.id}/original`,
			`${image.id}/thumb.jpg`,
		]);
		expect((await adm.http.delete(`${V1}/products/${p.id}`)).status).toBe(204);
		await eventually(async () =>
			(await shop.broker.call<string[], { imageId: string }>("media.files", { imageId: image.id })).length === 0 ? true : undefined,
		);
		expect(await shop.broker.call<unknown[], { productId: string }>("media.records", { productId: p.id })).toEqual([]);
		expect((await bytes(`${V1}/media/${image.id}/card.webp`)).res.status).toBe(404);
	});
});

describe("the demo shop", () => {
	it("shows a picture of every demo product (rendered from the SVGs at seed time), once however often it starts", async () => {
		let demo = await startShop({ services: ["users", "products", "media", "api"], env: { ...ADMIN_ENV, SEED_DEMO: "true" } });
		try {
			const rows = await eventually(
				async () => {
					const res = await demo.http.get(`${V1}/products?pageSize=100`);
					return res.body.rows.length === Object.keys(DEMO_IMAGES).length && res.body.rows.every((r: { thumbnail: string | null }) => r.thumbnail)
						? res.body.rows
						: undefined;
				},
				30_000,
				"every demo product to have a thumbnail",
			);
			const tee = rows.find((r: { sku: string }) => r.sku === "APP-TEE");
			expect(tee.images.map((i: { alt: { en: string } }) => i.alt.en)).toEqual(["Black organic cotton T-shirt", "White organic cotton T-shirt"]);
			const black = tee.variants.find((v: { options: { colour: string } }) => v.options.colour === "Black");
			expect(black.images[0].alt).toEqual({ en: "Black organic cotton T-shirt", es: "Camiseta negra de algodón orgánico" });
			const thumb = await fetch(demo.baseUrl + tee.thumbnail);
			expect(await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).toMatchObject({ format: "webp", width: 160, height: 160 });

			demo = await demo.restart();
			await new Promise(r => setTimeout(r, 500));
			const again = (await demo.http.get(`${V1}/products/${tee.id}`)).body;
			expect(again.images.map((i: { id: string }) => i.id)).toEqual(tee.images.map((i: { id: string }) => i.id));
		} finally {
			await demo.stop();
		}
	}, 60_000);
});
