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

// Active ISO 4217 codes (funds and precious-metal codes left out: nobody prices a product in them).
const ISO_4217 = new Set(
	(
		"AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD " +
		"CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF " +
		"GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP " +
		"LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB " +
		"PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL " +
		"THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG"
	).split(" "),
);

export function isCurrencyCode(code: unknown): code is string {
	return typeof code === "string" && ISO_4217.has(code);
}

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

/** Sums amounts that must all be in one currency; throws on a mix. */
export function sumMoney(items: readonly Money[], currency: string): Money {
	for (const m of items) if (m.currency !== currency) throw new RangeError(`cannot add ${m.currency} to ${currency}`);
	return { amount: sum(items.map(m => m.amount)), currency };
}
