/**
 * pricing: what an order is charged besides its goods' prices: promotion codes, shipping
 * methods and tax rates, each kept by the admin in this service's own database. The orders
 * service asks it for a cart's terms (`terms`) and takes a code's use at checkout (`redeem`);
 * the amounts themselves are computed by lib/domain/pricing.ts. The work is in the modules
 * beside this file:
 *
 *   promotion-codes.ts   the admin's codes, and whether a cart may take one now
 *   redemptions.ts       a code's use by an order: never more uses than the limits, a use given
 *                        back when its order is cancelled before payment
 *   shipping-methods.ts  shipping methods, and the one a cart ships with
 *   tax-rates.ts         rates by destination country
 *   demo-terms.ts        what the demo shop starts with (SEED_DEMO)
 *   personal-data.ts     a customer's uses of codes, for export and erasure (pseudonymised)
 */
import type { Service } from "moleculer";
import { defineService } from "../../lib/broker/service.js";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin.js";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin.js";
import { config } from "../../lib/config.js";
import { paged } from "../../lib/paging.js";
import type { ShopContext } from "../../lib/auth/access.js";
import { PRICING } from "../../lib/contracts/http/pricing.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import type { OrderSummary, PricingTerms, PricingTermsRequest, RedeemRequest } from "../../lib/contracts/calls.js";
import { PROMOTION_CODE_COLLECTIONS, PromotionCodes } from "./promotion-codes.js";
import { REDEMPTION_COLLECTIONS, Redemptions } from "./redemptions.js";
import type { PromotionRecord, RedemptionRecord, RedemptionSlot } from "../../lib/domain/promotions.js";
import { ShippingMethods, type ShippingMethodRecord } from "./shipping-methods.js";
import { discountFor } from "../../lib/domain/promotions.js";
import { TaxRates, type TaxRateRecord } from "./tax-rates.js";
import { seedDemoTerms } from "./demo-terms.js";
import { PersonalDataMixin } from "../../mixins/personal-data.mixin.js";
import { pricingPersonalData } from "./personal-data.js";

type Params<A extends keyof typeof PRICING> = ParamsOf<(typeof PRICING)[A]>;

interface PricingState {
	codes: PromotionCodes;
	redemptions: Redemptions;
	shipping: ShippingMethods;
	taxes: TaxRates;
	sweepTimer?: NodeJS.Timeout;
	sweeping?: Promise<void>;
}
type PricingThis = Service & DbMethods & EventsMethods & PricingState & { sweep(): Promise<void> };

const SWEEP_EVERY_MS = 60_000;

