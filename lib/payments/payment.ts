/**
 * The one payment record an order has, and the rules it follows: its status only moves
 * forward, and refunds never add up to more than was captured. Pure: the orders service stores it.
 */
import { add, subtract, type MinorUnits } from "../domain/money.js";
import type { CardBrand } from "./card.js";

export const PAYMENT_STATUSES = ["requires_confirmation", "authorized", "declined", "voided", "expired", "captured", "partially_refunded", "refunded"] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

const NEXT: Record<PaymentStatus, readonly PaymentStatus[]> = {
	// A session: a declined card keeps it open; a capture may be learnt before the authorization (events out of order).
	requires_confirmation: ["authorized", "captured", "voided", "expired"],
	authorized: ["captured", "declined", "voided", "expired"],
	expired: [],
	captured: ["partially_refunded", "refunded"],
	partially_refunded: ["partially_refunded", "refunded"],
	declined: [],
	voided: [],
	refunded: [],
};

export interface PaymentRecord {
	provider: string;
	brand: CardBrand;
	last4: string;
	status: PaymentStatus;
	amount: MinorUnits;
	currency: string;
	authorizationId: string | null;
	paymentId: string | null;
	captured: MinorUnits;
	refunded: MinorUnits;
	/** Payment sessions only (lib/payments/session.ts); absent on a card authorized at checkout. */
	session?: SessionDetails;
}

/** What the order keeps of its payment session: never a card number. */
export interface SessionDetails {
	/** Null until the session is recorded (the order is written before the session is opened). */
	sessionId: string | null;
	clientSecret: string | null;
	expiresAt: string;
	confirmUrl: string | null;
	publishableKey: string | null;
	declineReason: string | null;
	/** The stock of the order is held: the payment may be captured once authorized. */
	stockReserved: boolean;
	/** The refunds the provider reported, by refund id (each counted once). */
	refundIds: Record<string, number>;
}

/** What a client sees of a payment: never an id, a card number or a CVC. */
export interface PaymentSummary {
	brand: CardBrand;
	last4: string;
	status: PaymentStatus;
	/** A session's details, for the client that confirms it with the provider. */
	provider?: string;
	sessionId?: string | null;
	clientSecret?: string | null;
	expiresAt?: string;
	publishableKey?: string;
	confirmUrl?: string;
	declineReason?: string;
}

export class PaymentRuleError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "PaymentRuleError";
	}
}

export function canMovePayment(from: PaymentStatus, to: PaymentStatus): boolean {
	return NEXT[from].includes(to);
}

export function paymentSummary(p: PaymentRecord): PaymentSummary {
	const summary: PaymentSummary = { brand: p.brand, last4: p.last4, status: p.status };
	const s = p.session;
	if (!s) return summary;
	Object.assign(summary, { provider: p.provider, sessionId: s.sessionId, clientSecret: s.clientSecret, expiresAt: s.expiresAt });
	if (s.publishableKey) summary.publishableKey = s.publishableKey;
	if (s.confirmUrl) summary.confirmUrl = s.confirmUrl;
	if (s.declineReason) summary.declineReason = s.declineReason;
	return summary;
}

export function refundable(p: Pick<PaymentRecord, "captured" | "refunded">): MinorUnits {
	return subtract(p.captured, p.refunded);
}

export function afterCapture(p: PaymentRecord, paymentId: string, amount: MinorUnits): Pick<PaymentRecord, "status" | "paymentId" | "captured"> {
	if (!canMovePayment(p.status, "captured")) throw new PaymentRuleError(`a ${p.status} payment cannot be captured`);
	if (amount > p.amount) throw new PaymentRuleError(`cannot capture ${amount}, only ${p.amount} was authorized`);
	return { status: "captured", paymentId, captured: amount };
}

/** The payment after `amount` more is refunded; refuses zero, negatives and anything beyond what is left. */
export function afterRefund(p: PaymentRecord, amount: MinorUnits): Pick<PaymentRecord, "status" | "refunded"> {
	if (!Number.isSafeInteger(amount) || amount <= 0) throw new PaymentRuleError(`a refund must be a positive amount, got ${amount}`);
	if (amount > refundable(p)) throw new PaymentRuleError(`cannot refund ${amount}, only ${refundable(p)} is left`);
	const refunded = add(p.refunded, amount);
	const status: PaymentStatus = refunded === p.captured ? "refunded" : "partially_refunded";
	if (!canMovePayment(p.status, status)) throw new PaymentRuleError(`a ${p.status} payment cannot be refunded`);
	return { status, refunded };
}
