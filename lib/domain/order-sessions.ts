/**
 * Payment sessions on an order: what the provider's session (lib/payments/session.ts has the
 * payment's own status machine) changes on the order, each as an `OrderChange` like the order's
 * other transitions (lib/domain/orders.ts).
 */
import { domainEvent } from "../contracts/events.js";
import { isSettled, type PaymentUpdate } from "../payments/session.js";
import { canTransition, cancelled, paid, transition, type OrderChange, type OrderRecord } from "./orders.js";

/** The provider's session for this order is known: recorded once (the order was written before it was opened). */
export function sessionRecorded(order: OrderRecord, s: { sessionId: string; clientSecret: string; confirmUrl: string | null }, at: string): OrderChange | null {
	if (!order.payment.session || order.payment.session.sessionId) return null;
	return {
		expect: { "payment.session.sessionId": null },
		set: {
			"payment.session.sessionId": s.sessionId,
			"payment.session.clientSecret": s.clientSecret,
			"payment.session.confirmUrl": s.confirmUrl,
			"payment.authorizationId": s.sessionId,
			updatedAt: at,
		},
		events: [],
	};
}

/** The stock of a pending session order is held: its payment may now be captured once authorized. */
export function stockHeld(order: OrderRecord, at: string): OrderChange | null {
	if (order.status !== "pending" || !order.payment.session || order.payment.session.stockReserved) return null;
	return { expect: { status: "pending", "payment.session.stockReserved": false }, set: { "payment.session.stockReserved": true, updatedAt: at }, events: [] };
}

/**
 * What the provider reported about the session, on the order. A capture of a pending order pays
 * it (the compare-and-set on `pending` makes that once); a refund made at the provider is added
 * (and a full one refunds the order); a cancel of an expired order's session leaves it `expired`.
 */
export function paymentObserved(order: OrderRecord, update: PaymentUpdate, at: string): OrderChange {
	const set: Record<string, unknown> = { updatedAt: at };
	if (update.declineReason !== undefined) set["payment.session.declineReason"] = update.declineReason;
	if (update.brand) set["payment.brand"] = update.brand;
	if (update.last4) set["payment.last4"] = update.last4;
	const expect: Record<string, unknown> = { status: order.status, "payment.status": order.payment.status, "payment.refunded": order.payment.refunded };
	if (update.status === "captured" && order.status === "pending") {
		const change = paid(order, { paymentId: update.paymentId!, amount: update.captured! }, at);
		return { ...change, expect, set: { ...change.set, ...set } };
	}
	let status = update.status;
	if (status === "voided" && order.cancelReason === "payment_expired") status = "expired";
	if (status) set["payment.status"] = status;
	if (update.paymentId) set["payment.paymentId"] = update.paymentId;
	if (update.captured !== undefined) set["payment.captured"] = update.captured;
	const change: OrderChange = { expect, set, events: [] };
	if (update.refunded !== undefined && update.newRefunds?.length) {
		set["payment.refunded"] = update.refunded;
		const { _id: orderId, userId, currency } = order;
		change.refunds = update.newRefunds.map(r => ({ id: r.refundId, amount: r.amount, reason: "provider", at }));
		for (const r of update.newRefunds) {
			set[`payment.session.refundIds.${r.key}`] = r.amount;
			change.events.push(domainEvent("payment.refunded", { orderId, userId, refundId: r.refundId, amount: r.amount, currency }));
		}
		if (update.status === "refunded" && canTransition(order.status, "refunded")) {
			set.status = "refunded";
			change.history = transition(order.status, "refunded", at, "provider");
		}
	}
	return change;
}

/** Not confirmed within the session's TTL: cancelled `payment_expired` (its holds are released, its session cancelled). */
export function paymentExpired(order: OrderRecord, at: string): OrderChange | null {
	if (order.status !== "pending" || order.payment.status !== "requires_confirmation") return null;
	const change = cancelled(order, "payment_expired", at);
	return { ...change, expect: { ...change.expect, "payment.status": "requires_confirmation" } };
}

/** A cancelled order's session was cancelled at the provider: `expired` when it ran out of time, `voided` otherwise. */
export function sessionReleased(order: OrderRecord, at: string): OrderChange | null {
	if (order.status !== "cancelled" || isSettled(order.payment.status)) return null;
	const status = order.cancelReason === "payment_expired" ? "expired" : "voided";
	return { expect: { status: "cancelled", "payment.status": order.payment.status }, set: { "payment.status": status, updatedAt: at }, events: [] };
}
