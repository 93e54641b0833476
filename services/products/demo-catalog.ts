/**
 * The demo catalog the one-process shop starts with (SEED_DEMO, default true): a small category
 * tree and twenty-two products, two of them sold in variants (a T-shirt in three sizes and two
 * colours, a hoodie in two sizes), loaded on the first start when the catalog is empty, or by
 * `npm run seed`. What is missing is added (categories by slug, products by SKU), so it is safe
 * to run again and on several nodes at once.
 */
import { randomUUID } from "node:crypto";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import type { CategoryRecord, ProductRecord } from "../../lib/domain/catalog.js";
import type { ProductOption, VariantRecord } from "../../lib/domain/variants.js";

export interface CatalogCollections {
	products: Collection<ProductRecord>;
	categories: Collection<CategoryRecord>;
}

export interface DemoCategory {
	slug: string;
	name: string;
	parent?: string;
}
export interface DemoProduct {
	sku: string;
	name: string;
	description: string;
	price: number;
	categories: string[];
	/** A product sold in variants: its own stock is 0 and its price the lowest variant's. */
	stock: number;
	options?: ProductOption[];
	variants?: DemoVariant[];
}
export interface DemoVariant {
	sku: string;
	options: Record<string, string>;
	price: number;
	stock: number;
}

const SIZES: ProductOption = { name: "size", values: ["S", "M", "L"] };
const COLOURS: ProductOption = { name: "colour", values: ["Black", "White"] };

/** Every combination of sizes and colours, priced by size, with the stock `stockOf` gives. */
function tshirtVariants(stockOf: (size: string, colour: string) => number): DemoVariant[] {
	return SIZES.values.flatMap(size =>
		COLOURS.values.map(colour => ({
			sku: `APP-TEE-${colour.slice(0, 3).toUpperCase()}-${size}`,
			options: { size, colour },
			price: size === "L" ? 2200 : 1900,
			stock: stockOf(size, colour),
		})),
	);
}

export const DEMO_CATEGORIES: DemoCategory[] = [
	{ slug: "electronics", name: "Electronics" },
	{ slug: "laptops", name: "Laptops", parent: "electronics" },
	{ slug: "phones", name: "Phones", parent: "electronics" },
	{ slug: "audio", name: "Audio", parent: "electronics" },
	{ slug: "home", name: "Home & Kitchen" },
	{ slug: "kitchen", name: "Kitchen", parent: "home" },
	{ slug: "furniture", name: "Furniture", parent: "home" },
	{ slug: "books", name: "Books" },
	{ slug: "fiction", name: "Fiction", parent: "books" },
	{ slug: "non-fiction", name: "Non-fiction", parent: "books" },
	{ slug: "outdoor", name: "Outdoor" },
	{ slug: "clothing", name: "Clothing" },
];

