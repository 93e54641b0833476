/**
 * Loads the catalog: the demo categories and products, and for benchmarks any number of
 * generated products. Writes through the same Collection layer as the products service, so it
 * works on NeDB files (DATA_DIR) and on MongoDB (MONGO_URL) alike, with the same indexes.
 *
 *   npm run seed                        the demo catalog (what is missing of it)
 *   npm run seed -- --products 100000   plus generated products until there are 100000 of them
 *
 * Running it again adds only what is missing (categories by slug, products by SKU). With NeDB,
 * stop the shop first: a NeDB file belongs to one process, which would not see the new rows.
 * The demo catalog itself is services/products/demo-catalog.ts, which the products service also
 * loads on its first start (SEED_DEMO, default true).
 */
import { config } from "../lib/config.js";
import { Collection, createAdapter } from "../lib/store/index.js";
import { CATALOG_COLLECTIONS, type CategoryRecord, type ProductRecord } from "../lib/domain/catalog.js";
import { DEMO_CATEGORIES, newProductRecord, seedCategories, seedDemoCatalog, type CatalogCollections } from "../services/products/demo-catalog.js";

export { seedDemoCatalog };

const ADJECTIVES = ["Compact", "Classic", "Rugged", "Silent", "Bright", "Modular", "Vintage", "Smart", "Solid", "Foldable", "Wireless", "Heavy-duty"];
const NOUNS = ["Lamp", "Kettle", "Backpack", "Speaker", "Notebook", "Chair", "Jacket", "Router", "Blender", "Tent", "Keyboard", "Mug", "Drill", "Monitor"];
const LEAF_CATEGORIES = DEMO_CATEGORIES.filter(c => !DEMO_CATEGORIES.some(d => d.parent === c.slug)).map(c => c.slug);

/** The n-th generated product: deterministic, so runs and benchmarks can be compared. */
export function generatedProduct(n: number, at: string): ProductRecord {
	const adjective = ADJECTIVES[n % ADJECTIVES.length]!;
	const noun = NOUNS[Math.floor(n / ADJECTIVES.length) % NOUNS.length]!;
	const category = LEAF_CATEGORIES[n % LEAF_CATEGORIES.length]!;
	return newProductRecord(
		{
			sku: `GEN-${String(n).padStart(7, "0")}`,
			name: `${adjective} ${noun} ${n}`,
			description: `Generated product number ${n}: a ${adjective.toLowerCase()} ${noun.toLowerCase()} for load tests.`,
			price: 100 + ((n * 7919) % 100_000),
			categories: [category],
			stock: (n * 31) % 200,
		},
		at,
		true,
	);
}

/** Adds generated products until there are `target` of them; answers how many were added. */
export async function seedGeneratedProducts(c: CatalogCollections, target: number, log: (line: string) => void = () => undefined): Promise<number> {
	await seedCategories(c.categories);
	const existing = await c.products.count({ generated: true });
	const batchSize = 1000;
	let added = 0;
	for (let n = existing + 1; n <= target; n += batchSize) {
		const at = new Date().toISOString();
		const batch = Array.from({ length: Math.min(batchSize, target - n + 1) }, (_, i) => generatedProduct(n + i, at));
		// In bulk, below the Collection API (which inserts one at a time): mongoose's insertMany, or NeDB's array insert.
		const adapter = c.products.adapter as unknown as {
			model?: { insertMany(docs: ProductRecord[], opts: object): Promise<unknown> };
			insertMany?(docs: ProductRecord[]): Promise<unknown>;
		};
		if (adapter.model) await adapter.model.insertMany(batch, { ordered: false, lean: true });
		else if (adapter.insertMany) await adapter.insertMany(batch);
		else for (const doc of batch) await c.products.insert(doc);
		added += batch.length;
		if (added % 10_000 === 0 || n + batchSize > target) log(`  ${existing + added} / ${target}`);
	}
	return added;
}

/** The products service's catalog collections, opened outside of a broker. */
export async function openCatalog(): Promise<CatalogCollections & { close(): Promise<void> }> {
	const storage = { mongoUrl: config.mongoUrl, dataDir: config.dataDir === ":memory:" ? null : config.dataDir };
	const open = async <T extends { _id: string }>(name: string) => {
		const { adapter, kind } = createAdapter(storage, "products", name, CATALOG_COLLECTIONS[name] ?? {});
		adapter.init(undefined as never, undefined as never);
		await adapter.connect();
		return new Collection<T>(name, adapter, kind);
	};
	const products = await open<ProductRecord>("products");
	const categories = await open<CategoryRecord>("categories");
	return {
		products,
		categories,
		async close() {
			await products.adapter.disconnect();
			await categories.adapter.disconnect().catch(() => undefined);
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
	const where = config.mongoUrl ? `MongoDB ${config.mongoUrl.replace(/\/\/[^@]*@/, "//***@")}` : `NeDB files in ${config.dataDir}/products`;
	console.log(`Seeding the catalog in ${where}`);
	const catalog = await openCatalog();
	try {
		const demo = await seedDemoCatalog(catalog);
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
