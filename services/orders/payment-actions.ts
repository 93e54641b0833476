/**
 * The orders service's payment actions and the payment parts it is built from:
 *
 *   paymentWebhook          POST /payments/webhooks/:provider: signature checked over the raw body, then applied once
 *   simulatedConfirmPage    GET  /payments/simulated/sessions/:id: the simulated provider's confirmation page
 *   simulatedConfirm        POST the same: the card (form or JSON), never stored, never logged
 *   refund                  POST /orders/:id/refunds (admin, Idempotency-Key): part of a captured payment back
 *
 * The provider is PAYMENT_PROVIDER's: `simulated` (the sandbox in this database, its webhooks
 * delivered over HTTP to the gateway) or `stripe` (lib/payments/stripe.ts).
 */
import type { Context, Service } from "moleculer";
import { config } from "../../lib/config.js";
import { badRequest, conflict, invalidField, notFound, unavailable } from "../../lib/errors.js";
import { defineMixin } from "../../lib/broker/service.js";
import type { Collection, CollectionSpec } from "../../lib/store/index.js";
import { formatAmount } from "../../lib/domain/promotions.js";
import { confirmationPage, RETURN_PATH } from "../../lib/payments/confirmation-page.js";
import { WebhookSignatureError, type SessionPaymentProvider } from "../../lib/payments/provider.js";
import { type SimulatedPaymentProvider, type LedgerEntry, type SandboxAuthorization, type SandboxPayment } from "../../lib/payments/simulated.js";
import { SimulatedSessions, randomWebhookSecret, type SandboxSession } from "../../lib/payments/simulated-sessions.js";
import { SimulatedWebhookDelivery } from "../../lib/payments/simulated-webhooks.js";
import { StripePaymentProvider } from "../../lib/payments/stripe.js";
import { OrderKeptChangingError, type OrderStore } from "./order-store.js";
import type { IdempotencyMethods } from "../../mixins/idempotency.mixin.js";
import { requireUser, type ShopContext } from "../../lib/auth/access.js";
import { fingerprintOf, idempotencyKeyProblem } from "../../lib/domain/cart-lines.js";
import { planRefund } from "../../lib/domain/order-refunds.js";
import { PaymentRuleError } from "../../lib/payments/payment.js";
import { ORDERS } from "../../lib/contracts/http/orders.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import type { OrderPayments } from "./payments.js";
import { SessionPayments, type ProcessedPaymentEvent } from "./payment-sessions.js";

/** The collections the payments keep in the orders database. */
export const PAYMENT_COLLECTIONS: Record<string, CollectionSpec> = {
	sandbox_authorizations: {},
	sandbox_payments: {},
	sandbox_ledger: {},
	sandbox_sessions: {},
	/** Applied provider event ids, forgotten after PAYMENT_EVENTS_RETENTION_DAYS (by `at`, an ISO time). */
	payment_events: { indexes: [{ fields: { at: 1 } }] },
};

export interface PaymentState {
	sessions: SessionPayments;
	simulated: SimulatedSessions | null;
	delivery: SimulatedWebhookDelivery | null;
}

type Host = Service &
	PaymentState &
	IdempotencyMethods & {
		collection<T extends { _id: string }>(name: string): Collection<T>;
		store: OrderStore;
		payments: OrderPayments;
	};

/** A one-process shop without SIMULATED_WEBHOOK_SECRET signs with a secret of its own. */
let processSecret: string | undefined;

