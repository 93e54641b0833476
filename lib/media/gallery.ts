/**
 * A product's gallery: its images in position order, each maybe shown for one variant only, with
 * alt text per language. Pure: the media service stores one gallery document per product (its
 * images, a revision counted up by every change, and the outbox of that change), and the products
 * service keeps the list the events carry.
 */
import type { Static } from "typebox";
import type { ProductImage } from "../http/schemas.js";
import type { SourceFormat } from "./sniff.js";
import { renditionUrl } from "./urls.js";

/** Language code → alt text, e.g. `{ en: "Red mug", es: "Taza roja" }`. */
export type AltText = Record<string, string>;

export interface ImageRecord {
	id: string;
	variantId: string | null;
	alt: AltText;
	position: number;
	width: number;
	height: number;
	/** SHA-256 (hex) of the stored original: part of every URL. */
	hash: string;
	/** The stored original's format. */
	format: SourceFormat;
	bytes: number;
	createdAt: string;
}

/** What the media events carry of each image, and what the catalog keeps. */
export interface GalleryImage {
	id: string;
	variantId: string | null;
	alt: AltText;
	position: number;
	width: number;
	height: number;
	hash: string;
}

/** What a client sees of an image (`images` of a product, the answer of an upload). */
export type PublicImage = Static<typeof ProductImage>;

/** At most this many images per product. */
export const MAX_IMAGES_PER_PRODUCT = 50;

export function ordered<T extends { position: number }>(images: readonly T[]): T[] {
	return [...images].sort((a, b) => a.position - b.position);
}

/** Positions 0..n-1 in the order given. */
function renumbered(images: readonly ImageRecord[]): ImageRecord[] {
	return images.map((image, position) => (image.position === position ? image : { ...image, position }));
}

/** The gallery with `image` added at the end. */
export function withImage(images: readonly ImageRecord[], image: Omit<ImageRecord, "position">): ImageRecord[] {
	return renumbered([...ordered(images), { ...image, position: images.length }]);
}

export interface ImageChange {
	alt?: AltText;
	position?: number;
	variantId?: string | null;
}

/** The gallery with one image changed; `position` moves it (clamped to the gallery), the others close up. */
export function withChange(images: readonly ImageRecord[], id: string, change: ImageChange): ImageRecord[] {
	const list = ordered(images);
	const at = list.findIndex(i => i.id === id);
	if (at < 0) throw new RangeError(`No image ${id}`);
	const changed: ImageRecord = {
		...list[at]!,
		...(change.alt !== undefined && { alt: change.alt }),
		...(change.variantId !== undefined && { variantId: change.variantId }),
	};
	list.splice(at, 1);
	const to = change.position === undefined ? at : Math.max(0, Math.min(list.length, change.position));
	list.splice(to, 0, changed);
	return renumbered(list);
}

export function without(images: readonly ImageRecord[], id: string): ImageRecord[] {
	return renumbered(ordered(images).filter(i => i.id !== id));
}

export function galleryImage(i: GalleryImage): GalleryImage {
	return { id: i.id, variantId: i.variantId, alt: i.alt, position: i.position, width: i.width, height: i.height, hash: i.hash };
}

/** `url` is the large JPEG (every client can show it); the other renditions differ in the path's last segment. */
export function publicImage(i: GalleryImage): PublicImage {
	return { id: i.id, url: renditionUrl(i, "large", "jpg"), alt: i.alt, width: i.width, height: i.height, variantId: i.variantId, position: i.position };
}

/** The first image's small rendition, for lists (search results); null without images. */
export function thumbnailOf(images: readonly GalleryImage[] | undefined): string | null {
	const first = ordered(images ?? [])[0];
	return first ? renditionUrl(first, "thumb", "webp") : null;
}

/** A product's images for a client: in order; `variantId` given: that variant's images only. */
export function imagesFor(images: readonly GalleryImage[] | undefined, variantId?: string): PublicImage[] {
	return ordered(images ?? [])
		.filter(i => variantId === undefined || i.variantId === variantId)
		.map(publicImage);
}
