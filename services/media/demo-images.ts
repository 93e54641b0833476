/**
 * Pictures for the demo catalog, made without any download: the SVG illustrations beside this
 * file (two colour slots, `{bg}` and `{fg}`) rendered to PNG by sharp and added like uploads, so
 * `npm start` shows a shop with pictures. Once per database: the first media node to claim the
 * `demo-images` mark does it (a restart, or a second node, finds it claimed).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { DuplicateKeyError, type Collection, type Doc } from "../../lib/store/index.js";
import type { AltText } from "../../lib/media/gallery.js";
import type { MediaLibrary } from "./library.js";

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "demo-images");

interface DemoImage {
	shape: string;
	bg: string;
	fg: string;
	alt: AltText;
	/** For a variant: the option values it must have. */
	variant?: Record<string, string>;
}

const img = (shape: string, bg: string, fg: string, en: string, es: string, variant?: Record<string, string>): DemoImage => ({
	shape,
	bg,
	fg,
	alt: { en, es },
	...(variant && { variant }),
});

/** By SKU of the demo catalog (services/products/demo-catalog.ts). */
export const DEMO_IMAGES: Record<string, DemoImage[]> = {
	"APP-TEE": [
		img("tee", "#e6fffa", "#1a202c", "Black organic cotton T-shirt", "Camiseta negra de algodón orgánico", { colour: "Black" }),
		img("tee", "#ebf8ff", "#f7fafc", "White organic cotton T-shirt", "Camiseta blanca de algodón orgánico", { colour: "White" }),
	],
	"APP-HOODIE": [img("hoodie", "#faf5ff", "#805ad5", "Purple merino hoodie", "Sudadera de merino morada")],
	"LAP-AIR-13": [img("laptop", "#ebf8ff", "#90cdf4", "Thin silver laptop, open", "Portátil plateado fino, abierto")],
	"LAP-PRO-16": [img("laptop", "#edf2f7", "#68d391", "Large laptop with a green screen", "Portátil grande con pantalla verde")],
	"PHN-MINI": [img("phone", "#fff5f7", "#f687b3", "Small black phone", "Teléfono negro pequeño")],
	"PHN-MAX": [img("phone", "#fffff0", "#f6e05e", "Large black phone", "Teléfono negro grande")],
	"AUD-HP-NC": [img("headphones", "#f0fff4", "#38a169", "Over-ear headphones", "Auriculares de diadema")],
	"AUD-SPK-01": [img("speaker", "#fffaf0", "#ed8936", "A pair of bookshelf speakers", "Un par de altavoces de estantería")],
	"AUD-EAR-02": [img("earbuds", "#ebf4ff", "#4c51bf", "Two wireless earbuds", "Dos auriculares inalámbricos")],
	"KIT-KNIFE-8": [img("knife", "#fff5f5", "#9b2c2c", "Chef's knife with a red handle", "Cuchillo de chef con mango rojo")],
	"KIT-PAN-28": [img("pan", "#fefcbf", "#744210", "Cast iron pan", "Sartén de hierro fundido")],
	"KIT-KETTLE": [img("kettle", "#e6fffa", "#319795", "Teal gooseneck kettle", "Hervidor de cuello de cisne turquesa")],
	"FUR-DESK-ST": [img("desk", "#f7fafc", "#b7791f", "Standing desk with a wooden top", "Escritorio elevable con tablero de madera")],
	"FUR-CHAIR-E": [img("chair", "#edf2f7", "#2b6cb0", "Blue office chair", "Silla de oficina azul")],
	"FUR-LAMP-01": [img("lamp", "#fffff0", "#d69e2e", "Reading lamp with a yellow shade", "Lámpara de lectura con pantalla amarilla")],
	"BK-FIC-001": [img("book", "#ebf8ff", "#2c5282", "Blue book cover", "Portada de libro azul")],
	"BK-FIC-002": [img("book", "#f0fff4", "#276749", "Green book cover", "Portada de libro verde")],
	"BK-NF-001": [img("book", "#fff5f7", "#97266d", "Magenta book cover", "Portada de libro magenta")],
	"BK-NF-002": [img("book", "#fffaf0", "#c05621", "Orange book cover", "Portada de libro naranja")],
	"OUT-TENT-2": [img("tent", "#f0fff4", "#dd6b20", "Orange two-person tent", "Tienda naranja para dos personas")],
	"OUT-BOTTLE": [img("bottle", "#ebf8ff", "#3182ce", "Blue insulated bottle", "Botella aislante azul")],
	"OUT-LAMP-H": [img("headlamp", "#1a202c", "#e53e3e", "Red head lamp", "Linterna frontal roja")],
};

/** The PNG of one demo image (600 px square). */
export async function renderDemoImage(image: DemoImage): Promise<Buffer> {
	const template = await fs.promises.readFile(path.join(DIR, `${image.shape}.svg`), "utf8");
	const svg = template.replaceAll("{bg}", image.bg).replaceAll("{fg}", image.fg);
	return sharp(Buffer.from(svg)).png().toBuffer();
}

interface CatalogRow {
	id: string;
	sku: string;
	variants?: { id: string; options: Record<string, string> }[];
}

const matches = (v: { options: Record<string, string> }, wanted: Record<string, string>) => Object.entries(wanted).every(([k, val]) => v.options[k] === val);

/**
 * Give the demo products their pictures, once. `productBySku` finds a product of the catalog on
 * sale (the demo catalog is loaded by the products service); nothing happens when none is there.
 */
export async function seedDemoImages(
	library: MediaLibrary,
	marks: Collection<Doc & { at: string }>,
	productBySku: (sku: string) => Promise<CatalogRow | undefined>,
): Promise<number> {
	const products = (await Promise.all(Object.keys(DEMO_IMAGES).map(productBySku))).filter((p): p is CatalogRow => p !== undefined);
	if (products.length === 0) return 0;
	try {
		await marks.insert({ _id: "demo-images", at: new Date().toISOString() });
	} catch (err) {
		if (err instanceof DuplicateKeyError) return 0;
		throw err;
	}
	let added = 0;
	for (const product of products) {
		for (const image of DEMO_IMAGES[product.sku] ?? []) {
			// A picture of a colour belongs to the first variant of that colour.
			const variantId = image.variant ? ((product.variants ?? []).find(v => matches(v, image.variant!))?.id ?? null) : null;
			await library.add(product.id, { data: await renderDemoImage(image), format: "png" }, { alt: image.alt, variantId }, null);
			added++;
		}
	}
	return added;
}
