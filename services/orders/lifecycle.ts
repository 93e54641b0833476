/**
 * The order a request is about, and its fulfilment steps and cancel: the transition table
 * (lib/domain/orders.ts) says which step an order can take (409 otherwise), and a step that
 * loses a race to another change is decided again on the order as it is then.
 */
import { conflict, notFound } from "../../lib/errors.js";
import { hasRole, requireUser, type ShopContext } from "../../lib/auth/access.js";
import { CANCELLABLE, OrderTransitionError, canTransition, type OrderChange, type OrderRecord, type OrderStatus } from "../../lib/domain/orders.js";
import { OrderKeptChangingError, type OrderStore, type StoredOrder } from "./order-store.js";

/** The order if the caller may see it: someone else's order does not exist, as far as a customer can tell. */
export async function findOrderFor(store: OrderStore, ctx: ShopContext, id: string): Promise<StoredOrder> {
	const user = requireUser(ctx);
	const order = await store.get(id);
	if (!order || (order.userId !== user.id && !hasRole(user, "admin"))) throw notFound("Order", id);
	return order;
}

/** Move the caller's order to `to` with `change`, as the transition table allows it. */
export async function changeOrder(
	store: OrderStore,
	ctx: ShopContext,
	id: string,
	to: OrderStatus,
	change: (o: OrderRecord) => OrderChange,
): Promise<StoredOrder> {
	await findOrderFor(store, ctx, id);
	try {
		const after = await store.change(
			id,
			o => {
				const allowed = to === "cancelled" ? CANCELLABLE.includes(o.status) : canTransition(o.status, to);
				if (!allowed)
					throw conflict(`An order that is ${o.status} cannot be ${to === "cancelled" ? "cancelled" : to}`, "INVALID_ORDER_STATUS", {
						status: o.status,
					});
				return change(o);
			},
			ctx,
		);
		return after!;
	} catch (err) {
		if (err instanceof OrderKeptChangingError) throw conflict("The order changed while changing it; try again", "CONCURRENT_CHANGE");
		if (err instanceof OrderTransitionError) throw conflict(err.message, "INVALID_ORDER_STATUS", { status: err.from });
		throw err;
	}
}
