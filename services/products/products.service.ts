/**
 * products: the catalog. The rules are lib/domain/catalog.ts; the work is in the modules beside
 * this file:
 *
 *   catalog-admin.ts products and the category tree (admin), prices for carts
 *   variant-admin.ts a product's variants and their stock (admin)
 *   skus.ts          SKUs unique across products and variants
 *   search.ts        search and browse, from this node's index (a read model of the catalog)
 *   inventory.ts     holds, sales, releases and restocks: the catalog's part of the checkout saga
 *   demo-catalog.ts  the catalog a new shop starts with (SEED_DEMO)
 *   csv-transfer.ts  the catalog imported from and exported as CSV (admin)
 */
import type { Service } from "moleculer";
import { defineService } from "../../lib/broker/service.js";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin.js";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin.js";
import { config } from "../../lib/config.js";
import { invalidField, validationError } from "../../lib/errors.js";
import { hasRole, type ShopContext } from "../../lib/auth/access.js";
import { paged } from "../../lib/paging.js";
import { isId } from "../../lib/contracts/ids.js";
import { CATALOG } from "../../lib/contracts/http/catalog.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import { CATALOG_COLLECTIONS, publicProduct, searchRow, type CategoryRecord } from "../../lib/domain/catalog.js";
import { Catalog, FOLLOW_GALLERIES, type StoredProduct } from "./catalog-admin.js";
import { Variants } from "./variant-admin.js";
import { SkuRegistry, type SkuClaim } from "./skus.js";
import { ProductSearch } from "./search.js";
import { setSearchIndexFigures } from "../../lib/observability/metrics.js";
import { Inventory, type StoredReservation } from "./inventory.js";
import { seedDemoCatalog } from "./demo-catalog.js";
import { CatalogImports, CSV_ACTIONS, IMPORT_JOB_COLLECTIONS, type ImportJob } from "./csv-transfer.js";

type Params<A extends keyof typeof CATALOG> = ParamsOf<(typeof CATALOG)[A]>;

interface ProductsState {
	catalog: Catalog;
	variants: Variants;
	searcher: ProductSearch;
	inventory: Inventory;
	imports: CatalogImports;
}
type ProductsThis = Service & DbMethods & EventsMethods & ProductsState;

