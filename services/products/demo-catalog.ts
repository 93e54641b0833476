/**
 * The demo catalog the one-process shop starts with (SEED_DEMO, default true): a small category
 * tree and twenty-two products, two of them sold in variants (a T-shirt in three sizes and two
 * colours, a hoodie in two sizes), loaded on the first start when the catalog is empty, or by
 * `npm run seed`. The data is demo-catalog.json. Products come in through the catalog's own write
 * path (`Catalog.add`: SKU claims, product.created events), so every products node's search sees
 * them. What is missing is added (categories by slug, products by SKU), so it is safe to run
 * again and on several nodes at once.
 */
import { randomUUID } from "node:crypto";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import { newProduct, type CategoryRecord } from "../../lib/domain/catalog.js";
import type { ProductOption } from "../../lib/domain/variants.js";
import type { Catalog } from "./catalog-admin.js";
import demo from "./demo-catalog.json" with { type: "json" };

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

const CURRENCY: string = demo.currency;
/** Parents before their children. */
export const DEMO_CATEGORIES: readonly DemoCategory[] = demo.categories;
export const DEMO_PRODUCTS: readonly DemoProduct[] = demo.products;

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

/** The demo catalog, what is missing of it. Safe to run concurrently on several nodes. */
export async function seedDemoCatalog(catalog: Catalog): Promise<{ categories: number; products: number }> {
	const categories = await seedCategories(catalog.categories);
	let products = 0;
	for (const [i, p] of DEMO_PRODUCTS.entries()) {
		if (await catalog.products.findOne({ sku: p.sku })) continue;
		// Distinct createdAt values keep "newest first" stable.
		const at = new Date(Date.now() - (DEMO_PRODUCTS.length - i) * 1000).toISOString();
		const variants = p.variants?.map(v => ({ ...v, id: randomUUID() }));
		try {
			await catalog.add(newProduct(randomUUID(), { ...p, currency: CURRENCY, variants }, at));
			products++;
		} catch (err) {
			// Another node (or an earlier run) has it: 409 for its SKU.
			if ((err as { code?: number }).code !== 409) throw err;
		}
	}
	return { categories, products };
}
