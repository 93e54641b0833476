/**
 * Exact integer arithmetic for the pricing rules: `amount × numerator / denominator` rounded to
 * the minor unit, without a float anywhere.
 *
 * Order totals reach ~5e12 minor units (50 lines × 99 × 1e9) and get multiplied by rates or by
 * other amounts, which leaves the range a double holds exactly (2^53 ≈ 9e15): every product is
 * taken in BigInt, and only the rounded quotient comes back as a number (checked to be a safe,
 * non-negative integer, like every amount in lib/domain/money.ts).
 *
 * Rounding modes:
 * - half-even ("banker's rounding"): to the nearest integer, an exact half to the even one
 *   (2.5 → 2, 3.5 → 4), so halves do not drift upward over many lines: taxes, percent discounts.
 * - floor: for cumulative allocations, where the remainders are settled by the last step.
 */
import { isMinorUnits, type MinorUnits } from "./money.js";

function whole(value: number, what: string): bigint {
	if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative safe integer: ${value}`);
	return BigInt(value);
}

/** A BigInt result back to an amount; throws past Number.MAX_SAFE_INTEGER. */
export function toMinorUnits(value: bigint): MinorUnits {
	const n = Number(value);
	if (!isMinorUnits(n) || BigInt(n) !== value) throw new RangeError(`not a safe non-negative amount: ${value}`);
	return n;
}

/** n / d rounded half-even, for n ≥ 0 and d > 0. */
export function divideHalfEven(n: bigint, d: bigint): bigint {
	if (n < 0n || d <= 0n) throw new RangeError(`divideHalfEven needs n ≥ 0 and d > 0: ${n} / ${d}`);
	const q = n / d;
	const twice = (n % d) * 2n;
	if (twice > d) return q + 1n;
	if (twice === d) return q % 2n === 0n ? q : q + 1n;
	return q;
}

/** amount × numerator / denominator, rounded half-even. */
export function mulDivHalfEven(amount: MinorUnits, numerator: number, denominator: number): MinorUnits {
	const d = whole(denominator, "denominator");
	if (d === 0n) throw new RangeError("denominator must not be 0");
	return toMinorUnits(divideHalfEven(whole(amount, "amount") * whole(numerator, "numerator"), d));
}

/** amount × numerator / denominator, rounded down. */
export function mulDivFloor(amount: MinorUnits, numerator: number, denominator: number): MinorUnits {
	const d = whole(denominator, "denominator");
	if (d === 0n) throw new RangeError("denominator must not be 0");
	return toMinorUnits((whole(amount, "amount") * whole(numerator, "numerator")) / d);
}
