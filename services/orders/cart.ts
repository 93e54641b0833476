/**
 * Carts: one document per customer, its lines a map by item id (a variant's id, or a product's
 * when it is sold as itself), so that adding an item is one atomic `$inc` (or `$set` of a new
 * line) and concurrent adds all count. A cart is priced every time it is shown: the catalog's
 * current prices (lib/domain/cart-lines.ts), then its code, shipping and tax with the pricing
 * service's terms (lib/domain/pricing.ts); lines that can no longer be bought leave it.
 */
import type { Context } from "moleculer";
import type { Static } from "typebox";
import type { Cart } from "../../lib/http/schemas.js";
import { conflict, invalidField, notFound, validationError } from "../../lib/errors.js";
import type { Collection } from "../../lib/store/index.js";
import type { PricingTerms, PricingTermsRequest } from "../../lib/contracts/calls.js";
import { normalizePromotionCode } from "../../lib/domain/promotions.js";
import { priceOrder, type PricedOrder } from "../../lib/domain/pricing.js";
import {
	MAX_CART_LINES,
	MAX_QUANTITY,
	cartAddPath,
	cartLinePath,
	itemIdOf,
	itemProblem,
	lineItem,
	priceCart,
	pricingLines,
	type CartLine,
	type CartRecord,
	type CatalogPrice,
	type PricedCart,
} from "../../lib/domain/cart-lines.js";

/** GET /cart: the contract's breakdown. */
export type CartView = Static<typeof Cart>;

/** Where the cart goes, for shipping and tax; the field names a problem of it is reported under. */
export interface Destination {
	country?: string;
	shippingMethodId?: string;
	/** The request's field for the country (`country` on GET /cart, `shippingAddress.country` at checkout). */
	countryField?: string;
}

/** A cart as checkout takes it: its lines at current prices, and its amounts under the current terms. */
export interface QuotedCart {
	lines: PricedCart;
	terms: PricingTerms;
	priced: PricedOrder;
	code: string | null;
}

const now = () => new Date().toISOString();

/** What the catalog says of these products now (`products.byIds`). */
export function catalogPrices(ctx: Context, ids: string[]): Promise<CatalogPrice[]> {
	return ids.length ? ctx.call<CatalogPrice[], { ids: string[] }>("products.byIds", { ids: [...new Set(ids)] }) : Promise.resolve([]);
}

export class Carts {
	constructor(private readonly carts: Collection<CartRecord>) {}

	private async lines(ctx: Context, userId: string): Promise<{ cart: CartRecord | null; lines: PricedCart }> {
		const cart = await this.carts.findById(userId);
		const entries = cart?.lines ?? {};
		const ids = Object.entries(entries).map(([itemId, line]) => lineItem(itemId, line).productId);
		return { cart, lines: priceCart(entries, await catalogPrices(ctx, ids)) };
	}

	/** The cart priced under the terms of now for this destination; 422 when it cannot ship there. */
	async quote(ctx: Context, userId: string, to: Destination): Promise<QuotedCart> {
		const { cart, lines } = await this.lines(ctx, userId);
		const code = cart?.promotionCode ?? null;
		const request: PricingTermsRequest = {
			userId,
			currency: lines.currency,
			subtotal: lines.subtotal,
			...(to.country ? { country: to.country } : {}),
			...(to.shippingMethodId ? { shippingMethodId: to.shippingMethodId } : {}),
			...(code ? { code } : {}),
		};
		const terms = await ctx.call<PricingTerms, PricingTermsRequest>("pricing.terms", request);
		if (terms.shippingProblem) {
			const { field, message, type } = terms.shippingProblem;
			throw invalidField(field === "country" ? (to.countryField ?? "country") : field, message, type);
		}
		const priced = priceOrder({
			lines: pricingLines(lines),
			currency: lines.currency,
			promotion: terms.promotion,
			shippingMethod: terms.shippingMethod,
			taxRateBp: terms.taxRateBp,
			pricesIncludeTax: terms.pricesIncludeTax,
		});
		return { lines, terms, priced, code };
	}

	/** The cart as the customer sees it; lines that can no longer be bought (gone, inactive, another currency) leave it. */
	async view(ctx: Context, userId: string, to: Destination = {}): Promise<CartView> {
		const { lines, terms, priced, code } = await this.quote(ctx, userId, to);
		const stale = [...lines.unavailable, ...lines.otherCurrency];
		if (stale.length) await this.carts.updateWhere({ _id: userId }, { $unset: Object.fromEntries(stale.map(id => [cartLinePath(id), true])) });
		const byItem = new Map(priced.lines.map(l => [l.itemId, l]));
		return {
			items: lines.items.map(i => ({ ...i, discount: byItem.get(i.itemId)?.discount ?? 0, tax: byItem.get(i.itemId)?.tax ?? 0 })),
			subtotal: priced.subtotal,
			discount: priced.discountTotal,
			shipping: priced.shippingTotal,
			shippingTax: priced.shippingTax,
			tax: priced.taxTotal,
			total: priced.total,
			currency: priced.currency,
			promotion: terms.promotion ? { code: terms.promotion.code } : null,
			promotionRefusal: code && !terms.promotion ? terms.refusal : null,
			shippingMethod: priced.shippingMethod,
		};
	}