export const DEMO_PRODUCTS: DemoProduct[] = [
	{
		sku: "APP-TEE",
		name: "Organic Cotton T-shirt",
		description: "A heavy organic cotton T-shirt with a relaxed fit, in three sizes and two colours.",
		price: 1900,
		categories: ["clothing"],
		stock: 0,
		options: [SIZES, COLOURS],
		// White in L has sold out: the product page shows it as unavailable.
		variants: tshirtVariants((size, colour) => (size === "L" && colour === "White" ? 0 : size === "M" ? 25 : 10)),
	},
	{
		sku: "APP-HOODIE",
		name: "Merino Hoodie",
		description: "A light merino wool hoodie for cool evenings outside.",
		price: 8900,
		categories: ["clothing", "outdoor"],
		stock: 0,
		options: [{ name: "size", values: ["M", "L"] }],
		variants: [
			{ sku: "APP-HOODIE-M", options: { size: "M" }, price: 8900, stock: 6 },
			{ sku: "APP-HOODIE-L", options: { size: "L" }, price: 8900, stock: 4 },
		],
	},
	{
		sku: "LAP-AIR-13",
		name: "Featherweight 13 Laptop",
		description: "A 1.1 kg laptop with a 13-inch matte display and an all-day battery.",
		price: 99900,
		categories: ["laptops"],
		stock: 12,
	},
	{
		sku: "LAP-PRO-16",
		name: "Workstation 16 Laptop",
		description: "16-inch laptop with 32 GB of memory for builds, renders and virtual machines.",
		price: 219900,
		categories: ["laptops"],
		stock: 5,
	},
	{
		sku: "PHN-MINI",
		name: "Pocket Mini Phone",
		description: "A small phone with a big battery and a headphone jack.",
		price: 44900,
		categories: ["phones"],
		stock: 30,
	},
	{
		sku: "PHN-MAX",
		name: "Horizon Max Phone",
		description: "Large OLED screen, three cameras, wireless charging.",
		price: 109900,
		categories: ["phones"],
		stock: 18,
	},
	{
		sku: "AUD-HP-NC",
		name: "Quiet Hours Headphones",
		description: "Over-ear wireless headphones with active noise cancelling.",
		price: 27900,
		categories: ["audio"],
		stock: 40,
	},
	{
		sku: "AUD-SPK-01",
		name: "Bookshelf Speaker Pair",
		description: "Two passive bookshelf speakers with warm, clear sound.",
		price: 19900,
		categories: ["audio"],
		stock: 8,
	},
	{
		sku: "AUD-EAR-02",
		name: "Trail Earbuds",
		description: "Sweat-proof wireless earbuds for running.",
		price: 7900,
		categories: ["audio", "outdoor"],
		stock: 60,
	},
	{
		sku: "KIT-KNIFE-8",
		name: "Chef's Knife 8\"",
		description: "Forged stainless steel chef's knife with a full tang.",
		price: 8900,
		categories: ["kitchen"],
		stock: 25,
	},
	{
		sku: "KIT-PAN-28",
		name: "Cast Iron Pan 28 cm",
		description: "Pre-seasoned cast iron skillet that lasts a lifetime.",
		price: 4900,
		categories: ["kitchen"],
		stock: 22,
	},
	{
		sku: "KIT-KETTLE",
		name: "Gooseneck Kettle",
		description: "Electric kettle with temperature control for pour-over coffee.",
		price: 6900,
		categories: ["kitchen"],
		stock: 15,
	},
	{
		sku: "FUR-DESK-ST",
		name: "Standing Desk",
		description: "Electric sit-stand desk, 140 x 70 cm, with memory presets.",
		price: 54900,
		categories: ["furniture"],
		stock: 4,
	},
	{
		sku: "FUR-CHAIR-E",
		name: "Ergonomic Office Chair",
		description: "Adjustable lumbar support, armrests and seat depth.",
		price: 34900,
		categories: ["furniture"],
		stock: 7,
	},
	{
		sku: "FUR-LAMP-01",
		name: "Reading Lamp",
		description: "Dimmable LED floor lamp with a warm light for reading.",
		price: 5900,
		categories: ["furniture"],
		stock: 20,
	},
	{
		sku: "BK-FIC-001",
		name: "The Long Harbour",
		description: "A novel about a lighthouse keeper and the town that forgot him.",
		price: 1899,
		categories: ["fiction"],
		stock: 50,
	},
	{
		sku: "BK-FIC-002",
		name: "Seven Winters",
		description: "Short stories set in the far north, one for every winter.",
		price: 1499,
		categories: ["fiction"],
		stock: 35,
	},
	{
		sku: "BK-NF-001",
		name: "Designing Distributed Shops",
		description: "Events, outboxes and sagas explained with a working e-commerce backend.",
		price: 3999,
		categories: ["non-fiction"],
		stock: 10,
	},
	{
		sku: "BK-NF-002",
		name: "Bread at Home",
		description: "Sourdough, rye and flatbreads, step by step, with a kitchen scale.",
		price: 2499,
		categories: ["non-fiction", "kitchen"],
		stock: 14,
	},
	{
		sku: "OUT-TENT-2",
		name: "Two-Person Tent",
		description: "Light three-season tent, packs to the size of a water bottle.",
		price: 24900,
		categories: ["outdoor"],
		stock: 6,
	},
	{
		sku: "OUT-BOTTLE",
		name: "Insulated Bottle 750 ml",
		description: "Keeps drinks cold for 24 hours or hot for 12.",
		price: 2900,
		categories: ["outdoor", "kitchen"],
		stock: 80,
	},
	{
		sku: "OUT-LAMP-H",
		name: "Head Lamp",
		description: "Rechargeable 400-lumen head lamp with a red night mode.",
		price: 3900,
		categories: ["outdoor"],
		stock: 0,
	},
];

const CURRENCY = "EUR";

/** Inserts what is missing of the demo categories (by slug); answers how many were new. */
export async function seedCategories(categories: Collection<CategoryRecord>): Promise<number> {
	let added = 0;
	for (const c of DEMO_CATEGORIES) {
		if (await categories.findOne({ slug: c.slug })) continue;
		// Parents come first in DEMO_CATEGORIES; look the parent up by slug (another node may have made it).
		const parent = c.parent ? await categories.findOne({ slug: c.parent }) : null;
		const at = new Date().toISOString();
		try {
			await categories.insert({ _id: randomUUID(), slug: c.slug, name: c.name, parentId: parent?._id ?? null, createdAt: at, updatedAt: at });
			added++;
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
		}
	}
	return added;
}

export function newProductRecord(p: DemoProduct, at: string, generated = false): ProductRecord {
	const variants = (p.variants ?? []).map((v): VariantRecord => ({
		id: randomUUID(),
		sku: v.sku,
		options: v.options,
		price: v.price,
		stock: v.stock,
		available: v.stock,
		active: true,
		holds: {},
		restocked: {},
		deletedAt: null,
		createdAt: at,
		updatedAt: at,
	}));
	return {
		_id: randomUUID(),
		sku: p.sku,
		name: p.name,
		description: p.description,
		price: p.price,
		currency: CURRENCY,
		categories: p.categories,
		stock: p.stock,
		available: p.stock,
		active: true,
		holds: {},
		restocked: {},
		deletedAt: null,
		...(variants.length > 0 ? { options: p.options ?? [], variants, price: Math.min(...variants.map(v => v.price)), stock: 0, available: 0 } : {}),
		...(generated ? { generated: true } : {}),
		createdAt: at,
		updatedAt: at,
	};
}

/** The demo catalog, what is missing of it. Safe to run concurrently on several nodes. */
export async function seedDemoCatalog(c: CatalogCollections): Promise<{ categories: number; products: number }> {
	const categories = await seedCategories(c.categories);
	let products = 0;
	for (const [i, p] of DEMO_PRODUCTS.entries()) {
		if (await c.products.findOne({ sku: p.sku })) continue;
		// Distinct createdAt values keep "newest first" stable.
		const at = new Date(Date.now() - (DEMO_PRODUCTS.length - i) * 1000).toISOString();
		try {
			await c.products.insert(newProductRecord(p, at));
			products++;
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
		}
	}
	return { categories, products };
}
