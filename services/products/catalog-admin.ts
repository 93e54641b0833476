/**
 * The catalog as the admin keeps it: products (created, changed, deleted softly, their stock
 * adjusted) and the category tree. Each write is one document update, with the event it causes
 * (product.created / updated / deleted, stock.changed) in the product's outbox in the same
 * update; the search read model of every node follows those events. A SKU is claimed in the
 * registry first (skus.ts); a slug that is taken is a 409 from the unique index.
 */
import { randomUUID } from "node:crypto";
import { conflict, invalidField, notFound, validationError } from "../../lib/errors.js";
import { DuplicateKeyError, domainEvent, type Collection, type DomainEvent } from "../../lib/store/index.js";
import {
	categoryTree,
	makesCycle,
	publicCategory,
	publicProduct,
	type CategoryNode,
	type CategoryRecord,
	newProduct,
	type NewProduct,
	type ProductRecord,
	type PublicCategory,
	type PublicProduct,
	revisionIs,
} from "../../lib/domain/catalog.js";
import { liveVariants, optionChangeProblems, optionsProblems, publicVariant, sameCombination, variantOptionsProblems } from "../../lib/domain/variants.js";
import type { CatalogPrice } from "../../lib/contracts/calls.js";
import type { CATALOG } from "../../lib/contracts/http/catalog.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import type { EventEnvelope, MediaGalleryChange } from "../../lib/contracts/events.js";
import { skuTaken, type SkuRegistry } from "./skus.js";

type Params<A extends keyof typeof CATALOG> = ParamsOf<(typeof CATALOG)[A]>;
export type StoredProduct = ProductRecord & { outbox?: EventEnvelope[] };
const now = () => new Date().toISOString();

function duplicateSku(sku: string | undefined, err: unknown): never {
	if (err instanceof DuplicateKeyError) throw skuTaken(sku ?? "");
	throw err;
}
function slugTaken(slug: string | undefined, err: unknown): never {
	if (err instanceof DuplicateKeyError) throw conflict(`A category with slug '${slug}' already exists`, "SLUG_TAKEN", { field: "slug" });
	throw err;
}

/** The admin's products may hold only so many options, and each variant must still be described by them. */
function checkOptions(options: Params<"products.update">["options"], p?: ProductRecord): void {
	if (!options) return;
	const problems = [...optionsProblems(options), ...(p ? optionChangeProblems(options, p.variants ?? []) : [])];
	if (problems.length) throw validationError(problems);
}

/** The products service's handlers of the media service's events: each carries the product's whole gallery and its revision. */
async function followGallery(this: { catalog: Catalog }, event: { payload: MediaGalleryChange }): Promise<void> {
	await this.catalog.applyGallery(event.payload);
}
export const FOLLOW_GALLERIES = { "media.image-added": followGallery, "media.image-updated": followGallery, "media.image-removed": followGallery };

export class Catalog {
	constructor(
		readonly products: Collection<StoredProduct>,
		readonly categories: Collection<CategoryRecord>,
		readonly skus: SkuRegistry,
	) {}

