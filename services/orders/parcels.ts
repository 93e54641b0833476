/**
 * Fulfilment routes of the orders service: `POST /orders/:id/fulfilments` (a parcel with its
 * carrier and tracking, some lines or everything left) and the v1 `POST /orders/:id/ship` (one
 * parcel of everything left, without tracking). The rules are lib/domain/fulfilment.ts; each is one
 * compare-and-set on the order with its events in the order's outbox, so concurrent parcels can
 * never ship more than was ordered: the loser reads the order again and is refused (422).
 */
import { randomUUID } from "node:crypto";
import { conflict, validationError } from "../../lib/errors.js";
import type { ShopContext } from "../../lib/auth/access.js";
import { ORDERS } from "../../lib/contracts/http/orders.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import { decideFulfilment, FulfilmentInputError, FulfilmentStatusError } from "../../lib/domain/fulfilment.js";
import { publicOrder } from "../../lib/domain/orders.js";
import { fulfilled, shipped } from "../../lib/domain/order-fulfilment.js";
import { OrderKeptChangingError, type OrderStore } from "./order-store.js";
import { changeOrder, findOrderFor } from "./lifecycle.js";

type Params<A extends keyof typeof ORDERS> = ParamsOf<(typeof ORDERS)[A]>;
interface FulfilmentThis {
	store: OrderStore;
}

/** Concurrent parcels of one order each read it again after losing; enough rounds for a burst of them. */
const FULFILMENT_ATTEMPTS = 25;

async function createFulfilment(store: OrderStore, ctx: ShopContext<Params<"orders.createFulfilment">>) {
	const { id, items, carrier, trackingNumber, trackingUrl } = ctx.params;
	await findOrderFor(store, ctx, id);
	try {
		const at = new Date().toISOString();
		const fulfilmentId = randomUUID();
		const after = await store.change(
			id,
			o => fulfilled(o, decideFulfilment(o, { items, carrier, trackingNumber, trackingUrl }, fulfilmentId, at), at),
			ctx,
			FULFILMENT_ATTEMPTS,
		);
		return publicOrder(after!);
	} catch (err) {
		if (err instanceof FulfilmentInputError) throw validationError(err.problems);
		if (err instanceof FulfilmentStatusError) throw conflict(err.message, "INVALID_ORDER_STATUS", { status: err.status });
		if (err instanceof OrderKeptChangingError) throw conflict("The order changed while shipping it; try again", "CONCURRENT_CHANGE");
		throw err;
	}
}

export const fulfilmentActions = {
	/** A parcel: some lines (or everything left) with a carrier and tracking number. 201 with the order. */
	createFulfilment: {
		roles: ["admin" as const],
		params: ORDERS["orders.createFulfilment"],
		handler(this: FulfilmentThis, ctx: ShopContext<Params<"orders.createFulfilment">>) {
			return createFulfilment(this.store, ctx);
		},
	},
	/** v1: everything left in one parcel, without tracking. */
	ship: {
		roles: ["admin" as const],
		params: ORDERS["orders.ship"],
		async handler(this: FulfilmentThis, ctx: ShopContext<Params<"orders.ship">>) {
			const fulfilmentId = randomUUID();
			return publicOrder(await changeOrder(this.store, ctx, ctx.params.id, "shipped", o => shipped(o, new Date().toISOString(), fulfilmentId)));
		},
	},
};
