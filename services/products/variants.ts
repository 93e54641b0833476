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
import type { Query } from "../../lib/store/index.js";
import { revisionIs, stockPaths, type ProductRecord } from "../../lib/domain/catalog.js";
import {
	MAX_VARIANTS,
	liveVariants,
	publicVariant,
	sameCombination,
	variantIndex,
	variantOptionsProblems,
	type PublicVariant,
	type VariantRecord,
} from "../../lib/domain/variants.js";
import type { CATALOG } from "../../lib/contracts/http/catalog.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import type { Catalog, CatalogWiring } from "./catalog.js";

type Params<A extends keyof typeof CATALOG> = ParamsOf<(typeof CATALOG)[A]>;
const now = () => new Date().toISOString();
/** Deleted variants stay in the array; past this many in all, a product takes no more. */
const MAX_VARIANT_SLOTS = 4 * MAX_VARIANTS;

export class Variants {
	constructor(
		private readonly catalog: Catalog,
		private readonly wiring: CatalogWiring,
	) {}

	private get products() {
		return this.catalog.products;
	}

	private async located(productId: string, variantId: string): Promise<{ product: ProductRecord; at: number; variant: VariantRecord }> {
		const product = await this.catalog.product(productId, { includeInactive: true });
		const at = variantIndex(product.variants, variantId);
		if (at < 0) throw notFound("Variant", variantId);
		return { product, at, variant: product.variants![at]! };
	}

	private checkDescription(product: ProductRecord, options: Record<string, string>, exceptId: string | null): void {
		const problems = variantOptionsProblems(product.options ?? [], options);
		if (problems.length) throw validationError(problems);
		const twin = liveVariants(product.variants).find(v => v.id !== exceptId && sameCombination(v.options, options));
		if (twin) throw conflict(`The variant ${twin.sku ?? twin.id} has these options already`, "VARIANT_EXISTS", { field: "options", variantId: twin.id });
	}

	/** One write of the product as read; false when another admin write came first. */
	private async write(product: ProductRecord, extra: Query, update: Record<string, unknown>): Promise<boolean> {
		const event = this.wiring.envelope("product.updated", { productId: product._id });
		const $push = { ...((update.$push as object) ?? {}), outbox: { $each: [event] } };
		const n = await this.products.updateWhere(
			{ _id: product._id, deletedAt: null, ...revisionIs(product), ...extra },
			{ ...update, $push, $inc: { revision: 1 }, $set: { ...((update.$set as object) ?? {}), updatedAt: now() } },
		);
		if (n === 1) this.wiring.relay([product._id]);
		return n === 1;
	}

	async create(p: Params<"products.createVariant">): Promise<PublicVariant> {
		const id = randomUUID();
		const owner = { productId: p.id, variantId: id };
		for (let attempt = 0; attempt < 5; attempt++) {
			const product = await this.catalog.product(p.id, { includeInactive: true });
			this.checkDescription(product, p.options, null);
			if (liveVariants(product.variants).length >= MAX_VARIANTS)
				throw invalidField("options", `A product has at most ${MAX_VARIANTS} variants.`, "tooMany");
			if ((product.variants?.length ?? 0) >= MAX_VARIANT_SLOTS)
				throw conflict("This product has had too many variants; make a new product", "TOO_MANY_VARIANTS", { field: "id" });
			if (attempt === 0) await this.wiring.skus.claim(p.sku, owner);
			const at = now();
			const stock = p.stock ?? 0;
			const variant: VariantRecord = {
				id,
				sku: p.sku,
				options: p.options,
				price: p.price,
				stock,
				available: stock,
				active: p.active ?? true,
				holds: {},
				restocked: {},
				deletedAt: null,
				createdAt: at,
				updatedAt: at,
			};
			if (await this.write(product, {}, { $push: { variants: { $each: [variant] } } })) return publicVariant(variant);
		}
		await this.wiring.skus.release(p.sku, owner);
		throw conflict("The product kept changing while adding the variant; try again", "CONCURRENT_CHANGE");
	}

	async update({ id, variantId, ...change }: Params<"products.updateVariant">): Promise<PublicVariant> {
		const owner = { productId: id, variantId };
		let claimed: string | undefined;
		try {
			for (let attempt = 0; attempt < 5; attempt++) {
				const { product, at, variant } = await this.located(id, variantId);
				if (change.options) this.checkDescription(product, change.options, variantId);
				if (change.sku !== undefined && change.sku !== variant.sku && claimed !== change.sku) {
					await this.wiring.skus.claim(change.sku, owner);
					claimed = change.sku;
				}
				const $set: Record<string, unknown> = { [`variants.${at}.updatedAt`]: now() };
				for (const k of ["sku", "options", "price", "active"] as const) if (change[k] !== undefined) $set[`variants.${at}.${k}`] = change[k];
				if (await this.write(product, { [`variants.${at}.id`]: variantId, [`variants.${at}.deletedAt`]: null }, { $set })) {
					if (claimed) await this.wiring.skus.release(variant.sku, owner);
					claimed = undefined;
					return publicVariant((await this.located(id, variantId)).variant);
				}
			}
			throw conflict("The product kept changing while changing the variant; try again", "CONCURRENT_CHANGE");
		} finally {
			if (claimed) await this.wiring.skus.release(claimed, owner);
		}
	}

	/** Marked deleted: its SKU is free, it is no longer sold; orders that hold units of it still settle. */
	async remove(id: string, variantId: string): Promise<void> {
		for (let attempt = 0; attempt < 5; attempt++) {
			const { product, at, variant } = await this.located(id, variantId);
			const update = {
				$set: { [`variants.${at}.deletedAt`]: now(), [`variants.${at}.active`]: false, [`variants.${at}.deletedSku`]: variant.sku },
				$unset: { [`variants.${at}.sku`]: true },
			};
			if (await this.write(product, { [`variants.${at}.id`]: variantId }, update)) {
				await this.wiring.skus.release(variant.sku, { productId: id, variantId });
				return;
			}
		}
		throw conflict("The product kept changing while deleting the variant; try again", "CONCURRENT_CHANGE");
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
		const apply = (at: number, query: Query, change: number) => {
			const paths = stockPaths(at);
			return this.products.updateWhere(
				{ _id: id, deletedAt: null, ...paths.match(variantId), [`variants.${at}.deletedAt`]: null, [paths.available]: { $gte: -change }, ...query },
				{
					$inc: { [paths.stock]: change, [paths.available]: change },
					$set: { [`variants.${at}.updatedAt`]: now(), updatedAt: now() },
					$push: { outbox: { $each: [this.wiring.envelope("stock.changed", { productId: id, variantId })] } },
				},
			);
		};
		for (let attempt = 0; attempt < 10; attempt++) {
			const { at, variant } = await this.located(id, variantId);
			const change = delta ?? stock! - variant.stock;
			if (variant.available + change < 0) throw refuse(variant);
			// A delta is one atomic increment (concurrent ones all count); a stock is a compare-and-set on the count read.
			if ((await apply(at, delta === undefined ? { [stockPaths(at).stock]: variant.stock } : {}, change)) === 1) {
				this.wiring.relay([id]);
				return publicVariant((await this.located(id, variantId)).variant);
			}
		}
		throw conflict("The stock kept changing while setting it; try again", "CONCURRENT_CHANGE");
	}
}
