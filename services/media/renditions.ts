/**
 * Serving an image in a preset and format: from storage when it was made before, otherwise made
 * now from the stored original (sharp), stored, and served. Made on first request, not at upload
 * (the README has the measurement): an upload stays fast, and only what is asked for is made.
 *
 * Concurrent first requests on one node wait for one generation (single flight); across nodes
 * two may make the same rendition at once, which is harmless because a name always stands for
 * the same bytes (lib/media/storage.ts).
 */
import { Readable } from "node:stream";
import sharp from "sharp";
import { notFound } from "../../lib/errors.js";
import { MAX_INPUT_PIXELS } from "../../lib/media/limits.js";
import { ENCODER_OPTIONS, OUTPUT_CONTENT_TYPES, PRESETS, type OutputFormat, type Preset } from "../../lib/media/presets.js";
import type { MediaStorage, StoredFile } from "../../lib/media/storage.js";
import { storageNames } from "../../lib/media/urls.js";

export interface RenditionRequest {
	imageId: string;
	preset: Preset;
	format: OutputFormat;
}

export class Renditions {
	private readonly inFlight = new Map<string, Promise<Buffer>>();
	/** Renditions this node made (tests and the metric count them). */
	generated = 0;

	constructor(
		private readonly storage: MediaStorage,
		private readonly onGenerated: (preset: Preset, format: OutputFormat, ms: number) => void = () => undefined,
	) {}

	/** The rendition as a stream with its length; 404 when the image has no original (deleted). */
	async open(req: RenditionRequest): Promise<StoredFile> {
		const name = storageNames.rendition(req.imageId, req.preset, req.format);
		const stored = await this.storage.open(name);
		if (stored) return stored;
		const data = await this.generateOnce(name, req);
		return { stream: Readable.from([data]), length: data.length };
	}

	private generateOnce(name: string, req: RenditionRequest): Promise<Buffer> {
		let pending = this.inFlight.get(name);
		if (!pending) {
			pending = this.generate(name, req).finally(() => this.inFlight.delete(name));
			this.inFlight.set(name, pending);
		}
		return pending;
	}

	private async generate(name: string, req: RenditionRequest): Promise<Buffer> {
		const original = await this.storage.open(storageNames.original(req.imageId));
		if (!original) throw notFound("Image");
		const chunks: Buffer[] = [];
		for await (const chunk of original.stream as AsyncIterable<Buffer>) chunks.push(chunk);
		const started = performance.now();
		const data = await render(Buffer.concat(chunks), req.preset, req.format);
		this.generated++;
		this.onGenerated(req.preset, req.format, performance.now() - started);
		await this.storage.put(name, data, OUTPUT_CONTENT_TYPES[req.format]);
		return data;
	}
}

/** One rendition: the longest side at most the preset's, never upscaled, no metadata. */
export function render(original: Buffer, preset: Preset, format: OutputFormat): Promise<Buffer> {
	const longest = PRESETS[preset];
	const pipeline = sharp(original, { limitInputPixels: MAX_INPUT_PIXELS }).resize({
		width: longest,
		height: longest,
		fit: "inside",
		withoutEnlargement: true,
	});
	switch (format) {
		case "webp":
			return pipeline.webp(ENCODER_OPTIONS.webp).toBuffer();
		case "avif":
			return pipeline.avif(ENCODER_OPTIONS.avif).toBuffer();
		case "jpg":
			// JPEG has no alpha: transparent pixels become white, not black.
			return pipeline.flatten({ background: "#ffffff" }).jpeg(ENCODER_OPTIONS.jpg).toBuffer();
	}
}
