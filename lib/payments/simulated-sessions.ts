/**
 * The simulated payment service's sessions: what a real provider does for a PaymentIntent with
 * manual capture, offline. Its state is in the orders database (sandbox_sessions, and the
 * sandbox payments and ledger of lib/payments/simulated.ts), so any orders node answers for any
 * session and its idempotency keys hold across nodes and restarts.
 *
 *   createSession  ─► requires_confirmation ── confirm (the page at confirmUrl) ─► authorized
 *                          ▲ declined card: stays, with a declineReason           │ capture (once)
 *                          └──────────────────────────────────────────────────────┤
 *   cancel ─► canceled (from requires_confirmation or authorized)                  ▼
 *                                                                       captured ─► refunds
 *
 * Every change is one compare-and-set on the session document; each sends a webhook signed the
 * Standard Webhooks way (HMAC-SHA256 over id.timestamp.body) to the shop's webhook endpoint
 * (lib/payments/simulated-webhooks.ts). The card is never stored: brand and last 4 only.
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { derivedId } from "../contracts/ids.js";
import { DuplicateKeyError, type Collection } from "../store/index.js";
import { cardBrand, cardDigits, last4, passesLuhn, type CardBrand, type CardDetails } from "./card.js";
import {
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
import { TEST_CARDS, type SandboxCollections, type SimulatedPaymentProvider } from "./simulated.js";

export interface SandboxSession {
	_id: string;
	orderId: string;
	amount: number;
	currency: string;
	clientSecret: string;
	status: ProviderSessionStatus;
	declineReason: string | null;
	brand: CardBrand | null;
	last4: string | null;
	/** The key the capture answered, and the keys of the cancel. */
	captureKey: string | null;
	createdAt: string;
}

/** The webhook event types the simulated service sends (Stripe's names, so one reading fits both). */
export const SIMULATED_EVENT_KINDS: Record<string, PaymentEventKind> = {
	"payment_intent.amount_capturable_updated": "authorized",
	"payment_intent.payment_failed": "declined",
	"payment_intent.succeeded": "captured",
	"payment_intent.canceled": "canceled",
	"charge.refunded": "refunded",
};

export interface SimulatedEventBody {
	id: string;
	type: string;
	created: number;
	data: { object: PaymentSession };
}

/** Sends an event of a session: lib/payments/simulated-webhooks.ts delivers it over HTTP. */
export type WebhookSender = (sessionId: string, event: SimulatedEventBody) => void;

export type ConfirmResult = { status: "authorized" | "declined"; session: PaymentSession } | { status: "invalid"; field: string; message: string };

/** A fresh Standard Webhooks secret (a one-process shop with no SIMULATED_WEBHOOK_SECRET). */
export function randomWebhookSecret(): string {
	return `whsec_${randomBytes(24).toString("base64")}`;
}

export class SimulatedSessions implements SessionPaymentProvider {
	readonly name = "simulated";
	private readonly webhook: Webhook;

	constructor(
		private readonly sessions: Collection<SandboxSession>,
		private readonly sandbox: SandboxCollections,
		/** The card provider, whose refunds (CAS on the sandbox payment) sessions share. */
		private readonly cards: SimulatedPaymentProvider,
		private readonly opts: { webhookSecret: string; confirmUrl: (sessionId: string, clientSecret: string) => string; send: WebhookSender },
	) {
		this.webhook = new Webhook(opts.webhookSecret);
	}

