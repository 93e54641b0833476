import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
	discountFor,
	formatAmount,
	isTimestamp,
	normalizePromotionCode,
	PROMOTION_CODE_REQUEST_PATTERN,
	PROMOTION_REFUSAL_REASONS,
	promotionCodeProblem,
	promotionInputProblems,
	promotionRefusal,
	type PromotionRule,
	type RedemptionContext,
} from "../../lib/domain/promotions.js";

const rule = (over: Partial<PromotionRule> = {}): PromotionRule => ({ code: "SUMMER10", type: "percent", value: 10, active: true, ...over });
const ctx = (over: Partial<RedemptionContext> = {}): RedemptionContext => ({
	now: "2026-06-15T12:00:00.000Z",
	subtotal: 10_000,
	currency: "EUR",
	redemptions: 0,
	customerRedemptions: 0,
	...over,
});
const fields = (problems: { field: string }[]) => problems.map(p => p.field);

describe("promotion codes", () => {
	it("are normalised: trimmed, upper-cased", () => {
		expect(normalizePromotionCode("  summer-10 ")).toBe("SUMMER-10");
		expect(normalizePromotionCode("Black_Friday")).toBe("BLACK_FRIDAY");
		expect(normalizePromotionCode("SUMMER10")).toBe(normalizePromotionCode("summer10"));
	});

	it("upper-case ASCII letters only, so no Unicode case mapping makes two codes one", () => {
		// "ſ" (long s) and "ı" (dotless i) upper-case to "S" and "I" in Unicode.
		expect(normalizePromotionCode("ſale")).toBe("ſALE");
		expect(normalizePromotionCode("ſale")).not.toBe(normalizePromotionCode("sale"));
		expect(promotionCodeProblem("ſale")).not.toBeNull();
		expect(promotionCodeProblem("fıx")).not.toBeNull();
	});

	it("are 2 to 32 letters, digits, '_' or '-', starting with a letter or digit", () => {
		for (const ok of ["AB", "a1", "SUMMER-10", "x_y", "9LIVES", "A".repeat(32), "  padded  "]) expect(promotionCodeProblem(ok)).toBeNull();
		for (const bad of ["A", "", "   ", "A".repeat(33), "-AB", "_AB", "AB CD", "AB.CD", "ÄPFEL", "AB$", 42, null, undefined])
			expect(promotionCodeProblem(bad)).toMatchObject({ field: "code", type: "promotionCode" });
		expect(promotionCodeProblem("A", "promotion.code")?.field).toBe("promotion.code");
	});

	it("are stated in the request schema: every code its pattern allows is a code, and every code without spaces around it matches", () => {
		const codeChar = fc.constantFrom(..."abcXYZ019_-");
		const candidate = fc.tuple(
			fc.string({ unit: fc.constantFrom(" ", "\t", "é", "a", "Z", "7", "-", "_", "."), maxLength: 40 }),
			fc.string({ unit: codeChar, maxLength: 34 }),
		);
		fc.assert(
			fc.property(candidate, ([noise, code]) => {
				for (const s of [code, noise, ` ${code} `, noise + code]) {
					if (PROMOTION_CODE_REQUEST_PATTERN.test(s)) expect(promotionCodeProblem(s)).toBeNull();
					if (s.trim() === s && promotionCodeProblem(s) === null) expect(PROMOTION_CODE_REQUEST_PATTERN.test(s)).toBe(true);
				}
			}),
		);
	});
});

