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
