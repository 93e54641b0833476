/**
 * The payment status machine of a payment session, pure:
 *
 *   requires_confirmation ──► authorized ──► captured ──► partially_refunded ──► refunded
 *        │  ▲ (a declined card: stays, with declineReason)  │
 *        │  └───┘                          │                └──────────────────────► refunded
 *        ├──► expired (not confirmed within the TTL)
 *        └──► voided  ◄── authorized (stock refused, order cancelled)
 *
 * What the provider tells (a webhook, or the session as retrieved when a webhook is late) becomes
 * observations; each moves the payment forward or changes nothing, so the same event applied
 * twice, or events out of order (a capture seen before the authorization), end in the same state.
 */
import { createHash } from "node:crypto";
import { add } from "../domain/money.js";
import type { MinorUnits } from "../domain/money.js";
import type { CardBrand } from "./card.js";
import type { PaymentRecord, PaymentStatus } from "./payment.js";
import type { PaymentEvent, PaymentSession } from "./provider.js";

export type SessionObservation =
	| { kind: "authorized"; amount: MinorUnits; brand: CardBrand | null; last4: string | null }
	| { kind: "declined"; reason: string }
	| { kind: "captured"; paymentId: string; amount: MinorUnits }
	| { kind: "canceled" }
	| { kind: "refunded"; refunds: { refundId: string; amount: MinorUnits }[] };

/** What changes on the payment record; absent fields stay. */
export interface PaymentUpdate {
	status?: PaymentStatus;
	declineReason?: string | null;
	brand?: CardBrand;
	last4?: string;
	paymentId?: string;
	captured?: MinorUnits;
	refunded?: MinorUnits;
	/** Refunds not counted before, by their field-safe key. */
	newRefunds?: { key: string; refundId: string; amount: MinorUnits }[];
}

const CAPTURED: readonly PaymentStatus[] = ["captured", "partially_refunded", "refunded"];
const OPEN: readonly PaymentStatus[] = ["requires_confirmation", "authorized"];

export function isSettled(status: PaymentStatus): boolean {
	return !OPEN.includes(status);
}

/** A refund id as a key of a stored map (a field path): ids of the shop's providers are already safe, others are hashed. */
export function refundKey(refundId: string): string {
	return /^[A-Za-z0-9_]{1,100}$/.test(refundId) ? refundId : `h_${createHash("sha256").update(refundId).digest("hex").slice(0, 32)}`;
}

/** What a session (as retrieved, or as an event shows it) says happened, in the order it happened. */
export function observationsOf(session: PaymentSession): SessionObservation[] {
	switch (session.status) {
		case "requires_confirmation":
		case "processing":
			return session.declineReason ? [{ kind: "declined", reason: session.declineReason }] : [];
		case "authorized":
			return [{ kind: "authorized", amount: session.amount, brand: session.brand, last4: session.last4 }];
		case "canceled":
			return [{ kind: "canceled" }];
		case "captured": {
			const observed: SessionObservation[] = [{ kind: "captured", paymentId: session.sessionId, amount: session.amount }];
			if (session.refunds.length) observed.push({ kind: "refunded", refunds: session.refunds });
			return observed;
		}
	}
}

/** The observations of a webhook event: a decline is only in its event (the session is open again). */
export function observationsOfEvent(event: PaymentEvent): SessionObservation[] {
	if (!event.session) return [];
	if (event.kind === "declined") return [{ kind: "declined", reason: event.session.declineReason ?? "card_declined" }];
	return observationsOf(event.session);
}

/** The payment after one observation, or null when it changes nothing (already there, or past it). */
export function observe(p: Pick<PaymentRecord, "status" | "refunded" | "captured" | "session">, o: SessionObservation): PaymentUpdate | null {
	switch (o.kind) {
		case "declined":
			if (p.status !== "requires_confirmation" || p.session?.declineReason === o.reason) return null;
			return { declineReason: o.reason };
		case "authorized":
			if (p.status !== "requires_confirmation") return null;
			return { status: "authorized", declineReason: null, ...(o.brand ? { brand: o.brand } : {}), ...(o.last4 ? { last4: o.last4 } : {}) };
		case "captured":
			if (!OPEN.includes(p.status)) return null;
			return { status: "captured", paymentId: o.paymentId, captured: o.amount, declineReason: null };
		case "canceled":
			if (!OPEN.includes(p.status)) return null;
			return { status: "voided" };
		case "refunded": {
			if (!CAPTURED.includes(p.status)) return null;
			const counted = p.session?.refundIds ?? {};
			const fresh = o.refunds.filter(r => !Object.hasOwn(counted, refundKey(r.refundId)) && r.amount > 0);
			if (!fresh.length) return null;
			const refunded = fresh.reduce((total, r) => add(total, r.amount), p.refunded);
			// The provider never refunds more than it captured; a report that says so is not believed.
			if (refunded > p.captured) return null;
			return {
				status: refunded === p.captured ? "refunded" : "partially_refunded",
				refunded,
				newRefunds: fresh.map(r => ({ key: refundKey(r.refundId), refundId: r.refundId, amount: r.amount })),
			};
		}
	}
}

/** Every observation in turn: the payment after all of them, or null when none changed it. */
export function observeAll(
	p: Pick<PaymentRecord, "status" | "refunded" | "captured" | "session">,
	observations: readonly SessionObservation[],
): PaymentUpdate | null {
	let current = { ...p, session: p.session ? { ...p.session } : undefined };
	let merged: PaymentUpdate | null = null;
	for (const o of observations) {
		const u = observe(current, o);
		if (!u) continue;
		const newRefunds: NonNullable<PaymentUpdate["newRefunds"]> = [...(merged?.newRefunds ?? []), ...(u.newRefunds ?? [])];
		const before: PaymentUpdate = merged ?? {};
		merged = { ...before, ...u, ...(newRefunds.length ? { newRefunds } : {}) };
		current = {
			...current,
			status: u.status ?? current.status,
			refunded: u.refunded ?? current.refunded,
			captured: u.captured ?? current.captured,
			session: current.session && {
				...current.session,
				declineReason: u.declineReason === undefined ? current.session.declineReason : u.declineReason,
				refundIds: { ...current.session.refundIds, ...Object.fromEntries((u.newRefunds ?? []).map(r => [r.key, r.amount])) },
			},
		};
	}
	return merged;
}

/** When a session opened at `at` expires. */
export function sessionExpiry(at: Date, ttlSeconds: number): string {
	return new Date(at.getTime() + ttlSeconds * 1000).toISOString();
}

/** ISO 4217 currencies whose minor unit is the major one. */
const ZERO_DECIMAL = new Set("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(" "));
/** Zero-decimal currencies Stripe still wants in hundredths (its "special cases"). */
const STRIPE_HUNDREDTHS = new Set(["ISK", "UGX"]);

export function isZeroDecimal(currency: string): boolean {
	return ZERO_DECIMAL.has(currency);
}

/** The shop's amount (ISO 4217 minor units: cents, or yen for JPY) as Stripe's API takes it. */
export function toStripeAmount(amount: MinorUnits, currency: string): number {
	return STRIPE_HUNDREDTHS.has(currency.toUpperCase()) ? amount * 100 : amount;
}

export function fromStripeAmount(amount: number, currency: string): MinorUnits {
	return STRIPE_HUNDREDTHS.has(currency.toUpperCase()) ? Math.round(amount / 100) : amount;
}
