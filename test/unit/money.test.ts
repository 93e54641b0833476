import { describe, expect, it } from "vitest";
import { add, capAt, isCurrencyCode, isMinorUnits, lineTotal, subtract, sum } from "../../lib/domain/money.js";

describe("money", () => {
	it("adds and multiplies integer minor units exactly", () => {
		// 0.1 + 0.2 in major units is the classic float trap; in cents it is exact.
		expect(add(10, 20)).toBe(30);
		expect(lineTotal(1999, 3)).toBe(5997);
		expect(sum([1999, 1, 0, 5000])).toBe(7000);
		expect(sum([])).toBe(0);
	});

	it("refuses fractions, negatives and amounts beyond the safe integer range", () => {
		expect(() => add(0.5, 1)).toThrow(RangeError);
		expect(() => add(-1, 1)).toThrow(RangeError);
		expect(() => lineTotal(100, 1.5)).toThrow(RangeError);
		expect(() => lineTotal(100, -1)).toThrow(RangeError);
		expect(() => lineTotal(Number.MAX_SAFE_INTEGER, 2)).toThrow(RangeError);
		expect(() => add(Number.MAX_SAFE_INTEGER, 1)).toThrow(RangeError);
	});

	it("never subtracts below zero", () => {
		expect(subtract(500, 200)).toBe(300);
		expect(subtract(500, 500)).toBe(0);
		expect(() => subtract(200, 500)).toThrow(RangeError);
	});

	it("caps a request at what remains", () => {
		expect(capAt(700, 500)).toBe(500);
		expect(capAt(300, 500)).toBe(300);
		expect(capAt(300, 0)).toBe(0);
	});

	it("knows ISO 4217 codes and what an amount may be", () => {
		expect(isCurrencyCode("EUR")).toBe(true);
		expect(isCurrencyCode("JPY")).toBe(true);
		expect(isCurrencyCode("eur")).toBe(false);
		expect(isCurrencyCode("XXX")).toBe(false);
		expect(isCurrencyCode("ABC")).toBe(false);
		expect(isMinorUnits(0)).toBe(true);
		expect(isMinorUnits(12.5)).toBe(false);
		expect(isMinorUnits(-1)).toBe(false);
		expect(isMinorUnits("100")).toBe(false);
	});
});
