/**
 * Promotions: the codes a shopper applies to a cart, what makes one acceptable, and the discount
 * it gives. Pure: the service loads the rule and its redemption counts, and passes the time in.
 *
 * Rules:
 * - A code is unique case-insensitively: it is stored and looked up normalised (trimmed, ASCII
 *   letters upper-cased), and a normalised code is 2 to 32 characters of `A-Z 0-9 _ -`, the
 *   first a letter or digit (`PROMOTION_CODE_PATTERN`). Only ASCII letters are upper-cased, so no
 *   Unicode case mapping can turn another character into one of these ("ſale" is not "SALE").
 * - `percent`: `value` is 1..100; the discount is `subtotal × value / 100` rounded half-even to
 *   the minor unit (2.5 → 2, 3.5 → 4). A percent code with a `currency` applies to carts in that
 *   currency only; without one it applies to any cart.
 * - `fixed`: `value` ≥ 1 in minor units of its `currency` (required); the discount is `value`,
 *   capped at the subtotal. A fixed code applies to carts in its currency only.
 * - `minSubtotal` is an amount, so it needs `currency` too; it is compared with the subtotal
 *   before the discount, and exactly reaching it is enough.
 * - The code is valid from `startsAt` (that instant included) until `endsAt` (that instant
 *   excluded); `endsAt` must be after `startsAt`. Either may be open.
 * - `maxRedemptions` counts every order that holds the code; `perCustomerLimit` the orders of one
 *   customer. Both ≥ 1 when set. `promotionRefusal` only reads the counts: a service must still
 *   take a redemption with a conditional update (count < limit) so that racing checkouts cannot
 *   exceed a limit, and give it back when the order is cancelled before payment.
 * - The discount is never negative and never above the subtotal.
 */
import type { FieldProblem } from "../errors.js";
import { capAt, isCurrencyCode, isMinorUnits, type MinorUnits } from "./money.js";
import { mulDivHalfEven } from "./rounding.js";
import type { EventEnvelope } from "../contracts/events.js";

export const PROMOTION_TYPES = ["percent", "fixed"] as const;
export type PromotionType = (typeof PROMOTION_TYPES)[number];

/** A normalised code. */
export const PROMOTION_CODE_PATTERN = /^[A-Z0-9][A-Z0-9_-]{1,31}$/;
/** A code as a request may carry it: the pattern before normalising (spaces around it, any case). */
export const PROMOTION_CODE_REQUEST_PATTERN = /^ *[A-Za-z0-9][A-Za-z0-9_-]{1,31} *$/;

/** A promotion as the pricing rules see it, whatever record it is stored in. */
export interface PromotionRule {
	code: string;
	type: PromotionType;
	/** percent: 1..100; fixed: minor units of `currency`. */
	value: number;
	currency?: string | null;
	minSubtotal?: MinorUnits | null;
	/** ISO 8601 instants. */
	startsAt?: string | null;
	endsAt?: string | null;
	maxRedemptions?: number | null;
	perCustomerLimit?: number | null;
	active: boolean;
}

/** The case-insensitive identity of a code: trimmed, ASCII letters upper-cased. */
export function normalizePromotionCode(code: string): string {
	return code.trim().replace(/[a-z]+/g, s => s.toUpperCase());
}

/** Why a code as typed by an admin cannot be a code (null: it can). */
export function promotionCodeProblem(code: unknown, field = "code"): FieldProblem | null {
	if (typeof code === "string" && PROMOTION_CODE_PATTERN.test(normalizePromotionCode(code))) return null;
	return {
		field,
		message: "A promotion code is 2 to 32 letters, digits, '_' or '-', starting with a letter or digit (case does not matter).",
		type: "promotionCode",
	};
}

// An ISO 8601 instant with a date, a time and an offset: what `toISOString()` writes, and the
// forms a client usually sends. Date.parse alone would take "2026-02-30" for 2 March.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
	return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function isTimestamp(value: unknown): value is string {
	if (typeof value !== "string") return false;
	const m = TIMESTAMP.exec(value);
	if (!m) return false;
	const [year, month, day, hour, minute, second, offH, offM] = m.slice(1).map(v => Number(v ?? 0));
	if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
	if (hour > 23 || minute > 59 || second > 59 || offH > 23 || offM > 59) return false;
	return !Number.isNaN(Date.parse(value));
}

const isSet = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;
const isLimit = (v: unknown): boolean => typeof v === "number" && Number.isSafeInteger(v) && v >= 1;

