/**
 * The cart and checkout rules: a cart priced with the catalog's current prices, what makes a
 * cart or an address unfit for checkout, the order lines snapshotted from it, and the request
 * fingerprint an Idempotency-Key is bound to. Pure: the orders service loads and stores.
 */
import { createHash } from "node:crypto";
import type { FieldProblem } from "../errors.js";
import { DEFAULT_CURRENCY, lineTotal, sum, type MinorUnits } from "./money.js";
import type { OrderItem } from "./orders.js";
import { cardDigits, last4 } from "../payments/card.js";
import { isId } from "../contracts/ids.js";
import { IDEMPOTENCY_KEY_PATTERN, type CheckoutBody } from "../contracts/http/orders.js";
import type { CatalogPrice } from "../contracts/calls.js";
export { MAX_CART_LINES, MAX_QUANTITY, type CheckoutBody, type ShippingAddress } from "../contracts/http/orders.js";
export type { CatalogPrice };

/** The field path of a cart line: only ever built from an id in the shop's format (lib/contracts/ids.ts). */
export function cartLinePath(productId: string): string {
	if (!isId(productId)) throw new RangeError(`Not an id: ${JSON.stringify(productId)}`);
	return `lines.${productId}`;
}

export interface CartLine {
	quantity: number;
	addedAt: string;
}

export interface CartRecord {
	_id: string;
	/** By product id. A map, so adding one product is one atomic `$inc`/`$set` of its entry. */
	lines: Record<string, CartLine>;
	updatedAt: string;
}

export interface CartItemView {
	productId: string;
	name: string;
	unitPrice: MinorUnits;
	quantity: number;
	lineTotal: MinorUnits;
}

export interface PricedCart {
	items: CartItemView[];
	subtotal: MinorUnits;
	currency: string;
	/** Lines whose product is gone or inactive: not shown, not sold. */
	unavailable: string[];
	/** Lines whose product is now priced in another currency than the cart's. */
	otherCurrency: string[];
	/** The catalog entries of the priced lines, for the order snapshot. */
	products: Map<string, CatalogPrice>;
}

/** The cart with current prices, oldest line first. The cart's currency is its first line's. */
export function priceCart(lines: Record<string, CartLine>, catalog: readonly CatalogPrice[]): PricedCart {
	const byId = new Map(catalog.map(p => [p.id, p]));
	const ordered = Object.entries(lines).sort(([, a], [, b]) => a.addedAt.localeCompare(b.addedAt));
	const items: CartItemView[] = [];
	const unavailable: string[] = [];
	const otherCurrency: string[] = [];
	const products = new Map<string, CatalogPrice>();
	let currency: string | undefined;
	for (const [productId, line] of ordered) {
		const p = byId.get(productId);
		if (!p || !p.active) {
			unavailable.push(productId);
			continue;
		}
		currency ??= p.currency;
		if (p.currency !== currency) {
			otherCurrency.push(productId);
			continue;
		}
		products.set(productId, p);
		items.push({ productId, name: p.name, unitPrice: p.price, quantity: line.quantity, lineTotal: lineTotal(p.price, line.quantity) });
	}
	return { items, subtotal: sum(items.map(i => i.lineTotal)), currency: currency ?? DEFAULT_CURRENCY, unavailable, otherCurrency, products };
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

/** The order's lines, frozen at checkout: later price changes do not touch a placed order. */
export function snapshotItems(cart: PricedCart): OrderItem[] {
	return cart.items.map(i => ({
		productId: i.productId,
		sku: cart.products.get(i.productId)?.sku ?? "",
		name: i.name,
		unitPrice: i.unitPrice,
		quantity: i.quantity,
		lineTotal: i.lineTotal,
	}));
}

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
	const digits = cardDigits(body.payment.cardNumber) ?? body.payment.cardNumber;
	const { cardNumber: _n, cvc: _c, ...payment } = body.payment;
	return createHash("sha256")
		.update(canonical({ shippingAddress: body.shippingAddress, payment: { ...payment, last4: last4(digits) } }))
		.digest("hex");
}

/** An Idempotency-Key: 1 to 255 printable ASCII characters. */
export function idempotencyKeyProblem(key: string | undefined): string | null {
	if (key === undefined || key === "") return "The Idempotency-Key header is required.";
	if (!IDEMPOTENCY_KEY_PATTERN.test(key)) return "The Idempotency-Key header must be 1 to 255 printable ASCII characters.";
	return null;
}
