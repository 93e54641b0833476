/**
 * The sizes and formats the shop serves an image in. A preset bounds the longest side; an image
 * smaller than that is served at its own size (never upscaled).
 */
export const PRESETS = { thumb: 160, card: 480, large: 1200 } as const;
export type Preset = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as Preset[];

/**
 * The stored original's longest side at most: twice the largest preset (a 2× screen's `large`).
 * A 12-megapixel phone photo is stored at 2400×1800, which costs a fraction of re-encoding it whole.
 */
export const ORIGINAL_MAX_SIDE = 2 * PRESETS.large;

export const OUTPUT_FORMATS = ["webp", "avif", "jpg"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const OUTPUT_CONTENT_TYPES: Record<OutputFormat, string> = { webp: "image/webp", avif: "image/avif", jpg: "image/jpeg" };

/** Encoder settings per format: sizes for the web, not archival quality. */
export const ENCODER_OPTIONS = {
	webp: { quality: 80, effort: 4 },
	avif: { quality: 55, effort: 2 },
	jpg: { quality: 82, mozjpeg: true },
} as const;

export function isPreset(value: unknown): value is Preset {
	return typeof value === "string" && Object.hasOwn(PRESETS, value);
}
export function isOutputFormat(value: unknown): value is OutputFormat {
	return typeof value === "string" && (OUTPUT_FORMATS as readonly string[]).includes(value);
}

/** The size of `width`×`height` scaled so that its longest side is at most `longest`, keeping its aspect ratio. */
export function fitWithin(width: number, height: number, longest: number): { width: number; height: number } {
	if (!(width > 0 && height > 0 && longest > 0)) throw new RangeError(`Not a size: ${width}x${height} within ${longest}`);
	const scale = Math.min(1, longest / Math.max(width, height));
	return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** The rendition of an image in a preset and format: its size. */
export function renditionSize(original: { width: number; height: number }, preset: Preset) {
	return fitWithin(original.width, original.height, PRESETS[preset]);
}
