/**
 * Tax: one rate per destination country, in basis points (1900 = 19 %, 0..10000).
 *
 * - Prices include tax (`PRICES_INCLUDE_TAX=true`, the default): the tax contained in a gross
 *   amount is `amount × rate / (10000 + rate)`; the amount itself is what the shopper pays.
 * - Prices exclude tax: the tax of a net amount is `amount × rate / 10000`, added on top.
 * - Either way the tax is rounded half-even to the minor unit (2.5 → 2, 3.5 → 4), computed in
 *   integer arithmetic (lib/domain/rounding.ts): no float ever touches an amount.
 * - A country without a rate of its own is taxed at 0 (`taxRateFor`).
 *
 * The tax of an amount never exceeds the amount (the rate is at most 100 %; an included tax is
 * at most half of the gross amount).
 */
import type { MinorUnits } from "./money.js";
import { mulDivHalfEven } from "./rounding.js";

/** 100 %: more than any real VAT (the highest is 27 %), and it keeps tax ≤ amount. */
export const MAX_TAX_RATE_BP = 10_000;
const BP = 10_000;

export interface TaxRate {
	/** ISO 3166-1 alpha-2. */
	country: string;
	/** Basis points: 1900 = 19 %. */
	rate: number;
}

export function isTaxRate(rate: unknown): rate is number {
	return typeof rate === "number" && Number.isSafeInteger(rate) && rate >= 0 && rate <= MAX_TAX_RATE_BP;
}

/** The rate of a destination; 0 for a country that has none set. */
export function taxRateFor(rates: Readonly<Record<string, number>>, country: string): number {
	return Object.hasOwn(rates, country) ? (rates[country] ?? 0) : 0;
}

function checkedRate(rateBp: number): number {
	if (!isTaxRate(rateBp)) throw new RangeError(`tax rate must be 0..${MAX_TAX_RATE_BP} basis points: ${rateBp}`);
	return rateBp;
}

/** The tax contained in a gross amount (prices include tax): amount × rate / (10000 + rate), half-even. */
export function includedTax(amount: MinorUnits, rateBp: number): MinorUnits {
	const rate = checkedRate(rateBp);
	return mulDivHalfEven(amount, rate, BP + rate);
}

/** The tax to add to a net amount (prices exclude tax): amount × rate / 10000, half-even. */
export function addedTax(amount: MinorUnits, rateBp: number): MinorUnits {
	return mulDivHalfEven(amount, checkedRate(rateBp), BP);
}

/** The tax of an amount as the shop prices: contained in it, or added on top of it. */
export function taxOf(amount: MinorUnits, rateBp: number, pricesIncludeTax: boolean): MinorUnits {
	return pricesIncludeTax ? includedTax(amount, rateBp) : addedTax(amount, rateBp);
}
