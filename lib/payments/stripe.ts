/**
 * The Stripe provider (PAYMENT_PROVIDER=stripe), through the official SDK: a session is a
 * PaymentIntent with `capture_method: manual` and the order id in its metadata; every call
 * carries its own idempotency key; amounts go to Stripe in its smallest unit
 * (lib/payments/session.ts `toStripeAmount`). Webhooks are checked with the SDK's
 * `webhooks.constructEvent` over the raw body, 300 s tolerance.
 *
 * Errors: a card error is a decline; an invalid request is a refusal (not retried); a network
 * failure, a timeout, a rate limit or a 5xx is PaymentProviderUnavailableError (retried later).
 * The secret key and the webhook secret are never logged or put in an error message.
 */
import Stripe from "stripe";
import {
	PaymentProviderRefusedError,
	PaymentProviderUnavailableError,
	WebhookSignatureError,
	type CaptureResult,
	type CreateSessionRequest,
	type PaymentEvent,
	type PaymentEventKind,
	type PaymentSession,
	type ProviderSessionStatus,
	type RefundRequest,
	type RefundResult,
	type SessionCancelRequest,
	type SessionCaptureRequest,
	type SessionPaymentProvider,
	type VoidResult,
} from "./provider.js";
import { fromStripeAmount, toStripeAmount } from "./session.js";
import type { CardBrand } from "./card.js";

export const STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300;

const EVENT_KINDS: Record<string, PaymentEventKind> = {
	"payment_intent.amount_capturable_updated": "authorized",
	"payment_intent.payment_failed": "declined",
	"payment_intent.succeeded": "captured",
	"payment_intent.canceled": "canceled",
	"charge.refunded": "refunded",
};

const STATUS: Record<string, ProviderSessionStatus> = {
	requires_payment_method: "requires_confirmation",
	requires_confirmation: "requires_confirmation",
	requires_action: "requires_confirmation",
	processing: "processing",
	requires_capture: "authorized",
	succeeded: "captured",
	canceled: "canceled",
};

export interface StripeSettings {
	secretKey?: string;
	webhookSecret?: string;
	publishableKey?: string;
	apiBase?: string;
	/** Per request (default 10 s), and retries of a failed request by the SDK (default 2). */
	timeoutMs?: number;
	retries?: number;
}

/** A provider failure: card error → decline reason, invalid request → refusal, anything else → try again later. */
export function classifyStripeError(err: unknown): { kind: "declined"; reason: string } | { kind: "refused"; code: string } | { kind: "retry" } {
	if (!(err instanceof Stripe.errors.StripeError)) return { kind: "retry" };
	if (err instanceof Stripe.errors.StripeCardError) return { kind: "declined", reason: err.decline_code ?? err.code ?? "card_declined" };
	const status = err.statusCode ?? 0;
	if (
		err instanceof Stripe.errors.StripeInvalidRequestError ||
		err instanceof Stripe.errors.StripeIdempotencyError ||
		(status >= 400 && status < 500 && status !== 429)
	)
		return { kind: "refused", code: err.code ?? err.type };
	return { kind: "retry" };
}

function unavailable(what: string, err: unknown): PaymentProviderUnavailableError {
	const e = err as { type?: string; statusCode?: number };
	return new PaymentProviderUnavailableError(`Stripe ${what} failed (${e.type ?? "error"}${e.statusCode ? ` ${e.statusCode}` : ""}); will retry`);
}

export class StripePaymentProvider implements SessionPaymentProvider {
	readonly name = "stripe";
	readonly publishableKey?: string;
	private readonly stripe: Stripe;
	private readonly webhookSecret: string;

	constructor(settings: StripeSettings) {
		if (!settings.secretKey) throw new Error("PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY");
		if (!settings.webhookSecret) throw new Error("PAYMENT_PROVIDER=stripe needs STRIPE_WEBHOOK_SECRET");
		this.webhookSecret = settings.webhookSecret;
		this.publishableKey = settings.publishableKey;
		const base = settings.apiBase ? new URL(settings.apiBase) : null;
		this.stripe = new Stripe(settings.secretKey, {
			maxNetworkRetries: settings.retries ?? 2,
			timeout: settings.timeoutMs ?? 10_000,
			...(base
				? { host: base.hostname, port: base.port || (base.protocol === "http:" ? 80 : 443), protocol: base.protocol === "http:" ? "http" : "https" }
				: {}),
		});
	}

	/** Each request's method, path and idempotency key, as the SDK reports them (tests and tracing; never the key or the body). */
	onRequest(listener: (req: { method: string; path: string; idempotencyKey: string | null }) => void): void {
		this.stripe.on("request", (e: { method: string; path: string; idempotency_key?: string }) =>
			listener({ method: e.method, path: e.path, idempotencyKey: e.idempotency_key ?? null }),
		);
	}

