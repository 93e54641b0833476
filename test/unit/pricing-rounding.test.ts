import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { divideHalfEven, mulDivFloor, mulDivHalfEven, toMinorUnits } from "../../lib/domain/rounding.js";

describe("rounding", () => {
	it("rounds half to even", () => {
		expect(divideHalfEven(5n, 2n)).toBe(2n); // 2.5
		expect(divideHalfEven(7n, 2n)).toBe(4n); // 3.5
		expect(divideHalfEven(1n, 2n)).toBe(0n); // 0.5
		expect(divideHalfEven(3n, 2n)).toBe(2n); // 1.5
		expect(divideHalfEven(9n, 4n)).toBe(2n); // 2.25
		expect(divideHalfEven(11n, 4n)).toBe(3n); // 2.75
		expect(divideHalfEven(10n, 5n)).toBe(2n);
		expect(divideHalfEven(0n, 3n)).toBe(0n);
		expect(mulDivHalfEven(25, 1, 10)).toBe(2);
		expect(mulDivHalfEven(35, 1, 10)).toBe(4);
	});

	it("rounds down where asked", () => {
		expect(mulDivFloor(1000, 1, 3)).toBe(333);
		expect(mulDivFloor(1000, 2, 3)).toBe(666);
		expect(mulDivFloor(1000, 3, 3)).toBe(1000);
		expect(mulDivFloor(0, 5, 7)).toBe(0);
	});

	it("keeps products exact beyond 2^53 and refuses results beyond it", () => {
		// 9e15 × 3 / 3: the double product 2.7e16 is not exact, the BigInt one is.
		expect(mulDivFloor(9_007_199_254_740_991, 3, 3)).toBe(9_007_199_254_740_991);
		expect(mulDivHalfEven(9_007_199_254_740_991, 7, 7)).toBe(9_007_199_254_740_991);
		expect(() => mulDivFloor(9_007_199_254_740_991, 2, 1)).toThrow(RangeError);
		expect(() => toMinorUnits(2n ** 53n)).toThrow(RangeError);
		expect(() => toMinorUnits(-1n)).toThrow(RangeError);
		expect(toMinorUnits(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER);
	});

	it("refuses what is not a division of non-negative integers", () => {
		expect(() => divideHalfEven(1n, 0n)).toThrow(RangeError);
		expect(() => divideHalfEven(-1n, 2n)).toThrow(RangeError);
		expect(() => mulDivHalfEven(1, 1, 0)).toThrow(RangeError);
		expect(() => mulDivFloor(1.5, 1, 2)).toThrow(RangeError);
		expect(() => mulDivFloor(1, -1, 2)).toThrow(RangeError);
	});

	it("is the nearest integer, ties to even, for any quotient", () => {
		fc.assert(
			fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 15n }), (n, d) => {
				const q = divideHalfEven(n, d);
				const twice = 2n * (q * d - n);
				const abs = twice < 0n ? -twice : twice;
				expect(abs <= d).toBe(true);
				if (abs === d) expect(q % 2n).toBe(0n);
			}),
			{ numRuns: 500 },
		);
		// Exact halves are rare among random quotients: make them.
		fc.assert(
			fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.bigInt({ min: 1n, max: 10n ** 9n }), (k, half) => {
				const q = divideHalfEven(k * 2n * half + half, 2n * half); // k + 0.5
				expect(q).toBe(k % 2n === 0n ? k : k + 1n);
			}),
			{ numRuns: 300 },
		);
	});
});
