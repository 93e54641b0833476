import { describe, expect, it } from "vitest";
import { allocateProportionally, linePaid, paidForUnits, priceOrder, refundForReturn, type PricingInput } from "../../lib/domain/pricing.js";
import type { PromotionRule } from "../../lib/domain/promotions.js";
import type { ShippingMethod } from "../../lib/domain/shipping.js";

const tenPercent: PromotionRule = { code: "TEN", type: "percent", value: 10, active: true };
const standard: ShippingMethod = { id: "std", name: "Standard", countries: ["DE"], price: 490, currency: "EUR", freeOver: 10_000, minDays: 1, maxDays: 3 };
const cart = (over: Partial<PricingInput> = {}): PricingInput => ({
	lines: [
		{ itemId: "mug", unitPrice: 1190, quantity: 2 },
		{ itemId: "lamp", unitPrice: 5950, quantity: 1 },
	],
	currency: "EUR",
	promotion: tenPercent,
	shippingMethod: standard,
	taxRateBp: 1900,
	pricesIncludeTax: true,
	...over,
});

describe("allocating a discount over lines", () => {
	it("gives each line its exact share when there is one", () => {
		expect(allocateProportionally(833, [2380, 5950])).toEqual([238, 595]);
		expect(allocateProportionally(10, [3, 3, 4])).toEqual([3, 3, 4]);
		expect(allocateProportionally(10, [10, 0])).toEqual([10, 0]);
		expect(allocateProportionally(0, [5, 5])).toEqual([0, 0]);
		expect(allocateProportionally(0, [])).toEqual([]);
		expect(allocateProportionally(0, [0, 0])).toEqual([0, 0]);
	});

	it("hands the minor units left to the largest remainders, ties to the earlier line", () => {
		expect(allocateProportionally(100, [100, 100, 100])).toEqual([34, 33, 33]);
		expect(allocateProportionally(2, [1, 2])).toEqual([1, 1]); // 0.67, 1.33
		expect(allocateProportionally(5, [1, 3, 6])).toEqual([1, 1, 3]); // 0.5, 1.5, 3: tie → earlier
		expect(allocateProportionally(3, [1, 2, 4])).toEqual([0, 1, 2]); // 0.43, 0.86, 1.71: by remainder, not by position
		expect(allocateProportionally(7, Array(10).fill(1))).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
		expect(allocateProportionally(1, [0, 5, 5])).toEqual([0, 1, 0]); // a zero line never gets one
	});

	it("is exact with products far beyond 2^53", () => {
		const weights = [4_950_000_000_000, 1, 3];
		const shares = allocateProportionally(4_950_000_000_003, weights);
		expect(shares).toEqual([4_949_999_999_999, 1, 3]);
		const big = allocateProportionally(2_475_000_000_001, [4_950_000_000_000, 2]);
		expect(big.reduce((a, b) => a + b, 0)).toBe(2_475_000_000_001);
		expect(big).toEqual([2_475_000_000_000, 1]);
	});

	it("refuses to spread more than the weights hold", () => {
		expect(() => allocateProportionally(1, [0, 0])).toThrow(RangeError);
		expect(() => allocateProportionally(11, [5, 5])).toThrow(RangeError);
		expect(() => allocateProportionally(-1, [5])).toThrow(RangeError);
	});
});

