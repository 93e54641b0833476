/**
 * A parcel as an order change: lib/domain/fulfilment.ts decides what the parcel holds and where
 * the order stands after it; this turns the decision into the `OrderChange` the orders service
 * writes (one compare-and-set with the events in the order's outbox).
 */
import { decideFulfilment, type FulfilmentDecision } from "./fulfilment.js";
import { transition, type OrderChange, type OrderRecord } from "./orders.js";

/** A parcel left (lib/domain/fulfilment.ts decided it): the status moves when it changes, the parcel is appended. */
export function fulfilled(order: OrderRecord, decision: FulfilmentDecision, at: string): OrderChange {
	const moves = decision.status !== order.status;
	return {
		expect: decision.expect,
		set: moves ? { status: decision.status, updatedAt: at } : { updatedAt: at },
		...(moves ? { history: transition(order.status, decision.status, at) } : {}),
		fulfilment: decision.fulfilment,
		events: decision.events,
	};
}

/** The v1 ship step: one fulfilment of everything not yet shipped, without carrier or tracking. */
export function shipped(order: OrderRecord, at: string, fulfilmentId: string): OrderChange {
	return fulfilled(order, decideFulfilment(order, { carrier: null, trackingNumber: null }, fulfilmentId, at), at);
}
