/**
 * The payment provider the orders service talks to. Every call carries its own idempotency key:
 * the same key again answers the first result without moving money twice (as Stripe does),
 * so a saga step that is retried after a crash never charges or refunds twice.
 */
import type { MinorUnits } from "../domain/money.js";
import type { CardBrand, CardDetails } from "./card.js";

export interface AuthorizeRequest {
	idempotencyKey: string;
	amount: MinorUnits;
	currency: string;
	card: CardDetails;
}
export type AuthorizeResult =
	| { status: "authorized"; authorizationId: string; brand: CardBrand; last4: string }
	| { status: "declined"; reason: string; brand: CardBrand; last4: string };

export interface CaptureRequest {
	idempotencyKey: string;
	authorizationId: string;
	amount: MinorUnits;
	currency: string;
}
export type CaptureResult = { status: "captured"; paymentId: string; amount: MinorUnits } | { status: "declined"; reason: string };

export interface RefundRequest {
	idempotencyKey: string;
	paymentId: string;
	amount: MinorUnits;
	currency: string;
}
export type RefundResult = { status: "refunded"; refundId: string; amount: MinorUnits } | { status: "failed"; reason: string };

export interface VoidRequest {
	idempotencyKey: string;
	authorizationId: string;
}
export type VoidResult = { status: "voided" } | { status: "failed"; reason: string };

/** The provider could not answer (network, outage): nothing happened, try again later. */
export class PaymentProviderUnavailableError extends Error {
	readonly retryable = true;
	constructor(message: string) {
		super(message);
		this.name = "PaymentProviderUnavailableError";
	}
}

export interface PaymentProvider {
	readonly name: string;
	/** Holds the amount on the card; no money moves yet. */
	authorize(req: AuthorizeRequest): Promise<AuthorizeResult>;
	/** Takes the authorized amount (or less). */
	capture(req: CaptureRequest): Promise<CaptureResult>;
	/** Returns captured money; never more than was captured and not yet refunded. */
	refund(req: RefundRequest): Promise<RefundResult>;
	/** Lets an authorization go without capturing it. */
	void(req: VoidRequest): Promise<VoidResult>;
}

// ---------------------------------------------------------------------------------------------
// Payment sessions: the card is confirmed with the provider itself (its script or page), the
// shop only opens, asks about, captures, cancels and refunds the session, and learns the
// outcome from the provider's signed webhook.

/** Where a session stands at the provider. `authorized`: the amount is held, waiting for our capture. */
export type ProviderSessionStatus = "requires_confirmation" | "processing" | "authorized" | "captured" | "canceled";

export interface PaymentSession {
	sessionId: string;
	/** The order id the session was opened for (the provider's metadata). */
	orderId: string | null;
	status: ProviderSessionStatus;
	amount: MinorUnits;
	currency: string;
	clientSecret: string;
	/** What was refunded of the capture so far, and each refund. */
	amountRefunded: MinorUnits;
	refunds: { refundId: string; amount: MinorUnits }[];
	/** Why the last confirmation was declined (the session stays open for another card). */
	declineReason: string | null;
	brand: CardBrand | null;
	last4: string | null;
	/** The simulated provider's confirmation page. */
	confirmUrl?: string;
}

export interface CreateSessionRequest {
	/** The same key opens the same session (derived from the order id). */
	idempotencyKey: string;
	orderId: string;
	amount: MinorUnits;
	currency: string;
}
export interface SessionCaptureRequest {
	idempotencyKey: string;
	sessionId: string;
	amount: MinorUnits;
	currency: string;
}
export interface SessionCancelRequest {
	idempotencyKey: string;
	sessionId: string;
}

/** A provider event, once its signature checked out, as the shop's payment rules see it. */
export type PaymentEventKind = "authorized" | "declined" | "captured" | "canceled" | "refunded" | "other";
export interface PaymentEvent {
	/** The provider's event id: each is applied at most once. */
	eventId: string;
	/** The provider's event type, for the log. */
	type: string;
	kind: PaymentEventKind;
	orderId: string | null;
	sessionId: string | null;
	/** The session as the event shows it. */
	session: PaymentSession | null;
}

/** A webhook whose signature is missing, wrong or too old, or whose body is not the provider's: 400. */
export class WebhookSignatureError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "WebhookSignatureError";
	}
}

/** The provider refused the request itself (a card error, an invalid request): not worth retrying. */
export class PaymentProviderRefusedError extends Error {
	constructor(
		message: string,
		readonly code: string,
	) {
		super(message);
		this.name = "PaymentProviderRefusedError";
	}
}

export interface SessionPaymentProvider {
	readonly name: string;
	/** Given to the client with the session (a real provider's script needs it). */
	readonly publishableKey?: string;
	createSession(req: CreateSessionRequest): Promise<PaymentSession>;
	retrieveSession(sessionId: string): Promise<PaymentSession>;
	/** Takes the held amount once; the same key answers the same capture. */
	captureSession(req: SessionCaptureRequest): Promise<CaptureResult>;
	/** Lets an open or authorized session go (a void of the hold). */
	cancelSession(req: SessionCancelRequest): Promise<VoidResult>;
	/** A (partial) refund of a captured session: `paymentId` is the session id. */
	refund(req: RefundRequest): Promise<RefundResult>;
	/** Checks the signature over the raw body, then reads the event. Throws WebhookSignatureError. */
	verifyWebhook(rawBody: Buffer, headers: Record<string, string>): PaymentEvent;
}