describe("pricing an order", () => {
	it("prices tax included: the tax is inside the amounts, the total does not add it", () => {
		expect(priceOrder(cart())).toEqual({
			lines: [
				// 2142 × 1900 / 11900 = 342 exactly; 5355 → 855 exactly.
				{ itemId: "mug", unitPrice: 1190, quantity: 2, lineTotal: 2380, discount: 238, tax: 342 },
				{ itemId: "lamp", unitPrice: 5950, quantity: 1, lineTotal: 5950, discount: 595, tax: 855 },
			],
			subtotal: 8330,
			discountTotal: 833,
			shippingTotal: 490,
			shippingTax: 78, // 78.24
			taxTotal: 1275,
			total: 8330 - 833 + 490,
			currency: "EUR",
			taxRateBp: 1900,
			pricesIncludeTax: true,
			promotion: { code: "TEN", discount: 833 },
			shippingMethod: { id: "std", name: "Standard", price: 490 },
		});
	});

	it("prices tax excluded: the tax is added on top", () => {
		const o = priceOrder(cart({ pricesIncludeTax: false }));
		expect(o.lines.map(l => l.tax)).toEqual([407, 1017]); // 406.98, 1017.45
		expect(o.shippingTax).toBe(93); // 93.1
		expect(o.taxTotal).toBe(1517);
		expect(o.total).toBe(8330 - 833 + 490 + 1517);
	});

	it("rounds each line's tax half-even", () => {
		// 10 % on top of 25 and 35: 2.5 → 2, 3.5 → 4.
		const o = priceOrder(
			cart({
				lines: [
					{ itemId: "a", unitPrice: 25, quantity: 1 },
					{ itemId: "b", unitPrice: 35, quantity: 1 },
				],
				promotion: null,
				shippingMethod: null,
				taxRateBp: 1000,
				pricesIncludeTax: false,
			}),
		);
		expect(o.lines.map(l => l.tax)).toEqual([2, 4]);
		expect(o.taxTotal).toBe(6);
		expect(o.total).toBe(66);
	});

	it("taxes the discounted amount, not the list price", () => {
		const full = priceOrder(cart({ promotion: null, shippingMethod: null }));
		const off = priceOrder(cart({ shippingMethod: null }));
		expect(full.taxTotal).toBe(380 + 950);
		expect(off.taxTotal).toBe(342 + 855);
	});

	it("spreads a fixed discount, capped at the subtotal", () => {
		const fixed: PromotionRule = { code: "BIG", type: "fixed", value: 1_000_000, currency: "EUR", active: true };
		const o = priceOrder(cart({ promotion: fixed }));
		expect(o.discountTotal).toBe(8330);
		expect(o.lines.map(l => l.discount)).toEqual([2380, 5950]);
		expect(o.lines.map(l => l.tax)).toEqual([0, 0]);
		// Nothing left of the goods: shipping is charged (and taxed) in full.
		expect(o.total).toBe(490);
		expect(o.taxTotal).toBe(78);
	});

	it("ships for free once the goods after the discount reach the threshold", () => {
		const threshold = (freeOver: number, pricesIncludeTax = true) =>
			priceOrder(cart({ shippingMethod: { ...standard, freeOver }, pricesIncludeTax })).shippingTotal;
		// Goods after the discount: 8330 − 833 = 7497.
		expect(threshold(7497)).toBe(0);
		expect(threshold(7498)).toBe(490);
		expect(threshold(8330)).toBe(490); // the subtotal before the discount would reach it
		// Without tax when prices exclude it: the 7497 net goods, not 7497 + tax.
		expect(threshold(7497, false)).toBe(0);
		expect(threshold(7498, false)).toBe(490);
		const free = priceOrder(cart({ shippingMethod: { ...standard, freeOver: 7497 } }));
		expect(free.shippingTax).toBe(0);
		expect(free.total).toBe(7497);
	});

	it("prices an order without promotion or shipping", () => {
		const o = priceOrder(cart({ promotion: null, shippingMethod: null, taxRateBp: 0 }));
		expect(o).toMatchObject({
			subtotal: 8330,
			discountTotal: 0,
			shippingTotal: 0,
			shippingTax: 0,
			taxTotal: 0,
			total: 8330,
			promotion: null,
			shippingMethod: null,
		});
		expect(o.lines.every(l => l.discount === 0 && l.tax === 0)).toBe(true);
	});

	it("gives free lines no discount and no tax", () => {
		const o = priceOrder(
			cart({
				lines: [
					{ itemId: "gift", unitPrice: 0, quantity: 3 },
					{ itemId: "mug", unitPrice: 999, quantity: 1 },
				],
				shippingMethod: null,
			}),
		);
		expect(o.lines.map(l => [l.lineTotal, l.discount, l.tax])).toEqual([
			[0, 0, 0],
			[999, 100, 144], // 99.9 → 100; 899 × 19 / 119 = 143.54
		]);
	});

	it("refuses input no checkout should produce", () => {
		expect(() =>
			priceOrder(
				cart({
					lines: [
						{ itemId: "a", unitPrice: 1, quantity: 1 },
						{ itemId: "a", unitPrice: 2, quantity: 1 },
					],
				}),
			),
		).toThrow(/two lines/);
		expect(() => priceOrder(cart({ lines: [{ itemId: "a", unitPrice: 1, quantity: 0 }] }))).toThrow(RangeError);
		expect(() => priceOrder(cart({ lines: [{ itemId: "a", unitPrice: 1, quantity: 1.5 }] }))).toThrow(RangeError);
		expect(() => priceOrder(cart({ lines: [{ itemId: "a", unitPrice: -1, quantity: 1 }] }))).toThrow(RangeError);
		expect(() => priceOrder(cart({ lines: [{ itemId: "a", unitPrice: 0.5, quantity: 1 }] }))).toThrow(RangeError);
		expect(() => priceOrder(cart({ taxRateBp: 10_001 }))).toThrow(RangeError);
		expect(() => priceOrder(cart({ promotion: { ...tenPercent, currency: "USD" } }))).toThrow(/USD/);
		expect(() => priceOrder(cart({ shippingMethod: { ...standard, currency: "USD" } }))).toThrow(/USD/);
	});

	it("prices an empty cart to nothing but its shipping", () => {
		const o = priceOrder(cart({ lines: [] }));
		expect(o).toMatchObject({ lines: [], subtotal: 0, discountTotal: 0, shippingTotal: 490, shippingTax: 78, taxTotal: 78, total: 490 });
	});
});

