/**
 * reports: sales at a glance for the back office, from a reporting read model of its own
 * (`shop_reports`), fed by the integration events and never by reading another service's
 * database. The work is in the modules beside this file:
 *
 *   read-model.ts  per-day sales buckets (in the shop's time zone, SHOP_TIMEZONE), per-day product
 *                  and variant sales, low stock, open tickets: each fact added once, atomically
 *   backfill.ts    the read model rebuilt through the owning services' actions (when it is new or wrong)
 *
 * The rules (local days, weeks and months, average order value, refunds netting, top sellers)
 * are lib/domain/reports.ts. An order's figures are read from the orders service when its event
 * arrives: the event says which order, the order says what each line earned and when it was paid.
 */
import type { Context, Service } from "moleculer";
import { defineService } from "../../lib/broker/service.js";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin.js";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin.js";
import { validationError } from "../../lib/errors.js";
import type { ShopContext } from "../../lib/auth/access.js";
import { REPORTS } from "../../lib/contracts/http/reports.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import { DEFAULT_CURRENCY } from "../../lib/domain/money.js";
import { DEFAULT_LOW_STOCK_THRESHOLD, isTimeZone, localDate, reportRange } from "../../lib/domain/reports.js";
import { REPORT_COLLECTIONS, ReportsReadModel, type OrderFacts, type ProductFacts } from "./read-model.js";
import { asReportsService, backfill } from "./backfill.js";

type Params<A extends keyof typeof REPORTS> = ParamsOf<(typeof REPORTS)[A]>;
type ReportsThis = Service &
	DbMethods &
	EventsMethods & {
		model: ReportsReadModel;
		range(p: { from?: string; to?: string }): { from: string; to: string };
		refreshStock(ctx: Context, productId: string): Promise<void>;
	};

function shopTimeZone(): string {
	const tz = process.env.SHOP_TIMEZONE || "UTC";
	if (!isTimeZone(tz)) throw new Error(`SHOP_TIMEZONE '${tz}' is not a time zone Intl knows (an IANA name such as Europe/Madrid)`);
	return tz;
}

const orderOf = (ctx: Context, orderId: string) => ctx.call<OrderFacts, { id: string }>("orders.get", { id: orderId }, asReportsService);
const productOf = (ctx: Context, id: string) =>
	ctx.call<ProductFacts, { id: string }>("products.get", { id }, asReportsService).catch((err: { code?: number }) => {
		if (err.code === 404) return null; // gone since: nothing of it is low on stock
		throw err;
	});

const ReportsService = defineService<ReportsThis>({
	name: "reports",
	// EventsMixin first: mixins start last-listed first, so the database is connected before events flow.
	mixins: [EventsMixin(), DbMixin(REPORT_COLLECTIONS)],

	actions: {
		sales: {
			roles: ["admin"],
			idempotent: true,
			params: REPORTS["reports.sales"],
			handler(ctx: ShopContext<Params<"reports.sales">>) {
				const { from, to } = this.range(ctx.params);
				return this.model.sales(ctx.params.currency ?? DEFAULT_CURRENCY, from, to, ctx.params.interval ?? "day");
			},
		},
		topProducts: {
			roles: ["admin"],
			idempotent: true,
			params: REPORTS["reports.topProducts"],
			handler(ctx: ShopContext<Params<"reports.topProducts">>) {
				const { from, to } = this.range(ctx.params);
				return this.model.topProducts(ctx.params.currency ?? DEFAULT_CURRENCY, from, to);
			},
		},
		/** Low stock and open tickets by age, for the back office's overview. */
		overview: {
			roles: ["admin"],
			idempotent: true,
			params: REPORTS["reports.overview"],
			handler() {
				return this.model.overview(new Date());
			},
		},
		/** Rebuild the read model through the owning services' actions (`reset`: forget it first). */
		backfill: {
			roles: ["admin"],
			timeout: 0,
			params: REPORTS["reports.backfill"],
			handler(ctx: ShopContext<Params<"reports.backfill">>) {
				return backfill(this.model, ctx, { reset: ctx.params.reset ?? false });
			},
		},
	},

	integrationEvents: {
		"order.paid": async function (event, ctx) {
			await this.model.recordPaid(await orderOf(ctx, event.payload.orderId));
		},
		/** Cancelling a paid order refunds it: that money comes as `order.refunded`, so `order.cancelled` changes no figure. */
		"order.refunded": async function (event, ctx) {
			const { orderId, refundId, amount, currency } = event.payload;
			const order = await orderOf(ctx, orderId);
			const refund = order.refunds.find(r => r.id === refundId) ?? { id: refundId, amount, at: event.occurredAt };
			await this.model.recordRefund(currency, refund);
		},
		"stock.changed": async function (event, ctx) {
			await this.refreshStock(ctx, event.payload.productId);
		},
		"product.created": async function (event, ctx) {
			await this.refreshStock(ctx, event.payload.productId);
		},
		"product.updated": async function (event, ctx) {
			await this.refreshStock(ctx, event.payload.productId);
		},
		"product.deleted": async function (event) {
			await this.model.forgetProduct(event.payload.productId);
		},
		"ticket.created": async function (event) {
			const { ticketId, subject } = event.payload;
			await this.model.recordTicket({ id: ticketId, subject, status: "open", openedAt: event.occurredAt });
		},
		"ticket.status_changed": async function (event) {
			await this.model.ticketStatusChanged(event.payload.ticketId, event.payload.status);
		},
	},

	methods: {
		/** A product's low-stock rows as the catalog has them now (the event only says which product). */
		async refreshStock(ctx: Context, productId: string) {
			const product = await productOf(ctx, productId);
			if (product) await this.model.recordStock(product);
			else await this.model.forgetProduct(productId);
		},
		range(params: { from?: string; to?: string }) {
			const range = reportRange(params, localDate(new Date(), this.model.timeZone));
			if ("problems" in range) throw validationError(range.problems);
			return range;
		},
	},

	started() {
		const threshold = Number(process.env.LOW_STOCK_THRESHOLD ?? DEFAULT_LOW_STOCK_THRESHOLD);
		this.model = new ReportsReadModel(
			this.collection("sales_days"),
			this.collection("product_days"),
			this.collection("low_stock"),
			this.collection("open_tickets"),
			shopTimeZone(),
			Number.isInteger(threshold) && threshold >= 0 ? threshold : DEFAULT_LOW_STOCK_THRESHOLD,
		);
	},
});

export default ReportsService;
