/**
 * Where a rendition is served, and its validator. The URL carries the image's content hash, so a
 * changed image is a new URL and every URL can be cached for ever (`immutable`).
 */
import type { OutputFormat, Preset } from "./presets.js";

export const MEDIA_PATH = "/api/v1/media";
/** Characters of the content hash (hex SHA-256) in URLs and ETags: 64 bits tell images apart. */
const HASH_IN_URL = 16;

export const IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable";

export function renditionUrl(image: { id: string; hash: string }, preset: Preset, format: OutputFormat): string {
	return `${MEDIA_PATH}/${image.id}/${preset}.${format}?v=${image.hash.slice(0, HASH_IN_URL)}`;
}

/** A strong ETag: same image content, preset and format, same bytes. */
export function renditionEtag(hash: string, preset: Preset, format: OutputFormat): string {
	return `"${hash.slice(0, HASH_IN_URL)}-${preset}-${format}"`;
}

/** Does an If-None-Match header name this ETag (a list, `*`, weak forms)? */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
	if (!ifNoneMatch) return false;
	if (ifNoneMatch.trim() === "*") return true;
	return ifNoneMatch.split(",").some(tag => tag.trim().replace(/^W\//, "") === etag);
}

/** Names of an image's files in storage. */
export const storageNames = {
	original: (imageId: string) => `${imageId}/original`,
	rendition: (imageId: string, preset: Preset, format: OutputFormat) => `${imageId}/${preset}.${format}`,
	/** Every file of the image starts with this. */
	prefix: (imageId: string) => `${imageId}/`,
};
