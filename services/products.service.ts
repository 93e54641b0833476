/**
 * products: the catalog. Products and the category tree (admin CRUD), search, inventory,
 * and the catalog's part of the checkout saga: hold every line of an order or none
 * (`order.placed` → `stock.reserved` / `stock.rejected`), take held stock out on `order.paid`,
 * give it back on `order.cancelled`, and put returned items back on `return.approved`.
 *
 * The saga's state here is one `reservations` document per order. Its status is decided first
 * with a compare-and-set; the product documents are then made to match it with conditional
 * updates keyed by the order (`holds.<orderId>`) or the return (`restocked.<id>`), so running
 * any step again, or two nodes running it at once, changes nothing more.
 */
import { randomUUID } from "node:crypto";
import type { Context, Service } from "moleculer";
import { defineService } from "../lib/service.js";
import { EventsMixin } from "../mixins/events.mixin.js";
import { DbMixin } from "../mixins/db.mixin.js";
import { config } from "../lib/config.js";
import { conflict, invalidField, notFound, validationError } from "../lib/errors.js";
import { hasRole, type ShopContext } from "../lib/auth/access.js";
import { offsetOf, pageParams, paged } from "../lib/paging.js";
import { DuplicateKeyError, type Collection, type Query } from "../lib/store.js";
import type { EventEnvelope, EventPayloads, EventType, ItemQuantity } from "../lib/events/catalog.js";
import { isCurrencyCode, MAX_UNIT_PRICE } from "../lib/domain/money.js";
import { mergeQuantities } from "../lib/domain/items.js";
import { CATALOG } from "../lib/contracts/http/catalog.js";
import { isId } from "../lib/contracts/ids.js";
import {
	CATALOG_COLLECTIONS,
	MAX_CATEGORIES_PER_PRODUCT,
	SKU_PATTERN,
	SLUG_PATTERN,
	SORTS,
	categoryTree,
	holdOrder,
	makesCycle,
	markerPath,
	publicCategory,
	publicProduct,
	relevanceTiers,
	slugsUnder,
	sortFields,
	statusAfterCancel,
	textQuery,
	type CategoryRecord,
	type ProductRecord,
	type ProductSort,
	type ReservationRecord,
	type ReservationStatus,
} from "../lib/domain/catalog.js";
import { seedDemoCatalog } from "../scripts/seed.js";

type Outboxed<T> = T & { outbox?: EventEnvelope[] };


interface ProductInput {
	sku: string;
	name: string;
	description?: string;
	price: number;
	currency: string;
	categories?: string[];
	stock?: number;
	active?: boolean;
}

type Self = Service & {
	products: Collection<ProductRecord>;
	categories: Collection<CategoryRecord>;
	reservations: Collection<Outboxed<ReservationRecord>>;
	collection<T extends { _id: string }>(name: string): Collection<T>;
	domainEvent<T extends EventType>(type: T, payload: EventPayloads[T], ctx?: Context | null): EventEnvelope<T>;
	relayOutbox(): Promise<void>;
	findProduct(id: string, opts?: { includeInactive?: boolean }): Promise<ProductRecord>;
	findCategory(id: string): Promise<CategoryRecord>;
	checkCurrencyAndCategories(currency: string | undefined, slugs: string[] | undefined): Promise<void>;
	search(params: SearchParams): Promise<{ rows: ProductRecord[]; total: number }>;
	reservation(orderId: string, items: ItemQuantity[], status: ReservationStatus): Promise<ReservationRecord>;
	holdLine(orderId: string, line: ItemQuantity): Promise<boolean>;
	settle(reservation: ReservationRecord): Promise<void>;
	moveReservation(orderId: string, next: (status: ReservationStatus) => ReservationStatus): Promise<ReservationRecord | null>;
	restock(key: string, items: ItemQuantity[]): Promise<void>;
	ensureTextIndex(): Promise<void>;
};

interface SearchParams {
	q?: string;
	category?: string;
	minPrice?: number;
	maxPrice?: number;
	inStock?: boolean;
	sort?: ProductSort;
	page: number;
	pageSize: number;
}

