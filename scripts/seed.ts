/**
 * Loads the catalog: the demo categories and products, and for benchmarks any number of
 * generated products. Writes through the same Collection layer as the products service, so it
 * works on the embedded store's files (DATA_DIR) and on MongoDB (MONGO_URL) alike, with the same indexes.
 *
 *   npm run seed                        the demo catalog (what is missing of it)
 *   npm run seed -- --products 100000   plus generated products until there are 100000 of them
 *
 * Generated products come from scripts/catalog-generator.ts (seed 7): a category tree of about 400
 * categories of very different sizes, thousands of Zipf-distributed words, brands, multi-word
 * names, about 10 % of products with 2 to 12 variants (size, colour, material; each its own SKU,
 * price and stock); `npm run bench` seeds through this same code, so both see the same catalog.
 * Generated products and variants have derived ids (`generatedProductId`), the same in every
 * seeded catalog. Their SKUs are written without a claim in `sku_claims`, like products from
 * before the registry: the registry checks the products themselves before it gives such a SKU out.
 *
 * Running it again adds only what is missing (categories by slug, products by SKU). With NeDB,
 * stop the shop first: a NeDB file belongs to one process, which would not see the new rows.
 * The demo catalog itself is services/products/demo-catalog.ts, which the products service also
 * loads on its first start (SEED_DEMO, default true).
 */
import { randomUUID } from "node:crypto";
import { config } from "../lib/config.js";
import { derivedId } from "../lib/contracts/ids.js";
import { Collection, createAdapter, DuplicateKeyError, type OutboxPort } from "../lib/store/index.js";
import { newEnvelope } from "../lib/contracts/events.js";
import { CATALOG_COLLECTIONS, newProduct, type CategoryRecord, type ProductRecord } from "../lib/domain/catalog.js";
import { seedCategories, seedDemoCatalog } from "../services/products/demo-catalog.js";
import { Catalog } from "../services/products/catalog-admin.js";
import { SkuRegistry, type SkuClaim } from "../services/products/skus.js";
import { generateCategories, generateProducts, sampleQueries, type GeneratedProduct } from "./catalog-generator.js";

export { seedDemoCatalog };

/** The seed of the generated catalog: the same products (and query log) on every machine and in every run. */
export const GENERATED_CATALOG_SEED = 7;
/** createdAt of the n-th generated product: one every 30 s from here, so "newest first" is a stable order. */
const GENERATED_EPOCH = Date.parse("2024-01-01T00:00:00.000Z");

/** The first `count` generated products (scripts/catalog-generator.ts, seed GENERATED_CATALOG_SEED). */
export function generatedProducts(count: number): Generator<GeneratedProduct> {
	return generateProducts({ count, seed: GENERATED_CATALOG_SEED });
}

/** The id of the n-th generated product (0-based): the same in every seeded catalog, so a benchmark can name products without asking. */
export function generatedProductId(n: number): string {
	return derivedId("generated-product", String(GENERATED_CATALOG_SEED), String(n));
}

/**
 * The n-th generated product (0-based) as a store record. A product with variants keeps its
 * options and variants (all active), its own stock at 0 and, as its price, the lowest variant
 * price (what it shows: lib/domain/variants.ts `variantAggregates`).
 */
export function generatedRecord(p: GeneratedProduct, n: number): ProductRecord {
	const at = new Date(GENERATED_EPOCH + n * 30_000).toISOString();
	const variants = (p.variants ?? []).map((v, k) => ({ ...v, id: derivedId("generated-variant", String(GENERATED_CATALOG_SEED), String(n), String(k)) }));
	return { ...newProduct(generatedProductId(n), { ...p, currency: "EUR", variants }, at), generated: true };
}

/**
 * `n` distinct queries a search box would see on the generated catalog (words, two-word phrases,
 * prefixes, typos, SKUs, a few that find nothing), drawn from its first products as seeded.
 */
export function generatedQueries(n: number, catalogSize: number): string[] {
	return sampleQueries(generatedProducts(Math.min(catalogSize, 20_000)), n, GENERATED_CATALOG_SEED);
}

/** Inserts what is missing of the generated category tree (by slug, parents first); answers how many were new. */
export async function seedGeneratedCategories(categories: Collection<CategoryRecord>): Promise<number> {
	let added = 0;
	const idOf = new Map<string, string>();
	for (const c of generateCategories(GENERATED_CATALOG_SEED)) {
		const existing = await categories.findOne({ slug: c.slug });
		if (existing) {
			idOf.set(c.slug, existing._id);
			continue;
		}
		const parentId = c.parentSlug ? (idOf.get(c.parentSlug) ?? (await categories.findOne({ slug: c.parentSlug }))?._id ?? null) : null;
		const at = new Date().toISOString();
		const record: CategoryRecord = { _id: randomUUID(), slug: c.slug, name: c.name, parentId, createdAt: at, updatedAt: at };
		try {
			await categories.insert(record);
			idOf.set(c.slug, record._id);
			added++;
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
		}
	}
	return added;
}

