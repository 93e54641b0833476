/**
 * Payment sessions in the checkout saga (the orders' side of lib/payments/session.ts):
 *
 *   POST /orders ─► order `pending` written ─► session opened at the provider (key <orderId>:session)
 *                   ─► session recorded on the order ─► 202 with sessionId, clientSecret, confirmUrl
 *   the customer confirms with the provider
 *   webhook (or reconcile: the provider asked) ─► payment `authorized`  ┐
 *   stock.reserved ─► stockReserved                                     ├─► capture once ─► `paid`
 *   stock.rejected ─► `cancelled` out_of_stock ─► session cancelled (void), never captured
 *   TTL passed, or the customer cancels ─► `cancelled` (payment_expired) ─► session cancelled
 *
 * One capture per order whatever runs it (a webhook delivered 50 times, the sweep, a client's
 * poll, on any node): the provider's capture carries the key <orderId>:capture, so it moves money
 * once, and `paid` is a compare-and-set on the pending order, so it is recorded (with its events)
 * once. Every provider event id is stored when applied; the same id again changes nothing.
 */
import type { Context } from "moleculer";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import { paid, type OrderRecord } from "../../lib/domain/orders.js";
import { paymentExpired, paymentObserved, sessionRecorded, sessionReleased, stockHeld } from "../../lib/domain/order-sessions.js";
import { isSettled, observationsOf, observationsOfEvent, observeAll, type SessionObservation } from "../../lib/payments/session.js";
import type { PaymentEvent, PaymentSession, SessionPaymentProvider } from "../../lib/payments/provider.js";
import type { OrderStore, StoredOrder } from "./order-store.js";
import type { OrderPayments } from "./payments.js";

/** A provider event applied (`_id`: provider and event id). */
export interface ProcessedPaymentEvent {
	_id: string;
	orderId: string | null;
	type: string;
	at: string;
}