const ProductsService = defineService<ProductsThis>({
	name: "products",
	// EventsMixin first: mixins start last-listed first, so the database is connected before events flow.
	mixins: [EventsMixin({ outbox: ["reservations"], documentOutbox: ["products"] }), DbMixin({ ...CATALOG_COLLECTIONS, ...IMPORT_JOB_COLLECTIONS })],

	actions: {
		// ---- Catalog, public
		search: {
			idempotent: true,
			auth: "public",
			params: CATALOG["products.search"],
			async handler(ctx: ShopContext<Params<"products.search">>) {
				const { minPrice, maxPrice, page, pageSize } = ctx.params;
				if (minPrice !== undefined && maxPrice !== undefined && minPrice > maxPrice)
					throw invalidField("minPrice", "minPrice must not be greater than maxPrice.", "range");
				const { rows, total, facets } = await this.searcher.search(ctx.params);
				return { ...paged(rows.map(searchRow), total, page, pageSize), ...(facets ? { facets } : {}) };
			},
		},
		get: {
			idempotent: true,
			auth: "public",
			params: CATALOG["products.get"],
			async handler(ctx: ShopContext<Params<"products.get">>) {
				return publicProduct(await this.catalog.product(ctx.params.id, { includeInactive: hasRole(ctx.meta.user, "admin") }));
			},
		},
		categoryTree: {
			idempotent: true,
			auth: "public",
			handler() {
				return this.catalog.tree();
			},
		},

		// ---- Catalog, admin
		create: {
			roles: ["admin"],
			params: CATALOG["products.create"],
			handler(ctx: ShopContext<Params<"products.create">>) {
				return this.catalog.create(ctx.params);
			},
		},
		update: {
			roles: ["admin"],
			params: CATALOG["products.update"],
			handler(ctx: ShopContext<Params<"products.update">>) {
				return this.catalog.update(ctx.params);
			},
		},
		remove: {
			roles: ["admin"],
			params: CATALOG["products.remove"],
			async handler(ctx: ShopContext<Params<"products.remove">>) {
				await this.catalog.remove(ctx.params.id);
				return null;
			},
		},
		adjustInventory: {
			roles: ["admin"],
			params: CATALOG["products.adjustInventory"],
			handler(ctx: ShopContext<Params<"products.adjustInventory">>) {
				const { id, delta, stock } = ctx.params;
				if ((delta === undefined) === (stock === undefined))
					throw validationError(["delta", "stock"].map(field => ({ field, message: "Give exactly one of 'delta' and 'stock'.", type: "oneOf" })));
				return this.catalog.adjustStock(id, delta, stock);
			},
		},
		createVariant: {
			roles: ["admin"],
			params: CATALOG["products.createVariant"],
			handler(ctx: ShopContext<Params<"products.createVariant">>) {
				return this.variants.create(ctx.params);
			},
		},
		updateVariant: {
			roles: ["admin"],
			params: CATALOG["products.updateVariant"],
			handler(ctx: ShopContext<Params<"products.updateVariant">>) {
				return this.variants.update(ctx.params);
			},
		},
		removeVariant: {
			roles: ["admin"],
			params: CATALOG["products.removeVariant"],
			async handler(ctx: ShopContext<Params<"products.removeVariant">>) {
				await this.variants.remove(ctx.params.id, ctx.params.variantId);
				return null;
			},
		},
		adjustVariantInventory: {
			roles: ["admin"],
			params: CATALOG["products.adjustVariantInventory"],
			handler(ctx: ShopContext<Params<"products.adjustVariantInventory">>) {
				const { delta, stock } = ctx.params;
				if ((delta === undefined) === (stock === undefined))
					throw validationError(["delta", "stock"].map(field => ({ field, message: "Give exactly one of 'delta' and 'stock'.", type: "oneOf" })));
				return this.variants.adjustStock(ctx.params);
			},
		},
		createCategory: {
			roles: ["admin"],
			params: CATALOG["products.createCategory"],
			handler(ctx: ShopContext<Params<"products.createCategory">>) {
				return this.catalog.createCategory(ctx.params);
			},
		},
		updateCategory: {
			roles: ["admin"],
			params: CATALOG["products.updateCategory"],
			handler(ctx: ShopContext<Params<"products.updateCategory">>) {
				return this.catalog.updateCategory(ctx.params);
			},
		},
		removeCategory: {
			roles: ["admin"],
			params: CATALOG["products.removeCategory"],
			async handler(ctx: ShopContext<Params<"products.removeCategory">>) {
				await this.catalog.removeCategory(ctx.params.id);
				return null;
			},
		},

		...CSV_ACTIONS,

		// ---- Internal: other services, never the gateway.
		/** Current name, price, currency and availability of products (carts and checkout price themselves with these). */
		byIds: {
			idempotent: true,
			visibility: "public",
			params: { ids: { type: "array", max: 100, items: "string" } },
			handler(ctx: ShopContext<{ ids: string[] }>) {
				return this.catalog.prices(ctx.params.ids);
			},
		},
	},

	integrationEvents: {
		"order.placed": async function (event, ctx) {
			await this.inventory.placed(event.payload.orderId, event.payload.items, ctx);
		},
		"order.paid": async function (event) {
			if (!(await this.inventory.paid(event.payload.orderId))) this.logger.warn(`order.paid for order ${event.payload.orderId} which has no reservation`);
		},
		"order.cancelled": async function (event) {
			await this.inventory.cancelled(event.payload.orderId, event.payload.items);
		},
		...FOLLOW_GALLERIES,
		"return.approved": async function (event) {
			const { returnId, items } = event.payload;
			// It becomes part of a field path (`restocked.<returnId>`).
			if (!isId(returnId)) return this.logger.warn(`return.approved with an unusable returnId '${returnId}'; ignored`);
			await this.inventory.restock(returnId, items);
		},
	},

	/** The search index of this node follows every change of the catalog, whichever node made it. */
	everyNodeEvents: {
		"product.created": async function (event) {
			await this.searcher.refresh(event.payload.productId);
		},
		"product.updated": async function (event) {
			await this.searcher.refresh(event.payload.productId);
		},
		"product.deleted": async function (event) {
			await this.searcher.refresh(event.payload.productId);
		},
		"stock.changed": async function (event) {
			await this.searcher.refresh(event.payload.productId);
		},
	},

	methods: {
		readinessChecks() {
			return { "search-index": this.searcher.ready ? { ok: true } : { ok: false, detail: "building" } };
		},
	},

	created() {
		const products = this.collection<StoredProduct>("products");
		const categories = this.collection<CategoryRecord>("categories");
		this.catalog = new Catalog(products, categories, new SkuRegistry(this.collection<SkuClaim>("sku_claims"), products));
		this.variants = new Variants(this.catalog);
		this.searcher = new ProductSearch(products, categories, figures => setSearchIndexFigures(this.broker, figures));
		this.inventory = new Inventory(products, this.collection<StoredReservation>("reservations"));
		this.imports = new CatalogImports(this.catalog, this.variants, this.collection<ImportJob>("import_jobs"), this.broker.nodeID, this.logger);
	},

	async started() {
		if (config.seedDemo && (await this.catalog.products.count({})) === 0) {
			const { products, categories } = await seedDemoCatalog(this.catalog);
			this.logger.info(`Empty catalog: loaded the demo catalog (${categories} categories, ${products} products). SEED_DEMO=false turns this off.`);
		}
		await this.imports.abandonInterrupted();
		const started = Date.now();
		await this.searcher.build();
		this.logger.info(`Search index built: ${this.searcher.size} products on sale in ${Date.now() - started} ms`);
	},

	stopped() {
		this.searcher.stop();
	},
});

export default ProductsService;
