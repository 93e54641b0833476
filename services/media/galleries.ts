/**
 * The galleries: one document per product in the media database, `{ _id: productId, images,
 * revision, outbox }`. Every change is one compare-and-set on the revision that writes the new
 * images and the event saying so (the whole gallery after the change) in the same update; the
 * outbox relay publishes it.
 */
import type { Context } from "moleculer";
import type { Collection } from "../../lib/store/index.js";
import type { EventEnvelope, MediaGalleryChange } from "../../lib/contracts/events.js";
import type { MakeEnvelope, OutboxDoc } from "../../mixins/events.mixin.js";
import { conflict, notFound } from "../../lib/errors.js";
import { galleryImage, MAX_IMAGES_PER_PRODUCT, ordered, type ImageRecord } from "../../lib/media/gallery.js";

export interface GalleryRecord extends OutboxDoc {
	images: ImageRecord[];
	revision: number;
	updatedAt: string;
}

type MediaEvent = "media.image-added" | "media.image-updated" | "media.image-removed";

/** Compare-and-set attempts before a change gives up (409): each failed one means another change landed. */
const ATTEMPTS = 20;

export class Galleries {
	constructor(
		readonly galleries: Collection<GalleryRecord>,
		private readonly envelope: MakeEnvelope,
		private readonly relay: () => void,
	) {}

	async images(productId: string): Promise<ImageRecord[]> {
		return ordered((await this.galleries.findById(productId))?.images ?? []);
	}

	/** The image with this id, wherever it is (renditions look up by image only). */
	async image(imageId: string): Promise<ImageRecord | null> {
		const gallery = await this.galleries.findOne({ "images.id": imageId });
		return gallery?.images.find(i => i.id === imageId) ?? null;
	}

	/**
	 * Change a product's gallery: `decide` gets the images as they are and answers them as they
	 * should be (or throws); written only if nobody changed the gallery meanwhile, else decided again.
	 */
	async change(
		productId: string,
		type: MediaEvent,
		imageId: string,
		decide: (images: ImageRecord[]) => ImageRecord[],
		cause?: Context | null,
	): Promise<ImageRecord[]> {
		await this.galleries.insertOrGet({ _id: productId, images: [], revision: 0, updatedAt: new Date().toISOString(), outbox: [] });
		for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
			const gallery = await this.galleries.findById(productId);
			if (!gallery) throw notFound("Product");
			const images = decide(ordered(gallery.images));
			if (images.length > MAX_IMAGES_PER_PRODUCT) throw conflict(`A product has at most ${MAX_IMAGES_PER_PRODUCT} images`, "TOO_MANY_IMAGES");
			const revision = gallery.revision + 1;
			const payload: MediaGalleryChange = { productId, imageId, revision, images: images.map(galleryImage) };
			const event: EventEnvelope = this.envelope(type, payload, cause);
			const written = await this.galleries.updateWhere(
				{ _id: productId, revision: gallery.revision },
				{ $set: { images, revision, updatedAt: new Date().toISOString() }, $push: { outbox: { $each: [event] } } },
			);
			if (written === 1) {
				this.relay();
				return images;
			}
		}
		throw conflict("The product's images are being changed by someone else; try again", "CONCURRENT_CHANGE");
	}
}
