/**
 * Orders as stored: each status change is one conditional update of one order document, with
 * the events it causes written into the order's outbox in the same update (so an event is never
 * lost and never sent for a change that did not happen). The changes themselves are decided by
 * lib/domain/orders.ts.
 */
import type { Context } from "moleculer";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";
import type { MakeEnvelope } from "../../mixins/events.mixin.js";
import type { OrderChange, OrderEvent, OrderRecord } from "../../lib/domain/orders.js";

export type StoredOrder = OrderRecord & { outbox?: EventEnvelope[] };

export type { MakeEnvelope };

export class OrderStore {
	constructor(
		readonly orders: Collection<StoredOrder>,
		private readonly envelope: MakeEnvelope,
		/** Wakes the outbox relay. */
		private readonly relay: () => void,
	) {}

	get(id: string): Promise<StoredOrder | null> {
		return this.orders.findById(id);
	}

	private envelopes(events: readonly OrderEvent[], cause: Context | null): EventEnvelope[] {
		return events.map(e => this.envelope(e.type, e.payload as never, cause));
	}

	/** A new order with its first events; false when an order with this id exists already. */
	async insert(order: OrderRecord, events: readonly OrderEvent[], cause: Context | null): Promise<boolean> {
		try {
			await this.orders.insert({ ...order, outbox: this.envelopes(events, cause) });
		} catch (err) {
			if (err instanceof DuplicateKeyError) return false;
			throw err;
		}
		this.relay();
		return true;
	}

	/** Write `change` if the order still is as it expects; true when it was written. */
	async apply(order: Pick<OrderRecord, "_id">, change: OrderChange, cause: Context | null): Promise<boolean> {
		const $push: Record<string, unknown> = {};
		if (change.history) $push.statusHistory = { $each: [change.history] };
		const refunds = [...(change.refund ? [change.refund] : []), ...(change.refunds ?? [])];
		if (refunds.length) $push.refunds = { $each: refunds };
		if (change.events.length) $push.outbox = { $each: this.envelopes(change.events, cause) };
		const update: Record<string, unknown> = { $set: change.set };
		if (change.inc && Object.keys(change.inc).length) update.$inc = change.inc;
		if (Object.keys($push).length) update.$push = $push;
		const written = (await this.orders.updateWhere({ _id: order._id, ...change.expect }, update)) === 1;
		if (written && change.events.length) this.relay();
		return written;
	}

	/**
	 * Decide a change on the order as it is now and write it, reading again when the order moved
	 * meanwhile. `decide` answers null when there is nothing (left) to do. Answers the order after
	 * the change, or null when nothing was written.
	 */
	async change(orderId: string, decide: (order: StoredOrder) => OrderChange | null, cause: Context | null, attempts = 5): Promise<StoredOrder | null> {
		for (let i = 0; i < attempts; i++) {
			const order = await this.get(orderId);
			if (!order) return null;
			const change = decide(order);
			if (!change) return null;
			if (await this.apply(order, change, cause)) return this.get(orderId);
		}
		throw new OrderKeptChangingError(orderId);
	}
}

/** The order moved under every attempt: the caller answers 409, or an event is delivered again. */
export class OrderKeptChangingError extends Error {
	constructor(readonly orderId: string) {
		super(`Order ${orderId} kept changing`);
		this.name = "OrderKeptChangingError";
	}
}