const now = () => new Date().toISOString();

const ProductsService = defineService<Self>({
	name: "products",
	// EventsMixin first: mixins start last-listed first, so the database is connected before events flow.
	mixins: [EventsMixin({ outbox: ["reservations"] }), DbMixin(CATALOG_COLLECTIONS)],

	actions: {
		// ---- Catalog, public
		search: {
			auth: "public",
			params: CATALOG["products.search"],
			async handler(ctx: ShopContext<SearchParams>) {
				const { minPrice, maxPrice, page, pageSize } = ctx.params;
				if (minPrice !== undefined && maxPrice !== undefined && minPrice > maxPrice) throw invalidField("minPrice", "minPrice must not be greater than maxPrice.", "range");
				const { rows, total } = await this.search(ctx.params);
				return paged(rows.map(publicProduct), total, page, pageSize);
			},
		},

		get: {
			auth: "public",
			params: CATALOG["products.get"],
			async handler(ctx: ShopContext<{ id: string }>) {
				return publicProduct(await this.findProduct(ctx.params.id, { includeInactive: hasRole(ctx.meta.user, "admin") }));
			},
		},

		categoryTree: {
			auth: "public",
			async handler() {
				return categoryTree(await this.categories.find({ sort: ["name"] }));
			},
		},

		// ---- Catalog, admin
		create: {
			roles: ["admin"],
			params: CATALOG["products.create"],
			async handler(ctx: ShopContext<ProductInput>) {
				const p = ctx.params;
				await this.checkCurrencyAndCategories(p.currency, p.categories);
				const at = now();
				const stock = p.stock ?? 0;
				const product: ProductRecord = {
					_id: randomUUID(),
					sku: p.sku,
					name: p.name,
					description: p.description ?? "",
					price: p.price,
					currency: p.currency,
					categories: p.categories ?? [],
					stock,
					available: stock,
					active: p.active ?? true,
					holds: {},
					restocked: {},
					deletedAt: null,
					createdAt: at,
					updatedAt: at,
				};
				try {
					await this.products.insert(product);
				} catch (err) {
					if (err instanceof DuplicateKeyError) throw conflict(`A product with SKU '${p.sku}' already exists`, "SKU_TAKEN", { field: "sku" });
					throw err;
				}
				return publicProduct(product);
			},
		},

		update: {
			roles: ["admin"],
			params: CATALOG["products.update"],
			async handler(ctx: ShopContext<Partial<ProductInput> & { id: string }>) {
				const { id, ...change } = ctx.params;
				await this.findProduct(id, { includeInactive: true });
				await this.checkCurrencyAndCategories(change.currency, change.categories);
				const $set: Record<string, unknown> = { updatedAt: now() };
				for (const k of ["sku", "name", "description", "price", "currency", "categories", "active"] as const) if (change[k] !== undefined) $set[k] = change[k];
				try {
					// deletedAt: null in the condition: a product deleted meanwhile is not brought back.
					const n = await this.products.updateWhere({ _id: id, deletedAt: null }, { $set });
					if (n === 0) throw notFound("Product", id);
				} catch (err) {
					if (err instanceof DuplicateKeyError) throw conflict(`A product with SKU '${change.sku}' already exists`, "SKU_TAKEN", { field: "sku" });
					throw err;
				}
				return publicProduct(await this.findProduct(id, { includeInactive: true }));
			},
		},

		/**
		 * Deleting is a soft delete: the product leaves the catalog (404, not searchable, not
		 * sellable) and its SKU is freed, but the document stays, so pending orders that hold its
		 * stock still settle, and orders keep their snapshot of its name and price.
		 */
		remove: {
			roles: ["admin"],
			params: CATALOG["products.remove"],
			async handler(ctx: ShopContext<{ id: string }>) {
				const p = await this.findProduct(ctx.params.id, { includeInactive: true });
				const at = now();
				await this.products.updateWhere({ _id: p._id, deletedAt: null }, { $set: { active: false, deletedAt: at, deletedSku: p.sku, updatedAt: at }, $unset: { sku: true } });
				return null;
			},
		},

		/** `{ delta }` adds or removes units; `{ stock }` sets the count on hand. Held units cannot be removed. */
		adjustInventory: {
			roles: ["admin"],
			params: CATALOG["products.adjustInventory"],
			async handler(ctx: ShopContext<{ id: string; delta?: number; stock?: number }>) {
				const { id, delta, stock } = ctx.params;
				if ((delta === undefined) === (stock === undefined)) throw validationError([{ field: "delta", message: "Give exactly one of 'delta' and 'stock'.", type: "oneOf" }, { field: "stock", message: "Give exactly one of 'delta' and 'stock'.", type: "oneOf" }]);
				const field = delta === undefined ? "stock" : "delta";
				const refuse = (p: ProductRecord) => {
					const held = p.stock - p.available;
					const message = held > 0 ? `Stock cannot go below the ${held} unit(s) held by pending orders (${p.available} not held)` : `Stock cannot go below zero (${p.stock} on hand)`;
					return conflict(message, "STOCK_HELD", { field, held, stock: p.stock, available: p.available });
				};
				const apply = (query: Query, change: number) => this.products.updateWhere({ ...query, _id: id, deletedAt: null, available: { $gte: -change } }, { $inc: { stock: change, available: change }, $set: { updatedAt: now() } });
				if (delta !== undefined) {
					// One atomic increment: concurrent deltas all count; `available` never drops below zero.
					if ((await apply({}, delta)) === 1) return publicProduct(await this.findProduct(id, { includeInactive: true }));
					throw refuse(await this.findProduct(id, { includeInactive: true }));
				}
				for (let attempt = 0; attempt < 10; attempt++) {
					const p = await this.findProduct(id, { includeInactive: true });
					const change = stock! - p.stock;
					if (p.available + change < 0) throw refuse(p);
					// Compare-and-set on the stock read (commits and other adjustments change it).
					if ((await apply({ stock: p.stock }, change)) === 1) return publicProduct(await this.findProduct(id, { includeInactive: true }));
				}
				throw conflict("The stock kept changing while setting it; try again", "CONCURRENT_CHANGE");
			},
		},

		createCategory: {
			roles: ["admin"],
			params: CATALOG["products.createCategory"],
			async handler(ctx: ShopContext<{ slug: string; name: string; parentId?: string | null }>) {
				const parentId = ctx.params.parentId ?? null;
				if (parentId && !(await this.categories.findById(parentId))) throw invalidField("parentId", "No category has this id.", "unknownCategory");
				const at = now();
				const category: CategoryRecord = { _id: randomUUID(), slug: ctx.params.slug, name: ctx.params.name, parentId, createdAt: at, updatedAt: at };
				try {
					await this.categories.insert(category);
				} catch (err) {
					if (err instanceof DuplicateKeyError) throw conflict(`A category with slug '${category.slug}' already exists`, "SLUG_TAKEN", { field: "slug" });
					throw err;
				}
				return publicCategory(category);
			},
		},

		updateCategory: {
			roles: ["admin"],
			params: CATALOG["products.updateCategory"],
			async handler(ctx: ShopContext<{ id: string; slug?: string; name?: string; parentId?: string | null }>) {
				const current = await this.findCategory(ctx.params.id);
				const { slug, name, parentId } = ctx.params;
				if (parentId) {
					const all = await this.categories.find();
					if (!all.some(c => c._id === parentId)) throw invalidField("parentId", "No category has this id.", "unknownCategory");
					if (makesCycle(all, current._id, parentId)) throw invalidField("parentId", "A category cannot be placed under itself or one of its subcategories.", "cycle");
				}
				const $set: Record<string, unknown> = { updatedAt: now() };
				if (slug !== undefined) $set.slug = slug;
				if (name !== undefined) $set.name = name;
				if (parentId !== undefined) $set.parentId = parentId;
				try {
					await this.categories.updateWhere({ _id: current._id }, { $set });
				} catch (err) {
					if (err instanceof DuplicateKeyError) throw conflict(`A category with slug '${slug}' already exists`, "SLUG_TAKEN", { field: "slug" });
					throw err;
				}
				if (slug !== undefined && slug !== current.slug) {
					// Products name categories by slug: move them to the new one (no duplicate, old one gone).
					await this.products.updateWhere({ categories: current.slug }, { $pull: { categories: slug } });
					await this.products.updateWhere({ categories: current.slug }, { $push: { categories: slug } });
					await this.products.updateWhere({ categories: current.slug }, { $pull: { categories: current.slug } });
				}
				return publicCategory((await this.categories.findById(current._id))!);
			},
		},

		removeCategory: {
			roles: ["admin"],
			params: CATALOG["products.removeCategory"],
			async handler(ctx: ShopContext<{ id: string }>) {
				const category = await this.findCategory(ctx.params.id);
				const children = await this.categories.count({ parentId: category._id });
				if (children > 0) throw conflict(`The category has ${children} subcategories; move or delete them first`, "CATEGORY_HAS_CHILDREN", { field: "id", children });
				const products = await this.products.count({ categories: category.slug, deletedAt: null });
				if (products > 0) throw conflict(`${products} product(s) are in this category; change them first`, "CATEGORY_IN_USE", { field: "id", products });
				await this.categories.removeById(category._id);
				return null;
			},
		},

		// ---- Internal: other services, never the gateway.
		/** Current name, price and currency of products (the cart prices itself with these). */
		byIds: {
			visibility: "public",
			params: { ids: { type: "array", max: 100, items: "string" } },
			async handler(ctx: ShopContext<{ ids: string[] }>) {
				const rows = ctx.params.ids.length ? await this.products.find({ query: { _id: { $in: ctx.params.ids } } }) : [];
				return rows.map(p => ({ id: p._id, sku: p.sku ?? p.deletedSku ?? "", name: p.name, price: p.price, currency: p.currency, active: p.active && p.deletedAt === null, available: p.available }));
			},
		},
	},

	domainEvents: {
		/** Hold every line or none. */
		"order.placed": async function (event, ctx) {
			const { orderId } = event.payload;
			const items = holdOrder(mergeQuantities(event.payload.items));
			const r = await this.reservation(orderId, items, "reserving");
			if (r.status !== "reserving") return this.settle(r);

			const unavailable: EventPayloads["stock.rejected"]["unavailable"] = [];
			for (const line of r.items) {
				if (unavailable.length === 0 && (await this.holdLine(orderId, line))) continue;
				// Not held: say what was short. Lines after the first short one are only looked at, not held.
				const p = await this.products.findById(line.productId);
				const available = p?.available ?? 0;
				if (unavailable.length === 0 || available < line.quantity) unavailable.push({ productId: line.productId, requested: line.quantity, available });
			}
			const decided: ReservationStatus = unavailable.length ? "rejected" : "held";
			const evt = decided === "held" ? this.domainEvent("stock.reserved", { orderId, items: r.items }, ctx) : this.domainEvent("stock.rejected", { orderId, reason: "out_of_stock", unavailable }, ctx);
			await this.reservations.updateWhere({ _id: orderId, status: "reserving" }, { $set: { status: decided, updatedAt: now() }, $push: { outbox: { $each: [evt] } } });
			// Whoever decided (this delivery or a concurrent one, or a cancel), the holds now follow that decision.
			await this.settle((await this.reservations.findById(orderId))!);
			void this.relayOutbox();
		},

		/** The order is paid: its held units leave the stock. */
		"order.paid": async function (event) {
			const r = await this.moveReservation(event.payload.orderId, s => (s === "held" ? "committed" : s));
			if (r) await this.settle(r);
			else this.logger.warn(`order.paid for order ${event.payload.orderId} which has no reservation`);
		},

		/** Whatever the order held or took goes back. */
		"order.cancelled": async function (event) {
			const { orderId, items } = event.payload;
			// A cancel that overtakes its order.placed leaves a released reservation: the late placement then holds nothing.
			await this.reservation(orderId, holdOrder(mergeQuantities(items)), "released");
			const r = await this.moveReservation(orderId, statusAfterCancel);
			if (r) await this.settle(r);
		},

		/** Returned items go back on the shelf, once per return. */
		"return.approved": async function (event) {
			const { returnId, items } = event.payload;
			if (!isId(returnId)) return this.logger.warn(`return.approved with an unusable returnId '${returnId}'; ignored`);
			await this.restock(returnId, mergeQuantities(items));
		},
	},

	methods: {
		async findProduct(id: string, opts: { includeInactive?: boolean } = {}): Promise<ProductRecord> {
			const p = await this.products.findById(id);
			if (!p || p.deletedAt !== null || (!p.active && !opts.includeInactive)) throw notFound("Product", id);
			return p;
		},

		async findCategory(id: string): Promise<CategoryRecord> {
			const c = await this.categories.findById(id);
			if (!c) throw notFound("Category", id);
			return c;
		},

		async checkCurrencyAndCategories(currency: string | undefined, slugs: string[] | undefined): Promise<void> {
			if (currency !== undefined && !isCurrencyCode(currency)) throw invalidField("currency", `'${currency}' is not an ISO 4217 currency code.`, "currency");
			if (!slugs?.length) return;
			const known = new Set((await this.categories.find({ query: { slug: { $in: slugs } } })).map(c => c.slug));
			const unknown = slugs.filter(s => !known.has(s));
			if (unknown.length) throw invalidField("categories", `Unknown categories: ${unknown.join(", ")}.`, "unknownCategory");
		},

		async search(params: SearchParams): Promise<{ rows: ProductRecord[]; total: number }> {
			const { q, category, minPrice, maxPrice, inStock, page, pageSize } = params;
			const filters = { q, minPrice, maxPrice, inStock, categorySlugs: category ? slugsUnder(await this.categories.find(), category) : undefined };
			if (filters.categorySlugs?.length === 0) return { rows: [], total: 0 };
			const sort: ProductSort = params.sort ?? (q ? "relevance" : "-createdAt");
			const offset = offsetOf(page, pageSize);
			if (!q || sort !== "relevance") {
				const query = textQuery(filters);
				const [rows, total] = await Promise.all([this.products.find({ query, sort: sortFields(sort === "relevance" ? "-createdAt" : sort), limit: pageSize, offset }), this.products.count(query)]);
				return { rows, total };
			}
			// Relevance: name matches, then description-only matches; a page may span both.
			const { inName, inDescription, nameMatches } = relevanceTiers({ ...filters, q });
			const [nameCount, total] = await Promise.all([this.products.count(inName), this.products.count(textQuery(filters))]);
			const rows: ProductRecord[] = [];
			if (offset < nameCount) rows.push(...(await this.products.find({ query: inName, sort: sortFields("name"), limit: pageSize, offset })));
			// The second group, read in name order, skipping what the first group already showed.
			let skip = Math.max(0, offset - nameCount);
			const batch = 500;
			for (let from = 0; rows.length < pageSize && offset + rows.length < total; from += batch) {
				const chunk = await this.products.find({ query: inDescription, sort: sortFields("name"), limit: batch, offset: from });
				for (const p of chunk) {
					if (nameMatches(p.name)) continue;
					if (skip > 0) skip--;
					else if (rows.length < pageSize) rows.push(p);
				}
				if (chunk.length < batch) break;
			}
			return { rows, total };
		},

		/** The order's reservation, made with `status` if it has none yet. */
		async reservation(orderId: string, items: ItemQuantity[], status: ReservationStatus): Promise<ReservationRecord> {
			const existing = await this.reservations.findById(orderId);
			if (existing) return existing;
			const at = now();
			const fresh: Outboxed<ReservationRecord> = { _id: orderId, status, items, outbox: [], createdAt: at, updatedAt: at };
			try {
				await this.reservations.insert(fresh);
				return fresh;
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
				return (await this.reservations.findById(orderId))!;
			}
		},

		/** Compare-and-set the reservation's status to `next(current)`; answers the reservation after it. */
		async moveReservation(orderId: string, next: (status: ReservationStatus) => ReservationStatus): Promise<ReservationRecord | null> {
			for (;;) {
				const r = await this.reservations.findById(orderId);
				if (!r) return null;
				const to = next(r.status);
				if (to === r.status) return r;
				const n = await this.reservations.updateWhere({ _id: orderId, status: r.status }, { $set: { status: to, updatedAt: now() } });
				if (n === 1) return { ...r, status: to };
			}
		},

		/** Hold one line: true when the order holds it (now or from an earlier delivery). */
		async holdLine(orderId: string, line: ItemQuantity): Promise<boolean> {
			const hold = markerPath("holds", orderId);
			const n = await this.products.updateWhere(
				{ _id: line.productId, available: { $gte: line.quantity }, [hold]: { $exists: false } },
				{ $inc: { available: -line.quantity }, $set: { [hold]: line.quantity, updatedAt: now() } },
			);
			if (n === 1) return true;
			const p = await this.products.findById(line.productId);
			return !!p && Object.hasOwn(p.holds ?? {}, orderId);
		},

		/**
		 * Make the products match the reservation's status. Every step is conditional on the
		 * order's hold marker (or put-back marker), so this can run any number of times.
		 */
		async settle(r: ReservationRecord): Promise<void> {
			const hold = markerPath("holds", r._id);
			const at = now();
			switch (r.status) {
				case "reserving":
				case "held":
					return;
				case "rejected":
				case "released":
					for (const line of r.items) {
						await this.products.updateWhere({ _id: line.productId, [hold]: { $exists: true } }, { $inc: { available: line.quantity }, $unset: { [hold]: true }, $set: { updatedAt: at } });
					}
					return;
				case "committed":
				case "restocked":
					for (const line of r.items) {
						await this.products.updateWhere({ _id: line.productId, [hold]: { $exists: true } }, { $inc: { stock: -line.quantity }, $unset: { [hold]: true }, $set: { updatedAt: at } });
					}
					if (r.status === "restocked") await this.restock(r._id, r.items);
					return;
			}
		},

		/** Put units back on hand and on sale, once per `key` and product. */
		async restock(key: string, items: ItemQuantity[]): Promise<void> {
			const marker = markerPath("restocked", key);
			for (const line of items) {
				if (line.quantity <= 0) continue;
				await this.products.updateWhere({ _id: line.productId, [marker]: { $exists: false } }, { $inc: { stock: line.quantity, available: line.quantity }, $set: { [marker]: now(), updatedAt: now() } });
			}
		},

		/**
		 * MongoDB only, best effort: a weighted text index over name and description for operators
		 * and a future `$text` search. Search itself uses the portable regex path (lib/domain/catalog.ts),
		 * so it behaves the same on NeDB, MongoDB and FerretDB v1 (which refuses text indexes).
		 */
		async ensureTextIndex(): Promise<void> {
			if (!config.mongoUrl) return;
			const model = (this.products.adapter as unknown as { model?: { collection: { createIndex(spec: object, opts: object): Promise<unknown> } } }).model;
			try {
				await model?.collection.createIndex({ name: "text", description: "text" }, { name: "products_text", weights: { name: 5, description: 1 } });
			} catch (err) {
				this.logger.info(`No text index on products (${(err as Error).message}); search uses the regex path`);
			}
		},
	},

	created() {
		this.products = this.collection<ProductRecord>("products");
		this.categories = this.collection<CategoryRecord>("categories");
		this.reservations = this.collection<Outboxed<ReservationRecord>>("reservations");
	},

	async started() {
		await this.ensureTextIndex();
		if (config.seedDemo && (await this.products.count({})) === 0) {
			const { products, categories } = await seedDemoCatalog({ products: this.products, categories: this.categories });
			this.logger.info(`Empty catalog: loaded the demo catalog (${categories} categories, ${products} products). SEED_DEMO=false turns this off.`);
		}
	},
});

export default ProductsService;
