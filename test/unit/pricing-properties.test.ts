/**
 * Property-based tests of the pricing rules over random carts: 1–50 lines, unit prices
 * 0..1e9, quantities 1..99, random percent or fixed promotions, shipping with or without a
 * free-over threshold, tax rates 0..2700 bp, prices with or without tax.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { linePaid, priceOrder, refundForReturn, type PricedOrder, type PricingInput } from "../../lib/domain/pricing.js";
import { discountFor, type PromotionRule } from "../../lib/domain/promotions.js";
import type { ShippingMethod } from "../../lib/domain/shipping.js";

const RUNS = 300;

// Small amounts make ties, whole shares and thresholds common; large ones test the range.
const amount = (max: number) => fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.bigInt({ min: 0n, max: BigInt(max) }).map(Number));

const arbLines = fc
	.array(fc.record({ unitPrice: amount(1_000_000_000), quantity: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 99 })) }), {
		minLength: 1,
		maxLength: 50,
	})
	.map(lines => lines.map((l, i) => ({ itemId: `item-${i}`, ...l })));

const arbPromotion: fc.Arbitrary<PromotionRule | null> = fc.option(
	fc
		.oneof(
			fc.record({ type: fc.constant("percent" as const), value: fc.integer({ min: 1, max: 100 }) }),
			fc.record({ type: fc.constant("fixed" as const), value: amount(5_000_000_000_000).map(v => Math.max(1, v)) }),
		)
		.map((p): PromotionRule => ({ code: "PROMO", currency: p.type === "fixed" ? "EUR" : null, active: true, ...p })),
	{ nil: null },
);

const arbShipping: fc.Arbitrary<ShippingMethod | null> = fc.option(
	fc
		.record({ price: amount(1_000_000_000), freeOver: fc.option(amount(5_000_000_000_000).map(v => Math.max(1, v))) })
		.map((s): ShippingMethod => ({ id: "ship", name: "Ship", countries: ["*"], currency: "EUR", minDays: 1, maxDays: 5, ...s })),
	{ nil: null },
);

const arbCart: fc.Arbitrary<PricingInput> = fc
	.record({
		lines: arbLines,
		currency: fc.constant("EUR"),
		promotion: arbPromotion,
		shippingMethod: arbShipping,
		taxRateBp: fc.oneof(fc.constantFrom(0, 700, 1000, 1900, 2000, 2500, 2700), fc.integer({ min: 0, max: 2700 })),
		pricesIncludeTax: fc.boolean(),
	})
	// A random threshold seldom lands on the cart's goods total: often put it just there.
	.chain(cart => {
		const method = cart.shippingMethod;
		if (!method) return fc.constant(cart);
		const subtotal = cart.lines.reduce((s, l) => s + l.unitPrice * l.quantity, 0);
		const goods = subtotal - (cart.promotion ? discountFor(cart.promotion, subtotal) : 0);
		return fc
			.oneof(
				fc.constant(method.freeOver),
				fc.constantFrom(goods - 1, goods, goods + 1, subtotal).map(v => Math.max(1, v)),
			)
			.map(freeOver => ({ ...cart, shippingMethod: { ...method, freeOver } }));
	});

const big = (n: number) => BigInt(n);
const abs = (n: bigint) => (n < 0n ? -n : n);

/** Every amount of a priced order. */
function amounts(o: PricedOrder): number[] {
	return [
		o.subtotal,
		o.discountTotal,
		o.shippingTotal,
		o.shippingTax,
		o.taxTotal,
		o.total,
		...o.lines.flatMap(l => [l.unitPrice, l.lineTotal, l.discount, l.tax]),
	];
}

/** What a full return of the goods refunds by the policy: the total less shipping (and its tax when that was added). */
const goodsPaid = (o: PricedOrder) => o.total - o.shippingTotal - (o.pricesIncludeTax ? 0 : o.shippingTax);

