/**
 * The terms the demo shop starts with (SEED_DEMO, beside the demo catalog): two ways to ship
 * within the EU (standard, free from 50 EUR, and express to Germany and Austria), the standard
 * VAT rates of those countries, and the code WELCOME10 (10 % off, once per customer). Loaded on
 * a start that finds none of it; every record has a fixed id (the code its unique code), so two
 * nodes starting at once write each of them once.
 */
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import { normalizePromotionCode } from "../../lib/domain/promotions.js";
import type { PromotionRecord } from "../../lib/domain/promotions.js";
import type { ShippingMethodRecord } from "./shipping-methods.js";
import type { TaxRateRecord } from "./tax-rates.js";

export interface TermsCollections {
	promotions: Collection<PromotionRecord>;
	shippingMethods: Collection<ShippingMethodRecord>;
	taxRates: Collection<TaxRateRecord>;
}

const EU = ["AT", "BE", "DE", "ES", "FR", "IT", "NL"];

/** Standard VAT in basis points (2026). */
export const DEMO_TAX_RATES: Record<string, number> = { AT: 2000, BE: 2100, DE: 1900, ES: 2100, FR: 2000, IT: 2200, NL: 2100 };

export const DEMO_SHIPPING_METHODS: Omit<ShippingMethodRecord, "createdAt" | "updatedAt">[] = [
	{
		_id: "5d0c1f0e-7a61-4c1e-9b2a-000000000001",
		name: "Standard",
		countries: EU,
		price: 490,
		currency: "EUR",
		freeOver: 5000,
		minDays: 2,
		maxDays: 5,
		active: true,
		deletedAt: null,
	},
	{
		_id: "5d0c1f0e-7a61-4c1e-9b2a-000000000002",
		name: "Express",
		countries: ["AT", "DE"],
		price: 990,
		currency: "EUR",
		freeOver: null,
		minDays: 1,
		maxDays: 1,
		active: true,
		deletedAt: null,
	},
];

export const DEMO_PROMOTION: Omit<PromotionRecord, "createdAt" | "updatedAt"> = {
	_id: "5d0c1f0e-7a61-4c1e-9b2a-000000000010",
	code: normalizePromotionCode("WELCOME10"),
	type: "percent",
	value: 10,
	currency: null,
	minSubtotal: null,
	startsAt: null,
	endsAt: null,
	maxRedemptions: null,
	perCustomerLimit: 1,
	active: true,
	deletedAt: null,
};

/** Writes the demo terms into a pricing database that has none of them; answers what was written. */
export async function seedDemoTerms(c: TermsCollections): Promise<{ shippingMethods: number; taxRates: number; promotions: number }> {
	const written = { shippingMethods: 0, taxRates: 0, promotions: 0 };
	const empty = (await c.promotions.count({})) + (await c.shippingMethods.count({})) + (await c.taxRates.count({})) === 0;
	if (!empty) return written;
	const at = new Date().toISOString();
	for (const m of DEMO_SHIPPING_METHODS) {
		const made = await c.shippingMethods.insertOrGet({ ...m, createdAt: at, updatedAt: at });
		if (made.createdAt === at) written.shippingMethods++;
	}
	for (const [country, rate] of Object.entries(DEMO_TAX_RATES)) {
		const made = await c.taxRates.insertOrGet({ _id: country, rate, updatedAt: at });
		if (made.updatedAt === at) written.taxRates++;
	}
	try {
		await c.promotions.insert({ ...DEMO_PROMOTION, createdAt: at, updatedAt: at });
		written.promotions++;
	} catch (err) {
		if (!(err instanceof DuplicateKeyError)) throw err;
	}
	return written;
}
