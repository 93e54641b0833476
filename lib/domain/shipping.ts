/**
 * Shipping methods: which ones ship an order, in what order they are offered, and what one
 * charges. Pure: the service loads the methods.
 *
 * Rules:
 * - A method ships to the ISO 3166-1 alpha-2 countries it lists, or everywhere with `["*"]`;
 *   a method for the country and a `"*"` method both count. Only active methods (no `active`
 *   means active) in the order's currency are offered.
 * - Offered cheapest first, then by name, then by id (plain code-unit order, the same on every
 *   node whatever its locale). Without a goods total "cheapest" is the list price; with one it
 *   is the charge for those goods, so a method that is free for this cart comes first.
 * - The default method is the first offered (the cheapest).
 * - The charge is `price`, or 0 once the goods reach `freeOver` (exactly reaching it is enough).
 *   The threshold is compared with the goods total after the discount (subtotal − discount) as
 *   the catalog prices it: tax included when prices include tax, without tax when they exclude
 *   it (the tax on top depends on the shipping charge, so it cannot decide it).
 * - The shipping charge is taxed like goods, at the destination's rate (lib/domain/pricing.ts).
 */
import type { FieldProblem } from "../errors.js";
import { isCountryCode } from "../contracts/countries.js";
import { isCurrencyCode, isMinorUnits, MAX_UNIT_PRICE, type MinorUnits } from "./money.js";

export const EVERYWHERE = "*";
export const MAX_DELIVERY_DAYS = 365;

export interface ShippingMethod {
	id: string;
	name: string;
	/** ISO 3166-1 alpha-2 codes, or `["*"]`. */
	countries: string[];
	price: MinorUnits;
	currency: string;
	/** Goods totals from this amount on ship for free; null or absent: never free. */
	freeOver?: MinorUnits | null;
	minDays: number;
	maxDays: number;
	/** Absent: active. */
	active?: boolean;
}

export function shipsTo(method: Pick<ShippingMethod, "countries">, country: string): boolean {
	return method.countries.includes(EVERYWHERE) || method.countries.includes(country);
}

/** What the method charges for goods worth `goodsTotalAfterDiscount` (see the header). */
export function shippingCharge(method: Pick<ShippingMethod, "price" | "freeOver">, goodsTotalAfterDiscount: MinorUnits): MinorUnits {
	if (!isMinorUnits(goodsTotalAfterDiscount)) throw new RangeError(`goods total is not an amount: ${goodsTotalAfterDiscount}`);
	if (!isMinorUnits(method.price)) throw new RangeError(`shipping price is not an amount: ${method.price}`);
	const free = method.freeOver !== null && method.freeOver !== undefined && goodsTotalAfterDiscount >= method.freeOver;
	return free ? 0 : method.price;
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The methods that can ship an order to `country` in `currency`, cheapest first (see the header). */
export function shippingMethodsFor<M extends ShippingMethod>(
	methods: readonly M[],
	country: string,
	currency: string,
	goodsTotalAfterDiscount?: MinorUnits,
): M[] {
	const cost = (m: M): MinorUnits => (goodsTotalAfterDiscount === undefined ? m.price : shippingCharge(m, goodsTotalAfterDiscount));
	return methods
		.filter(m => m.active !== false && m.currency === currency && shipsTo(m, country))
		.map(m => ({ m, cost: cost(m) }))
		.sort((a, b) => a.cost - b.cost || a.m.price - b.m.price || byCodeUnits(a.m.name, b.m.name) || byCodeUnits(a.m.id, b.m.id))
		.map(({ m }) => m);
}

/** The cheapest method that ships there, or null when none does (a 422 at checkout). */
export function defaultShippingMethod<M extends ShippingMethod>(
	methods: readonly M[],
	country: string,
	currency: string,
	goodsTotalAfterDiscount?: MinorUnits,
): M | null {
	return shippingMethodsFor(methods, country, currency, goodsTotalAfterDiscount)[0] ?? null;
}

export interface ShippingMethodInput {
	name?: unknown;
	countries?: unknown;
	price?: unknown;
	currency?: unknown;
	freeOver?: unknown;
	minDays?: unknown;
	maxDays?: unknown;
	active?: unknown;
}

const isDays = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_DELIVERY_DAYS;

/**
 * The 422 field problems of a shipping method (empty: it is valid). For a PATCH, pass the
 * stored method with the patch applied, so that minDays ≤ maxDays holds for the result.
 */
export function shippingMethodInputProblems(input: ShippingMethodInput): FieldProblem[] {
	const problems: FieldProblem[] = [];
	const problem = (field: string, message: string, type: string) => problems.push({ field, message, type });

	if (typeof input.name !== "string" || input.name.trim().length < 1 || input.name.trim().length > 100)
		problem("name", "The name is 1 to 100 characters.", "name");

	const countries = input.countries;
	if (!Array.isArray(countries) || countries.length === 0)
		problem("countries", 'countries is a non-empty list of ISO 3166-1 alpha-2 codes, or ["*"] for everywhere.', "countries");
	else if (countries.includes(EVERYWHERE)) {
		if (countries.length > 1) problem("countries", '"*" already means every country: give it alone.', "countries");
	} else {
		countries.forEach((c: unknown, i) => {
			if (typeof c !== "string" || !isCountryCode(c)) problem(`countries.${i}`, "Not an ISO 3166-1 alpha-2 country code such as 'DE'.", "country");
			else if (countries.indexOf(c) !== i) problem(`countries.${i}`, `${c} is listed twice.`, "duplicate");
		});
	}

	if (!isMinorUnits(input.price) || input.price > MAX_UNIT_PRICE)
		problem("price", `The price is a whole amount in minor units from 0 to ${MAX_UNIT_PRICE}.`, "price");
	if (!isCurrencyCode(input.currency)) problem("currency", "The currency must be an ISO 4217 code such as 'EUR'.", "currency");
	if (input.freeOver !== undefined && input.freeOver !== null && (!isMinorUnits(input.freeOver) || input.freeOver < 1))
		problem("freeOver", "freeOver is an amount of at least 1 in minor units (or null: never free; a method that is always free has price 0).", "freeOver");

	const { minDays, maxDays } = input;
	if (!isDays(minDays)) problem("minDays", `minDays is a whole number of days from 0 to ${MAX_DELIVERY_DAYS}.`, "days");
	if (!isDays(maxDays)) problem("maxDays", `maxDays is a whole number of days from 0 to ${MAX_DELIVERY_DAYS}.`, "days");
	if (isDays(minDays) && isDays(maxDays) && minDays > maxDays) problem("maxDays", "maxDays must not be less than minDays.", "dayOrder");

	if (input.active !== undefined && typeof input.active !== "boolean") problem("active", "active must be true or false.", "boolean");
	return problems;
}
