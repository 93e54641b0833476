/**
 * Variants as the admin keeps them: added, changed, deleted (marked, never removed from the
 * array), their stock adjusted. The rules are lib/domain/variants.ts.
 *
 * A change to a variant's description (SKU, options, price, active) is a compare-and-set on the
 * product's `revision`, which only these writes move, so checkouts holding units meanwhile never
 * make it fail. Stock is changed like a product's own: one atomic increment of the variant's
 * fields, conditional on what stays available. Each write carries its event in the product's outbox.
 */
import { randomUUID } from "node:crypto";
import { conflict, invalidField, notFound, validationError } from "../../lib/errors.js";
import { domainEvent, type Change, type Decide, type Query } from "../../lib/store/index.js";
import { revisionIs, stockPaths, type ProductRecord } from "../../lib/domain/catalog.js";
import {
	MAX_VARIANTS,
	liveVariants,
	newVariant,
	publicVariant,
	sameCombination,
	variantIndex,
	variantOptionsProblems,
	type PublicVariant,
	type VariantRecord,
} from "../../lib/domain/variants.js";
import type { CATALOG } from "../../lib/contracts/http/catalog.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import type { Catalog, StoredProduct } from "./catalog-admin.js";

type Params<A extends keyof typeof CATALOG> = ParamsOf<(typeof CATALOG)[A]>;
const now = () => new Date().toISOString();
/** Deleted variants stay in the array; past this many in all, a product takes no more. */
const MAX_VARIANT_SLOTS = 4 * MAX_VARIANTS;

export class Variants {
	constructor(private readonly catalog: Catalog) {}

	private get products() {
		return this.catalog.products;
	}
	private get skus() {
		return this.catalog.skus;
	}

	private async located(productId: string, variantId: string): Promise<{ product: ProductRecord; at: number; variant: VariantRecord }> {
		return locate(await this.catalog.product(productId, { includeInactive: true }), variantId);
	}

	private checkDescription(product: ProductRecord, options: Record<string, string>, exceptId: string | null): void {
		const problems = variantOptionsProblems(product.options ?? [], options);
		if (problems.length) throw validationError(problems);
		const twin = liveVariants(product.variants).find(v => v.id !== exceptId && sameCombination(v.options, options));
		if (twin) throw conflict(`The variant ${twin.sku ?? twin.id} has these options already`, "VARIANT_EXISTS", { field: "options", variantId: twin.id });
	}

	/**
	 * Change the product (not deleted) as `decide` says, reading it again when another write
	 * came first; 404 when there is no such product, 409 when it kept changing.
	 */
	private async change(productId: string, decide: Decide<StoredProduct>, what: string, attempts = 5): Promise<StoredProduct> {
		const outcome = await this.products.change(
			productId,
			(p, attempt) => {
				if (p.deletedAt !== null) throw notFound("Product", productId);
				return decide(p, attempt);
			},
			{ attempts, contended: () => conflict(`The product kept changing while ${what}; try again`, "CONCURRENT_CHANGE") },
		);
		if (!outcome.doc) throw notFound("Product", productId);
		return outcome.doc;
	}

	async create(p: Params<"products.createVariant">): Promise<PublicVariant> {
		const id = randomUUID();
		const owner = { productId: p.id, variantId: id };
		const variant = newVariant({ id, sku: p.sku, options: p.options, price: p.price, stock: p.stock, active: p.active }, now());
		let claimed = false;
		try {
			await this.change(
				p.id,
				async product => {
					this.checkDescription(product, p.options, null);
					if (liveVariants(product.variants).length >= MAX_VARIANTS)
						throw invalidField("options", `A product has at most ${MAX_VARIANTS} variants.`, "tooMany");
					if ((product.variants?.length ?? 0) >= MAX_VARIANT_SLOTS)
						throw conflict("This product has had too many variants; make a new product", "TOO_MANY_VARIANTS", { field: "id" });
					if (!claimed) await this.skus.claim(p.sku, owner);
					claimed = true;
					return descriptionChange(product, {}, { $push: { variants: { $each: [variant] } } });
				},
				"adding the variant",
			);
		} catch (err) {
			if (claimed) await this.skus.release(p.sku, owner);
			throw err;
		}
		return publicVariant(variant);
	}

