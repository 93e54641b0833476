/**
 * The cart and checkout rules: a cart priced with the catalog's current prices, what makes a
 * cart unfit for checkout, the order lines snapshotted from it with their share of the discount
 * and their tax (lib/domain/pricing.ts), and the request fingerprint an Idempotency-Key is bound
 * to. Pure: the orders service loads and stores.
 *
 * A cart line is one item: a product sold as itself, or one variant of a product. Lines are
 * keyed by item id (the variant's id, or the product's), so adding the same item adds up.
 */
import { createHash } from "node:crypto";
import type { FieldProblem } from "../errors.js";
import { DEFAULT_CURRENCY, lineTotal, sum, type MinorUnits } from "./money.js";
import type { OrderItem } from "./orders.js";
import type { PricedOrder } from "./pricing.js";
import { itemIdOf } from "./variants.js";
import { cardDigits, last4 } from "../payments/card.js";
import { isId } from "../contracts/ids.js";
import { IDEMPOTENCY_KEY_PATTERN, type CheckoutBody } from "../contracts/http/orders.js";
import type { CatalogPrice } from "../contracts/calls.js";
export { MAX_CART_LINES, MAX_QUANTITY, type CheckoutBody, type ShippingAddress } from "../contracts/http/orders.js";
export type { CatalogPrice };

/** The field path of a cart line: only ever built from an id in the shop's format (lib/contracts/ids.ts). */
export function cartLinePath(itemId: string): string {
	if (!isId(itemId)) throw new RangeError(`Not an id: ${JSON.stringify(itemId)}`);
	return `lines.${itemId}`;
}

/** The field path of an addition's marker (CartRecord.adds), built from an id in the shop's format too. */
export function cartAddPath(resourceId: string): string {
	if (!isId(resourceId)) throw new RangeError(`Not an id: ${JSON.stringify(resourceId)}`);
	return `adds.${resourceId}`;
}

export interface CartLine {
	/** Absent on lines added before variants existed: the line's key is then the product id. */
	productId?: string;
	variantId?: string | null;
	quantity: number;
	addedAt: string;
}

export interface CartRecord {
	_id: string;
	/** By item id. A map, so adding one item is one atomic `$inc`/`$set` of its entry. */
	lines: Record<string, CartLine>;
	/** The promotion code the customer applied (normalised); checked again whenever the cart is priced. */
	promotionCode?: string | null;
	/**
	 * Additions made under an Idempotency-Key, by the key's resource id → when: written in the same
	 * update as the addition, so an addition is applied once even when its node died before the key
	 * recorded the answer and another node takes the key over. Emptied with the cart.
	 */
	adds?: Record<string, string>;
	updatedAt: string;
}

export interface CartItemView {
	itemId: string;
	productId: string;
	variantId: string | null;
	/** The variant's options; null for a product sold as itself. */
	options: Record<string, string> | null;
	sku: string;
	name: string;
	unitPrice: MinorUnits;
	quantity: number;
	lineTotal: MinorUnits;
}

export interface PricedCart {
	items: CartItemView[];
	subtotal: MinorUnits;
	currency: string;
	/** Lines (item ids) whose product or variant is gone or inactive: not shown, not sold. */
	unavailable: string[];
	/** Lines whose product is now priced in another currency than the cart's. */
	otherCurrency: string[];
}

/** The line's product and variant ids (a line from before variants is keyed by its product). */
export function lineItem(itemId: string, line: CartLine): { productId: string; variantId: string | null } {
	return { productId: line.productId ?? itemId, variantId: line.variantId ?? null };
}

/** What the catalog sells for this line now: name, SKU, options and price of the product or its variant; null when it is not for sale. */
function offerFor(p: CatalogPrice | undefined, variantId: string | null): { sku: string; price: MinorUnits; options: Record<string, string> | null } | null {
	if (!p || !p.active) return null;
	const variants = p.variants ?? [];
	// A product sold in variants is sold only as one of them (a line from before it had variants is not).
	if (variantId === null) return variants.length === 0 ? { sku: p.sku, price: p.price, options: null } : null;
	const v = variants.find(x => x.id === variantId);
	return v && v.active ? { sku: v.sku, price: v.price, options: v.options } : null;
}

