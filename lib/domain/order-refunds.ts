/**
 * Refunds of an order: why money goes back (a cancel after payment, an approved return, a
 * capture that landed after a cancel, an admin's refund), how much, and how a refund is recorded
 * on the order, as an `OrderChange` like its other transitions (lib/domain/orders.ts).
 */
import { domainEvent, type ItemQuantity } from "../contracts/events.js";
import { capAt, type MinorUnits } from "./money.js";
import { mergeQuantities } from "./items.js";
import { refundForReturn, type PricedLine } from "./pricing.js";
import { itemIdOf } from "./variants.js";
import { PaymentRuleError, afterRefund, refundable } from "../payments/payment.js";
import { isSettled, refundKey } from "../payments/session.js";
import { REFUNDABLE, itemQuantities, publicItem, transition, type OrderChange, type OrderRecord, type OrderRefund } from "./orders.js";

const event = domainEvent;

/** Why money goes back: the cancel of a paid order, an approved return, or a capture that landed after a cancel. */
export type RefundCause =
	| { kind: "cancel"; reason: string }
	| { kind: "return"; returnId: string; items: ItemQuantity[] }
	| { kind: "late-capture"; paymentId: string; captured: MinorUnits }
	| { kind: "manual"; key: string; amount: MinorUnits; reason: string };

export interface RefundPlan {
	cause: RefundCause;
	/** The provider's idempotency key: one refund per key, however often the step runs. */
	key: string;
	amount: MinorUnits;
}

/** What a refund of this cause is, or null when there is nothing (more) to refund. */
export function planRefund(order: OrderRecord, cause: RefundCause): RefundPlan | null {
	switch (cause.kind) {
		case "cancel": {
			const pending = order.pendingRefund;
			if (order.status !== "cancelled" || !pending) return null;
			return { cause, key: pending.key, amount: pending.amount };
		}
		case "return": {
			if (Object.hasOwn(order.returns, cause.returnId) || !REFUNDABLE.includes(order.status)) return null;
			const plan = planReturnRefund(order, cause.items);
			return { cause: { ...cause, items: plan.items }, key: `return:${cause.returnId}`, amount: plan.amount };
		}
		case "manual": {
			if (Object.hasOwn(order.manualRefunds ?? {}, cause.key)) return null;
			if (!REFUNDABLE.includes(order.status) || refundable(order.payment) === 0)
				throw new PaymentRuleError(`An order that is ${order.status} has nothing to refund`);
			if (cause.amount > refundable(order.payment))
				throw new PaymentRuleError(`cannot refund ${cause.amount}, only ${refundable(order.payment)} is left`);
			return { cause, key: `manual:${cause.key}`, amount: cause.amount };
		}
		case "late-capture":
			// Only a cancelled order whose payment never got recorded as captured; a paid one keeps its money.
			if (order.status !== "cancelled" || isSettled(order.payment.status)) return null;
			return { cause, key: `${order._id}:orphan-capture`, amount: cause.captured };
	}
}

/**
 * The money of `plan` went back (`refund` is what the provider answered): the one way a refund is
 * recorded on an order, whatever caused it. A full refund of a paid order, or of a cancelled paid
 * one, makes it `refunded`; a capture that landed after the cancel leaves it `cancelled`.
 */