const PricingService = defineService<PricingThis>({
	name: "pricing",
	mixins: [
		EventsMixin({ outbox: ["redemptions", "erasures"] }),
		DbMixin({ ...PROMOTION_CODE_COLLECTIONS, ...REDEMPTION_COLLECTIONS, shipping_methods: {}, tax_rates: {} }),
		PersonalDataMixin(pricingPersonalData),
	],

	actions: {
		// ---- Promotions (admin)
		createPromotion: {
			roles: ["admin"],
			params: PRICING["pricing.createPromotion"],
			handler(ctx: ShopContext<Params<"pricing.createPromotion">>) {
				return this.codes.create(ctx.params);
			},
		},
		listPromotions: {
			idempotent: true,
			roles: ["admin"],
			params: PRICING["pricing.listPromotions"],
			async handler(ctx: ShopContext<Params<"pricing.listPromotions">>) {
				const { page, pageSize } = ctx.params;
				const { rows, total } = await this.codes.list(page, pageSize);
				return paged(rows, total, page, pageSize);
			},
		},
		getPromotion: {
			idempotent: true,
			roles: ["admin"],
			params: PRICING["pricing.getPromotion"],
			handler(ctx: ShopContext<Params<"pricing.getPromotion">>) {
				return this.codes.get(ctx.params.id);
			},
		},
		updatePromotion: {
			roles: ["admin"],
			params: PRICING["pricing.updatePromotion"],
			handler(ctx: ShopContext<Params<"pricing.updatePromotion">>) {
				return this.codes.update(ctx.params);
			},
		},
		removePromotion: {
			roles: ["admin"],
			params: PRICING["pricing.removePromotion"],
			async handler(ctx: ShopContext<Params<"pricing.removePromotion">>) {
				await this.codes.remove(ctx.params.id);
				return null;
			},
		},

		// ---- Shipping methods (admin; anyone lists them)
		createShippingMethod: {
			roles: ["admin"],
			params: PRICING["pricing.createShippingMethod"],
			handler(ctx: ShopContext<Params<"pricing.createShippingMethod">>) {
				return this.shipping.create(ctx.params);
			},
		},
		listShippingMethods: {
			idempotent: true,
			auth: "public",
			params: PRICING["pricing.listShippingMethods"],
			handler(ctx: ShopContext<Params<"pricing.listShippingMethods">>) {
				return this.shipping.list(ctx.params.country);
			},
		},
		updateShippingMethod: {
			roles: ["admin"],
			params: PRICING["pricing.updateShippingMethod"],
			handler(ctx: ShopContext<Params<"pricing.updateShippingMethod">>) {
				return this.shipping.update(ctx.params);
			},
		},
		removeShippingMethod: {
			roles: ["admin"],
			params: PRICING["pricing.removeShippingMethod"],
			async handler(ctx: ShopContext<Params<"pricing.removeShippingMethod">>) {
				await this.shipping.remove(ctx.params.id);
				return null;
			},
		},

		// ---- Tax (admin)
		listTaxRates: {
			idempotent: true,
			roles: ["admin"],
			handler() {
				return this.taxes.list();
			},
		},
		setTaxRate: {
			roles: ["admin"],
			params: PRICING["pricing.setTaxRate"],
			handler(ctx: ShopContext<Params<"pricing.setTaxRate">>) {
				return this.taxes.set(ctx.params.country, ctx.params.rate);
			},
		},

		// ---- Internal: the orders service, never the gateway.
		/** What a cart is priced with now: its code (or why not), its shipping method, the destination's tax. */
		terms: {
			idempotent: true,
			visibility: "public",
			async handler(ctx: ShopContext<PricingTermsRequest>): Promise<PricingTerms> {
				const { userId, currency, subtotal, country, shippingMethodId, code } = ctx.params;
				const { promotion, refusal } = code ? await this.codes.check(code, { userId, subtotal, currency }) : { promotion: null, refusal: null };
				const goods = subtotal - (promotion ? discountFor(promotion, subtotal) : 0);
				const [shipping, taxRateBp] = await Promise.all([
					this.shipping.forCart(country, currency, goods, shippingMethodId),
					this.taxes.rateFor(country),
				]);
				return { promotion, refusal, ...shipping, taxRateBp, pricesIncludeTax: config.pricesIncludeTax };
			},
		},
		/** Checkout: the order takes one use of its code (422 with the reason when it cannot). Once per order. */
		redeem: {
			visibility: "public",
			handler(ctx: ShopContext<RedeemRequest>) {
				return this.redemptions.redeem(ctx.params, ctx);
			},
		},
	},

	integrationEvents: {
		"order.placed": async function (event) {
			await this.redemptions.confirm(event.payload.orderId);
		},
		/** Cancelled before payment: the code's use goes back. A paid order, cancelled and refunded, keeps it. */
		"order.cancelled": async function (event, ctx) {
			if (!event.payload.refunded) await this.redemptions.release(event.payload.orderId, ctx);
		},
	},

	methods: {
		/** Redemptions whose order never came are released, once the orders service says there is no such order. */
		async sweep() {
			for (const r of await this.redemptions.unfreed()) await this.redemptions.release(r._id, null);
			for (const r of await this.redemptions.unsettled()) {
				const order = await this.broker
					.call<OrderSummary, { orderId: string }>("orders.summaryForUser", { orderId: r._id })
					.catch((err: { code?: number }) => (err.code === 404 ? null : undefined));
				// No such order: the checkout died after redeeming. An order that exists settles its use by its own events.
				if (order === null) await this.redemptions.release(r._id, null);
				else if (order) await this.redemptions.confirm(r._id);
			}
		},
	},

	created() {
		const redemptions = this.collection<RedemptionRecord>("redemptions");
		this.codes = new PromotionCodes(this.collection<PromotionRecord>("promotions"), redemptions);
		this.redemptions = new Redemptions(this.codes, this.collection<RedemptionSlot>("redemption_slots"), redemptions);
		this.shipping = new ShippingMethods(this.collection<ShippingMethodRecord>("shipping_methods"));
		this.taxes = new TaxRates(this.collection<TaxRateRecord>("tax_rates"));
	},

	async started() {
		if (config.seedDemo) {
			const c = {
				promotions: this.collection<PromotionRecord>("promotions"),
				shippingMethods: this.collection<ShippingMethodRecord>("shipping_methods"),
			};
			const written = await seedDemoTerms({ ...c, taxRates: this.collection<TaxRateRecord>("tax_rates") });
			if (written.shippingMethods + written.taxRates + written.promotions > 0)
				this.logger.info(`No pricing terms: loaded the demo's (${JSON.stringify(written)}). SEED_DEMO=false turns this off.`);
		}
		this.sweepTimer = setInterval(() => {
			this.sweeping ??= this.sweep()
				.catch(err => this.logger.warn(`Redemption sweep failed, will retry: ${(err as Error).message}`))
				.finally(() => (this.sweeping = undefined));
		}, SWEEP_EVERY_MS);
		this.sweepTimer.unref();
	},

	async stopped() {
		if (this.sweepTimer) clearInterval(this.sweepTimer);
		await this.sweeping;
	},
});

export default PricingService;