describe("promotion input", () => {
	const percent = { code: "SUMMER10", type: "percent", value: 10 };
	const fixed = { code: "FIVEOFF", type: "fixed", value: 500, currency: "EUR" };

	it("accepts well-formed percent and fixed promotions", () => {
		expect(promotionInputProblems(percent)).toEqual([]);
		expect(promotionInputProblems(fixed)).toEqual([]);
		expect(
			promotionInputProblems({
				...fixed,
				minSubtotal: 2000,
				startsAt: "2026-03-01T00:00:00Z",
				endsAt: "2026-03-31T23:59:59.999+02:00",
				maxRedemptions: 100,
				perCustomerLimit: 1,
				active: false,
			}),
		).toEqual([]);
		expect(
			promotionInputProblems({
				...percent,
				currency: null,
				minSubtotal: null,
				startsAt: null,
				endsAt: null,
				maxRedemptions: null,
				perCustomerLimit: null,
			}),
		).toEqual([]);
		expect(promotionInputProblems({ ...percent, value: 1 })).toEqual([]);
		expect(promotionInputProblems({ ...percent, value: 100 })).toEqual([]);
		expect(promotionInputProblems({ ...fixed, value: 1 })).toEqual([]);
		expect(promotionInputProblems({ ...percent, currency: "USD" })).toEqual([]);
	});

	it("wants a percent value of 1..100", () => {
		for (const value of [0, 101, 10.5, -5, "10", undefined]) expect(fields(promotionInputProblems({ ...percent, value }))).toEqual(["value"]);
	});

	it("wants a fixed value of at least 1 minor unit, and its currency", () => {
		for (const value of [0, -1, 2.5, "5", Number.MAX_SAFE_INTEGER + 1]) expect(fields(promotionInputProblems({ ...fixed, value }))).toEqual(["value"]);
		expect(promotionInputProblems({ ...fixed, currency: undefined })).toEqual([
			{ field: "currency", message: expect.stringMatching(/currency/), type: "currencyNeeded" },
		]);
		expect(fields(promotionInputProblems({ ...fixed, currency: null }))).toEqual(["currency"]);
		expect(promotionInputProblems({ ...fixed, currency: "EURO" })[0]).toMatchObject({ field: "currency", type: "currency" });
		expect(fields(promotionInputProblems({ ...percent, currency: "eur" }))).toEqual(["currency"]);
	});

	it("wants a known type", () => {
		expect(fields(promotionInputProblems({ ...percent, type: "bogo" }))).toEqual(["type"]);
		expect(fields(promotionInputProblems({ ...percent, type: undefined }))).toEqual(["type"]);
	});

	it("wants a minimum subtotal to be an amount with a currency", () => {
		expect(promotionInputProblems({ ...fixed, minSubtotal: 0 })).toEqual([]);
		expect(fields(promotionInputProblems({ ...fixed, minSubtotal: -1 }))).toEqual(["minSubtotal"]);
		expect(fields(promotionInputProblems({ ...fixed, minSubtotal: 10.5 }))).toEqual(["minSubtotal"]);
		expect(promotionInputProblems({ ...percent, minSubtotal: 5000 })).toEqual([
			{ field: "currency", message: expect.stringMatching(/minimum subtotal/), type: "currencyNeeded" },
		]);
		expect(promotionInputProblems({ ...percent, minSubtotal: 5000, currency: "EUR" })).toEqual([]);
	});

	it("wants ISO 8601 instants, endsAt after startsAt", () => {
		const at = (startsAt: unknown, endsAt: unknown) => fields(promotionInputProblems({ ...percent, startsAt, endsAt }));
		expect(at("2026-03-01T00:00:00Z", undefined)).toEqual([]);
		expect(at(undefined, "2026-03-01T00:00:00.000Z")).toEqual([]);
		expect(at("2026-03-01T00:00:00Z", "2026-03-01T00:00:00.001Z")).toEqual([]);
		expect(at("2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z")).toEqual(["endsAt"]);
		expect(at("2026-03-01T00:00:00Z", "2026-02-28T23:59:59Z")).toEqual(["endsAt"]);
		// The same instant written with two offsets is not "after".
		expect(at("2026-03-01T02:00:00+02:00", "2026-03-01T00:00:00Z")).toEqual(["endsAt"]);
		expect(promotionInputProblems({ ...percent, startsAt: "2026-03-02T00:00:00Z", endsAt: "2026-03-01T00:00:00Z" })[0]).toMatchObject({
			type: "dateOrder",
		});
		expect(at("2026-02-30T00:00:00Z", null)).toEqual(["startsAt"]);
		expect(at(null, "tomorrow")).toEqual(["endsAt"]);
		expect(at("2026-03-01", "2026-03-01T00:00:00")).toEqual(["startsAt", "endsAt"]);
		expect(at(1767225600000, null)).toEqual(["startsAt"]);
	});

	it("wants limits of at least 1, or none", () => {
		for (const field of ["maxRedemptions", "perCustomerLimit"]) {
			expect(promotionInputProblems({ ...percent, [field]: 1 })).toEqual([]);
			for (const v of [0, -1, 1.5, "3"]) expect(fields(promotionInputProblems({ ...percent, [field]: v }))).toEqual([field]);
		}
	});

	it("wants active to be a boolean when given, and reports every problem at once", () => {
		expect(fields(promotionInputProblems({ ...percent, active: "yes" }))).toEqual(["active"]);
		expect(fields(promotionInputProblems({}))).toEqual(["code", "type", "value"]);
		expect(fields(promotionInputProblems({ code: "x", type: "fixed", value: 0, maxRedemptions: 0, perCustomerLimit: 0, active: 1 }))).toEqual([
			"code",
			"value",
			"currency",
			"maxRedemptions",
			"perCustomerLimit",
			"active",
		]);
	});

	it("knows a calendar date from a look-alike", () => {
		expect(isTimestamp("2028-02-29T00:00:00Z")).toBe(true);
		expect(isTimestamp("2026-02-29T00:00:00Z")).toBe(false);
		expect(isTimestamp("2026-04-31T00:00:00Z")).toBe(false);
		expect(isTimestamp("2026-01-01T24:00:00Z")).toBe(false);
		expect(isTimestamp("2026-01-01T23:60:00Z")).toBe(false);
		expect(isTimestamp("2026-01-01T00:00:00+25:00")).toBe(false);
		expect(isTimestamp("2026-01-01T00:00+01:00")).toBe(true);
		expect(isTimestamp(new Date(0).toISOString())).toBe(true);
	});
});

