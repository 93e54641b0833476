/**
 * What the tickets service asks other services: whether an order is the caller's (orders), who
 * a customer or an assignee is (users). Opening a ticket needs its order checked, so it waits a
 * while and answers 503 when the orders service does not answer; reading a ticket only decorates
 * it, so it gives up quickly and marks the part it could not get as unavailable.
 */
import type { Context } from "moleculer";
import { invalidField, notFound, unavailable } from "../../lib/errors.js";
import { isStaff } from "../../lib/auth/access.js";
import type { OrderSummary, UserSummary } from "../../lib/contracts/calls.js";

export type CustomerDetails = Pick<UserSummary, "id" | "name" | "email"> | { id: string; name: null; email: null } | { id: string; unavailable: true };
export type OrderDetails = Pick<OrderSummary, "id" | "status" | "total" | "currency" | "createdAt"> | { id: string; unavailable: true };

/** Opening a ticket on an order must know the order: wait a while, then answer 503. */
const ORDER_CHECK_TIMEOUT_MS = 5000;
/** Reading a ticket only decorates it with customer and order: give up quickly and say so. */
const DETAILS_TIMEOUT_MS = 1500;

type Log = { warn(msg: string): void };

/**
 * The called service refused the input (4xx). Moleculer's own "no such service / node" errors
 * are 404s too, but retryable: those mean the service is down, not the thing missing.
 */
function refusedByService(err: unknown): boolean {
	const e = err as { code?: unknown; retryable?: boolean };
	return typeof e.code === "number" && e.code >= 400 && e.code < 500 && e.retryable !== true;
}

/** The caller's own order: 404 for a missing or someone else's order, 503 when orders does not answer. */
export async function callerOrder(ctx: Context, orderId: string, userId: string, log: Log): Promise<OrderSummary> {
	try {
		return await ctx.call<OrderSummary, { orderId: string; userId: string }>(
			"orders.summaryForUser",
			{ orderId, userId },
			{ timeout: ORDER_CHECK_TIMEOUT_MS },
		);
	} catch (err) {
		// 404 (missing or not the caller's) or any other refusal of this id: not an order the caller can use.
		if (refusedByService(err)) throw notFound("Order", orderId);
		log.warn(`Could not check order ${orderId}: ${(err as Error).message}`);
		throw unavailable("The order could not be checked right now; try again later.");
	}
}

export async function customerDetails(ctx: Context, userId: string, log: Log): Promise<CustomerDetails> {
	try {
		const u = await ctx.call<UserSummary | null, { id: string }>("users.summary", { id: userId }, { timeout: DETAILS_TIMEOUT_MS });
		// null: the account was deleted since.
		return u ? { id: u.id, name: u.name, email: u.email } : { id: userId, name: null, email: null };
	} catch (err) {
		log.warn(`Customer ${userId}: details unavailable: ${(err as Error).message}`);
		return { id: userId, unavailable: true };
	}
}

export async function orderDetails(ctx: Context, orderId: string, log: Log): Promise<OrderDetails> {
	try {
		const o = await ctx.call<OrderSummary, { orderId: string }>("orders.summaryForUser", { orderId }, { timeout: DETAILS_TIMEOUT_MS });
		return { id: o.id, status: o.status, total: o.total, currency: o.currency, createdAt: o.createdAt };
	} catch (err) {
		log.warn(`Order ${orderId}: details unavailable: ${(err as Error).message}`);
		return { id: orderId, unavailable: true };
	}
}

/** The assignee must be an existing agent or admin (422 on `assigneeId` otherwise). */
export async function checkAssignee(ctx: Context, assigneeId: string, log: Log): Promise<void> {
	let assignee: UserSummary | null;
	try {
		assignee = await ctx.call<UserSummary | null, { id: string }>("users.summary", { id: assigneeId }, { timeout: ORDER_CHECK_TIMEOUT_MS });
	} catch (err) {
		log.warn(`Could not check assignee ${assigneeId}: ${(err as Error).message}`);
		throw unavailable("The assignee could not be checked right now; try again later.");
	}
	if (!assignee) throw invalidField("assigneeId", "There is no user with this id.", "notFound");
	if (!isStaff({ id: assigneeId, roles: assignee.roles })) throw invalidField("assigneeId", "The assignee must be an agent or admin.", "notStaff");
}
