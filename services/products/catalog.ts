/**
 * The catalog as the admin keeps it: products (created, changed, deleted softly, their stock
 * adjusted) and the category tree. Each write is one document update; a SKU or a slug that is
 * taken is a 409 from the unique index, whoever raced for it.
 */
import { randomUUID } from "node:crypto";
import { conflict, invalidField, notFound } from "../../lib/errors.js";
import { DuplicateKeyError, type Collection, type Query } from "../../lib/store/index.js";
import {
	categoryTree,
	makesCycle,
	publicCategory,
	publicProduct,
	type CategoryNode,
	type CategoryRecord,
	type ProductRecord,
	type PublicCategory,
	type PublicProduct,
} from "../../lib/domain/catalog.js";
import type { CatalogPrice } from "../../lib/contracts/calls.js";
import type { CATALOG } from "../../lib/contracts/http/catalog.js";
import type { ParamsOf } from "../../lib/contracts/params.js";

type Params<A extends keyof typeof CATALOG> = ParamsOf<(typeof CATALOG)[A]>;
const now = () => new Date().toISOString();

function skuTaken(sku: string | undefined, err: unknown): never {
	if (err instanceof DuplicateKeyError) throw conflict(`A product with SKU '${sku}' already exists`, "SKU_TAKEN", { field: "sku" });
	throw err;
}
function slugTaken(slug: string | undefined, err: unknown): never {
	if (err instanceof DuplicateKeyError) throw conflict(`A category with slug '${slug}' already exists`, "SLUG_TAKEN", { field: "slug" });
	throw err;
}

export class Catalog {
	constructor(
		readonly products: Collection<ProductRecord>,
		readonly categories: Collection<CategoryRecord>,
	) {}

	/** A product of the catalog: 404 for a deleted one, and for an inactive one unless `includeInactive`. */
	async product(id: string, opts: { includeInactive?: boolean } = {}): Promise<ProductRecord> {
		const p = await this.products.findById(id);
		if (!p || p.deletedAt !== null || (!p.active && !opts.includeInactive)) throw notFound("Product", id);
		return p;
	}

	private async category(id: string): Promise<CategoryRecord> {
		const c = await this.categories.findById(id);
		if (!c) throw notFound("Category", id);
		return c;
	}

	private async checkCategories(slugs: readonly string[] | undefined): Promise<void> {
		if (!slugs?.length) return;
		const known = new Set((await this.categories.find({ query: { slug: { $in: [...slugs] } } })).map(c => c.slug));
		const unknown = slugs.filter(s => !known.has(s));
		if (unknown.length) throw invalidField("categories", `Unknown categories: ${unknown.join(", ")}.`, "unknownCategory");
	}

	async create(p: Params<"products.create">): Promise<PublicProduct> {
		await this.checkCategories(p.categories);
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
		await this.products.insert(product).catch(err => skuTaken(p.sku, err));
		return publicProduct(product);
	}

	async update({ id, ...change }: Params<"products.update">): Promise<PublicProduct> {
		await this.product(id, { includeInactive: true });
		await this.checkCategories(change.categories);
		const $set: Record<string, unknown> = { updatedAt: now() };
		for (const k of ["sku", "name", "description", "price", "currency", "categories", "active"] as const) if (change[k] !== undefined) $set[k] = change[k];
		// deletedAt: null in the condition: a product deleted meanwhile is not brought back.
		const n = await this.products.updateWhere({ _id: id, deletedAt: null }, { $set }).catch(err => skuTaken(change.sku, err));
		if (n === 0) throw notFound("Product", id);
		return publicProduct(await this.product(id, { includeInactive: true }));
	}

	/**
	 * Deleting is a soft delete: the product leaves the catalog (404, not searchable, not
	 * sellable) and its SKU is freed, but the document stays, so pending orders that hold its
	 * stock still settle, and orders keep their snapshot of its name and price.
	 */
	async remove(id: string): Promise<void> {
		const p = await this.product(id, { includeInactive: true });
		const at = now();
		await this.products.updateWhere(
			{ _id: p._id, deletedAt: null },
			{ $set: { active: false, deletedAt: at, deletedSku: p.sku, updatedAt: at }, $unset: { sku: true } },
		);
	}