/** The cart with current prices, oldest line first. The cart's currency is its first line's. */
export function priceCart(lines: Record<string, CartLine>, catalog: readonly CatalogPrice[]): PricedCart {
	const byId = new Map(catalog.map(p => [p.id, p]));
	const ordered = Object.entries(lines).sort(([, a], [, b]) => a.addedAt.localeCompare(b.addedAt));
	const items: CartItemView[] = [];
	const unavailable: string[] = [];
	const otherCurrency: string[] = [];
	let currency: string | undefined;
	for (const [itemId, line] of ordered) {
		const { productId, variantId } = lineItem(itemId, line);
		const p = byId.get(productId);
		const offer = offerFor(p, variantId);
		if (!p || !offer) {
			unavailable.push(itemId);
			continue;
		}
		currency ??= p.currency;
		if (p.currency !== currency) {
			otherCurrency.push(itemId);
			continue;
		}
		items.push({
			itemId,
			productId,
			variantId,
			options: offer.options,
			sku: offer.sku,
			name: p.name,
			unitPrice: offer.price,
			quantity: line.quantity,
			lineTotal: lineTotal(offer.price, line.quantity),
		});
	}
	return { items, subtotal: sum(items.map(i => i.lineTotal)), currency: currency ?? DEFAULT_CURRENCY, unavailable, otherCurrency };
}

/** What a customer's cart line is asked for: a product sold as itself, or (for a product sold in variants) one of its variants. */
export function itemProblem(p: CatalogPrice, variantId: string | undefined): FieldProblem | null {
	const variants = p.variants ?? [];
	if (variants.length > 0 && variantId === undefined)
		return { field: "variantId", message: "This product is sold in variants: say which one (variantId).", type: "variantRequired" };
	if (variantId !== undefined && !variants.some(v => v.id === variantId && v.active))
		return { field: "variantId", message: "This product has no such variant for sale.", type: "unknownVariant" };
	return null;
}

/** Why this cart cannot be checked out (empty: it can). */
export function cartProblems(cart: PricedCart): FieldProblem[] {
	const problems: FieldProblem[] = [];
	if (cart.unavailable.length)
		problems.push({
			field: "cart",
			message: `Some products are no longer available: ${cart.unavailable.join(", ")}. Remove them from the cart.`,
			type: "unavailable",
		});
	if (cart.otherCurrency.length)
		problems.push({
			field: "cart",
			message: `Some products are priced in another currency than ${cart.currency}: ${cart.otherCurrency.join(", ")}.`,
			type: "currency",
		});
	if (cart.items.length === 0 && problems.length === 0) problems.push({ field: "cart", message: "The cart is empty.", type: "empty" });
	return problems;
}

/** The order's lines, frozen at checkout with their share of the discount and their tax: later price changes do not touch a placed order. */
export function snapshotItems(cart: PricedCart, priced: PricedOrder): OrderItem[] {
	const byItem = new Map(priced.lines.map(l => [l.itemId, l]));
	return cart.items.map(i => ({
		itemId: i.itemId,
		productId: i.productId,
		variantId: i.variantId,
		options: i.options,
		sku: i.sku,
		name: i.name,
		unitPrice: i.unitPrice,
		quantity: i.quantity,
		lineTotal: i.lineTotal,
		discount: byItem.get(i.itemId)?.discount ?? 0,
		tax: byItem.get(i.itemId)?.tax ?? 0,
	}));
}

/** The priced cart as lib/domain/pricing.ts takes it. */
export function pricingLines(cart: PricedCart): { itemId: string; unitPrice: MinorUnits; quantity: number }[] {
	return cart.items.map(i => ({ itemId: i.itemId, unitPrice: i.unitPrice, quantity: i.quantity }));
}

export { itemIdOf };

function canonical(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
	if (value && typeof value === "object") {
		const entries = Object.entries(value as Record<string, unknown>)
			.filter(([, v]) => v !== undefined)
			.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
		return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
	}
	return JSON.stringify(value);
}

/**
 * The fingerprint an Idempotency-Key is bound to. Only the card's last 4 digits take part:
 * a hash of the full number would itself be card data to protect.
 */
export function requestFingerprint(body: CheckoutBody): string {
	const number = body.payment.cardNumber ?? "";
	const digits = cardDigits(number) ?? number;
	const { cardNumber: _n, cvc: _c, ...payment } = body.payment;
	const card = number ? { last4: last4(digits) } : {};
	return fingerprintOf({
		shippingAddress: body.shippingAddress,
		shippingAddressId: body.shippingAddressId,
		shippingMethodId: body.shippingMethodId,
		payment: { ...payment, ...card },
	});
}

/** The fingerprint of a request body with no card data in it (a cart addition). */
export function fingerprintOf(body: unknown): string {
	return createHash("sha256").update(canonical(body)).digest("hex");
}

/** An Idempotency-Key: 1 to 255 printable ASCII characters. */
export function idempotencyKeyProblem(key: string | undefined): string | null {
	if (key === undefined || key === "") return "The Idempotency-Key header is required.";
	if (!IDEMPOTENCY_KEY_PATTERN.test(key)) return "The Idempotency-Key header must be 1 to 255 printable ASCII characters.";
	return null;
}