	private event(type: "product.created" | "product.updated" | "product.deleted", productId: string): DomainEvent {
		return domainEvent(type, { productId });
	}

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
		checkOptions(p.options);
		return publicProduct(await this.add(newProduct(randomUUID(), p, now())));
	}

	/** A new product with its variants (the CSV import): checked as POST /products and POST /products/:id/variants check them, then added. */
	async addChecked(p: NewProduct): Promise<ProductRecord> {
		await this.checkCategories(p.categories);
		checkOptions(p.options);
		const variants = p.variants ?? [];
		const problems = variants.flatMap(v => variantOptionsProblems(p.options ?? [], v.options));
		if (problems.length) throw validationError(problems);
		const twin = variants.find((v, i) => variants.findIndex(w => sameCombination(w.options, v.options)) !== i);
		if (twin) throw conflict(`The variant ${twin.sku} has the options of another one`, "VARIANT_EXISTS", { field: "variant_options" });
		return this.add(newProduct(randomUUID(), p, now()));
	}

	/**
	 * A new product into the catalog, the one way every product comes in (the admin's, the demo's):
	 * its SKUs (its own and its variants') claimed first, then inserted with its product.created
	 * event. 409 when a SKU is taken (nothing of it stays claimed).
	 */
	async add(product: ProductRecord): Promise<ProductRecord> {
		const owners = [
			{ sku: product.sku, owner: { productId: product._id, variantId: null } },
			...(product.variants ?? []).map(v => ({ sku: v.sku, owner: { productId: product._id, variantId: v.id } })),
		];
		const claimed: typeof owners = [];
		const releaseAll = () => Promise.all(claimed.map(c => this.skus.release(c.sku, c.owner)));
		try {
			for (const c of owners) {
				if (c.sku === undefined) continue;
				await this.skus.claim(c.sku, c.owner);
				claimed.push(c);
			}
			await this.products.insertWithEvents(product, [this.event("product.created", product._id)]);
		} catch (err) {
			await releaseAll();
			duplicateSku(product.sku, err);
		}
		return product;
	}

	async update({ id, ...change }: Params<"products.update">): Promise<PublicProduct> {
		const before = await this.product(id, { includeInactive: true });
		await this.checkCategories(change.categories);
		checkOptions(change.options, before);
		const owner = { productId: id, variantId: null };
		const newSku = change.sku !== undefined && change.sku !== before.sku ? change.sku : undefined;
		if (newSku) await this.skus.claim(newSku, owner);
		const $set: Record<string, unknown> = { updatedAt: now() };
		for (const k of ["sku", "name", "description", "price", "currency", "categories", "active", "options"] as const)
			if (change[k] !== undefined) $set[k] = change[k];
		// deletedAt: null in the condition: a product deleted meanwhile is not brought back. Options
		// change only if no variant changed since they were checked against the variants.
		const query = { _id: id, deletedAt: null, ...(change.options ? revisionIs(before) : {}) };
		const n = await this.products
			.changeWithEvents(query, { $set, ...(change.options ? { $inc: { revision: 1 } } : {}) }, [this.event("product.updated", id)])
			.catch(async err => {
				if (newSku) await this.skus.release(newSku, owner);
				duplicateSku(change.sku, err);
			});
		if (n === 0) {
			if (newSku) await this.skus.release(newSku, owner);
			if (change.options) throw conflict("The product's variants changed meanwhile; look again and retry", "CONCURRENT_CHANGE");
			throw notFound("Product", id);
		}
		if (newSku) await this.skus.release(before.sku, owner);
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
		const n = await this.products.changeWithEvents(
			{ _id: p._id, deletedAt: null },
			{ $set: { active: false, deletedAt: at, deletedSku: p.sku, updatedAt: at }, $unset: { sku: true } },
			[this.event("product.deleted", id)],
		);
		if (n === 0) return;
		// Its SKUs, and its variants', are free again.
		await this.skus.release(p.sku, { productId: id, variantId: null });
		for (const v of liveVariants(p.variants)) await this.skus.release(v.sku, { productId: id, variantId: v.id });
	}

	/**
	 * The product's images as a media event says (the whole gallery at `revision`), unless a later
	 * one was applied already: a duplicate or late event changes nothing. Search rows read the
	 * product from the database, so every node's results show it at once.
	 */
	async applyGallery(change: MediaGalleryChange): Promise<boolean> {
		const n = await this.products.updateWhere(
			{ _id: change.productId, $or: [{ imagesRevision: { $exists: false } }, { imagesRevision: { $lt: change.revision } }] },
			{ $set: { images: change.images, imagesRevision: change.revision } },
		);
		return n > 0;
	}

	/** `{ delta }` adds or removes units; `{ stock }` sets the count on hand. Held units cannot be removed (409). */
	async adjustStock(id: string, delta: number | undefined, stock: number | undefined): Promise<PublicProduct> {
		const field = delta === undefined ? "stock" : "delta";
		const current = await this.product(id, { includeInactive: true });
		if (liveVariants(current.variants).length > 0)
			throw conflict("This product is sold in variants: adjust the stock of a variant", "HAS_VARIANTS", { field: "id" });
		const refuse = (p: ProductRecord) => {
			const held = p.stock - p.available;
			const message =
				held > 0
					? `Stock cannot go below the ${held} unit(s) held by pending orders (${p.available} not held)`
					: `Stock cannot go below zero (${p.stock} on hand)`;
			return conflict(message, "STOCK_HELD", { field, held, stock: p.stock, available: p.available });
		};
		const stockChanged = domainEvent("stock.changed", { productId: id, variantId: null });
		const update = (change: number) => ({ $inc: { stock: change, available: change }, $set: { updatedAt: now() } });
		if (delta !== undefined) {
			// One atomic increment: concurrent deltas all count; `available` never drops below zero.
			const n = await this.products.changeWithEvents({ _id: id, deletedAt: null, available: { $gte: -delta } }, update(delta), [stockChanged]);
			if (n === 1) return publicProduct(await this.product(id, { includeInactive: true }));
			throw refuse(await this.product(id, { includeInactive: true }));
		}
		// Compare-and-set on the stock read (commits and other adjustments change it).
		const outcome = await this.products.change(
			id,
			p => {
				if (p.deletedAt !== null) throw notFound("Product", id);
				const change = stock! - p.stock;
				if (p.available + change < 0) throw refuse(p);
				return { expect: { deletedAt: null, stock: p.stock, available: { $gte: -change } }, update: update(change), events: [stockChanged] };
			},
			{ attempts: 10, contended: () => conflict("The stock kept changing while setting it; try again", "CONCURRENT_CHANGE") },
		);
		if (!outcome.doc) throw notFound("Product", id);
		return publicProduct(outcome.doc);
	}

	/** What the catalog says of these products (and their variants) now, for carts and checkout. */
	async prices(ids: readonly string[]): Promise<CatalogPrice[]> {
		const rows = await this.products.findByIds([...ids]);
		return rows.map(p => {
			const shown = publicProduct(p);
			return {
				id: p._id,
				sku: shown.sku,
				name: p.name,
				price: shown.price,
				currency: p.currency,
				active: p.active && p.deletedAt === null,
				available: shown.available,
				variants: liveVariants(p.variants).map(publicVariant),
			};
		});
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
