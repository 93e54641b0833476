/**
 * Request shapes of the promotion, shipping and tax routes (pricing service). See
 * lib/contracts/params.ts. The rules across fields (a fixed value needs a currency, endsAt after
 * startsAt, minDays ≤ maxDays) are the domain's (lib/domain/promotions.ts, shipping.ts), which
 * answer 422 naming the field.
 */
import { MAX_UNIT_PRICE } from "../../domain/money.js";
import { PROMOTION_CODE_REQUEST_PATTERN, PROMOTION_TYPES } from "../../domain/promotions.js";
import { MAX_DELIVERY_DAYS } from "../../domain/shipping.js";
import { MAX_TAX_RATE_BP } from "../../domain/tax.js";
import { pageParams } from "../../paging.js";
import { countryRule, COUNTRY_CODES } from "../countries.js";
import { currencyRule } from "../currencies.js";
import { idRule } from "../ids.js";
import { optional, patchOf, text, type ParamsSchema } from "../params.js";

const amount = { type: "number", integer: true, min: 0, max: MAX_UNIT_PRICE, description: "Integer minor units (cents)" } as const;
const limit = { type: "number", integer: true, min: 1, max: 1_000_000_000, nullable: true } as const;
const instant = {
	type: "string",
	max: 40,
	nullable: true,
	description: "ISO 8601 date and time with an offset, e.g. 2026-03-01T00:00:00Z",
} as const;

const promotionFields = {
	code: {
		type: "string",
		max: 64,
		// PROMOTION_CODE_PATTERN before the code is normalised (spaces around it trimmed, letters upper-cased).
		pattern: PROMOTION_CODE_REQUEST_PATTERN,
		messages: { stringPattern: "A promotion code is 2 to 32 letters, digits, '_' or '-', starting with a letter or digit (case does not matter)." },
		description: "2 to 32 letters, digits, '_' or '-', starting with a letter or digit; case does not matter",
	},
	type: { type: "enum", values: PROMOTION_TYPES },
	value: { type: "number", integer: true, min: 1, max: MAX_UNIT_PRICE, description: "percent: 1..100; fixed: minor units of `currency`" },
	currency: { ...currencyRule, nullable: true },
	minSubtotal: { ...amount, nullable: true },
	startsAt: instant,
	endsAt: instant,
	maxRedemptions: { ...limit, description: "Orders that may use the code in all (null: no limit)" },
	perCustomerLimit: { ...limit, description: "Orders of one customer that may use it (null: no limit)" },
	active: { type: "boolean" },
} as const;

const shippingFields = {
	name: text(100),
	countries: {
		type: "array",
		min: 1,
		max: COUNTRY_CODES.length,
		unique: true,
		items: { type: "enum", values: ["*", ...COUNTRY_CODES] },
		description: 'ISO 3166-1 alpha-2 codes, or ["*"] for everywhere',
	},
	price: amount,
	currency: currencyRule,
	freeOver: { ...amount, min: 1, nullable: true, description: "Goods (after the discount) from this amount on ship free" },
	minDays: { type: "number", integer: true, min: 0, max: MAX_DELIVERY_DAYS },
	maxDays: { type: "number", integer: true, min: 0, max: MAX_DELIVERY_DAYS },
	active: { type: "boolean" },
} as const;

export const PRICING = {
	"pricing.createPromotion": {
		$$strict: true,
		...promotionFields,
		currency: optional(promotionFields.currency),
		minSubtotal: optional(promotionFields.minSubtotal),
		startsAt: optional(promotionFields.startsAt),
		endsAt: optional(promotionFields.endsAt),
		maxRedemptions: optional(promotionFields.maxRedemptions),
		perCustomerLimit: optional(promotionFields.perCustomerLimit),
		active: optional(promotionFields.active),
	},
	"pricing.listPromotions": { ...pageParams },
	"pricing.getPromotion": { id: idRule },
	"pricing.updatePromotion": { $$strict: true, id: idRule, ...patchOf(promotionFields) },
	"pricing.removePromotion": { id: idRule },
	"pricing.createShippingMethod": {
		$$strict: true,
		...shippingFields,
		freeOver: optional(shippingFields.freeOver),
		active: optional(shippingFields.active),
	},
	"pricing.listShippingMethods": { country: { ...countryRule, optional: true, description: "Only the methods that ship there, cheapest first" } },
	"pricing.updateShippingMethod": { $$strict: true, id: idRule, ...patchOf(shippingFields) },
	"pricing.removeShippingMethod": { id: idRule },
	"pricing.listTaxRates": {},
	"pricing.setTaxRate": {
		$$strict: true,
		country: countryRule,
		rate: { type: "number", integer: true, min: 0, max: MAX_TAX_RATE_BP, description: "Basis points: 1900 = 19 %" },
	},
} as const satisfies Record<string, ParamsSchema>;
