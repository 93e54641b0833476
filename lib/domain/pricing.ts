/**
 * Pricing an order: lines, discount, shipping and tax into the amounts an order stores, and what
 * a return of some of its units refunds. Pure: the caller has already accepted the promotion
 * (lib/domain/promotions.ts `promotionRefusal`), chosen the shipping method and looked up the
 * destination's tax rate.
 *
 * Rules (every amount an integer ≥ 0 in minor units, never beyond Number.MAX_SAFE_INTEGER):
 * - `lineTotal = unitPrice × quantity`; `subtotal = Σ lineTotal`.
 * - `discountTotal` is the promotion's discount on the subtotal (percent half-even, fixed capped
 *   at the subtotal). It is spread over the lines in proportion to their line totals by the
 *   largest-remainder method: each line gets the floor of its exact share, and the minor units
 *   left go one each to the lines with the largest remainders, ties to the earlier line. So
 *   `Σ line.discount = discountTotal` exactly and no line's discount exceeds its total.
 * - Each line is taxed on `lineTotal − discount`, the shipping charge on itself (`shippingTax`),
 *   at the destination's rate, each rounded half-even to the minor unit (lib/domain/tax.ts:
 *   contained in the amount when prices include tax, added on top when they exclude it);
 *   `taxTotal = Σ line.tax + shippingTax`. Rounding per line is what lets every item carry its
 *   own tax that adds up exactly to the total.
 * - `shippingTotal` is the method's charge for `subtotal − discountTotal` (free over a
 *   threshold: lib/domain/shipping.ts).
 * - `total = subtotal − discountTotal + shippingTotal` when prices include tax, and
 *   `+ taxTotal` on top of that when they exclude it.
 *
 * Refunds of returned units (`refundForReturn`):
 * - What was paid for a line is `lineTotal − discount`, plus its `tax` when prices exclude tax.
 * - Units are refunded cumulatively: the first n of a line's q units are worth
 *   `floor(paid × n / q)` (the whole `paid` for n = q), and returning units n+1..m refunds the
 *   difference of the two. Any sequence of partial returns of a line therefore adds up to exactly
 *   what was paid for the whole line, never more; the rounding cent goes with the last unit.
 * - Policy: shipping is not refunded for returned goods. A return of every unit of every line
 *   refunds exactly `total − shippingTotal` when prices include tax, and
 *   `total − shippingTotal − shippingTax` when the tax was added on top. (Cancelling a paid order
 *   before it ships is not a return: it gives back the whole `total`.)
 */
import { add, isMinorUnits, lineTotal as timesQuantity, subtract, sum, type MinorUnits } from "./money.js";
import { discountFor, type PromotionRule } from "./promotions.js";
import { mulDivFloor, toMinorUnits } from "./rounding.js";
import { shippingCharge, type ShippingMethod } from "./shipping.js";
import { taxOf } from "./tax.js";

export interface PricingLine {
	/** Unique within an order (the product id): returns name lines by it. */
	itemId: string;
	unitPrice: MinorUnits;
	/** A whole number ≥ 1. */
	quantity: number;
}

export interface PricingInput {
	lines: readonly PricingLine[];
	currency: string;
	/** Already accepted for this cart; null: none. */
	promotion: PromotionRule | null;
	/** null: nothing is shipped or charged for shipping. */
	shippingMethod: ShippingMethod | null;
	/** The destination's rate in basis points (1900 = 19 %). */
	taxRateBp: number;
	pricesIncludeTax: boolean;
}

export interface PricedLine {
	itemId: string;
	unitPrice: MinorUnits;
	quantity: number;
	lineTotal: MinorUnits;
	/** This line's share of the order's discount. */
	discount: MinorUnits;
	/** Tax on `lineTotal − discount`: contained in it, or on top of it (see `pricesIncludeTax`). */
	tax: MinorUnits;
}

export interface PricedOrder {
	lines: PricedLine[];
	subtotal: MinorUnits;
	discountTotal: MinorUnits;
	shippingTotal: MinorUnits;
	shippingTax: MinorUnits;
	taxTotal: MinorUnits;
	total: MinorUnits;
	currency: string;
	/** What the amounts were computed with: to store on the order, refunds need them. */
	taxRateBp: number;
	pricesIncludeTax: boolean;
	/** The contract's `promotion: { code, discount } | null` and `shippingMethod: { id, name, price } | null`. */
	promotion: { code: string; discount: MinorUnits } | null;
	shippingMethod: { id: string; name: string; price: MinorUnits } | null;
}

function compareBig(a: bigint, b: bigint): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `total` split over `weights` in proportion, by the largest-remainder method (ties to the
 * earlier weight): the shares add up to `total` exactly, and with `total ≤ Σ weights` no share
 * exceeds its weight (a zero weight gets 0).
 */
export function allocateProportionally(total: MinorUnits, weights: readonly MinorUnits[]): MinorUnits[] {
	const all = sum(weights);
	if (!isMinorUnits(total) || total > all) throw new RangeError(`cannot spread ${total} over weights totalling ${all}`);
	if (all === 0) return weights.map(() => 0);
	const t = BigInt(total);
	const s = BigInt(all);
	const shares = weights.map(w => (BigInt(w) * t) / s);
	const remainders = weights.map(w => (BigInt(w) * t) % s);
	// Σ remainders = s × left and every remainder < s, so more than `left` lines have a positive
	// remainder: the units left all go to such lines, never to one whose share was whole (which
	// is how a line with discount = lineTotal, or a zero line, never gets one more).
	let left = t - shares.reduce((a, b) => a + b, 0n);
	const byRemainder = weights.map((_, i) => i).sort((i, j) => compareBig(remainders[j], remainders[i]) || i - j);
	for (const i of byRemainder) {
		if (left === 0n) break;
		shares[i] += 1n;
		left -= 1n;
	}
	return shares.map(toMinorUnits);
}