	/**
	 * Add `quantity` of a product (or of one of its variants); the same item adds up, never past
	 * MAX_QUANTITY. `once` (an Idempotency-Key's resource id) makes the addition happen at most once.
	 */
	async add(ctx: Context, userId: string, productId: string, variantId: string | undefined, quantity: number, once?: string): Promise<CartView> {
		const [product] = await catalogPrices(ctx, [productId]);
		if (!product || !product.active) throw notFound("Product", productId);
		const problem = itemProblem(product, variantId);
		if (problem) throw validationError([problem]);
		const itemId = itemIdOf({ productId, variantId });
		const line = cartLinePath(itemId);
		const marker = once === undefined ? null : cartAddPath(once);
		const notYet = marker ? { [marker]: { $exists: false } } : {};
		const mark = marker ? { [marker]: now() } : {};
		// One atomic increment that never takes the line past the maximum: concurrent adds all count.
		const addTo = { [line]: { $exists: true }, [`${line}.quantity`]: { $lte: MAX_QUANTITY - quantity }, ...notYet };
		const increment = { $inc: { [`${line}.quantity`]: quantity }, $set: { updatedAt: now(), ...mark } };
		if ((await this.carts.updateWhere({ _id: userId, ...addTo }, increment)) === 1) return this.view(ctx, userId);
		await this.ensure(userId);
		await this.carts.change(
			userId,
			async cart => {
				if (once !== undefined && cart.adds && Object.hasOwn(cart.adds, once)) return null; // made already
				const existing = Object.hasOwn(cart.lines, itemId) ? cart.lines[itemId] : undefined;
				if (existing) {
					if (existing.quantity + quantity > MAX_QUANTITY)
						throw invalidField(
							"quantity",
							`A cart holds at most ${MAX_QUANTITY} of an item; it has ${existing.quantity} of this one.`,
							"cartQuantity",
						);
					return { expect: addTo, update: increment };
				}
				if (Object.keys(cart.lines).length >= MAX_CART_LINES)
					throw invalidField("productId", `A cart holds at most ${MAX_CART_LINES} different items.`, "cartFull");
				const { lines } = await this.lines(ctx, userId);
				if (lines.items.length > 0 && lines.currency !== product.currency)
					throw invalidField("productId", `This product is priced in ${product.currency}; the cart is in ${lines.currency}.`, "currency");
				const entry: CartLine = { productId, variantId: variantId ?? null, quantity, addedAt: now() };
				return { expect: { [line]: { $exists: false }, ...notYet }, update: { $set: { [line]: entry, updatedAt: now(), ...mark } } };
			},
			{ contended: () => conflict("The cart changed while adding to it; try again", "CONCURRENT_CHANGE") },
		);
		return this.view(ctx, userId);
	}

	async setQuantity(ctx: Context, userId: string, itemId: string, quantity: number): Promise<CartView> {
		const line = cartLinePath(itemId);
		const n = await this.carts.updateWhere({ _id: userId, [line]: { $exists: true } }, { $set: { [`${line}.quantity`]: quantity, updatedAt: now() } });
		if (n === 0) throw notFound("Cart item", itemId);
		return this.view(ctx, userId);
	}

	async remove(ctx: Context, userId: string, itemId: string): Promise<CartView> {
		const line = cartLinePath(itemId);
		const n = await this.carts.updateWhere({ _id: userId, [line]: { $exists: true } }, { $unset: { [line]: true }, $set: { updatedAt: now() } });
		if (n === 0) throw notFound("Cart item", itemId);
		return this.view(ctx, userId);
	}

	async clear(ctx: Context, userId: string): Promise<CartView> {
		await this.carts.updateWhere({ _id: userId }, { $set: { lines: {}, adds: {}, updatedAt: now() }, $unset: { promotionCode: true } });
		return this.view(ctx, userId);
	}

	/** PUT /cart/promotion: the code goes on the cart if the cart may take it now (422 with the reason otherwise). */
	async applyPromotion(ctx: Context, userId: string, code: string): Promise<CartView> {
		const { lines } = await this.lines(ctx, userId);
		const terms = await ctx.call<PricingTerms, PricingTermsRequest>("pricing.terms", { userId, currency: lines.currency, subtotal: lines.subtotal, code });
		if (!terms.promotion) {
			const refusal = terms.refusal ?? { reason: "unknown", message: "This promotion code does not exist." };
			throw validationError([{ field: "code", message: refusal.message, type: refusal.reason }], refusal.message);
		}
		await this.ensure(userId);
		await this.carts.updateWhere({ _id: userId }, { $set: { promotionCode: normalizePromotionCode(code), updatedAt: now() } });
		return this.view(ctx, userId);
	}

	async removePromotion(ctx: Context, userId: string): Promise<CartView> {
		await this.carts.updateWhere({ _id: userId }, { $unset: { promotionCode: true }, $set: { updatedAt: now() } });
		return this.view(ctx, userId);
	}

	/** The ordered lines leave the cart (lines added meanwhile stay), and so does the code the order used. */
	async removeOrdered(userId: string, itemIds: readonly string[], usedCode: string | null): Promise<void> {
		await this.carts.updateWhere(
			{ _id: userId },
			{
				$unset: { ...Object.fromEntries(itemIds.map(id => [cartLinePath(id), true])), ...(usedCode ? { promotionCode: true } : {}) },
				$set: { updatedAt: now() },
			},
		);
	}

	private async ensure(userId: string): Promise<CartRecord> {
		return (await this.carts.findById(userId)) ?? this.carts.insertOrGet({ _id: userId, lines: {}, updatedAt: now() });
	}
}