describe("refunds of returned units", () => {
	// One line of 3 units, 1200 less a 200 discount: 1000 paid, which 3 does not divide.
	const fixed: PromotionRule = { code: "TWO", type: "fixed", value: 200, currency: "EUR", active: true };
	const order = priceOrder(cart({ lines: [{ itemId: "cup", unitPrice: 400, quantity: 3 }], promotion: fixed }));

	it("refund what was paid after the discount, the rounding unit with the last one", () => {
		expect(linePaid(order.lines[0]!, true)).toBe(1000);
		expect(refundForReturn(order.lines, {}, { cup: 1 }, true)).toEqual({ lines: [{ itemId: "cup", quantity: 1, amount: 333 }], total: 333 });
		expect(refundForReturn(order.lines, { cup: 1 }, { cup: 1 }, true).total).toBe(333);
		expect(refundForReturn(order.lines, { cup: 2 }, { cup: 1 }, true).total).toBe(334);
		expect(refundForReturn(order.lines, {}, { cup: 2 }, true).total).toBe(666);
		expect(refundForReturn(order.lines, { cup: 2 }, { cup: 5 }, true)).toEqual({ lines: [{ itemId: "cup", quantity: 1, amount: 334 }], total: 334 });
		expect(refundForReturn(order.lines, {}, { cup: 3 }, true).total).toBe(1000);
		expect([1, 2, 3].map(n => paidForUnits(order.lines[0]!, n, true))).toEqual([333, 666, 1000]);
	});

	it("refund the tax too when it was added on top", () => {
		const exclusive = priceOrder(cart({ lines: [{ itemId: "cup", unitPrice: 400, quantity: 3 }], promotion: fixed, pricesIncludeTax: false }));
		expect(exclusive.lines[0]!.tax).toBe(190);
		expect(linePaid(exclusive.lines[0]!, false)).toBe(1190);
		expect(refundForReturn(exclusive.lines, {}, { cup: 1 }, false).total).toBe(396); // 396.67
		expect(refundForReturn(exclusive.lines, {}, { cup: 3 }, false).total).toBe(1190);
		expect(exclusive.total - exclusive.shippingTotal - exclusive.shippingTax).toBe(1190);
	});

	it("refund nothing for units already returned, unknown items or quantities ≤ 0", () => {
		expect(refundForReturn(order.lines, { cup: 3 }, { cup: 1 }, true)).toEqual({ lines: [], total: 0 });
		expect(refundForReturn(order.lines, { cup: 7 }, { cup: 1 }, true)).toEqual({ lines: [], total: 0 });
		expect(refundForReturn(order.lines, {}, { plate: 2, cup: 0 }, true)).toEqual({ lines: [], total: 0 });
		expect(refundForReturn(order.lines, {}, { cup: -2 }, true)).toEqual({ lines: [], total: 0 });
		// Item ids are looked up as own keys: an item called "constructor" has no inherited returns.
		const odd = priceOrder(cart({ lines: [{ itemId: "constructor", unitPrice: 100, quantity: 2 }], promotion: null }));
		expect(refundForReturn(odd.lines, {}, { constructor: 1 }, true).total).toBe(100);
		expect(refundForReturn(odd.lines, {}, {}, true).total).toBe(0);
		expect(() => refundForReturn(order.lines, {}, { cup: 1.5 }, true)).toThrow(RangeError);
		expect(() => refundForReturn(order.lines, { cup: Number.NaN }, { cup: 1 }, true)).toThrow(RangeError);
	});

	it("refund a whole order's goods: the total less shipping (the policy)", () => {
		for (const pricesIncludeTax of [true, false]) {
			const o = priceOrder(cart({ pricesIncludeTax }));
			const all = refundForReturn(o.lines, {}, { mug: 2, lamp: 1 }, pricesIncludeTax);
			expect(all.lines.map(l => l.itemId)).toEqual(["mug", "lamp"]);
			expect(all.total).toBe(o.total - o.shippingTotal - (pricesIncludeTax ? 0 : o.shippingTax));
		}
	});

	it("refuse a unit count outside the line", () => {
		expect(() => paidForUnits(order.lines[0]!, 4, true)).toThrow(RangeError);
		expect(() => paidForUnits(order.lines[0]!, -1, true)).toThrow(RangeError);
		expect(paidForUnits(order.lines[0]!, 0, true)).toBe(0);
	});
});