type Log = { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
const now = () => new Date().toISOString();

export class SessionPayments {
	/** When each order was last checked with the provider by this node (a client's poll is rate-limited). */
	private readonly checkedAt = new Map<string, number>();

	constructor(
		private readonly store: OrderStore,
		readonly provider: SessionPaymentProvider,
		private readonly processed: Collection<ProcessedPaymentEvent>,
		private readonly payments: OrderPayments,
		private readonly log: Log,
		private readonly settings: () => { reconcileAfterSeconds: number; eventsRetentionDays: number },
	) {}

	/** Opens the order's session (the same one again for the same order) and records it on the order. */
	async open(order: OrderRecord, ctx: Context | null): Promise<StoredOrder | null> {
		const session = await this.provider.createSession({
			idempotencyKey: `${order._id}:session`,
			orderId: order._id,
			amount: order.total,
			currency: order.currency,
		});
		return this.record(order._id, session, ctx);
	}

	private async record(orderId: string, session: PaymentSession, ctx: Context | null): Promise<StoredOrder | null> {
		await this.store.change(
			orderId,
			o => sessionRecorded(o, { sessionId: session.sessionId, clientSecret: session.clientSecret, confirmUrl: session.confirmUrl ?? null }, now()),
			ctx,
		);
		return this.store.get(orderId);
	}

	async stockReserved(orderId: string, ctx: Context | null): Promise<void> {
		await this.store.change(orderId, o => stockHeld(o, now()), ctx);
		await this.advance(orderId, ctx);
	}

	/** A verified webhook event: applied once, matched by the order id in its metadata (or its session id). */
	async webhook(event: PaymentEvent, ctx: Context | null): Promise<{ received: true; applied: boolean }> {
		const order = await this.orderOf(event);
		if (!order) {
			this.log.info(`Payment event ${event.eventId} (${event.type}) names no order of this shop; acknowledged`);
			return { received: true, applied: false };
		}
		try {
			await this.processed.insert({ _id: `${this.provider.name}:${event.eventId}`, orderId: order._id, type: event.type, at: now() });
		} catch (err) {
			if (err instanceof DuplicateKeyError) return { received: true, applied: false };
			throw err;
		}
		if (event.session && !order.payment.session?.sessionId) await this.record(order._id, event.session, ctx);
		// An event that does not carry the session (Stripe's charge.refunded): the provider is asked.
		if (!event.session && event.kind !== "other") await this.reconcile(order._id, ctx);
		else await this.observe(order._id, observationsOfEvent(event), ctx);
		await this.advance(order._id, ctx);
		return { received: true, applied: true };
	}

	private async orderOf(event: PaymentEvent): Promise<StoredOrder | null> {
		const byId = event.orderId ? await this.store.get(event.orderId) : null;
		if (byId?.payment.session) return byId;
		if (!event.sessionId) return null;
		const [bySession] = await this.store.orders.find({ query: { "payment.session.sessionId": event.sessionId }, limit: 1 });
		return bySession ?? null;
	}

	private async observe(orderId: string, observations: readonly SessionObservation[], ctx: Context | null): Promise<void> {
		if (!observations.length) return;
		await this.store.change(
			orderId,
			o => {
				const update = o.payment.session ? observeAll(o.payment, observations) : null;
				return update ? paymentObserved(o, update, now()) : null;
			},
			ctx,
		);
	}

	/** Asks the provider how the order's session stands (a late or lost webhook), then moves on from there. */
	async reconcile(orderId: string, ctx: Context | null): Promise<void> {
		this.checkedAt.set(orderId, Date.now());
		let order = await this.store.get(orderId);
		if (!order?.payment.session) return;
		// The node that placed the order may have died between opening the session and recording it: the same key opens the same one.
		if (!order.payment.session.sessionId && order.status === "pending") order = (await this.open(order, ctx)) ?? order;
		const sessionId = order.payment.session?.sessionId;
		if (!sessionId) return;
		await this.observe(orderId, observationsOf(await this.provider.retrieveSession(sessionId)), ctx);
		await this.advance(orderId, ctx);
	}

	/** A client polls a pending order whose webhook is overdue: checked with the provider, at most every few seconds per order. */
	async reconcileOnPoll(order: OrderRecord, ctx: Context | null): Promise<boolean> {
		if (order.status !== "pending" || !order.payment.session) return false;
		const overdueAt = Date.parse(order.createdAt) + this.settings().reconcileAfterSeconds * 1000;
		const last = this.checkedAt.get(order._id) ?? 0;
		if (Date.now() < overdueAt || Date.now() - last < 5000) return false;
		if (this.checkedAt.size > 10_000) this.checkedAt.clear();
		await this.reconcile(order._id, ctx).catch(err => this.log.warn(`Checking the payment of order ${order._id} failed: ${(err as Error).message}`));
		return true;
	}

	/** The next step the order's payment needs: capture (authorized, stock held), or release (cancelled, still open). */
	async advance(orderId: string, ctx: Context | null): Promise<void> {
		const order = await this.store.get(orderId);
		const session = order?.payment.session;
		if (!order || !session?.sessionId) return;
		if (order.status === "pending" && order.payment.status === "authorized" && session.stockReserved) return this.capture(order, session.sessionId, ctx);
		if (order.status === "cancelled" && !isSettled(order.payment.status)) return this.release(order, session.sessionId, ctx);
	}

	private async capture(order: OrderRecord, sessionId: string, ctx: Context | null): Promise<void> {
		const result = await this.provider.captureSession({ idempotencyKey: `${order._id}:capture`, sessionId, amount: order.total, currency: order.currency });
		if (result.status !== "captured") {
			this.log.warn(`Capture of order ${order._id} refused (${result.reason}); the session is checked again by the sweep`);
			return;
		}
		const after = await this.store.change(order._id, o => (o.status === "pending" && !isSettled(o.payment.status) ? paid(o, result, now()) : null), ctx);
		if (after) return;
		const current = await this.store.get(order._id);
		// Cancelled while the capture was under way: the money goes straight back.
		if (current?.status === "cancelled" && !isSettled(current.payment.status))
			await this.payments.refund(order._id, { kind: "late-capture", paymentId: result.paymentId, captured: result.amount }, ctx);
	}

	private async release(order: OrderRecord, sessionId: string, ctx: Context | null): Promise<void> {
		const voided = await this.provider.cancelSession({ idempotencyKey: `${order._id}:cancel`, sessionId });
		if (voided.status === "voided") {
			await this.store.change(order._id, o => sessionReleased(o, now()), ctx);
			return;
		}
		// Captured after all (a capture raced the cancel): what it took goes back.
		const session = await this.provider.retrieveSession(sessionId);
		if (session.status === "captured")
			await this.payments.refund(order._id, { kind: "late-capture", paymentId: session.sessionId, captured: session.amount }, ctx);
	}

	/**
	 * Applied event ids older than PAYMENT_EVENTS_RETENTION_DAYS are forgotten: by then the provider
	 * stopped delivering them again long ago (lib/config.ts), and one that came anyway would change
	 * nothing, since observations only move a payment forward (lib/payments/session.ts).
	 */
	async forgetOldEvents(now = Date.now()): Promise<number> {
		const cutoff = new Date(now - this.settings().eventsRetentionDays * 86_400_000).toISOString();
		return this.processed.removeWhere({ at: { $lt: cutoff } });
	}

	/** The sweep's part: sessions past their TTL expire; sessions unsettled for longer than the reconcile delay are checked; old event ids are forgotten. */
	async sweep(batch: number): Promise<void> {
		const at = now();
		const expired = await this.store.orders.find({
			query: { status: "pending", "payment.status": "requires_confirmation", "payment.session.expiresAt": { $lt: at } },
			limit: batch,
		});
		for (const order of expired) {
			const after = await this.store.change(order._id, o => paymentExpired(o, now()), null);
			if (after) await this.advance(order._id, null);
		}
		const cutoff = new Date(Date.now() - this.settings().reconcileAfterSeconds * 1000).toISOString();
		const unsettled = await this.store.orders.find({
			query: {
				status: { $in: ["pending", "cancelled"] },
				"payment.status": { $in: ["requires_confirmation", "authorized"] },
				"payment.session.expiresAt": { $exists: true },
				createdAt: { $lt: cutoff },
			},
			sort: ["createdAt"],
			limit: batch,
		});
		for (const order of unsettled) {
			if (!order.payment.session) continue;
			await this.reconcile(order._id, null).catch(err => this.log.warn(`Reconciling order ${order._id} failed, will retry: ${(err as Error).message}`));
		}
		await this.forgetOldEvents();
	}
}
