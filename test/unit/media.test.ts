/** The pure parts of product images: sniffing by content, presets, URLs and ETags, gallery order. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import sharp from "sharp";
import { sniffImageFormat } from "../../lib/media/sniff.js";
import { fitWithin, isOutputFormat, isPreset, PRESETS } from "../../lib/media/presets.js";
import { etagMatches, renditionEtag, renditionUrl, storageNames } from "../../lib/media/urls.js";
import { imagesFor, thumbnailOf, withChange, withImage, without, type ImageRecord } from "../../lib/media/gallery.js";
import { parseAltField } from "../../services/media/library.js";

const HASH = "0123456789abcdef".repeat(4);

describe("sniffing an upload by its first bytes", () => {
	it.each(["jpeg", "png", "webp", "avif"] as const)("knows %s made by sharp", async format => {
		const data = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#c33" } })
			.toFormat(format)
			.toBuffer();
		expect(sniffImageFormat(data.subarray(0, 32))).toBe(format);
	});

	it("refuses SVG, text, HTML, GIF, PDF, HEIC and short or empty input", () => {
		const refused = [
			'<svg xmlns="http://www.w3.org/2000/svg"></svg>',
			'<?xml version="1.0"?><svg/>',
			"hello world, just some text",
			"<!doctype html><script>",
			"GIF89a\u0001\u0000\u0001\u0000",
			"%PDF-1.7",
			"",
		].map(s => Buffer.from(s));
		// An ISO-BMFF file of another brand (HEIC) is not AVIF.
		refused.push(Buffer.from([0, 0, 0, 24, ...Buffer.from("ftypheic"), 0, 0, 0, 0, ...Buffer.from("mif1heic")]));
		refused.push(Buffer.from([0xff, 0xd8]));
		for (const head of refused) expect(sniffImageFormat(head), head.toString("latin1")).toBeNull();
	});

	it("never throws, whatever the bytes", () => {
		fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), bytes => [null, "jpeg", "png", "webp", "avif"].includes(sniffImageFormat(bytes))));
	});
});

describe("presets", () => {
	it("bound the longest side and keep the aspect ratio", () => {
		expect(fitWithin(2000, 1000, PRESETS.card)).toEqual({ width: 480, height: 240 });
		expect(fitWithin(1000, 3000, PRESETS.thumb)).toEqual({ width: 53, height: 160 });
		expect(fitWithin(4000, 4000, PRESETS.large)).toEqual({ width: 1200, height: 1200 });
	});
	it("never upscale", () => {
		expect(fitWithin(300, 100, PRESETS.large)).toEqual({ width: 300, height: 100 });
		fc.assert(
			fc.property(fc.integer({ min: 1, max: 20000 }), fc.integer({ min: 1, max: 20000 }), fc.constantFrom(...Object.values(PRESETS)), (w, h, longest) => {
				const out = fitWithin(w, h, longest);
				return out.width <= w && out.height <= h && Math.max(out.width, out.height) <= Math.max(longest, 1) && out.width >= 1 && out.height >= 1;
			}),
		);
	});
	it("are names from a closed set", () => {
		expect(["thumb", "card", "large"].every(isPreset)).toBe(true);
		expect(["__proto__", "constructor", "huge", "", "toString"].some(isPreset)).toBe(false);
		expect(["webp", "avif", "jpg"].every(isOutputFormat)).toBe(true);
		expect(["svg", "jpeg", "png", "__proto__"].some(isOutputFormat)).toBe(false);
	});
});

describe("URLs and ETags", () => {
	const image = { id: "7d0c3a52-2f7f-4a43-9d29-6c0b5d0e8f11", hash: HASH };
	it("carry the content hash, so a changed image is a new URL", () => {
		expect(renditionUrl(image, "card", "webp")).toBe(`/api/v1/media/${image.id}/card.webp?v=0123456789abcdef`);
		expect(renditionUrl({ ...image, hash: "f".repeat(64) }, "card", "webp")).not.toBe(renditionUrl(image, "card", "webp"));
	});
	it("match If-None-Match lists, weak forms and *", () => {
		const etag = renditionEtag(HASH, "thumb", "jpg");
		expect(etag).toBe('"0123456789abcdef-thumb-jpg"');
		expect(etagMatches(etag, etag)).toBe(true);
		expect(etagMatches(`"x", W/${etag}`, etag)).toBe(true);
		expect(etagMatches("*", etag)).toBe(true);
		expect(etagMatches('"0123456789abcdef-thumb-webp"', etag)).toBe(false);
		expect(etagMatches(undefined, etag)).toBe(false);
	});
	it("name stored files under the image id", () => {
		expect(storageNames.rendition(image.id, "large", "avif")).toBe(`${image.id}/large.avif`);
		expect(storageNames.original(image.id).startsWith(storageNames.prefix(image.id))).toBe(true);
	});
});

describe("a gallery", () => {
	const record = (id: string, variantId: string | null = null): Omit<ImageRecord, "position"> => ({
		id,
		variantId,
		alt: { en: id },
		width: 10,
		height: 10,
		hash: HASH,
		format: "png",
		bytes: 1,
		createdAt: "2026-01-01T00:00:00.000Z",
	});
	const gallery = ["a", "b", "c", "d"].reduce<ImageRecord[]>((g, id) => withImage(g, record(id, id === "c" ? "v1" : null)), []);

	it("adds at the end and keeps positions 0..n-1 through moves and removals", () => {
		expect(gallery.map(i => [i.id, i.position])).toEqual([
			["a", 0],
			["b", 1],
			["c", 2],
			["d", 3],
		]);
		expect(withChange(gallery, "d", { position: 0 }).map(i => i.id)).toEqual(["d", "a", "b", "c"]);
		expect(withChange(gallery, "a", { position: 99 }).map(i => i.id)).toEqual(["b", "c", "d", "a"]);
		expect(without(gallery, "b").map(i => [i.id, i.position])).toEqual([
			["a", 0],
			["c", 1],
			["d", 2],
		]);
		fc.assert(
			fc.property(fc.constantFrom("a", "b", "c", "d"), fc.integer({ min: 0, max: 10 }), (id, position) => {
				const moved = withChange(gallery, id, { position });
				return moved.map(i => i.position).join() === "0,1,2,3" && new Set(moved.map(i => i.id)).size === 4;
			}),
		);
	});
	it("changes alt text and variant without moving", () => {
		const changed = withChange(gallery, "b", { alt: { es: "be" }, variantId: "v2" });
		expect(changed[1]).toMatchObject({ id: "b", alt: { es: "be" }, variantId: "v2", position: 1 });
	});
	it("shows a variant its own images, and lists the first image's thumb", () => {
		expect(imagesFor(gallery, "v1").map(i => i.id)).toEqual(["c"]);
		expect(imagesFor(gallery).map(i => i.id)).toEqual(["a", "b", "c", "d"]);
		expect(thumbnailOf(withChange(gallery, "c", { position: 0 }))).toBe(`/api/v1/media/c/thumb.webp?v=0123456789abcdef`);
		expect(thumbnailOf([])).toBeNull();
	});
});

describe("alt text from a multipart field", () => {
	it("is a JSON object of language → text, or plain text in English", () => {
		expect(parseAltField('{"en":"Red mug","es":"Taza roja"}')).toEqual({ en: "Red mug", es: "Taza roja" });
		expect(parseAltField("Red mug")).toEqual({ en: "Red mug" });
		expect(parseAltField(undefined)).toEqual({});
	});
	it("refuses what is not (422 naming alt)", () => {
		for (const bad of ['{"en":', '{"__proto__":"x"}', '{"english":"x"}', '{"en":""}', `{"en":"${"x".repeat(501)}"}`, '{"en":5}'])
			expect(() => parseAltField(bad), bad).toThrow(expect.objectContaining({ code: 422 }));
	});
});
