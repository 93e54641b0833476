/**
 * The orders' housekeeping, every few seconds on every orders node: pending orders whose stock
 * hold outlived RESERVATION_TTL_SECONDS are cancelled (`reservation_expired`), refunds and voids
 * that failed earlier are tried again, payment sessions are expired or checked with the provider,
 * answered idempotency keys older than a day and applied payment event ids older than
 * PAYMENT_EVENTS_RETENTION_DAYS are forgotten. Every step is a compare-and-set or an idempotent provider call, so two nodes
 * sweeping at the same moment do each thing once.
 */
import { cancelled } from "../../lib/domain/orders.js";
import type { OrderStore } from "./order-store.js";
import type { OrderPayments } from "./payments.js";
import type { SessionPayments } from "./payment-sessions.js";
import { config } from "../../lib/config.js";

const BATCH = 100;

export class OrderSweep {
	private timer?: NodeJS.Timeout;
	private running?: Promise<void>;

	constructor(
		private readonly store: OrderStore,
		private readonly payments: OrderPayments,
		private readonly sessions: SessionPayments,
		private readonly forgetOldKeys: () => Promise<void>,
		private readonly log: { warn(msg: string): void },
	) {}

	private ttlSeconds(): number {
		return config.reservationTtlSeconds;
	}

	/** Often enough that an order (or a payment session) expires close to its TTL, and a late payment is checked soon after it is due, at least every 30 s. */
	start(): void {
		const { sessionTtlSeconds, reconcileAfterSeconds } = config.payments;
		const shortest = Math.min(...[this.ttlSeconds(), sessionTtlSeconds, reconcileAfterSeconds].filter(s => s > 0).map(s => s * 1000), 120_000);
		const every = Math.min(30_000, Math.max(250, shortest / 4));
		this.timer = setInterval(() => {
			this.running ??= this.run()
				.catch(err => this.log.warn(`Order sweep failed, will retry: ${(err as Error).message}`))
				.finally(() => (this.running = undefined));
		}, every);
		this.timer.unref();
	}

	async stop(): Promise<void> {
		if (this.timer) clearInterval(this.timer);
		await this.running;
	}

	async run(): Promise<void> {
		const orders = this.store.orders;
		const ttl = this.ttlSeconds();
		if (ttl > 0) {
			const cutoff = new Date(Date.now() - ttl * 1000).toISOString();
			for (const order of await orders.find({ query: { status: "pending", createdAt: { $lt: cutoff } }, sort: ["createdAt"], limit: BATCH })) {
				const after = await this.store.change(
					order._id,
					o => (o.status === "pending" ? cancelled(o, "reservation_expired", new Date().toISOString()) : null),
					null,
				);
				if (after) await this.payments.release(order._id, null);
			}
		}
		for (const order of await orders.find({ query: { status: "cancelled", "pendingRefund.key": { $exists: true } }, limit: BATCH })) {
			await this.payments.refund(order._id, { kind: "cancel", reason: order.pendingRefund?.reason ?? "cancelled" }, null);
		}
		for (const order of await orders.find({ query: { status: "cancelled", "payment.status": "authorized" }, limit: BATCH })) {
			await this.payments.release(order._id, null);
		}
		await this.sessions.sweep(BATCH);
		await this.forgetOldKeys();
	}
}
