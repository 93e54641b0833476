/**
 * Orders as stored: each status change is one conditional update of one order document, with
 * the events it causes written into the order's outbox in the same update (so an event is never
 * lost and never sent for a change that did not happen). The changes themselves are decided by
 * lib/domain/orders.ts; the compare-and-set and the outbox are the store's (lib/store).
 */
import type { Context } from "moleculer";
import { DuplicateKeyError, type Change, type Collection } from "../../lib/store/index.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";
import type { OrderChange, OrderEvent, OrderRecord } from "../../lib/domain/orders.js";

export type StoredOrder = OrderRecord & { outbox?: EventEnvelope[] };

/** An order change as one write of the store. */
function asWrite(change: OrderChange): Change {
	const $push: Record<string, unknown> = {};
	if (change.history) $push.statusHistory = { $each: [change.history] };
	const refunds = [...(change.refund ? [change.refund] : []), ...(change.refunds ?? [])];
	if (refunds.length) $push.refunds = { $each: refunds };
	if (change.fulfilment) $push.fulfilments = { $each: [change.fulfilment] };
	const update: Record<string, unknown> = { $set: change.set };
	if (change.inc && Object.keys(change.inc).length) update.$inc = change.inc;
	if (Object.keys($push).length) update.$push = $push;
	return { expect: change.expect, update, events: change.events };
}

export class OrderStore {
	constructor(readonly orders: Collection<StoredOrder>) {}

	get(id: string): Promise<StoredOrder | null> {
		return this.orders.findById(id);
	}

	/** A new order with its first events; false when an order with this id exists already. */
	async insert(order: OrderRecord, events: readonly OrderEvent[], cause: Context | null): Promise<boolean> {
		try {
			await this.orders.insertWithEvents(order, events, cause);
		} catch (err) {
			if (err instanceof DuplicateKeyError) return false;
			throw err;
		}
		return true;
	}

	/** Write `change` if the order still is as it expects; true when it was written. */
	async apply(order: Pick<OrderRecord, "_id">, change: OrderChange, cause: Context | null): Promise<boolean> {
		const { expect, update, events } = asWrite(change);
		return (await this.orders.changeWithEvents({ ...expect, _id: order._id }, update, events ?? [], cause)) === 1;
	}

	/**
	 * Decide a change on the order as it is now and write it, reading again when the order moved
	 * meanwhile. `decide` answers null when there is nothing (left) to do. Answers the order after
	 * the change, or null when nothing was written.
	 */
	async change(orderId: string, decide: (order: StoredOrder) => OrderChange | null, cause: Context | null, attempts = 5): Promise<StoredOrder | null> {
		const outcome = await this.orders.change(
			orderId,
			order => {
				const change = decide(order);
				return change && asWrite(change);
			},
			{ cause, attempts, contended: () => new OrderKeptChangingError(orderId) },
		);
		return outcome.written ? outcome.doc : null;
	}
}

/** The order moved under every attempt: the caller answers 409, or an event is delivered again. */
export class OrderKeptChangingError extends Error {
	constructor(readonly orderId: string) {
		super(`Order ${orderId} kept changing`);
		this.name = "OrderKeptChangingError";
	}
}
