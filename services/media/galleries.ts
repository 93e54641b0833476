/**
 * The galleries: one document per product in the media database, `{ _id: productId, images,
 * revision, outbox }`. Every change is one compare-and-set on the revision (lib/store
 * `Collection.change`) that writes the new images and the event saying so (the whole gallery
 * after the change) in the same update; the outbox relay publishes it.
 */
import type { Context } from "moleculer";
import type { Collection } from "../../lib/store/index.js";
import { domainEvent, type MediaGalleryChange } from "../../lib/contracts/events.js";
import type { OutboxDoc } from "../../mixins/events.mixin.js";
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
	constructor(readonly galleries: Collection<GalleryRecord>) {}

	async images(productId: string): Promise<ImageRecord[]> {
		return ordered((await this.galleries.findById(productId))?.images ?? []);
	}

	/** The image with this id and the product it is of, wherever it is (renditions look up by image only). */
	async image(imageId: string): Promise<{ image: ImageRecord; productId: string } | null> {
		const gallery = await this.galleries.findOne({ "images.id": imageId });
		const image = gallery?.images.find(i => i.id === imageId);
		return gallery && image ? { image, productId: String(gallery._id) } : null;
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
		await this.galleries.insertOrGet({ _id: productId, images: [], revision: 0, updatedAt: new Date().toISOString() });
		const outcome = await this.galleries.change(
			productId,
			gallery => {
				const images = decide(ordered(gallery.images));
				if (images.length > MAX_IMAGES_PER_PRODUCT) throw conflict(`A product has at most ${MAX_IMAGES_PER_PRODUCT} images`, "TOO_MANY_IMAGES");
				const revision = gallery.revision + 1;
				const payload: MediaGalleryChange = { productId, imageId, revision, images: images.map(galleryImage) };
				return {
					expect: { revision: gallery.revision },
					update: { $set: { images, revision, updatedAt: new Date().toISOString() } },
					events: [domainEvent(type, payload)],
				};
			},
			{ attempts: ATTEMPTS, cause, contended: () => conflict("The product's images are being changed by someone else; try again", "CONCURRENT_CHANGE") },
		);
		if (!outcome.doc) throw notFound("Product");
		return ordered(outcome.doc.images);
	}
}