/** What a create or update may hold; the types are checked here too. */
export interface PromotionInput {
	code?: unknown;
	type?: unknown;
	value?: unknown;
	currency?: unknown;
	minSubtotal?: unknown;
	startsAt?: unknown;
	endsAt?: unknown;
	maxRedemptions?: unknown;
	perCustomerLimit?: unknown;
	active?: unknown;
}

/**
 * The 422 field problems of a promotion (empty: it is valid). For a PATCH, pass the stored
 * promotion with the patch applied: the rules across fields (a fixed value needs a currency,
 * endsAt after startsAt) hold for the result.
 */
export function promotionInputProblems(input: PromotionInput): FieldProblem[] {
	const problems: FieldProblem[] = [];
	const problem = (field: string, message: string, type: string) => problems.push({ field, message, type });

	const codeProblem = promotionCodeProblem(input.code);
	if (codeProblem) problems.push(codeProblem);

	const type = PROMOTION_TYPES.find(t => t === input.type);
	if (!type) problem("type", "The type must be 'percent' or 'fixed'.", "enumValue");

	const value = input.value;
	if (type === "percent") {
		if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 100)
			problem("value", "A percent value is a whole number from 1 to 100.", "value");
	} else if (!isMinorUnits(value) || value < 1) {
		problem(
			"value",
			type === "fixed"
				? "A fixed value is an amount of at least 1 in minor units (cents) of the currency."
				: "The value must be a positive whole number.",
			"value",
		);
	}

	const currency = input.currency;
	if (isSet(currency) && !isCurrencyCode(currency)) problem("currency", "The currency must be an ISO 4217 code such as 'EUR'.", "currency");
	else if (!isSet(currency) && type === "fixed") problem("currency", "A fixed promotion needs the currency its value is in.", "currencyNeeded");

	const minSubtotal = input.minSubtotal;
	if (isSet(minSubtotal)) {
		if (!isMinorUnits(minSubtotal)) problem("minSubtotal", "The minimum subtotal is a whole, non-negative amount in minor units.", "minSubtotal");
		else if (!isSet(currency)) problem("currency", "A minimum subtotal is an amount: give the currency it is in.", "currencyNeeded");
	}

	const { startsAt, endsAt } = input;
	const startsOk = !isSet(startsAt) || isTimestamp(startsAt);
	const endsOk = !isSet(endsAt) || isTimestamp(endsAt);
	if (!startsOk) problem("startsAt", "startsAt must be an ISO 8601 date and time with an offset, such as '2026-03-01T00:00:00Z'.", "timestamp");
	if (!endsOk) problem("endsAt", "endsAt must be an ISO 8601 date and time with an offset, such as '2026-03-31T23:59:59Z'.", "timestamp");
	if (startsOk && endsOk && isSet(startsAt) && isSet(endsAt) && Date.parse(endsAt as string) <= Date.parse(startsAt as string))
		problem("endsAt", "endsAt must be after startsAt.", "dateOrder");

	for (const field of ["maxRedemptions", "perCustomerLimit"] as const) {
		const v = input[field];
		if (isSet(v) && !isLimit(v)) problem(field, `${field} must be a whole number of at least 1 (or null for no limit).`, "limit");
	}

	if (input.active !== undefined && typeof input.active !== "boolean") problem("active", "active must be true or false.", "boolean");
	return problems;
}

/** Why a cart cannot take a code, in the contract's words. */
export const PROMOTION_REFUSAL_REASONS = ["unknown", "inactive", "not_active_yet", "expired", "min_subtotal", "currency", "used_up", "already_used"] as const;
export type PromotionRefusalReason = (typeof PROMOTION_REFUSAL_REASONS)[number];

export interface PromotionRefusal {
	reason: PromotionRefusalReason;
	/** For the shopper. */
	message: string;
}

export interface RedemptionContext {
	now: Date | string;
	/** The cart's goods before the discount. */
	subtotal: MinorUnits;
	currency: string;
	/** Orders that hold the code now, all customers. */
	redemptions: number;
	/** Orders of this customer that hold the code now. */
	customerRedemptions: number;
}

// ISO 4217 minor-unit exponents other than 2, for messages a shopper reads.
const EXPONENT: Record<string, number> = Object.fromEntries([
	..."BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(" ").map(c => [c, 0] as const),
	..."BHD IQD JOD KWD LYD OMR TND".split(" ").map(c => [c, 3] as const),
]);

