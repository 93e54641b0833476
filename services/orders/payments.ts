/**
 * Money for orders: capturing a held order's authorization, letting a cancelled order's
 * authorization go, and the one way money goes back (`refund`), whatever the cause: a paid
 * order cancelled, a return approved, or a capture that landed after the order was cancelled.
 *
 * Every provider call carries an idempotency key derived from the order (or the return), and the
 * provider keeps its answers durably (lib/payments/simulated.ts), so any orders node may run any
 * step, any number of times, and money moves once. Each step records its outcome on the order with
 * a compare-and-set (services/orders/order-store.ts); a step that loses the race reads again.
 */
import type { Context } from "moleculer";
import type { PaymentProvider, RefundRequest, RefundResult } from "../../lib/payments/provider.js";
import { authorizationVoided, paid, paymentDeclined, type OrderRecord } from "../../lib/domain/orders.js";
import { planRefund, refundRecorded, type RefundCause } from "../../lib/domain/order-refunds.js";
import { OrderKeptChangingError, type OrderStore } from "./order-store.js";
import { refundKey } from "../../lib/payments/session.js";

const now = () => new Date().toISOString();

/** What this needs of the session payments (services/orders/payment-sessions.ts). */
export interface SessionSide {
	readonly provider: { refund(req: RefundRequest): Promise<RefundResult> };
	advance(orderId: string, ctx: Context | null): Promise<void>;
}

export class OrderPayments {
	/** Session payments (services/orders/payment-sessions.ts): their release and refunds go to the session's provider. */
	sessions?: SessionSide;

	constructor(
		private readonly store: OrderStore,
		readonly provider: PaymentProvider,
		private readonly log: { warn(msg: string): void; error(msg: string): void },
	) {}

	private capture(order: OrderRecord) {
		return this.provider.capture({
			idempotencyKey: `${order._id}:capture`,
			authorizationId: order.payment.authorizationId ?? "",
			amount: order.total,
			currency: order.currency,
		});
	}

	/** Stock is held: charge the card, then the order is paid or cancelled. A provider outage throws: the event is delivered again. */
	async settle(order: OrderRecord, cause: Context | null): Promise<void> {
		const result = await this.capture(order);
		const at = now();
		if (result.status === "captured") {
			if (await this.store.apply(order, paid(order, result, at), cause)) return;
			// Not pending any more: paid by a concurrent delivery of this event (nothing to do), or
			// cancelled meanwhile by its owner or the expiry sweep (the money goes straight back).
			await this.refund(order._id, { kind: "late-capture", paymentId: result.paymentId, captured: result.amount }, cause);
			return;
		}
		await this.store.apply(order, paymentDeclined(order, result.reason, at), cause);
	}

	/**
	 * A cancelled order's authorization is let go. If it turns out to have been captured after all
	 * (a capture raced the cancel), the captured money goes back.
	 */
	async release(orderId: string, cause: Context | null): Promise<void> {
		const order = await this.store.get(orderId);
		if (order?.payment.session && this.sessions) return this.sessions.advance(orderId, cause);
		if (!order || order.status !== "cancelled" || order.payment.status !== "authorized") return;
		const voided = await this.provider.void({ idempotencyKey: `${orderId}:void`, authorizationId: order.payment.authorizationId ?? "" });
		if (voided.status === "voided") {
			await this.store.apply(order, authorizationVoided(order, now()), cause);
			return;
		}
		// Already captured: the capture's idempotency key answers what it took, which goes back.
		const captured = await this.capture(order);
		if (captured.status === "captured")
			await this.refund(orderId, { kind: "late-capture", paymentId: captured.paymentId, captured: captured.amount }, cause);
	}

	/**
	 * The one refund path: what to refund is planned from the order as it is now
	 * (lib/domain/orders.ts `planRefund`), the provider refunds it under the plan's idempotency
	 * key, and the refund is recorded on the order. Safe to run again at any point: a refund
	 * already recorded plans nothing, and one the provider made but the order did not record yet is
	 * answered again by the provider for the same key. Answers false when the provider refused
	 * (the caller retries later).
	 */
	async refund(orderId: string, cause: RefundCause, ctx: Context | null, refused?: (reason: string) => void): Promise<boolean> {
		// Each attempt that loses records nothing and asks the provider again under the same key (the same refund).
		for (let attempt = 0; attempt < 30; attempt++) {
			const order = await this.store.get(orderId);
			const plan = order && planRefund(order, cause);
			if (!order || !plan) return true;
			let result: RefundResult = { status: "refunded", refundId: `none:${plan.key}`, amount: 0 };
			if (plan.amount > 0) {
				const paymentId = cause.kind === "late-capture" ? cause.paymentId : (order.payment.paymentId ?? "");
				const provider = order.payment.session && this.sessions ? this.sessions.provider : this.provider;
				result = await provider.refund({ idempotencyKey: plan.key, paymentId, amount: plan.amount, currency: order.currency });
				if (result.status !== "refunded") {
					// The caller answers the refusal itself (an admin's refund beyond what is left: 422).
					if (refused) {
						refused(result.reason);
						return false;
					}
					this.log.error(`Refund ${plan.key} of order ${orderId} failed (${result.reason}); it will be tried again`);
					return false;
				}
				// The provider's report of this refund (a webhook) was counted first: recorded without counting it again.
				if (cause.kind !== "late-capture" && order.payment.session && Object.hasOwn(order.payment.session.refundIds, refundKey(result.refundId)))
					result = { ...result, amount: 0 };
			}
			if (await this.store.apply(order, refundRecorded(order, plan, result, now()), ctx)) {
				if (cause.kind === "late-capture")
					this.log.warn(`Order ${orderId} was captured after it was cancelled; refunded ${result.amount} ${order.currency}`);
				return true;
			}
			// The order moved (a concurrent refund, say): plan again from what it is now.
		}
		throw new OrderKeptChangingError(orderId);
	}
}
