/**
 * The orders' housekeeping, every few seconds on every orders node: pending orders whose stock
 * hold outlived RESERVATION_TTL_SECONDS are cancelled (`reservation_expired`), refunds and voids
 * that failed earlier are tried again, and answered idempotency keys older than a day are
 * forgotten. Every step is a compare-and-set or an idempotent provider call, so two nodes
 * sweeping at the same moment do each thing once.
 */
import { cancelled } from "../../lib/domain/orders.js";
import type { OrderStore } from "./order-store.js";
import type { OrderPayments } from "./payments.js";

const BATCH = 100;

export class OrderSweep {
	private timer?: NodeJS.Timeout;
	private running?: Promise<void>;

	constructor(
		private readonly store: OrderStore,
		private readonly payments: OrderPayments,
		private readonly forgetOldKeys: () => Promise<void>,
		private readonly ttlSeconds: () => number,
		private readonly log: { warn(msg: string): void },
	) {}

	/** Often enough that an order expires close to its TTL, at least every 30 s. A TTL of 0: never expire. */
	start(): void {
		const ttlMs = this.ttlSeconds() * 1000;
		const every = ttlMs > 0 ? Math.min(30_000, Math.max(250, ttlMs / 4)) : 30_000;
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
		await this.forgetOldKeys();
	}
}
