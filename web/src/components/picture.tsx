import type { ProductImage } from "../api/types";
import { language } from "../i18n";

type Preset = "thumb" | "card" | "large";
const WIDTHS: Record<Preset, number> = { thumb: 160, card: 480, large: 1200 };

/** The URL of another rendition of an image: its `url` is the large JPEG, the others differ in the last path segment. */
export function renditionUrl(image: Pick<ProductImage, "url">, preset: Preset, format: "webp" | "avif" | "jpg"): string {
	return image.url.replace(/\/large\.jpg(?=\?|$)/, `/${preset}.${format}`);
}

/** The alt text in the visitor's language, English otherwise, the product's name as a last resort. */
export function altOf(image: Pick<ProductImage, "alt">, fallback: string): string {
	return image.alt[language.get()] ?? image.alt.en ?? Object.values(image.alt)[0] ?? fallback;
}

function srcset(image: ProductImage, format: "webp" | "avif" | "jpg", presets: Preset[]): string {
	return presets.map(p => `${renditionUrl(image, p, format)} ${Math.min(WIDTHS[p], Math.max(image.width, image.height))}w`).join(", ");
}

/**
 * An image with AVIF and WebP for browsers that take them and JPEG for the others, at the size the
 * layout needs (`sizes`); its width and height reserve its box before it loads.
 */
export function Picture(props: { image: ProductImage; fallbackAlt: string; sizes: string; presets?: Preset[]; eager?: boolean; class?: string }) {
	const { image } = props;
	const presets = props.presets ?? ["thumb", "card", "large"];
	return (
		<picture class={props.class}>
			<source type="image/avif" srcset={srcset(image, "avif", presets)} sizes={props.sizes} />
			<source type="image/webp" srcset={srcset(image, "webp", presets)} sizes={props.sizes} />
			<img
				src={renditionUrl(image, presets.includes("card") ? "card" : presets[0]!, "jpg")}
				srcset={srcset(image, "jpg", presets)}
				sizes={props.sizes}
				width={image.width}
				height={image.height}
				alt={altOf(image, props.fallbackAlt)}
				loading={props.eager ? "eager" : "lazy"}
				decoding="async"
			/>
		</picture>
	);
}
