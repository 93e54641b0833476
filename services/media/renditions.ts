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

/**
 * Renditions kept in memory, most recently used last, up to a byte budget: a rendition never
 * changes, so a hit needs neither the disk nor GridFS (and thumbnails are what lists ask for).
 */
class RecentRenditions {
	private readonly entries = new Map<string, Buffer>();
	private bytes = 0;
	constructor(private readonly budget: number) {}

	get(name: string): Buffer | undefined {
		const data = this.entries.get(name);
		if (data) {
			this.entries.delete(name);
			this.entries.set(name, data);
		}
		return data;
	}
	set(name: string, data: Buffer): void {
		if (data.length > this.budget / 8 || this.entries.has(name)) return;
		this.entries.set(name, data);
		this.bytes += data.length;
		for (const [oldest, old] of this.entries) {
			if (this.bytes <= this.budget) break;
			this.entries.delete(oldest);
			this.bytes -= old.length;
		}
	}
	forget(prefix: string): void {
		for (const [name, data] of this.entries)
			if (name.startsWith(prefix)) {
				this.entries.delete(name);
				this.bytes -= data.length;
			}
	}
}

async function readAll(stream: Readable): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
	return Buffer.concat(chunks);
}

export class Renditions {
	private readonly inFlight = new Map<string, Promise<Buffer>>();
	private readonly recent: RecentRenditions;
	/** Renditions this node made (tests and the metric count them). */
	generated = 0;

	constructor(
		private readonly storage: MediaStorage,
		private readonly onGenerated: (preset: Preset, format: OutputFormat, ms: number) => void = () => undefined,
		memoryBudgetBytes = 64 * 1024 * 1024,
	) {
		this.recent = new RecentRenditions(memoryBudgetBytes);
	}

	/** The rendition as a stream with its length; 404 when the image has no original (deleted). */
	async open(req: RenditionRequest): Promise<StoredFile> {
		const name = storageNames.rendition(req.imageId, req.preset, req.format);
		let data = this.recent.get(name);
		if (!data) {
			const stored = await this.storage.open(name);
			data = stored ? await readAll(stored.stream) : await this.generateOnce(name, req);
			this.recent.set(name, data);
		}
		return { stream: Readable.from([data]), length: data.length };
	}

	/** A removed image's renditions leave the memory too. */
	forget(imageId: string): void {
		this.recent.forget(storageNames.prefix(imageId));
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
		const source = await readAll(original.stream);
		const started = performance.now();
		const data = await render(source, req.preset, req.format);
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