/**
 * Adds generated products until there are `target` of them (with the generated category tree);
 * answers how many were added. The generator is deterministic, so a second run goes on where the
 * first stopped.
 */
export async function seedGeneratedProducts(c: CatalogCollections, target: number, log: (line: string) => void = () => undefined): Promise<number> {
	await seedCategories(c.categories);
	await seedGeneratedCategories(c.categories);
	const existing = await c.products.count({ generated: true });
	if (existing >= target) return 0;
	// In bulk, below the Collection API (which inserts one at a time): mongoose's insertMany, or NeDB's array insert.
	const adapter = c.products.adapter as unknown as {
		model?: { insertMany(docs: ProductRecord[], opts: object): Promise<unknown> };
		insertMany?(docs: ProductRecord[]): Promise<unknown>;
	};
	const insert = async (batch: ProductRecord[]) => {
		if (adapter.model) await adapter.model.insertMany(batch, { ordered: false, lean: true });
		else if (adapter.insertMany) await adapter.insertMany(batch);
		else for (const doc of batch) await c.products.insert(doc);
	};
	const batchSize = 1000;
	let batch: ProductRecord[] = [];
	let added = 0;
	let n = 0;
	for (const p of generatedProducts(target)) {
		if (n >= existing) batch.push(generatedRecord(p, n));
		n++;
		if (batch.length < batchSize && n < target) continue;
		if (batch.length === 0) continue;
		await insert(batch);
		added += batch.length;
		batch = [];
		if ((existing + added) % 50_000 === 0 || n === target) log(`  ${existing + added} / ${target}`);
	}
	return added;
}

/** The collections seeding writes. */
export interface CatalogCollections {
	products: Collection<ProductRecord>;
	categories: Collection<CategoryRecord>;
}

/**
 * The products service's catalog, opened outside of a broker. Its writes carry their events in
 * the products' outboxes like the service's own; the products service publishes them when it
 * starts (its sweep of document outboxes).
 */
export async function openCatalog(): Promise<CatalogCollections & { catalog: Catalog; close(): Promise<void> }> {
	const storage = { mongoUrl: config.mongoUrl, dataDir: config.dataDir === ":memory:" ? null : config.dataDir, embedded: config.embeddedStore };
	const outbox: OutboxPort = { envelope: (type, payload) => newEnvelope("products", type, payload), written: () => undefined };
	const opened: Collection<{ _id: string }>[] = [];
	const open = async <T extends { _id: string }>(name: string) => {
		const { adapter, kind } = createAdapter(storage, "products", name, CATALOG_COLLECTIONS[name] ?? {});
		adapter.init(undefined as never, undefined as never);
		await adapter.connect();
		const collection = new Collection<T>(name, adapter, kind, () => outbox);
		opened.push(collection as unknown as Collection<{ _id: string }>);
		return collection;
	};
	const products = await open<ProductRecord>("products");
	const categories = await open<CategoryRecord>("categories");
	const catalog = new Catalog(products, categories, new SkuRegistry(await open<SkuClaim>("sku_claims"), products));
	return {
		products,
		categories,
		catalog,
		async close() {
			for (const c of opened) await c.adapter.disconnect().catch(() => undefined);
		},
	};
}

function parseArgs(argv: string[]): { products: number } {
	const i = argv.indexOf("--products");
	if (i === -1) return { products: 0 };
	const n = Number(argv[i + 1]);
	if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--products needs a whole number, got '${argv[i + 1]}'`);
	return { products: n };
}

async function main() {
	const args = parseArgs(process.argv.slice(2));
	const where = config.mongoUrl
		? `MongoDB ${config.mongoUrl.replace(/\/\/[^@]*@/, "//***@")}`
		: `${config.embeddedStore === "nedb" ? "NeDB" : "SQLite"} files in ${config.dataDir}/products`;
	console.log(`Seeding the catalog in ${where}`);
	const catalog = await openCatalog();
	try {
		const demo = await seedDemoCatalog(catalog.catalog);
		console.log(`Demo catalog: ${demo.categories} categories and ${demo.products} products added`);
		if (args.products > 0) {
			const started = Date.now();
			const added = await seedGeneratedProducts(catalog, args.products, line => console.log(line));
			console.log(`Generated products: ${added} added in ${((Date.now() - started) / 1000).toFixed(1)} s (${args.products} in all)`);
		}
	} finally {
		await catalog.close();
	}
}

if (process.argv[1]?.endsWith("scripts/seed.ts") || process.argv[1]?.endsWith("scripts/seed.js")) {
	// Exit explicitly: NeDB's compaction timer would keep the process alive.
	main().then(
		() => process.exit(0),
		err => {
			console.error("Seeding failed:", err);
			process.exit(1);
		},
	);
}