	/** Signs a body as the service's webhooks are signed (for delivery, and for tests). */
	sign(id: string, at: Date, body: string): Record<string, string> {
		return { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": this.webhook.sign(id, at, body) };
	}

	private view(s: SandboxSession, refunds: { refundId: string; amount: number }[] = []): PaymentSession {
		return {
			sessionId: s._id,
			orderId: s.orderId,
			status: s.status,
			amount: s.amount,
			currency: s.currency,
			clientSecret: s.clientSecret,
			amountRefunded: refunds.reduce((t, r) => t + r.amount, 0),
			refunds,
			declineReason: s.declineReason,
			brand: s.brand,
			last4: s.last4,
			confirmUrl: this.opts.confirmUrl(s._id, s.clientSecret),
		};
	}

	private async refundsOf(sessionId: string): Promise<{ refundId: string; amount: number }[]> {
		const payment = await this.sandbox.payments.findById(sessionId);
		return payment ? Object.values(payment.refundKeys).map(r => ({ refundId: r.refundId, amount: r.amount })) : [];
	}

	private async emit(type: string, s: SandboxSession): Promise<void> {
		const object = this.view(s, await this.refundsOf(s._id));
		this.opts.send(s._id, { id: `evt_sim_${randomBytes(12).toString("hex")}`, type, created: Math.floor(Date.now() / 1000), data: { object } });
	}

	async createSession(req: CreateSessionRequest): Promise<PaymentSession> {
		const _id = `sim_pi_${derivedId("session", req.idempotencyKey)}`;
		const doc: SandboxSession = {
			_id,
			orderId: req.orderId,
			amount: req.amount,
			currency: req.currency,
			clientSecret: `${_id}_secret_${randomBytes(16).toString("hex")}`,
			status: "requires_confirmation",
			declineReason: null,
			brand: null,
			last4: null,
			captureKey: null,
			createdAt: new Date().toISOString(),
		};
		try {
			await this.sessions.insert(doc);
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
		}
		return this.retrieveSession(_id);
	}

	async retrieveSession(sessionId: string): Promise<PaymentSession> {
		const s = await this.sessions.findById(sessionId);
		if (!s) throw new Error(`No simulated session ${sessionId}`);
		// A node that died between capturing and recording the payment left it unrecorded: a real provider's capture is one act.
		if (s.status === "captured") await this.recordCapture(s);
		return this.view(s, await this.refundsOf(sessionId));
	}

	/** The customer's card on the confirmation page (with the session's client secret). */
	async confirm(sessionId: string, clientSecret: string, card: CardDetails): Promise<ConfirmResult | null> {
		const s = await this.sessions.findById(sessionId);
		if (!s || s.clientSecret !== clientSecret) return null;
		const digits = cardDigits(card.number);
		if (!digits || !passesLuhn(digits)) return { status: "invalid", field: "cardNumber", message: "The card number is not valid." };
		// Confirmed again (a reload, a retry after a lost answer): the card was accepted even if the shop has captured it since.
		if (s.status !== "requires_confirmation")
			return { status: s.status === "authorized" || s.status === "captured" ? "authorized" : "declined", session: this.view(s) };
		const declined = digits === TEST_CARDS.declined;
		const set = declined
			? { declineReason: "card_declined", brand: cardBrand(digits), last4: last4(digits) }
			: { status: "authorized" as const, declineReason: null, brand: cardBrand(digits), last4: last4(digits) };
		const outcome = await this.sessions.change(s._id, current =>
			current.status === "requires_confirmation" ? { expect: { status: "requires_confirmation" }, update: { $set: set } } : null,
		);
		const after = outcome.doc ?? s;
		if (outcome.written) await this.emit(declined ? "payment_intent.payment_failed" : "payment_intent.amount_capturable_updated", after);
		return { status: after.status === "authorized" ? "authorized" : "declined", session: this.view(after) };
	}

	async captureSession(req: SessionCaptureRequest): Promise<CaptureResult> {
		let refusal: string | null = null;
		const outcome = await this.sessions.change(
			req.sessionId,
			s => {
				if (s.status === "captured") return null;
				if (s.status !== "authorized") refusal = `session_${s.status}`;
				else if (req.amount > s.amount || req.currency !== s.currency) refusal = "amount_exceeds_authorization";
				if (refusal) return null;
				return { expect: { status: "authorized" }, update: { $set: { status: "captured", captureKey: req.idempotencyKey } } };
			},
			{ contended: () => new PaymentProviderUnavailableError("the session kept changing") },
		);
		if (!outcome.doc) return { status: "declined", reason: "session_not_found" };
		if (refusal) return { status: "declined", reason: refusal };
		const result = await this.recordCapture(outcome.doc);
		if (outcome.written) await this.emit("payment_intent.succeeded", outcome.doc);
		return result;
	}

	/** A captured session's payment and its one ledger entry (made again harmlessly: after a crash, whoever next captures, retrieves or refunds it). */
	private async recordCapture(s: SandboxSession): Promise<CaptureResult> {
		const insertOnce = async <T extends { _id: string }>(coll: Collection<T>, doc: T) => {
			try {
				await coll.insert(doc);
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
			}
		};
		await insertOnce(this.sandbox.payments, { _id: s._id, authorizationId: s._id, captured: s.amount, refunded: 0, refundKeys: {} });
		await insertOnce(this.sandbox.ledger, {
			_id: derivedId("capture", s._id),
			kind: "capture",
			id: s._id,
			amount: s.amount,
			key: s.captureKey ?? "",
			at: new Date().toISOString(),
		});
		return { status: "captured", paymentId: s._id, amount: s.amount };
	}

	async cancelSession(req: SessionCancelRequest): Promise<VoidResult> {
		const outcome = await this.sessions.change(
			req.sessionId,
			s => (s.status === "canceled" || s.status === "captured" ? null : { expect: { status: s.status }, update: { $set: { status: "canceled" } } }),
			{ contended: () => new PaymentProviderUnavailableError("the session kept changing") },
		);
		if (outcome.doc?.status === "captured") return { status: "failed", reason: "already_captured" };
		if (outcome.written && outcome.doc) await this.emit("payment_intent.canceled", outcome.doc);
		return { status: "voided" };
	}

	async refund(req: RefundRequest): Promise<RefundResult> {
		const captured = await this.sessions.findById(req.paymentId);
		if (captured?.status === "captured") await this.recordCapture(captured);
		const result = await this.cards.refund(req);
		const s = await this.sessions.findById(req.paymentId);
		if (result.status === "refunded" && s) await this.emit("charge.refunded", s);
		return result;
	}

	verifyWebhook(rawBody: Buffer, headers: Record<string, string>): PaymentEvent {
		let body: SimulatedEventBody;
		try {
			body = this.webhook.verify(new Uint8Array(rawBody), headers) as SimulatedEventBody;
		} catch (err) {
			throw new WebhookSignatureError(`simulated webhook: ${(err as Error).message}`);
		}
		const object = body?.data?.object;
		if (typeof body?.id !== "string" || typeof body.type !== "string" || typeof object?.sessionId !== "string")
			throw new WebhookSignatureError("simulated webhook: not an event of the simulated service");
		return {
			eventId: body.id,
			type: body.type,
			kind: SIMULATED_EVENT_KINDS[body.type] ?? "other",
			orderId: typeof object.orderId === "string" ? object.orderId : null,
			sessionId: object.sessionId,
			session: object,
		};
	}
}
