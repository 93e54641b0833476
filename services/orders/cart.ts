/**
 * Carts: one document per customer, its lines a map by product id, so that adding a product is
 * one atomic `$inc` (or `$set` of a new line) and concurrent adds all count. A cart is priced
 * with the catalog's current prices every time it is shown (lib/domain/checkout.ts), and lines
 * that can no longer be bought leave it.
 */
import type { Context } from "moleculer";
import { conflict, invalidField, notFound } from "../../lib/errors.js";
import type { Collection } from "../../lib/store/index.js";
import {
	MAX_CART_LINES,
	MAX_QUANTITY,
	cartLinePath,
	priceCart,
	type CartLine,
	type CartRecord,
	type CatalogPrice,
	type PricedCart,
} from "../../lib/domain/checkout.js";

export interface CartView {
	items: PricedCart["items"];
	subtotal: number;
	currency: string;
}

const now = () => new Date().toISOString();

/** What the catalog says of these products now (`products.byIds`). */
export function catalogPrices(ctx: Context, ids: string[]): Promise<CatalogPrice[]> {
	return ids.length ? ctx.call<CatalogPrice[], { ids: string[] }>("products.byIds", { ids }) : Promise.resolve([]);
}

export class Carts {
	constructor(private readonly carts: Collection<CartRecord>) {}

	async priced(ctx: Context, userId: string): Promise<PricedCart> {
		const cart = await this.carts.findById(userId);
		return this.price(ctx, cart?.lines ?? {});
	}

	private async price(ctx: Context, lines: Record<string, CartLine>): Promise<PricedCart> {
		return priceCart(lines, await catalogPrices(ctx, Object.keys(lines)));
	}

	/** The cart as the customer sees it; lines that can no longer be bought (gone, inactive, another currency) leave it. */
	async view(ctx: Context, userId: string): Promise<CartView> {
		const { items, subtotal, currency, unavailable, otherCurrency } = await this.priced(ctx, userId);
		const stale = [...unavailable, ...otherCurrency];
		if (stale.length) await this.carts.updateWhere({ _id: userId }, { $unset: Object.fromEntries(stale.map(id => [cartLinePath(id), true])) });
		return { items, subtotal, currency };
	}

	/** Add `quantity` of a product; the same product adds up, never past MAX_QUANTITY. */
	async add(ctx: Context, userId: string, productId: string, quantity: number): Promise<CartView> {
		const [product] = await catalogPrices(ctx, [productId]);
		if (!product || !product.active) throw notFound("Product", productId);
		const line = cartLinePath(productId);
		for (let attempt = 0; attempt < 5; attempt++) {
			// One atomic increment that never takes the line past the maximum: concurrent adds all count.
			const added = await this.carts.updateWhere(
				{ _id: userId, [line]: { $exists: true }, [`${line}.quantity`]: { $lte: MAX_QUANTITY - quantity } },
				{ $inc: { [`${line}.quantity`]: quantity }, $set: { updatedAt: now() } },
			);
			if (added === 1) return this.view(ctx, userId);
			const cart = await this.ensure(userId);
			const existing = Object.hasOwn(cart.lines, productId) ? cart.lines[productId] : undefined;
			if (existing) {
				if (existing.quantity + quantity > MAX_QUANTITY)
					throw invalidField("quantity", `A cart holds at most ${MAX_QUANTITY} of a product; it has ${existing.quantity} of this one.`, "numberMax");
				continue;
			}
			if (Object.keys(cart.lines).length >= MAX_CART_LINES)
				throw invalidField("productId", `A cart holds at most ${MAX_CART_LINES} different products.`, "cartFull");
			const priced = await this.price(ctx, cart.lines);
			if (priced.items.length > 0 && priced.currency !== product.currency)
				throw invalidField("productId", `This product is priced in ${product.currency}; the cart is in ${priced.currency}.`, "currency");
			const created = await this.carts.updateWhere(
				{ _id: userId, [line]: { $exists: false } },
				{ $set: { [line]: { quantity, addedAt: now() }, updatedAt: now() } },
			);
			if (created === 1) return this.view(ctx, userId);
		}
		throw conflict("The cart changed while adding to it; try again", "CONCURRENT_CHANGE");
	}

	async setQuantity(ctx: Context, userId: string, productId: string, quantity: number): Promise<CartView> {
		const line = cartLinePath(productId);
		const n = await this.carts.updateWhere({ _id: userId, [line]: { $exists: true } }, { $set: { [`${line}.quantity`]: quantity, updatedAt: now() } });
		if (n === 0) throw notFound("Cart item", productId);
		return this.view(ctx, userId);
	}

	async remove(ctx: Context, userId: string, productId: string): Promise<CartView> {
		const line = cartLinePath(productId);
		const n = await this.carts.updateWhere({ _id: userId, [line]: { $exists: true } }, { $unset: { [line]: true }, $set: { updatedAt: now() } });
		if (n === 0) throw notFound("Cart item", productId);
		return this.view(ctx, userId);
	}

	async clear(ctx: Context, userId: string): Promise<CartView> {
		await this.carts.updateWhere({ _id: userId }, { $set: { lines: {}, updatedAt: now() } });
		return this.view(ctx, userId);
	}

	/** The ordered lines leave the cart (lines added meanwhile stay). */
	async removeOrdered(userId: string, productIds: readonly string[]): Promise<void> {
		await this.carts.updateWhere(
			{ _id: userId },
			{ $unset: Object.fromEntries(productIds.map(id => [cartLinePath(id), true])), $set: { updatedAt: now() } },
		);
	}

	private async ensure(userId: string): Promise<CartRecord> {
		return (await this.carts.findById(userId)) ?? this.carts.insertOrGet({ _id: userId, lines: {}, updatedAt: now() });
	}
}