	/** `{ delta }` adds or removes units; `{ stock }` sets the count on hand. Held units cannot be removed (409). */
	async adjustStock(id: string, delta: number | undefined, stock: number | undefined): Promise<PublicProduct> {
		const field = delta === undefined ? "stock" : "delta";
		const refuse = (p: ProductRecord) => {
			const held = p.stock - p.available;
			const message =
				held > 0
					? `Stock cannot go below the ${held} unit(s) held by pending orders (${p.available} not held)`
					: `Stock cannot go below zero (${p.stock} on hand)`;
			return conflict(message, "STOCK_HELD", { field, held, stock: p.stock, available: p.available });
		};
		const apply = (query: Query, change: number) =>
			this.products.updateWhere(
				{ ...query, _id: id, deletedAt: null, available: { $gte: -change } },
				{ $inc: { stock: change, available: change }, $set: { updatedAt: now() } },
			);
		if (delta !== undefined) {
			// One atomic increment: concurrent deltas all count; `available` never drops below zero.
			if ((await apply({}, delta)) === 1) return publicProduct(await this.product(id, { includeInactive: true }));
			throw refuse(await this.product(id, { includeInactive: true }));
		}
		for (let attempt = 0; attempt < 10; attempt++) {
			const p = await this.product(id, { includeInactive: true });
			const change = stock! - p.stock;
			if (p.available + change < 0) throw refuse(p);
			// Compare-and-set on the stock read (commits and other adjustments change it).
			if ((await apply({ stock: p.stock }, change)) === 1) return publicProduct(await this.product(id, { includeInactive: true }));
		}
		throw conflict("The stock kept changing while setting it; try again", "CONCURRENT_CHANGE");
	}

	/** What the catalog says of these products now, for carts and checkout. */
	async prices(ids: readonly string[]): Promise<CatalogPrice[]> {
		const rows = ids.length ? await this.products.find({ query: { _id: { $in: [...ids] } } }) : [];
		return rows.map(p => ({
			id: p._id,
			sku: p.sku ?? p.deletedSku ?? "",
			name: p.name,
			price: p.price,
			currency: p.currency,
			active: p.active && p.deletedAt === null,
			available: p.available,
		}));
	}

	async tree(): Promise<CategoryNode[]> {
		return categoryTree(await this.categories.find({ sort: ["name"] }));
	}

	async createCategory(p: Params<"products.createCategory">): Promise<PublicCategory> {
		const parentId = p.parentId ?? null;
		if (parentId && !(await this.categories.findById(parentId))) throw invalidField("parentId", "No category has this id.", "unknownCategory");
		const at = now();
		const category: CategoryRecord = { _id: randomUUID(), slug: p.slug, name: p.name, parentId, createdAt: at, updatedAt: at };
		await this.categories.insert(category).catch(err => slugTaken(p.slug, err));
		return publicCategory(category);
	}

	async updateCategory({ id, slug, name, parentId }: Params<"products.updateCategory">): Promise<PublicCategory> {
		const current = await this.category(id);
		if (parentId) {
			const all = await this.categories.find();
			if (!all.some(c => c._id === parentId)) throw invalidField("parentId", "No category has this id.", "unknownCategory");
			if (makesCycle(all, current._id, parentId))
				throw invalidField("parentId", "A category cannot be placed under itself or one of its subcategories.", "cycle");
		}
		const $set: Record<string, unknown> = { updatedAt: now() };
		if (slug !== undefined) $set.slug = slug;
		if (name !== undefined) $set.name = name;
		if (parentId !== undefined) $set.parentId = parentId;
		await this.categories.updateWhere({ _id: current._id }, { $set }).catch(err => slugTaken(slug, err));
		if (slug !== undefined && slug !== current.slug) {
			// Products name categories by slug: move them to the new one (no duplicate, old one gone).
			await this.products.updateWhere({ categories: current.slug }, { $pull: { categories: slug } });
			await this.products.updateWhere({ categories: current.slug }, { $push: { categories: slug } });
			await this.products.updateWhere({ categories: current.slug }, { $pull: { categories: current.slug } });
		}
		return publicCategory((await this.categories.findById(current._id))!);
	}

	async removeCategory(id: string): Promise<void> {
		const category = await this.category(id);
		const children = await this.categories.count({ parentId: category._id });
		if (children > 0)
			throw conflict(`The category has ${children} subcategories; move or delete them first`, "CATEGORY_HAS_CHILDREN", { field: "id", children });
		const products = await this.products.count({ categories: category.slug, deletedAt: null });
		if (products > 0) throw conflict(`${products} product(s) are in this category; change them first`, "CATEGORY_IN_USE", { field: "id", products });
		await this.categories.removeById(category._id);
	}
}