describe("pricing properties", () => {
	it("the lines' discounts add up to the discount, each within one minor unit of its exact share", () => {
		fc.assert(
			fc.property(arbCart, cart => {
				const o = priceOrder(cart);
				expect(o.lines.reduce((s, l) => s + l.discount, 0)).toBe(o.discountTotal);
				expect(o.discountTotal).toBeLessThanOrEqual(o.subtotal);
				expect(o.discountTotal).toBe(cart.promotion ? discountFor(cart.promotion, o.subtotal) : 0);
				for (const l of o.lines) {
					expect(l.discount).toBeLessThanOrEqual(l.lineTotal);
					expect(l.lineTotal).toBe(l.unitPrice * l.quantity);
					// |discount − discountTotal × lineTotal / subtotal| < 1
					if (o.subtotal > 0) expect(abs(big(l.discount) * big(o.subtotal) - big(o.discountTotal) * big(l.lineTotal)) < big(o.subtotal)).toBe(true);
				}
				expect(o.subtotal).toBe(o.lines.reduce((s, l) => s + l.lineTotal, 0));
				// Largest remainder, ties to the earlier line: a line rounded down never has a larger
				// remainder than one rounded up, nor an equal one while standing before it.
				if (o.subtotal === 0) return;
				const S = big(o.subtotal);
				const exact = o.lines.map(l => big(o.discountTotal) * big(l.lineTotal));
				const up = o.lines.map((l, i) => big(l.discount) * S > exact[i]!);
				const rem = exact.map(e => e % S);
				for (let i = 0; i < o.lines.length; i++)
					for (let j = 0; j < o.lines.length; j++) if (up[j] && !up[i]) expect(rem[i]! < rem[j]! || (rem[i] === rem[j] && i > j)).toBe(true);
			}),
			{ numRuns: RUNS },
		);
	});

	it("the lines' taxes and the shipping tax add up to the tax, each rounded half-even", () => {
		fc.assert(
			fc.property(arbCart, cart => {
				const o = priceOrder(cart);
				expect(o.lines.reduce((s, l) => s + l.tax, 0) + o.shippingTax).toBe(o.taxTotal);
				const r = big(cart.taxRateBp);
				const den = cart.pricesIncludeTax ? 10_000n + r : 10_000n;
				const halfEven = (tax: number, base: number) => {
					const twice = 2n * abs(big(tax) * den - big(base) * r);
					return twice < den || (twice === den && tax % 2 === 0);
				};
				for (const l of o.lines) expect(halfEven(l.tax, l.lineTotal - l.discount)).toBe(true);
				expect(halfEven(o.shippingTax, o.shippingTotal)).toBe(true);
			}),
			{ numRuns: RUNS },
		);
	});

	it("the total is subtotal − discount + shipping, plus the tax when prices exclude it", () => {
		fc.assert(
			fc.property(arbCart, cart => {
				const o = priceOrder(cart);
				const expected = o.subtotal - o.discountTotal + o.shippingTotal + (cart.pricesIncludeTax ? 0 : o.taxTotal);
				expect(o.total).toBe(expected);
				// Free once the goods after the discount (as priced: with or without tax) reach the threshold.
				const m = cart.shippingMethod;
				const free = m?.freeOver != null && o.subtotal - o.discountTotal >= m.freeOver;
				expect(o.shippingTotal).toBe(m && !free ? m.price : 0);
				if (cart.pricesIncludeTax) expect(o.taxTotal).toBeLessThanOrEqual(o.total);
			}),
			{ numRuns: RUNS },
		);
	});

	it("every amount is a non-negative safe integer", () => {
		fc.assert(
			fc.property(arbCart, cart => {
				for (const a of amounts(priceOrder(cart))) expect(Number.isSafeInteger(a) && a >= 0).toBe(true);
			}),
			{ numRuns: RUNS },
		);
	});

	const arbSteps = fc.array(
		fc.array(fc.record({ line: fc.nat(), quantity: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 99 })) }), { maxLength: 6 }),
		{
			maxLength: 12,
		},
	);

	it("partial returns never refund more than was paid for a line; returning everything refunds the total less shipping", () => {
		fc.assert(
			fc.property(arbCart, arbSteps, (cart, steps) => {
				const o = priceOrder(cart);
				const returned: Record<string, number> = {};
				const refunded: Record<string, number> = {};
				const paid = Object.fromEntries(o.lines.map(l => [l.itemId, linePaid(l, cart.pricesIncludeTax)]));
				const apply = (returning: Record<string, number>) => {
					const refund = refundForReturn(o.lines, returned, returning, cart.pricesIncludeTax);
					expect(refund.total).toBe(refund.lines.reduce((s, l) => s + l.amount, 0));
					for (const r of refund.lines) {
						const line = o.lines.find(l => l.itemId === r.itemId)!;
						const before = returned[r.itemId] ?? 0;
						expect(r.quantity).toBeGreaterThan(0);
						expect(r.quantity).toBeLessThanOrEqual(Math.min(returning[r.itemId] ?? 0, line.quantity - before));
						expect(Number.isSafeInteger(r.amount) && r.amount >= 0).toBe(true);
						// Within one minor unit of the units' exact share of what the line paid.
						expect(abs(big(r.amount) * big(line.quantity) - big(paid[r.itemId]!) * big(r.quantity)) < big(line.quantity)).toBe(true);
						returned[r.itemId] = before + r.quantity;
						refunded[r.itemId] = (refunded[r.itemId] ?? 0) + r.amount;
						expect(refunded[r.itemId]).toBeLessThanOrEqual(paid[r.itemId]!);
					}
					// A line asked for but not refunded had nothing left to return.
					for (const [itemId, q] of Object.entries(returning))
						if (q > 0 && !refund.lines.some(r => r.itemId === itemId))
							expect(returned[itemId] ?? 0).toBe(o.lines.find(l => l.itemId === itemId)!.quantity);
				};
				for (const step of steps) {
					const returning: Record<string, number> = {};
					for (const s of step) {
						const itemId = o.lines[s.line % o.lines.length]!.itemId;
						returning[itemId] = (returning[itemId] ?? 0) + s.quantity;
					}
					apply(returning);
				}
				for (const l of o.lines) if ((returned[l.itemId] ?? 0) === l.quantity) expect(refunded[l.itemId]).toBe(paid[l.itemId]);
				// Then the rest of everything.
				apply(Object.fromEntries(o.lines.map(l => [l.itemId, l.quantity])));
				for (const l of o.lines) expect(refunded[l.itemId] ?? 0).toBe(paid[l.itemId]);
				expect(Object.values(refunded).reduce((s, a) => s + a, 0)).toBe(goodsPaid(o));
				expect(refundForReturn(o.lines, returned, Object.fromEntries(o.lines.map(l => [l.itemId, 99])), cart.pricesIncludeTax).total).toBe(0);
			}),
			{ numRuns: RUNS },
		);
	});

	it("a return of everything at once refunds exactly the total less shipping", () => {
		fc.assert(
			fc.property(arbCart, cart => {
				const o = priceOrder(cart);
				const all = refundForReturn(o.lines, {}, Object.fromEntries(o.lines.map(l => [l.itemId, l.quantity])), cart.pricesIncludeTax);
				expect(all.total).toBe(goodsPaid(o));
				expect(all.total).toBe(o.subtotal - o.discountTotal + (cart.pricesIncludeTax ? 0 : o.taxTotal - o.shippingTax));
			}),
			{ numRuns: RUNS },
		);
	});
});
