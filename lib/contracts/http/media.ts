/** Request shapes of the product image routes (media service). See lib/contracts/params.ts. */
import { idRule } from "../ids.js";
import { type ParamsSchema, text } from "../params.js";

/** A language code of an alt text: `en`, `es`, `pt-BR`. */
export const LANGUAGE_PATTERN = /^[a-z]{2,3}(?:-[A-Z]{2})?$/;
export const MAX_ALT_LANGUAGES = 20;

export const altRule = {
	type: "record",
	key: {
		type: "string",
		pattern: LANGUAGE_PATTERN,
		messages: { stringPattern: "The '{field}' key must be a language code such as 'en' or 'pt-BR'." },
	},
	value: text(500),
	description: 'Alt text per language, e.g. { "en": "Red mug", "es": "Taza roja" }',
} as const;

export const MEDIA = {
	/**
	 * multipart/form-data: the `file` part, and before it the optional fields `alt` (a JSON object
	 * as below, or plain text taken as English) and `variantId`. Read by the media service from
	 * the stream (services/media/uploads.ts), so only the path is validated here.
	 */
	"media.upload": { id: idRule },
	"media.updateImage": {
		$$strict: true,
		id: idRule,
		imageId: idRule,
		alt: { ...altRule, optional: true },
		position: { type: "number", integer: true, min: 0, max: 1000, optional: true, description: "0 is first; the others move up" },
		variantId: { ...idRule, optional: true, nullable: true, description: "The variant the image shows, or null for the whole product" },
	},
	"media.removeImage": { id: idRule, imageId: idRule },
	"media.rendition": {
		imageId: idRule,
		preset: { type: "enum", values: ["thumb", "card", "large"], description: "thumb 160 px, card 480 px, large 1200 px (longest side)" },
		format: { type: "enum", values: ["webp", "avif", "jpg"] },
		v: { type: "string", max: 64, optional: true, description: "The content hash the image's URL carries (caches key on it)" },
	},
} as const satisfies Record<string, ParamsSchema>;