export function buildPayments(host: Host, cards: SimulatedPaymentProvider, payments: OrderPayments): PaymentState {
	const settings = config.payments;
	const origin = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${config.port}`;
	let provider: SessionPaymentProvider;
	let simulated: SimulatedSessions | null = null;
	let delivery: SimulatedWebhookDelivery | null = null;
	if (settings.provider === "stripe") {
		provider = new StripePaymentProvider(settings.stripe);
	} else {
		const secret = settings.simulated.webhookSecret ?? (processSecret ??= randomWebhookSecret());
		const publicUrl = (settings.simulated.publicUrl ?? origin).replace(/\/$/, "");
		const sign = (id: string, at: Date, body: string) => simulated!.sign(id, at, body);
		delivery = new SimulatedWebhookDelivery(
			{ url: settings.simulated.webhookUrl ?? `${origin}/api/v1/payments/webhooks/simulated`, ...settings.simulated },
			sign,
			host.logger,
		);
		const d = delivery;
		simulated = new SimulatedSessions(
			host.collection<SandboxSession>("sandbox_sessions"),
			{
				authorizations: host.collection<SandboxAuthorization>("sandbox_authorizations"),
				payments: host.collection<SandboxPayment>("sandbox_payments"),
				ledger: host.collection<LedgerEntry>("sandbox_ledger"),
			},
			cards,
			{
				webhookSecret: secret,
				confirmUrl: (id, clientSecret) => `${publicUrl}/api/v1/payments/simulated/sessions/${id}?client_secret=${encodeURIComponent(clientSecret)}`,
				send: (sessionId, event) => d.send(sessionId, event),
			},
		);
		provider = simulated;
	}
	const sessions = new SessionPayments(host.store, provider, host.collection<ProcessedPaymentEvent>("payment_events"), payments, host.logger, () => settings);
	return { sessions, simulated, delivery };
}

/** The shop's page to lead back to after confirming: a same-origin path only (422 naming returnTo otherwise). */
const returnToParam = { type: "string", optional: true, max: 500, pattern: RETURN_PATH } as const;

const cardParams = {
	id: { type: "string", max: 100 },
	client_secret: { type: "string", max: 200 },
	cardNumber: { type: "string", max: 40 },
	expMonth: { type: "number", convert: true, integer: true, min: 1, max: 12 },
	expYear: { type: "number", convert: true, integer: true, min: 2000, max: 2100 },
	cvc: { type: "string", pattern: /^[0-9]{3,4}$/ },
	returnTo: returnToParam,
} as const;

type ConfirmParams = { id: string; client_secret: string; cardNumber: string; expMonth: number; expYear: number; cvc: string; returnTo?: string };
type PageMeta = { wantsHtml?: boolean; $responseType?: string; $statusCode?: number };

/** A provider's refusal of a refund beyond what is left (the simulated service's, Stripe's codes). */
const EXCEEDS = ["exceeds_captured", "amount_too_large", "charge_already_refunded"];

type RefundParams = ParamsOf<(typeof ORDERS)["orders.refund"]>;

/** An admin's refund of part of a captured payment, once per Idempotency-Key; never beyond what was captured (422). */
async function refundByAdmin(host: Host, ctx: ShopContext<RefundParams>) {
	const user = requireUser(ctx);
	const key = ctx.meta.idempotencyKey;
	const problem = idempotencyKeyProblem(key);
	if (problem) throw invalidField("Idempotency-Key", problem, "idempotencyKey");
	const { id, amount, reason } = ctx.params;
	return host.idempotent(user.id, key!, fingerprintOf({ refund: ctx.params }), async resourceId => {
		const order = await host.store.get(id);
		if (!order) throw notFound("Order", id);
		const cause = { kind: "manual" as const, key: resourceId, amount, reason };
		try {
			planRefund(order, cause);
		} catch (err) {
			if (err instanceof PaymentRuleError) throw invalidField("amount", err.message, "refundable");
			throw err;
		}
		let refusal: string | null = null;
		let done: boolean;
		try {
			done = await host.payments.refund(id, cause, ctx, reason => (refusal = reason));
		} catch (err) {
			if (err instanceof PaymentRuleError) throw invalidField("amount", err.message, "refundable");
			// Made at the provider but not recorded yet: the same key again records it (the provider answers the same refund).
			if (err instanceof OrderKeptChangingError)
				throw conflict("The order changed while refunding; repeat the request with the same Idempotency-Key", "CONCURRENT_CHANGE");
			throw err;
		}
		if (!done && EXCEEDS.includes(refusal ?? "")) throw invalidField("amount", "The refunds would exceed what was captured.", "refundable");
		if (!done) throw unavailable(`The payment provider did not refund (${refusal ?? "unknown"}); try again`);
		const after = (await host.store.get(id))!;
		const refundId = after.manualRefunds?.[resourceId] ?? "";
		const record = after.refunds.find(r => r.id === refundId);
		return { id: refundId, orderId: id, amount, reason, at: record?.at ?? after.updatedAt };
	});
}

export const PaymentActionsMixin = defineMixin<Host>({
	actions: {
		refund: {
			roles: ["admin"],
			params: ORDERS["orders.refund"],
			handler(this: Host, ctx: ShopContext<RefundParams>) {
				return refundByAdmin(this, ctx);
			},
		},
		paymentWebhook: {
			auth: "public",
			params: { provider: { type: "string", max: 40 }, rawBody: { type: "string", max: 400_000 }, headers: { type: "object" } },
			async handler(this: Host, ctx: Context<{ provider: string; rawBody: string; headers: Record<string, string> }>) {
				if (ctx.params.provider !== this.sessions.provider.name) throw notFound("Payment provider", ctx.params.provider);
				let event;
				try {
					event = this.sessions.provider.verifyWebhook(Buffer.from(ctx.params.rawBody, "base64"), ctx.params.headers);
				} catch (err) {
					if (err instanceof WebhookSignatureError) {
						this.logger.warn(`Payment webhook refused: ${err.message}`);
						throw badRequest("The webhook's signature does not check out", "INVALID_SIGNATURE");
					}
					throw err;
				}
				return this.sessions.webhook(event, ctx);
			},
		},
		simulatedConfirmPage: {
			auth: "public",
			params: { id: { type: "string", max: 100 }, client_secret: { type: "string", max: 200 }, returnTo: returnToParam },
			async handler(this: Host, ctx: Context<{ id: string; client_secret: string; returnTo?: string }, PageMeta>) {
				const session = this.simulated && (await this.simulated.retrieveSession(ctx.params.id).catch(() => null));
				if (!session || session.clientSecret !== ctx.params.client_secret) throw notFound("Payment session", ctx.params.id);
				ctx.meta.$responseType = "text/html; charset=utf-8";
				return confirmationPage({ ...session, amount: formatAmount(session.amount, session.currency), returnTo: ctx.params.returnTo });
			},
		},
		simulatedConfirm: {
			auth: "public",
			params: cardParams,
			async handler(this: Host, ctx: Context<ConfirmParams, PageMeta>) {
				const { id, client_secret, cardNumber, expMonth, expYear, cvc } = ctx.params;
				const result = this.simulated && (await this.simulated.confirm(id, client_secret, { number: cardNumber, expMonth, expYear, cvc }));
				if (!result) throw notFound("Payment session", id);
				if (!ctx.meta.wantsHtml) {
					if (result.status === "invalid") throw invalidField(result.field, result.message, "card");
					return { status: result.status === "authorized" ? "authorized" : "requires_confirmation", declineReason: result.session.declineReason };
				}
				const session = result.status === "invalid" ? await this.simulated!.retrieveSession(id) : result.session;
				ctx.meta.$responseType = "text/html; charset=utf-8";
				if (result.status === "invalid") ctx.meta.$statusCode = 422;
				return confirmationPage({
					...session,
					amount: formatAmount(session.amount, session.currency),
					returnTo: ctx.params.returnTo,
					...(result.status === "invalid" ? { error: result.message } : {}),
				});
			},
		},
	},
});
