/**
 * The media service's work: a product's images (records in the galleries, files in storage) and
 * their renditions. The service file maps actions and events onto these methods.
 */
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { Context } from "moleculer";
import { invalidField, notFound, validationError } from "../../lib/errors.js";
import { isId } from "../../lib/contracts/ids.js";
import { NullIsAValueValidator } from "../../lib/broker/validation.js";
import { altRule } from "../../lib/contracts/http/media.js";
import { publicImage, withChange, withImage, without, type AltText, type ImageChange, type ImageRecord, type PublicImage } from "../../lib/media/gallery.js";
import { OUTPUT_CONTENT_TYPES, type OutputFormat, type Preset } from "../../lib/media/presets.js";
import { CONTENT_TYPES, type SourceFormat } from "../../lib/media/sniff.js";
import type { MediaStorage, StoredFile } from "../../lib/media/storage.js";
import { etagMatches, IMMUTABLE_CACHE_CONTROL, renditionEtag, storageNames } from "../../lib/media/urls.js";
import type { Galleries } from "./galleries.js";
import { normalizeImage, readImageUpload } from "./uploads.js";
import type { Renditions } from "./renditions.js";

/** What the upload's multipart fields may say (they arrive as text). */
export interface UploadFields {
	id: string;
	alt?: string;
	variantId?: string;
}

/** The product as the catalog answers it (only what an upload checks). */
export interface ProductLookup {
	(productId: string): Promise<{ variants?: { id: string }[] }>;
}

const altCheck = new NullIsAValueValidator().compile({ alt: altRule }) as (p: object) => true | { field: string; message: string; type: string }[];

/** `alt` as a multipart field: a JSON object of language → text, or plain text taken as English. */
export function parseAltField(raw: string | undefined): AltText {
	if (raw === undefined || raw === "") return {};
	let alt: unknown = { en: raw };
	if (raw.trimStart().startsWith("{")) {
		try {
			alt = JSON.parse(raw);
		} catch {
			throw invalidField("alt", "The 'alt' field must be a JSON object of language → text, or plain text.", "json");
		}
	}
	const params = { alt };
	const result = altCheck(params);
	if (result !== true) throw validationError(result.map(p => ({ field: p.field, message: p.message, type: p.type })));
	return params.alt as AltText;
}

/** What a rendition answer is: the bytes (null for 304) and its headers. */
export interface RenditionAnswer {
	status: 200 | 304;
	file: StoredFile | null;
	headers: Record<string, string>;
	contentType: string;
}

/** imageId → content hash, for renditions: an image's content never changes, so this only forgets deleted ones late. */
const KNOWN_FOR_MS = 60_000;
const KNOWN_MAX = 10_000;

export class MediaLibrary {
	private readonly known = new Map<string, { hash: string; productId: string; until: number }>();

	constructor(
		readonly galleries: Galleries,
		readonly storage: MediaStorage,
		readonly renditions: Renditions,
		private readonly productOf: ProductLookup,
	) {}

	async upload(fields: UploadFields, stream: Readable | null | undefined, cause: Context): Promise<PublicImage> {
		const alt = parseAltField(fields.alt);
		const variantId = fields.variantId ? fields.variantId : null;
		if (variantId !== null && !isId(variantId)) throw invalidField("variantId", "The 'variantId' field is not a valid id.", "id");
		const product = await this.productOf(fields.id);
		if (variantId !== null && !(product.variants ?? []).some(v => v.id === variantId))
			throw invalidField("variantId", "The product has no such variant.", "variant");
		return this.add(fields.id, await readImageUpload(stream), { alt, variantId }, cause);
	}

