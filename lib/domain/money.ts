/**
 * Money: integer amounts in minor units (cents) plus an ISO 4217 currency code.
 * Every sum goes through these helpers, so an amount is never a float, never negative where
 * it must not be, and never beyond Number.MAX_SAFE_INTEGER (which a JSON number still holds).
 */

/** An amount in the currency's minor unit (cents for EUR). */
export type MinorUnits = number;

export interface Money {
	amount: MinorUnits;
	currency: string;
}

/** The cart's currency before it holds anything. */
export const DEFAULT_CURRENCY = "EUR";

/** Upper bound of a single price; keeps line totals and order totals far inside the safe range. */
export const MAX_UNIT_PRICE: MinorUnits = 1_000_000_000;

export { isCurrencyCode } from "../contracts/currencies.js";

/** A non-negative safe integer: the only thing an amount may be. */
export function isMinorUnits(value: unknown): value is MinorUnits {
	return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function checked(value: number, what: string): MinorUnits {
	if (!Number.isSafeInteger(value)) throw new RangeError(`${what} is not a safe integer amount: ${value}`);
	if (value < 0) throw new RangeError(`${what} would be negative: ${value}`);
	return value;
}

export function add(a: MinorUnits, b: MinorUnits): MinorUnits {
	return checked(checked(a, "augend") + checked(b, "addend"), "sum");
}

/** b taken from a; never below zero. */
export function subtract(a: MinorUnits, b: MinorUnits): MinorUnits {
	return checked(checked(a, "minuend") - checked(b, "subtrahend"), "difference");
}

/** The total of a line: unit price times a whole, non-negative quantity. */
export function lineTotal(unitPrice: MinorUnits, quantity: number): MinorUnits {
	if (!Number.isSafeInteger(quantity) || quantity < 0) throw new RangeError(`quantity must be a non-negative integer: ${quantity}`);
	return checked(checked(unitPrice, "unit price") * quantity, "line total");
}

export function sum(amounts: readonly MinorUnits[]): MinorUnits {
	return amounts.reduce<MinorUnits>((total, a) => add(total, a), 0);
}

/** The smaller of what is asked and what is left: a refund never exceeds the remainder. */
export function capAt(requested: MinorUnits, remaining: MinorUnits): MinorUnits {
	return Math.min(checked(requested, "requested"), checked(remaining, "remaining"));
}
