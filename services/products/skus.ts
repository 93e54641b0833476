/**
 * SKUs are unique across products and variants (409). A product's own SKU has a unique index,
 * but a variant's lives inside its product's document, where no index sees across documents.
 * So the registry `sku_claims` ({ _id: sku, owner }) decides: whoever inserts the claim owns the
 * SKU, whatever raced for it. Products written before the registry existed hold SKUs without a
 * claim, so a new claim stands only once no other product or variant on sale carries its SKU.
 *
 * A claim whose owner does not carry its SKU a while after it was made (the writer died between
 * claim and write) is stale and is taken over with a compare-and-set; a fresh one may be a write
 * under way, so it counts.
 */
import { conflict } from "../../lib/errors.js";
import type { Collection } from "../../lib/store/index.js";
import type { ProductRecord } from "../../lib/domain/catalog.js";

export interface SkuOwner {
	productId: string;
	/** null: the product's own SKU. */
	variantId: string | null;
}
export interface SkuClaim extends SkuOwner {
	_id: string;
	at: string;
}

/** Far longer than a claim's write takes. */
const STALE_AFTER_MS = 60_000;
const sameOwner = (a: SkuOwner, b: SkuOwner) => a.productId === b.productId && a.variantId === b.variantId;

export function skuTaken(sku: string): Error {
	return conflict(`A product or variant with SKU '${sku}' already exists`, "SKU_TAKEN", { field: "sku" });
}

/** Who on sale (not deleted) carries this SKU in a product document. */
export function carriersOf(p: ProductRecord, sku: string): SkuOwner[] {
	if (p.deletedAt !== null) return [];
	const owners: SkuOwner[] = p.sku === sku ? [{ productId: p._id, variantId: null }] : [];
	for (const v of p.variants ?? []) if (v.deletedAt === null && v.sku === sku) owners.push({ productId: p._id, variantId: v.id });
	return owners;
}

export class SkuRegistry {
	constructor(
		private readonly claims: Collection<SkuClaim>,
		private readonly products: Collection<ProductRecord>,
	) {}

	/** Make `sku` this owner's, or 409 when another product or variant has it. */
	async claim(sku: string, owner: SkuOwner): Promise<void> {
		const at = () => new Date().toISOString();
		const outcome = await this.claims.change(
			sku,
			async existing => {
				if (sameOwner(existing, owner)) return null;
				if (Date.now() - Date.parse(existing.at) < STALE_AFTER_MS || (await this.carried(sku, existing))) throw skuTaken(sku);
				return { expect: { productId: existing.productId, variantId: existing.variantId }, update: { $set: { ...owner, at: at() } } };
			},
			{
				insert: () => ({ _id: sku, ...owner, at: at() }),
				contended: () => conflict("The SKU kept changing hands while claiming it; try again", "CONCURRENT_CHANGE", { field: "sku" }),
			},
		);
		if (!outcome.written) return; // this owner's already
		if (await this.carriedByAnother(sku, owner)) {
			await this.release(sku, owner);
			throw skuTaken(sku);
		}
	}

	/** Give the SKU up, if this owner holds it. */
	async release(sku: string | undefined, owner: SkuOwner): Promise<void> {
		if (sku) await this.claims.removeWhere({ _id: sku, productId: owner.productId, variantId: owner.variantId });
	}

	/**
	 * Who carries the SKU. Two lookups, each on its own index: NeDB answers an `$or` by scanning the
	 * whole collection (every product created paid a scan of the catalog: 12 rows/s importing into 100,000 products).
	 */
	private async holders(sku: string): Promise<SkuOwner[]> {
		const [own, ofVariants] = await Promise.all([
			this.products.find({ query: { sku }, limit: 10 }),
			this.products.find({ query: { "variants.sku": sku }, limit: 10 }),
		]);
		const docs = new Map([...own, ...ofVariants].map(p => [p._id, p]));
		return [...docs.values()].flatMap(p => carriersOf(p, sku));
	}

	private async carried(sku: string, owner: SkuOwner): Promise<boolean> {
		return (await this.holders(sku)).some(h => sameOwner(h, owner));
	}

	private async carriedByAnother(sku: string, owner: SkuOwner): Promise<boolean> {
		return (await this.holders(sku)).some(h => !sameOwner(h, owner));
	}
}
