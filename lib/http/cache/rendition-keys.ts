/**
 * What the gateway's image cache stores and what removes it, as pure functions. A rendition
 * (`GET /media/:imageId/:preset.:format`) never changes: an image's content is fixed under its id
 * (a new upload is a new id; the `?v=` hash in the URL only busts browsers' caches), so an entry
 * lives until its image or its product is deleted, or until it is evicted by bytes.
 */
import type { EventEnvelope, EventType } from "../../contracts/events.js";
import { isId } from "../../contracts/ids.js";
import { isOutputFormat, isPreset, type OutputFormat, type Preset } from "../../media/presets.js";
import { TAG } from "./catalog-keys.js";

export interface RenditionRead {
	imageId: string;
	preset: Preset;
	format: OutputFormat;
}

/** Surrogate key of every rendition of an image (its product's key is `product/<id>`, as in the catalog cache). */
export const imageTag = (imageId: string) => `image/${imageId}`;

const RENDITION_PATH = /^\/media\/([^/?#]+)\/([a-z]+)\.([a-z]+)$/;

/** The rendition a request asks for, from its method and path under the API prefix; null when it is none. */
export function renditionRead(method: string | undefined, path: string): RenditionRead | null {
	if (method !== "GET") return null;
	const m = RENDITION_PATH.exec(path);
	if (!m) return null;
	const [, imageId, preset, format] = m;
	if (!isId(imageId) || !isPreset(preset) || !isOutputFormat(format)) return null;
	return { imageId: imageId!, preset, format };
}

/** The cache key: the rendition itself (the query's `v` names the same bytes, whatever it says). */
export function renditionKey(r: RenditionRead): string {
	return `${r.imageId}/${r.preset}.${r.format}`;
}

/**
 * The surrogate keys of a stored rendition: its image, and the product the media service named in
 * its `Surrogate-Key` header (so that deleting the product removes it at once).
 */
export function renditionTags(r: RenditionRead, surrogateKeyHeader: unknown): string[] {
	const tags = [imageTag(r.imageId)];
	if (typeof surrogateKeyHeader === "string")
		for (const key of surrogateKeyHeader.split(/\s+/)) if (key.startsWith("product/") && isId(key.slice("product/".length))) tags.push(key);
	return [...new Set(tags)];
}

/** The events that remove renditions: an image removed (one by one, also for a deleted product), a product deleted. */
export const RENDITION_PURGING_EVENTS: readonly EventType[] = ["media.image-removed", "product.deleted"];

export function renditionPurgeTagsOf(event: Pick<EventEnvelope, "type" | "payload">): string[] {
	const e = event as { type: EventType; payload: { productId?: unknown; imageId?: unknown } };
	if (e.type === "media.image-removed" && typeof e.payload.imageId === "string") return [imageTag(e.payload.imageId)];
	if (e.type === "product.deleted" && typeof e.payload.productId === "string") return [TAG.product(e.payload.productId)];
	return [];
}

/** What a successful delete through this gateway removes at once (its event removes it on every other gateway). */
export function renditionPurgeTagsOfWrite(method: string | undefined, path: string): string[] {
	if (method !== "DELETE") return [];
	const m = /^\/products\/([^/?#]+)(?:\/images\/([^/?#]+))?$/.exec(path);
	if (!m) return [];
	return m[2] ? [imageTag(decodeURIComponent(m[2]))] : [TAG.product(decodeURIComponent(m[1]!))];
}

/** Largest rendition stored: an eighth of the budget (a `large` AVIF or JPEG is a few hundred KB). */
export function largestEntryBytes(budgetBytes: number): number {
	return Math.floor(budgetBytes / 8);
}