export function refundRecorded(order: OrderRecord, plan: RefundPlan, refund: { refundId: string; amount: MinorUnits }, at: string): OrderChange {
	const { _id: orderId, userId, currency } = order;
	const { cause } = plan;
	const record: OrderRefund = {
		id: refund.refundId,
		amount: refund.amount,
		reason: cause.kind === "cancel" || cause.kind === "manual" ? cause.reason : cause.kind === "return" ? "return" : "order_cancelled",
		at,
	};
	const refundedEvent = event("payment.refunded", { orderId, userId, refundId: refund.refundId, amount: refund.amount, currency });
	if (cause.kind === "late-capture") {
		return {
			expect: { status: "cancelled", "payment.status": order.payment.status },
			set: {
				"payment.status": "refunded",
				"payment.paymentId": cause.paymentId,
				"payment.captured": cause.captured,
				"payment.refunded": refund.amount,
				updatedAt: at,
			},
			refund: record,
			events: [
				event("payment.captured", {
					orderId,
					userId,
					paymentId: cause.paymentId,
					amount: cause.captured,
					currency,
					brand: order.payment.brand,
					last4: order.payment.last4,
				}),
				refundedEvent,
			],
		};
	}
	const set: Record<string, unknown> = { updatedAt: at };
	const p = refund.amount > 0 ? afterRefund(order.payment, refund.amount) : null;
	if (p) Object.assign(set, { "payment.status": p.status, "payment.refunded": p.refunded });
	// A session's refund is counted by its id, so the provider's report of it (charge.refunded) adds nothing.
	if (p && order.payment.session) set[`payment.session.refundIds.${refundKey(refund.refundId)}`] = refund.amount;
	const full = cause.kind === "cancel" || p?.status === "refunded";
	const change: OrderChange = { expect: { status: order.status, "payment.refunded": order.payment.refunded }, set, events: [] };
	if (cause.kind === "cancel") {
		change.expect["pendingRefund.key"] = plan.key;
		set.pendingRefund = null;
		set.status = "refunded";
		change.history = transition("cancelled", "refunded", at, cause.reason);
	} else if (cause.kind === "manual") {
		change.expect[`manualRefunds.${cause.key}`] = { $exists: false };
		set[`manualRefunds.${cause.key}`] = refund.refundId;
		if (full && order.status !== "refunded") {
			set.status = "refunded";
			change.history = transition(order.status, "refunded", at, cause.reason);
		}
	} else {
		change.expect[`returns.${cause.returnId}`] = { $exists: false };
		set[`returns.${cause.returnId}`] = refund.refundId;
		change.inc = Object.fromEntries(cause.items.map(i => [`returned.${itemIdOf(i)}`, i.quantity]));
		if (full && order.status !== "refunded") {
			set.status = "refunded";
			change.history = transition(order.status, "refunded", at, "return");
		}
	}
	if (refund.amount > 0 || cause.kind === "cancel") {
		change.refund = record;
		const items = cause.kind === "cancel" ? itemQuantities(order.items) : cause.kind === "manual" ? [] : cause.items;
		change.events = [
			refundedEvent,
			event("order.refunded", { orderId, userId, refundId: refund.refundId, amount: refund.amount, currency, reason: record.reason, items, full }),
		];
	}
	return change;
}

export interface ReturnRefundPlan {
	/** The lines that are refunded, with what is still returnable of each. */
	items: ItemQuantity[];
	amount: MinorUnits;
	/** The whole captured amount is refunded after this one. */
	full: boolean;
}

/**
 * What an approved return refunds: what was paid for the returned units, after their line's
 * share of the discount (and with their tax when it was added on top), never more of an item
 * than was ordered and not yet returned, never more money than is left to refund. Shipping is
 * not refunded for a return (lib/domain/pricing.ts `refundForReturn` has the rules).
 */
export function planReturnRefund(
	order: Pick<OrderRecord, "items" | "returned" | "payment" | "pricesIncludeTax">,
	requested: readonly ItemQuantity[],
): ReturnRefundPlan {
	const lines: PricedLine[] = order.items.map(publicItem).map(i => ({
		itemId: i.itemId,
		unitPrice: i.unitPrice,
		quantity: i.quantity,
		lineTotal: i.lineTotal,
		discount: i.discount,
		tax: i.tax,
	}));
	const returning: Record<string, number> = {};
	for (const r of mergeQuantities(requested)) if (r.quantity > 0) returning[itemIdOf(r)] = r.quantity;
	const refund = refundForReturn(lines, order.returned, returning, order.pricesIncludeTax ?? true);
	const byItem = new Map(order.items.map(i => [i.itemId ?? i.productId, i]));
	const items = refund.lines.map(l => {
		const i = byItem.get(l.itemId)!;
		return { productId: i.productId, ...(i.variantId ? { variantId: i.variantId } : {}), quantity: l.quantity };
	});
	const left = refundable(order.payment);
	const amount = capAt(refund.total, left);
	return { items, amount, full: left > 0 && amount === left };
}