	private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
		try {
			return await run();
		} catch (err) {
			const c = classifyStripeError(err);
			if (c.kind === "retry") throw unavailable(what, err);
			if (c.kind === "refused") throw new PaymentProviderRefusedError(`Stripe ${what} refused (${c.code})`, c.code);
			throw new PaymentProviderRefusedError(`Stripe ${what} declined (${c.reason})`, c.reason);
		}
	}

	private view(pi: Stripe.PaymentIntent, refunds: { refundId: string; amount: number }[] = []): PaymentSession {
		const card = typeof pi.payment_method === "object" && pi.payment_method?.card ? pi.payment_method.card : null;
		const error = pi.last_payment_error;
		return {
			sessionId: pi.id,
			orderId: pi.metadata?.orderId ?? null,
			status: STATUS[pi.status] ?? "requires_confirmation",
			amount: fromStripeAmount(pi.amount, pi.currency),
			currency: pi.currency.toUpperCase(),
			clientSecret: pi.client_secret ?? "",
			amountRefunded: refunds.reduce((t, r) => t + r.amount, 0),
			refunds,
			declineReason: error ? (error.decline_code ?? error.code ?? "card_declined") : null,
			brand: (card?.brand as CardBrand | undefined) ?? null,
			last4: card?.last4 ?? null,
		};
	}

	async createSession(req: CreateSessionRequest): Promise<PaymentSession> {
		const pi = await this.call("create", () =>
			this.stripe.paymentIntents.create(
				{
					amount: toStripeAmount(req.amount, req.currency),
					currency: req.currency.toLowerCase(),
					capture_method: "manual",
					automatic_payment_methods: { enabled: true },
					metadata: { orderId: req.orderId },
				},
				{ idempotencyKey: req.idempotencyKey },
			),
		);
		return this.view(pi);
	}

	async retrieveSession(sessionId: string): Promise<PaymentSession> {
		const pi = await this.call("retrieve", () => this.stripe.paymentIntents.retrieve(sessionId));
		if (pi.status !== "succeeded") return this.view(pi);
		const refunds = await this.call("refund list", () => this.stripe.refunds.list({ payment_intent: pi.id, limit: 100 }));
		const done = refunds.data.filter(r => r.status !== "failed" && r.status !== "canceled");
		return this.view(
			pi,
			done.map(r => ({ refundId: r.id, amount: fromStripeAmount(r.amount, r.currency) })),
		);
	}

	async captureSession(req: SessionCaptureRequest): Promise<CaptureResult> {
		try {
			const pi = await this.call("capture", () =>
				this.stripe.paymentIntents.capture(
					req.sessionId,
					{ amount_to_capture: toStripeAmount(req.amount, req.currency) },
					{ idempotencyKey: req.idempotencyKey },
				),
			);
			return { status: "captured", paymentId: pi.id, amount: fromStripeAmount(pi.amount_received, pi.currency) };
		} catch (err) {
			if (err instanceof PaymentProviderRefusedError) return { status: "declined", reason: err.code };
			throw err;
		}
	}

	async cancelSession(req: SessionCancelRequest): Promise<VoidResult> {
		try {
			await this.call("cancel", () => this.stripe.paymentIntents.cancel(req.sessionId, {}, { idempotencyKey: req.idempotencyKey }));
			return { status: "voided" };
		} catch (err) {
			if (err instanceof PaymentProviderRefusedError) return { status: "failed", reason: err.code };
			throw err;
		}
	}

	async refund(req: RefundRequest): Promise<RefundResult> {
		try {
			const r = await this.call("refund", () =>
				this.stripe.refunds.create(
					{ payment_intent: req.paymentId, amount: toStripeAmount(req.amount, req.currency) },
					{ idempotencyKey: req.idempotencyKey },
				),
			);
			return { status: "refunded", refundId: r.id, amount: fromStripeAmount(r.amount, r.currency) };
		} catch (err) {
			if (err instanceof PaymentProviderRefusedError) return { status: "failed", reason: err.code };
			throw err;
		}
	}

	verifyWebhook(rawBody: Buffer, headers: Record<string, string>): PaymentEvent {
		const signature = headers["stripe-signature"];
		if (!signature) throw new WebhookSignatureError("stripe webhook: no Stripe-Signature header");
		let event: Stripe.Event;
		try {
			event = this.stripe.webhooks.constructEvent(rawBody, signature, this.webhookSecret, STRIPE_WEBHOOK_TOLERANCE_SECONDS);
		} catch (err) {
			throw new WebhookSignatureError(`stripe webhook: ${(err as Error).message}`);
		}
		const kind = EVENT_KINDS[event.type] ?? "other";
		const object = event.data.object as { object?: string };
		if (object.object === "payment_intent") {
			const session = this.view(object as Stripe.PaymentIntent);
			return { eventId: event.id, type: event.type, kind, orderId: session.orderId, sessionId: session.sessionId, session };
		}
		if (object.object === "charge") {
			// A charge names its PaymentIntent; its refunds are read from Stripe when the event is applied.
			const charge = object as Stripe.Charge;
			const sessionId = typeof charge.payment_intent === "string" ? charge.payment_intent : (charge.payment_intent?.id ?? null);
			return { eventId: event.id, type: event.type, kind, orderId: charge.metadata?.orderId ?? null, sessionId, session: null };
		}
		return { eventId: event.id, type: event.type, kind: "other", orderId: null, sessionId: null, session: null };
	}
}
