/**
 * An upload, from the stream the gateway forwards to the finished original:
 *   1. read as it arrives, at most MAX_UPLOAD_BYTES (413), and its first bytes decide what it is
 *      (lib/media/sniff.ts: 415 for anything but JPEG, PNG, WebP and AVIF, whatever its name says);
 *   2. its declared size bounds the decoding (MAX_INPUT_PIXELS, 422: decompression bombs);
 *   3. it is re-encoded with its orientation applied (`rotate()`), at most ORIGINAL_MAX_SIDE on its
 *      longest side, and no metadata (sharp writes none unless asked: EXIF, GPS, ICC and XMP are
 *      gone), and that is the stored original.
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import sharp from "sharp";
import type { Metadata, OutputInfo, Sharp } from "sharp";
import { invalidField, payloadTooLarge, unsupportedMediaType } from "../../lib/errors.js";
import { MAX_INPUT_PIXELS, MAX_UPLOAD_BYTES } from "../../lib/media/limits.js";
import { ORIGINAL_MAX_SIDE } from "../../lib/media/presets.js";
import { SNIFF_BYTES, sniffImageFormat, type SourceFormat } from "../../lib/media/sniff.js";

export interface NormalizedImage {
	data: Buffer;
	format: SourceFormat;
	width: number;
	height: number;
	hash: string;
}

const MB = 1024 * 1024;

/** The whole upload, refused as soon as it is too large or is not an image by its first bytes. */
export async function readImageUpload(stream: Readable | null | undefined): Promise<{ data: Buffer; format: SourceFormat }> {
	if (!stream) throw invalidField("file", "Send the image as the multipart field 'file'.", "required");
	const chunks: Buffer[] = [];
	let size = 0;
	let format: SourceFormat | null = null;
	try {
		// Leaving the loop early must not destroy the part (moleculer-web would fail the form with an AbortError).
		for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
			size += chunk.length;
			if (size > MAX_UPLOAD_BYTES) throw payloadTooLarge(`The file is larger than ${MAX_UPLOAD_BYTES / MB} MB`);
			chunks.push(chunk);
			if (format === null && size >= SNIFF_BYTES) format = sniffed(Buffer.concat(chunks));
		}
	} catch (err) {
		// What is left of the file is read to nowhere (destroying the part would fail the whole form).
		stream.resume();
		const e = err as { code?: number; type?: string };
		// busboy's limit ends the file with moleculer-web's PayloadTooLarge.
		if (e.code === 413 || e.type === "PAYLOAD_TOO_LARGE") throw payloadTooLarge(`The file is larger than ${MAX_UPLOAD_BYTES / MB} MB`);
		throw err;
	}
	const data = Buffer.concat(chunks);
	if (data.length === 0) throw invalidField("file", "The file is empty.", "fileEmpty");
	return { data, format: format ?? sniffed(data) };
}

function sniffed(head: Buffer): SourceFormat {
	const format = sniffImageFormat(head);
	if (!format) throw unsupportedMediaType("The file is not a JPEG, PNG, WebP or AVIF image");
	return format;
}

const tooManyPixels = () => invalidField("file", `The image has more than ${MAX_INPUT_PIXELS / 1e6} megapixels.`, "pixels");

/** How the stored original is written, per format it came in (lossless stays lossless). */
function encodeOriginal(pipeline: Sharp, format: SourceFormat): Sharp {
	switch (format) {
		case "jpeg":
			return pipeline.jpeg({ quality: 92, mozjpeg: true });
		case "png":
			return pipeline.png({ compressionLevel: 6 });
		case "webp":
		case "avif":
			// AVIF encoding is slow; the original only feeds the renditions, so WebP at high quality holds it.
			return pipeline.webp({ quality: 92 });
	}
}

export async function normalizeImage(upload: { data: Buffer; format: SourceFormat }): Promise<NormalizedImage> {
	let meta: Metadata;
	try {
		meta = await sharp(upload.data, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
	} catch (err) {
		if (/pixel limit/i.test((err as Error).message)) throw tooManyPixels();
		throw invalidField("file", "The image cannot be read (damaged or truncated).", "image");
	}
	if ((meta.width ?? 0) * (meta.height ?? 0) > MAX_INPUT_PIXELS) throw tooManyPixels();
	let out: { data: Buffer; info: OutputInfo };
	try {
		const pipeline = sharp(upload.data, { limitInputPixels: MAX_INPUT_PIXELS })
			.rotate()
			.resize({ width: ORIGINAL_MAX_SIDE, height: ORIGINAL_MAX_SIDE, fit: "inside", withoutEnlargement: true });
		out = await encodeOriginal(pipeline, upload.format).toBuffer({ resolveWithObject: true });
	} catch (err) {
		if (/pixel limit/i.test((err as Error).message)) throw tooManyPixels();
		throw invalidField("file", "The image cannot be decoded (damaged or truncated).", "image");
	}
	const format: SourceFormat = upload.format === "avif" ? "webp" : upload.format;
	return { data: out.data, format, width: out.info.width, height: out.info.height, hash: createHash("sha256").update(out.data).digest("hex") };
}