	async update({ id, variantId, ...change }: Params<"products.updateVariant">): Promise<PublicVariant> {
		const owner = { productId: id, variantId };
		let claimed: string | undefined;
		let before: VariantRecord | undefined;
		try {
			const product = await this.change(
				id,
				async p => {
					const { at, variant } = locate(p, variantId);
					before = variant;
					if (change.options) this.checkDescription(p, change.options, variantId);
					if (change.sku !== undefined && change.sku !== variant.sku && claimed !== change.sku) {
						await this.skus.claim(change.sku, owner);
						claimed = change.sku;
					}
					const $set: Record<string, unknown> = { [`variants.${at}.updatedAt`]: now() };
					for (const k of ["sku", "options", "price", "active"] as const) if (change[k] !== undefined) $set[`variants.${at}.${k}`] = change[k];
					return descriptionChange(p, { [`variants.${at}.id`]: variantId, [`variants.${at}.deletedAt`]: null }, { $set });
				},
				"changing the variant",
			);
			if (claimed) await this.skus.release(before!.sku, owner);
			claimed = undefined;
			return publicVariant(locate(product, variantId).variant);
		} finally {
			if (claimed) await this.skus.release(claimed, owner);
		}
	}

	/** Marked deleted: its SKU is free, it is no longer sold; orders that hold units of it still settle. */
	async remove(id: string, variantId: string): Promise<void> {
		let deleted: VariantRecord | undefined;
		await this.change(
			id,
			p => {
				const { at, variant } = locate(p, variantId);
				deleted = variant;
				const update = {
					$set: { [`variants.${at}.deletedAt`]: now(), [`variants.${at}.active`]: false, [`variants.${at}.deletedSku`]: variant.sku },
					$unset: { [`variants.${at}.sku`]: true },
				};
				return descriptionChange(p, { [`variants.${at}.id`]: variantId }, update);
			},
			"deleting the variant",
		);
		await this.skus.release(deleted!.sku, { productId: id, variantId });
	}

	/** `{ delta }` or `{ stock }`, as for a product: held units cannot be removed (409). */
	async adjustStock({ id, variantId, delta, stock }: Params<"products.adjustVariantInventory">): Promise<PublicVariant> {
		const field = delta === undefined ? "stock" : "delta";
		const refuse = (v: VariantRecord) => {
			const held = v.stock - v.available;
			const message =
				held > 0
					? `Stock cannot go below the ${held} unit(s) held by pending orders (${v.available} not held)`
					: `Stock cannot go below zero (${v.stock} on hand)`;
			return conflict(message, "STOCK_HELD", { field, held, stock: v.stock, available: v.available });
		};
		const product = await this.change(
			id,
			p => {
				const { at, variant } = locate(p, variantId);
				const change = delta ?? stock! - variant.stock;
				if (variant.available + change < 0) throw refuse(variant);
				const paths = stockPaths(at);
				// A delta is one atomic increment (concurrent ones all count); a stock is a compare-and-set on the count read.
				return {
					expect: {
						deletedAt: null,
						...paths.match(variantId),
						[`variants.${at}.deletedAt`]: null,
						[paths.available]: { $gte: -change },
						...(delta === undefined ? { [paths.stock]: variant.stock } : {}),
					},
					update: { $inc: { [paths.stock]: change, [paths.available]: change }, $set: { [`variants.${at}.updatedAt`]: now(), updatedAt: now() } },
					events: [domainEvent("stock.changed", { productId: id, variantId })],
				};
			},
			"setting the stock",
			10,
		);
		return publicVariant(locate(product, variantId).variant);
	}
}

/** The variant (not deleted) in the product as read, and where it is; 404 when there is none. */
function locate(product: ProductRecord, variantId: string): { product: ProductRecord; at: number; variant: VariantRecord } {
	const at = variantIndex(product.variants, variantId);
	if (at < 0) throw notFound("Variant", variantId);
	return { product, at, variant: product.variants![at]! };
}

/**
 * A change to the product's description of its variants: a compare-and-set on its `revision`
 * (which only these writes move), with a product.updated event.
 */
function descriptionChange(product: ProductRecord, extra: Query, update: Record<string, unknown>): Change {
	return {
		expect: { deletedAt: null, ...revisionIs(product), ...extra },
		update: { ...update, $inc: { revision: 1 }, $set: { ...((update.$set as object) ?? {}), updatedAt: now() } },
		events: [domainEvent("product.updated", { productId: product._id })],
	};
}