/** "50.00 EUR", "5000 JPY": an amount in minor units written in major units. */
export function formatAmount(amount: MinorUnits, currency: string): string {
	const exponent = EXPONENT[currency] ?? 2;
	if (exponent === 0) return `${amount} ${currency}`;
	const digits = String(amount).padStart(exponent + 1, "0");
	return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)} ${currency}`;
}

const instant = (t: string): string => new Date(Date.parse(t)).toISOString();

/**
 * Why this cart cannot take the code now (null: it can). The checks go in this order, so the
 * shopper hears the most basic reason first: unknown, inactive, not yet active, expired, wrong
 * currency, minimum subtotal, used up, already used by this customer.
 */
export function promotionRefusal(promo: PromotionRule | null, ctx: RedemptionContext): PromotionRefusal | null {
	if (!promo) return { reason: "unknown", message: "This promotion code does not exist." };
	if (!promo.active) return { reason: "inactive", message: "This promotion code is not available." };
	const now = typeof ctx.now === "string" ? Date.parse(ctx.now) : ctx.now.getTime();
	if (Number.isNaN(now)) throw new RangeError(`now is not a time: ${String(ctx.now)}`);
	if (isSet(promo.startsAt) && now < Date.parse(promo.startsAt))
		return { reason: "not_active_yet", message: `This promotion code can be used from ${instant(promo.startsAt)}.` };
	if (isSet(promo.endsAt) && now >= Date.parse(promo.endsAt))
		return { reason: "expired", message: `This promotion code expired at ${instant(promo.endsAt)}.` };
	// A fixed amount is only meaningful in its own currency (and one without a currency is invalid).
	if ((isSet(promo.currency) || promo.type === "fixed") && promo.currency !== ctx.currency)
		return { reason: "currency", message: `This promotion code applies to orders in ${promo.currency ?? "another currency"} only.` };
	if (isSet(promo.minSubtotal) && ctx.subtotal < promo.minSubtotal) {
		const missing = promo.minSubtotal - ctx.subtotal;
		return {
			reason: "min_subtotal",
			message: `This promotion code needs a subtotal of at least ${formatAmount(promo.minSubtotal, ctx.currency)}: add ${formatAmount(missing, ctx.currency)} more.`,
		};
	}
	if (isSet(promo.maxRedemptions) && ctx.redemptions >= promo.maxRedemptions) return { reason: "used_up", message: "This promotion code has been used up." };
	if (isSet(promo.perCustomerLimit) && ctx.customerRedemptions >= promo.perCustomerLimit)
		return {
			reason: "already_used",
			message:
				promo.perCustomerLimit === 1
					? "You have already used this promotion code."
					: `You have already used this promotion code ${promo.perCustomerLimit} times, as often as it can be used.`,
		};
	return null;
}

/**
 * The discount a code gives on a subtotal: percent rounded half-even, fixed capped at the
 * subtotal. It does not check whether the cart may take the code: `promotionRefusal` does.
 */
export function discountFor(promo: Pick<PromotionRule, "type" | "value">, subtotal: MinorUnits): MinorUnits {
	if (!isMinorUnits(subtotal)) throw new RangeError(`subtotal is not an amount: ${subtotal}`);
	if (promo.type === "percent") {
		if (!Number.isInteger(promo.value) || promo.value < 0 || promo.value > 100) throw new RangeError(`percent must be 0..100: ${promo.value}`);
		return mulDivHalfEven(subtotal, promo.value, 100);
	}
	return capAt(promo.value, subtotal);
}

// ---------------------------------------------------------------------------------------------
// Storage (services/pricing)

/** A promotion code as the pricing service stores it. */
export interface PromotionRecord extends Omit<PromotionRule, "code"> {
	_id: string;
	/** Unset once deleted, so the code can be used again (the unique index is sparse). */
	code?: string;
	deletedCode?: string;
	deletedAt: string | null;
	createdAt: string;
	updatedAt: string;
}

export interface RedemptionSlot {
	_id: string;
	promotionId: string;
	/** A use of the code's total (`all`) or of one customer's share (`customer`). */
	kind: "all" | "customer";
	orderId: string;
	userId: string;
	at: string;
}

export type RedemptionStatus = "taking" | "held" | "confirmed" | "released";
export interface RedemptionRecord {
	/** The order's id: one redemption per order. */
	_id: string;
	promotionId: string;
	code: string;
	userId: string;
	status: RedemptionStatus;
	/** Set once a released redemption's slots are gone. */
	slotsFreed?: boolean;
	outbox?: EventEnvelope[];
	createdAt: string;
	updatedAt: string;
}
