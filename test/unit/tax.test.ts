import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addedTax, includedTax, isTaxRate, MAX_TAX_RATE_BP, taxOf, taxRateFor } from "../../lib/domain/tax.js";

/** The half-even specification, stated apart from the implementation: q is nearest to n / d, a tie goes to the even q. */
function isHalfEvenQuotient(q: number, n: bigint, d: bigint): boolean {
	const diff = BigInt(q) * d - n; // q − n/d, times d
	const twice = diff < 0n ? -2n * diff : 2n * diff;
	if (twice < d) return true;
	return twice === d && q % 2 === 0;
}

describe("tax", () => {
	it("takes the tax out of a gross amount: amount × rate / (10000 + rate)", () => {
		expect(includedTax(11900, 1900)).toBe(1900);
		expect(includedTax(1999, 1900)).toBe(319); // 319.17
		expect(includedTax(0, 1900)).toBe(0);
		expect(includedTax(1000, 0)).toBe(0);
		expect(includedTax(10700, 700)).toBe(700);
	});

	it("adds the tax to a net amount: amount × rate / 10000", () => {
		expect(addedTax(10000, 1900)).toBe(1900);
		expect(addedTax(1999, 1900)).toBe(380); // 379.81
		expect(addedTax(1, 2700)).toBe(0); // 0.27
		expect(addedTax(2, 2700)).toBe(1); // 0.54
		expect(addedTax(1000, 0)).toBe(0);
	});

	it("rounds an exact half to the even minor unit (2.5 → 2, 3.5 → 4), both ways", () => {
		expect(addedTax(25, 1000)).toBe(2); // 2.5
		expect(addedTax(35, 1000)).toBe(4); // 3.5
		expect(addedTax(15, 1000)).toBe(2); // 1.5
		expect(addedTax(5, 1000)).toBe(0); // 0.5
		expect(addedTax(45, 1000)).toBe(4); // 4.5
		expect(includedTax(5, 10000)).toBe(2); // 2.5
		expect(includedTax(7, 10000)).toBe(4); // 3.5
		expect(includedTax(105, 500)).toBe(5); // 5.0 exactly
		expect(includedTax(21, 500)).toBe(1); // 1.0
		expect(includedTax(231, 1000)).toBe(21); // 21.0
		expect(includedTax(121, 1000)).toBe(11);
	});

	it("is exact far beyond 2^53 intermediate products", () => {
		// 4.95e12 × 2700 ≈ 1.3e16 > 2^53: a double product would already be off.
		const amount = 4_950_000_000_001;
		expect(addedTax(amount, 2700)).toBe(1_336_500_000_000); // 1336500000000.27
		expect(includedTax(amount, 1900)).toBe(790_336_134_454); // 790336134453.94…
		expect(isHalfEvenQuotient(includedTax(amount, 1900), BigInt(amount) * 1900n, 11900n)).toBe(true);
		expect(addedTax(Number.MAX_SAFE_INTEGER, 10000)).toBe(Number.MAX_SAFE_INTEGER);
	});

	it("chooses the formula by the tax mode", () => {
		expect(taxOf(11900, 1900, true)).toBe(1900);
		expect(taxOf(11900, 1900, false)).toBe(2261);
	});

	it("refuses rates outside 0..10000 basis points and amounts that are not amounts", () => {
		for (const rate of [-1, 10001, 19.5, Number.NaN]) {
			expect(() => addedTax(100, rate)).toThrow(RangeError);
			expect(() => includedTax(100, rate)).toThrow(RangeError);
		}
		expect(() => addedTax(-1, 1900)).toThrow(RangeError);
		expect(() => addedTax(1.5, 1900)).toThrow(RangeError);
		expect(() => includedTax(Number.MAX_SAFE_INTEGER + 1, 1900)).toThrow(RangeError);
	});

	it("matches the half-even specification for any amount and rate", () => {
		fc.assert(
			fc.property(fc.bigInt({ min: 0n, max: 100_000_000_000_000n }).map(Number), fc.integer({ min: 0, max: MAX_TAX_RATE_BP }), (amount, rate) => {
				const a = BigInt(amount);
				const r = BigInt(rate);
				const inc = includedTax(amount, rate);
				const exc = addedTax(amount, rate);
				expect(isHalfEvenQuotient(inc, a * r, 10000n + r)).toBe(true);
				expect(isHalfEvenQuotient(exc, a * r, 10000n)).toBe(true);
				expect(inc).toBeLessThanOrEqual(amount);
				expect(exc).toBeLessThanOrEqual(amount);
				expect(Number.isSafeInteger(inc) && Number.isSafeInteger(exc)).toBe(true);
			}),
			{ numRuns: 500 },
		);
	});

	it("knows what a rate may be", () => {
		expect(isTaxRate(0)).toBe(true);
		expect(isTaxRate(1900)).toBe(true);
		expect(isTaxRate(MAX_TAX_RATE_BP)).toBe(true);
		expect(isTaxRate(MAX_TAX_RATE_BP + 1)).toBe(false);
		expect(isTaxRate(-1)).toBe(false);
		expect(isTaxRate(19.5)).toBe(false);
		expect(isTaxRate("1900")).toBe(false);
	});

	it("looks a destination's rate up, 0 where none is set", () => {
		const rates = { DE: 1900, FR: 2000 };
		expect(taxRateFor(rates, "DE")).toBe(1900);
		expect(taxRateFor(rates, "US")).toBe(0);
		expect(taxRateFor(rates, "constructor")).toBe(0);
		expect(taxRateFor(rates, "__proto__")).toBe(0);
	});
});