	/** A new image of a product from its bytes (an upload's, or a demo image's). */
	async add(
		productId: string,
		upload: { data: Buffer; format: SourceFormat },
		meta: { alt: AltText; variantId: string | null },
		cause: Context | null,
	): Promise<PublicImage> {
		const { alt, variantId } = meta;
		const image = await normalizeImage(upload);
		const id = randomUUID();
		await this.storage.put(storageNames.original(id), image.data, CONTENT_TYPES[image.format]);
		const record: Omit<ImageRecord, "position"> = {
			id,
			variantId,
			alt,
			width: image.width,
			height: image.height,
			hash: image.hash,
			format: image.format,
			bytes: image.data.length,
			createdAt: new Date().toISOString(),
		};
		const images = await this.galleries.change(productId, "media.image-added", id, current => withImage(current, record), cause);
		return publicImage(images.find(i => i.id === id)!);
	}

	async update(productId: string, imageId: string, change: ImageChange, cause: Context): Promise<PublicImage> {
		if (change.variantId) {
			const product = await this.productOf(productId);
			if (!(product.variants ?? []).some(v => v.id === change.variantId)) throw invalidField("variantId", "The product has no such variant.", "variant");
		}
		const images = await this.galleries.change(
			productId,
			"media.image-updated",
			imageId,
			current => {
				if (!current.some(i => i.id === imageId)) throw notFound("Image");
				return withChange(current, imageId, change);
			},
			cause,
		);
		return publicImage(images.find(i => i.id === imageId)!);
	}

	async remove(productId: string, imageId: string, cause: Context): Promise<void> {
		const images = await this.galleries.images(productId);
		if (!images.some(i => i.id === imageId)) throw notFound("Image");
		await this.storage.removePrefix(storageNames.prefix(imageId));
		await this.galleries.change(productId, "media.image-removed", imageId, current => without(current, imageId), cause);
		this.known.delete(imageId);
		this.renditions.forget(imageId);
		// A rendition made by a request that raced the first pass.
		await this.storage.removePrefix(storageNames.prefix(imageId));
	}

	/** A deleted product's images go with it: files first, so that a retried event finds what is left. */
	async removeProduct(productId: string, cause: Context): Promise<number> {
		const images = await this.galleries.images(productId);
		for (const image of images) await this.storage.removePrefix(storageNames.prefix(image.id));
		for (const image of images) {
			await this.galleries.change(productId, "media.image-removed", image.id, current => without(current, image.id), cause);
			this.known.delete(image.id);
			this.renditions.forget(image.id);
		}
		return images.length;
	}

	async rendition(imageId: string, preset: Preset, format: OutputFormat, ifNoneMatch: string | undefined): Promise<RenditionAnswer> {
		const { hash, productId } = await this.imageOf(imageId);
		const etag = renditionEtag(hash, preset, format);
		// Surrogate-Key: what removes it from a cache in front (the gateway's, a CDN's): the image or its product going.
		const headers = { "Cache-Control": IMMUTABLE_CACHE_CONTROL, ETag: etag, "Surrogate-Key": `image/${imageId} product/${productId}` };
		const contentType = OUTPUT_CONTENT_TYPES[format];
		if (etagMatches(ifNoneMatch, etag)) return { status: 304, file: null, headers, contentType };
		const file = await this.renditions.open({ imageId, preset, format });
		return { status: 200, file, headers: { ...headers, "Content-Length": String(file.length) }, contentType };
	}

	private async imageOf(imageId: string): Promise<{ hash: string; productId: string }> {
		const now = Date.now();
		const cached = this.known.get(imageId);
		if (cached && cached.until > now) return cached;
		const found = await this.galleries.image(imageId);
		if (!found) throw notFound("Image");
		if (this.known.size >= KNOWN_MAX) this.known.clear();
		const known = { hash: found.image.hash, productId: found.productId, until: now + KNOWN_FOR_MS };
		this.known.set(imageId, known);
		return known;
	}

	/** Another node removed an image: this node stops serving it from memory too. */
	forget(imageId: string): void {
		this.known.delete(imageId);
		this.renditions.forget(imageId);
	}
}