describe("promotion refusals", () => {
	it("names every reason of the contract", () => {
		expect([...PROMOTION_REFUSAL_REASONS].sort()).toEqual([
			"already_used",
			"currency",
			"expired",
			"inactive",
			"min_subtotal",
			"not_active_yet",
			"unknown",
			"used_up",
		]);
	});

	it("accepts a code that meets every condition", () => {
		expect(promotionRefusal(rule(), ctx())).toBeNull();
		expect(
			promotionRefusal(
				rule({
					currency: "EUR",
					minSubtotal: 5000,
					startsAt: "2026-06-01T00:00:00Z",
					endsAt: "2026-07-01T00:00:00Z",
					maxRedemptions: 10,
					perCustomerLimit: 2,
				}),
				ctx(),
			),
		).toBeNull();
	});

	it("unknown: no such code", () => {
		expect(promotionRefusal(null, ctx())).toEqual({ reason: "unknown", message: "This promotion code does not exist." });
	});

	it("inactive: switched off by an admin", () => {
		expect(promotionRefusal(rule({ active: false }), ctx())?.reason).toBe("inactive");
	});

	it("not_active_yet: before startsAt, and valid from that very instant", () => {
		const promo = rule({ startsAt: "2026-06-15T12:00:00.000Z" });
		const refusal = promotionRefusal(promo, ctx({ now: "2026-06-15T11:59:59.999Z" }));
		expect(refusal).toEqual({ reason: "not_active_yet", message: "This promotion code can be used from 2026-06-15T12:00:00.000Z." });
		expect(promotionRefusal(promo, ctx({ now: "2026-06-15T12:00:00.000Z" }))).toBeNull();
		// An offset is an instant like any other.
		expect(promotionRefusal(rule({ startsAt: "2026-06-15T14:00:00+02:00" }), ctx({ now: "2026-06-15T12:00:00Z" }))).toBeNull();
		expect(promotionRefusal(rule({ startsAt: "2026-06-15T14:00:01+02:00" }), ctx({ now: "2026-06-15T12:00:00Z" }))?.reason).toBe("not_active_yet");
	});

	it("expired: from endsAt on, the instant itself included", () => {
		const promo = rule({ endsAt: "2026-06-30T22:00:00Z" });
		expect(promotionRefusal(promo, ctx({ now: "2026-06-30T21:59:59.999Z" }))).toBeNull();
		expect(promotionRefusal(promo, ctx({ now: "2026-06-30T22:00:00.000Z" }))).toEqual({
			reason: "expired",
			message: "This promotion code expired at 2026-06-30T22:00:00.000Z.",
		});
		expect(promotionRefusal(promo, ctx({ now: new Date("2027-01-01T00:00:00Z") }))?.reason).toBe("expired");
	});

	it("currency: a fixed code only in its currency, a percent code only in the one it names", () => {
		expect(promotionRefusal(rule({ type: "fixed", value: 500, currency: "EUR" }), ctx({ currency: "EUR" }))).toBeNull();
		expect(promotionRefusal(rule({ type: "fixed", value: 500, currency: "EUR" }), ctx({ currency: "USD" }))).toEqual({
			reason: "currency",
			message: "This promotion code applies to orders in EUR only.",
		});
		expect(promotionRefusal(rule({ type: "fixed", value: 500, currency: null }), ctx())?.reason).toBe("currency");
		expect(promotionRefusal(rule({ currency: "USD" }), ctx({ currency: "EUR" }))?.reason).toBe("currency");
		expect(promotionRefusal(rule({ currency: null }), ctx({ currency: "JPY" }))).toBeNull();
	});

	it("min_subtotal: exactly reaching it is enough", () => {
		const promo = rule({ currency: "EUR", minSubtotal: 5000 });
		expect(promotionRefusal(promo, ctx({ subtotal: 5000 }))).toBeNull();
		expect(promotionRefusal(promo, ctx({ subtotal: 4999 }))).toEqual({
			reason: "min_subtotal",
			message: "This promotion code needs a subtotal of at least 50.00 EUR: add 0.01 EUR more.",
		});
		expect(promotionRefusal(rule({ currency: "JPY", minSubtotal: 5000 }), ctx({ currency: "JPY", subtotal: 1000 }))?.message).toBe(
			"This promotion code needs a subtotal of at least 5000 JPY: add 4000 JPY more.",
		);
	});

	it("used_up: the last redemption can still be taken", () => {
		const promo = rule({ maxRedemptions: 3 });
		expect(promotionRefusal(promo, ctx({ redemptions: 2 }))).toBeNull();
		expect(promotionRefusal(promo, ctx({ redemptions: 3 }))).toEqual({ reason: "used_up", message: "This promotion code has been used up." });
		expect(promotionRefusal(promo, ctx({ redemptions: 4 }))?.reason).toBe("used_up");
	});

	it("already_used: this customer's last allowed use can still be taken", () => {
		expect(promotionRefusal(rule({ perCustomerLimit: 1 }), ctx({ customerRedemptions: 0 }))).toBeNull();
		expect(promotionRefusal(rule({ perCustomerLimit: 1 }), ctx({ customerRedemptions: 1 }))).toEqual({
			reason: "already_used",
			message: "You have already used this promotion code.",
		});
		expect(promotionRefusal(rule({ perCustomerLimit: 3 }), ctx({ customerRedemptions: 2 }))).toBeNull();
		expect(promotionRefusal(rule({ perCustomerLimit: 3 }), ctx({ customerRedemptions: 3 }))?.message).toBe(
			"You have already used this promotion code 3 times, as often as it can be used.",
		);
	});

	it("gives the most basic reason first", () => {
		const everything = rule({
			active: false,
			// Not a valid window (it ends before it starts), which is what lets both checks fail.
			startsAt: "2027-01-01T00:00:00Z",
			endsAt: "2026-01-01T00:00:00Z",
			currency: "USD",
			minSubtotal: 1_000_000,
			maxRedemptions: 1,
			perCustomerLimit: 1,
		});
		const c = ctx({ redemptions: 1, customerRedemptions: 1 });
		const order: string[] = [];
		let promo: PromotionRule = everything;
		const fixes: Partial<PromotionRule>[] = [
			{ active: true },
			{ startsAt: null },
			{ endsAt: null },
			{ currency: "EUR" },
			{ minSubtotal: null },
			{ maxRedemptions: null },
			{ perCustomerLimit: null },
		];
		for (const fix of fixes) {
			const refusal = promotionRefusal(promo, c);
			if (refusal) order.push(refusal.reason);
			promo = { ...promo, ...fix };
		}
		expect(promotionRefusal(promo, c)).toBeNull();
		expect(order).toEqual(["inactive", "not_active_yet", "expired", "currency", "min_subtotal", "used_up", "already_used"]);
	});

	it("takes the time as a Date or a string, and refuses something else", () => {
		const promo = rule({ startsAt: "2026-06-15T12:00:00Z" });
		expect(promotionRefusal(promo, ctx({ now: new Date("2026-06-15T12:00:00Z") }))).toBeNull();
		expect(() => promotionRefusal(promo, ctx({ now: "later" }))).toThrow(RangeError);
	});
});