/** The order's amounts (see the header for the rules). Throws a RangeError on input no checkout should produce. */
export function priceOrder(input: PricingInput): PricedOrder {
	const { currency, promotion, shippingMethod: method, taxRateBp, pricesIncludeTax } = input;
	const seen = new Set<string>();
	for (const l of input.lines) {
		if (seen.has(l.itemId)) throw new RangeError(`item ${l.itemId} is on two lines`);
		seen.add(l.itemId);
		if (!Number.isSafeInteger(l.quantity) || l.quantity < 1) throw new RangeError(`quantity of ${l.itemId} must be a whole number ≥ 1: ${l.quantity}`);
	}
	// An amount in another currency would be a wrong amount, not a smaller one.
	if (promotion?.currency != null && promotion.currency !== currency)
		throw new RangeError(`promotion ${promotion.code} is in ${promotion.currency}, the order in ${currency}`);
	if (method && method.currency !== currency) throw new RangeError(`shipping method ${method.id} is in ${method.currency}, the order in ${currency}`);

	const totals = input.lines.map(l => timesQuantity(l.unitPrice, l.quantity));
	const subtotal = sum(totals);
	const discountTotal = promotion ? discountFor(promotion, subtotal) : 0;
	const discounts = allocateProportionally(discountTotal, totals);
	const lines: PricedLine[] = input.lines.map((l, i) => {
		const total = totals[i];
		const discount = discounts[i];
		return {
			itemId: l.itemId,
			unitPrice: l.unitPrice,
			quantity: l.quantity,
			lineTotal: total,
			discount,
			tax: taxOf(subtract(total, discount), taxRateBp, pricesIncludeTax),
		};
	});
	const goods = subtract(subtotal, discountTotal);
	const shippingTotal = method ? shippingCharge(method, goods) : 0;
	const shippingTax = taxOf(shippingTotal, taxRateBp, pricesIncludeTax);
	const taxTotal = add(sum(lines.map(l => l.tax)), shippingTax);
	const beforeTax = add(goods, shippingTotal);
	return {
		lines,
		subtotal,
		discountTotal,
		shippingTotal,
		shippingTax,
		taxTotal,
		total: pricesIncludeTax ? beforeTax : add(beforeTax, taxTotal),
		currency,
		taxRateBp,
		pricesIncludeTax,
		promotion: promotion ? { code: promotion.code, discount: discountTotal } : null,
		shippingMethod: method ? { id: method.id, name: method.name, price: method.price } : null,
	};
}

/** What the shopper paid for a whole line: after its discount, with its tax when that was added on top. */
export function linePaid(line: Pick<PricedLine, "lineTotal" | "discount" | "tax">, pricesIncludeTax: boolean): MinorUnits {
	const net = subtract(line.lineTotal, line.discount);
	return pricesIncludeTax ? net : add(net, line.tax);
}

/** What the first `units` of a line's units are worth: floor(paid × units / quantity). */
export function paidForUnits(line: Pick<PricedLine, "lineTotal" | "discount" | "tax" | "quantity">, units: number, pricesIncludeTax: boolean): MinorUnits {
	if (!Number.isSafeInteger(units) || units < 0 || units > line.quantity) throw new RangeError(`units must be 0..${line.quantity}: ${units}`);
	return mulDivFloor(linePaid(line, pricesIncludeTax), units, line.quantity);
}

export interface ReturnRefundLine {
	itemId: string;
	/** The units refunded now (what was asked, less what was already returned). */
	quantity: number;
	amount: MinorUnits;
}

export interface ReturnRefund {
	lines: ReturnRefundLine[];
	total: MinorUnits;
}

function quantityIn(map: Readonly<Record<string, number>>, itemId: string, what: string): number {
	if (!Object.hasOwn(map, itemId)) return 0;
	const q = map[itemId];
	if (typeof q !== "number" || !Number.isSafeInteger(q)) throw new RangeError(`${what} quantity of ${itemId} is not a whole number: ${String(q)}`);
	return Math.max(0, q);
}

/**
 * What returning units of an order refunds (see the header): per line, the value of the
 * returned units given those already returned, in the order's line order. A line is refunded at
 * most its remaining units; item ids that are not on the order and quantities ≤ 0 are ignored.
 * Capping at what the payment still holds is the caller's (lib/domain/orders.ts).
 */
export function refundForReturn(
	pricedLines: readonly PricedLine[],
	alreadyReturned: Readonly<Record<string, number>>,
	returning: Readonly<Record<string, number>>,
	pricesIncludeTax: boolean,
): ReturnRefund {
	const lines: ReturnRefundLine[] = [];
	for (const line of pricedLines) {
		const asked = quantityIn(returning, line.itemId, "returning");
		if (asked === 0) continue;
		const before = Math.min(quantityIn(alreadyReturned, line.itemId, "already returned"), line.quantity);
		const after = Math.min(before + asked, line.quantity);
		if (after === before) continue;
		const amount = subtract(paidForUnits(line, after, pricesIncludeTax), paidForUnits(line, before, pricesIncludeTax));
		lines.push({ itemId: line.itemId, quantity: after - before, amount });
	}
	return { lines, total: sum(lines.map(l => l.amount)) };
}
