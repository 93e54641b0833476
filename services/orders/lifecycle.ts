/**
 * The order a request is about, and its fulfilment steps and cancel: the transition table
 * (lib/domain/orders.ts) says which step an order can take (409 otherwise), and a step that
 * loses a race to another change is decided again on the order as it is then.
 */
import { conflict, notFound } from "../../lib/errors.js";
import { hasRole, requireUser, type ShopContext } from "../../lib/auth/access.js";
import { forbidden } from "../../lib/errors.js";
import { offsetOf } from "../../lib/paging.js";
import type { Query } from "../../lib/store/index.js";
import { CANCELLABLE, OrderTransitionError, canTransition, cancelled, type OrderChange, type OrderRecord, type OrderStatus } from "../../lib/domain/orders.js";
import { OrderKeptChangingError, type OrderStore, type StoredOrder } from "./order-store.js";
import type { OrderPayments } from "./payments.js";

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

/** The caller's orders, newest first (an admin's `all`: everyone's). */
export async function orderHistory(
	store: OrderStore,
	ctx: ShopContext,
	{ page, pageSize, all, status }: { page: number; pageSize: number; all?: boolean; status?: OrderStatus },
): Promise<{ rows: StoredOrder[]; total: number }> {
	const user = requireUser(ctx);
	if (all && !hasRole(user, "admin")) throw forbidden("Only admins can list everyone's orders");
	const query: Query = all ? {} : { userId: user.id };
	if (status) query.status = status;
	const [rows, total] = await Promise.all([
		store.orders.find({ query, sort: ["-createdAt", "-_id"], limit: pageSize, offset: offsetOf(page, pageSize) }),
		store.orders.count(query),
	]);
	return { rows, total };
}

/** Cancel before shipping: a pending order's authorization is let go, a paid order is refunded in full and ends `refunded`. */
export async function cancelOrder(store: OrderStore, payments: OrderPayments, ctx: ShopContext, id: string): Promise<StoredOrder> {
	const order = await findOrderFor(store, ctx, id);
	const reason = order.userId === requireUser(ctx).id ? "cancelled_by_customer" : "cancelled_by_admin";
	const after = await changeOrder(store, ctx, order._id, "cancelled", o => cancelled(o, reason, new Date().toISOString()));
	if (after.pendingRefund) await payments.refund(after._id, { kind: "cancel", reason }, ctx);
	else await payments.release(after._id, ctx);
	return (await store.get(after._id))!;
}