describe("discounts", () => {
	it("percent: rounds half-even to the minor unit", () => {
		expect(discountFor(rule({ value: 10 }), 1999)).toBe(200); // 199.9
		expect(discountFor(rule({ value: 25 }), 10)).toBe(2); // 2.5 → 2
		expect(discountFor(rule({ value: 25 }), 14)).toBe(4); // 3.5 → 4
		expect(discountFor(rule({ value: 50 }), 1)).toBe(0); // 0.5 → 0
		expect(discountFor(rule({ value: 50 }), 3)).toBe(2); // 1.5 → 2
		expect(discountFor(rule({ value: 100 }), 12345)).toBe(12345);
		expect(discountFor(rule({ value: 10 }), 0)).toBe(0);
		expect(discountFor(rule({ value: 15 }), 4_950_000_000_001)).toBe(742_500_000_000); // 742500000000.15
	});

	it("fixed: the value, capped at the subtotal", () => {
		const fixed = rule({ type: "fixed", value: 500, currency: "EUR" });
		expect(discountFor(fixed, 2000)).toBe(500);
		expect(discountFor(fixed, 500)).toBe(500);
		expect(discountFor(fixed, 499)).toBe(499);
		expect(discountFor(fixed, 0)).toBe(0);
	});

	it("refuses a value or a subtotal that is not one", () => {
		expect(() => discountFor(rule({ value: 101 }), 100)).toThrow(RangeError);
		expect(() => discountFor(rule({ value: 2.5 }), 100)).toThrow(RangeError);
		expect(() => discountFor(rule({ type: "fixed", value: -1 }), 100)).toThrow(RangeError);
		expect(() => discountFor(rule(), -1)).toThrow(RangeError);
		expect(() => discountFor(rule(), 1.5)).toThrow(RangeError);
	});

	it("is never negative, never above the subtotal, and as close as it can be to the exact percent", () => {
		fc.assert(
			fc.property(
				fc.oneof(
					fc.record({ type: fc.constant("percent" as const), value: fc.integer({ min: 1, max: 100 }) }),
					fc.record({
						type: fc.constant("fixed" as const),
						value: fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.bigInt({ min: 1n, max: 10n ** 13n }).map(Number)),
					}),
				),
				fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.bigInt({ min: 0n, max: 5n * 10n ** 12n }).map(Number)),
				(promo, subtotal) => {
					const d = discountFor(promo, subtotal);
					expect(Number.isSafeInteger(d) && d >= 0 && d <= subtotal).toBe(true);
					if (promo.type === "fixed") expect(d).toBe(Math.min(promo.value, subtotal));
					else {
						const err = 2n * (BigInt(d) * 100n - BigInt(subtotal) * BigInt(promo.value));
						expect((err < 0n ? -err : err) <= 100n).toBe(true);
					}
				},
			),
			{ numRuns: 500 },
		);
	});
});

describe("amounts in messages", () => {
	it("are written in major units with the currency's exponent", () => {
		expect(formatAmount(5000, "EUR")).toBe("50.00 EUR");
		expect(formatAmount(1, "EUR")).toBe("0.01 EUR");
		expect(formatAmount(0, "USD")).toBe("0.00 USD");
		expect(formatAmount(123456789, "GBP")).toBe("1234567.89 GBP");
		expect(formatAmount(5000, "JPY")).toBe("5000 JPY");
		expect(formatAmount(1234, "KWD")).toBe("1.234 KWD");
		expect(formatAmount(5, "BHD")).toBe("0.005 BHD");
	});
});
