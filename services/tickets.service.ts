/**
 * tickets: customer support. Tickets with a message thread, priority, assignee and status,
 * and returns (RMA) of delivered orders that agents approve or reject.
 *
 * Its own database. It asks the users service about customers and assignees and the orders
 * service about orders; what happens to a ticket leaves as domain events through the outbox
 * (an approved return is refunded by orders and restocked by products from `return.approved`).
 * The rules themselves live in lib/domain/tickets.ts.
 */
import { randomUUID } from "node:crypto";
import type { Context, Service } from "moleculer";
import { defineService } from "../lib/service.js";
import { DbMixin } from "../mixins/db.mixin.js";
import { EventsMixin } from "../mixins/events.mixin.js";
import { conflict, invalidField, notFound, unavailable, validationError } from "../lib/errors.js";
import { isStaff, requireUser, type Role, type ShopContext } from "../lib/auth/access.js";
import { offsetOf, pageParams, paged } from "../lib/paging.js";
import { DuplicateKeyError, type Collection, type Query } from "../lib/store.js";
import { MetricsMixin } from "../mixins/metrics.mixin.js";
import type { EventEnvelope, EventPayloads, EventType, ItemQuantity } from "../lib/events/catalog.js";
import { SUPPORT } from "../lib/contracts/http/support.js";
import {
	CLAIMING_RETURN_STATUSES,
	TICKET_STATUSES,
	MAX_MESSAGES_PER_TICKET,
	authorRoleOf,
	canSee,
	claimedQuantities,
	newTicketProblems,
	publicTicket,
	replyRefusal,
	returnDecisionRefusal,
	returnItemProblems,
	returnSlot,
	statusChangeRefusal,
	threadFull,
	type Priority,
	type PublicTicket,
	type Refusal,
	type TicketMessage,
	type TicketRecord,
	type TicketStatus,
	type TicketType,
} from "../lib/domain/tickets.js";

/** What `orders.summaryForUser` answers. */
interface OrderSummary {
	id: string;
	userId: string;
	status: string;
	total: number;
	currency: string;
	createdAt: string;
	items: { productId: string; sku: string; name: string; quantity: number; unitPrice: number }[];
}
interface UserSummary {
	id: string;
	name: string;
	email: string;
}

type CustomerDetails = UserSummary | { id: string; name: null; email: null } | { id: string; unavailable: true };
type OrderDetails = Pick<OrderSummary, "id" | "status" | "total" | "currency" | "createdAt"> | { id: string; unavailable: true };

/** Opening a ticket on an order must know the order: wait a while, then answer 503. */
const ORDER_CHECK_TIMEOUT_MS = 5000;
/** Reading a ticket only decorates it with customer and order: give up quickly and say so. */
const DETAILS_TIMEOUT_MS = 1500;
/** Concurrent returns of one order collide on their return slot; the loser re-counts this often. */
const RETURN_SLOT_ATTEMPTS = 5;
const UPDATE_ATTEMPTS = 3;
/** Statuses a ticket can take a message in. */
const OPEN_STATUSES: TicketStatus[] = TICKET_STATUSES.filter(s => s !== "closed");


interface CreateParams {
	type: TicketType;
	subject: string;
	message: string;
	orderId?: string;
	items?: ItemQuantity[];
	rating?: number;
}
interface ListParams {
	page: number;
	pageSize: number;
	status?: TicketStatus;
	type?: TicketType;
	assigneeId?: string;
}
interface UpdateParams {
	id: string;
	status?: TicketStatus;
	priority?: Priority;
	assigneeId?: string | null;
}

type Self = Service & {
	tickets: Collection<TicketRecord>;
	threadFullError(): Error;
	collection<T extends { _id: string }>(name: string): Collection<T>;
	domainEvent<T extends EventType>(type: T, payload: EventPayloads[T], ctx?: Context | null): EventEnvelope<T>;
	relayOutbox(): Promise<void>;
	visibleTicket(ctx: ShopContext<unknown>, id: string): Promise<TicketRecord>;
	existingTicket(id: string): Promise<TicketRecord>;
	callerOrder(ctx: ShopContext<unknown>, orderId: string, userId: string): Promise<OrderSummary>;
	insertReturn(ticket: TicketRecord, order: OrderSummary): Promise<TicketRecord>;
	withDetails(ctx: ShopContext<unknown>, ticket: TicketRecord, pageSize?: number, before?: string): Promise<PublicTicket & { customer: CustomerDetails; order: OrderDetails | null }>;
	checkAssignee(ctx: ShopContext<unknown>, assigneeId: string): Promise<void>;
	decideReturn(ctx: ShopContext<{ id: string; reason?: string }>, decision: "approved" | "rejected"): Promise<PublicTicket>;
};

/**
 * The called service refused the input (4xx). Moleculer's own "no such service / node" errors
 * are 404s too, but retryable: those mean the service is down, not the thing missing.
 */
function refusedByService(err: unknown): boolean {
	const e = err as { code?: unknown; retryable?: boolean };
	return typeof e.code === "number" && e.code >= 400 && e.code < 500 && e.retryable !== true;
}

function refuse(refusal: Refusal, data?: unknown): void {
	if (!refusal.ok) throw conflict(refusal.reason, refusal.type, data);
}

const TicketsService = defineService<Self>({
	name: "tickets",
	// Moleculer runs the last mixin's hooks first: the database connects before the gauges and
	// events start (events also wait for the whole broker to start, see mixins/events.mixin.ts).
	mixins: [
		MetricsMixin({ gauges: [{ metric: "shop_tickets_open", collection: "tickets", query: { status: { $in: ["open", "pending"] } } }] }),
		EventsMixin({ outbox: ["tickets"] }),
		DbMixin({
			tickets: {
				indexes: [{ fields: { userId: 1 } }, { fields: { orderId: 1 } }, { fields: { status: 1 } }, { fields: { returnSlot: 1 }, unique: true, sparse: true }],
			},
		}),
	],

	actions: {
		create: {
			params: SUPPORT["tickets.create"],
			async handler(ctx: ShopContext<CreateParams>) {
				const user = requireUser(ctx);
				const p = ctx.params;
				const problems = newTicketProblems(p);
				if (problems.length) throw validationError(problems);
				const order = p.orderId === undefined ? null : await this.callerOrder(ctx, p.orderId, user.id);
				if (p.type === "return" && order?.status !== "delivered") throw invalidField("orderId", "Only a delivered order can be returned.", "orderNotDelivered");

				const now = new Date().toISOString();
				const id = randomUUID();
				const ticket: TicketRecord = {
					_id: id,
					userId: user.id,
					type: p.type,
					subject: p.subject,
					status: "open",
					priority: "normal",
					assigneeId: null,
					orderId: p.orderId ?? null,
					items: (p.items ?? []).map(i => ({ productId: i.productId, quantity: i.quantity })),
					rating: p.rating ?? null,
					messages: [{ id: randomUUID(), authorId: user.id, authorRole: "customer", body: p.message, at: now }],
					return: p.type === "return" ? { id: randomUUID(), status: "requested", reason: null, decidedBy: null, decidedAt: null } : null,
					outbox: [this.domainEvent("ticket.created", { ticketId: id, userId: user.id, type: p.type, subject: p.subject, orderId: p.orderId ?? null }, ctx)],
					createdAt: now,
					updatedAt: now,
				};
				const saved = order && p.type === "return" ? await this.insertReturn(ticket, order) : await this.tickets.insert(ticket);
				void this.relayOutbox();
				return publicTicket(saved);
			},
		},

		list: {
			params: SUPPORT["tickets.list"],
			async handler(ctx: ShopContext<ListParams>) {
				const user = requireUser(ctx);
				const { page, pageSize, status, type, assigneeId } = ctx.params;
				const query: Query = isStaff(user) ? {} : { userId: user.id };
				if (status) query.status = status;
				if (type) query.type = type;
				if (assigneeId) query.assigneeId = assigneeId;
				const [rows, total] = await Promise.all([
					this.tickets.find({ query, sort: ["-createdAt", "-_id"], limit: pageSize, offset: offsetOf(page, pageSize) }),
					this.tickets.count(query),
				]);
				// A list shows each ticket's latest message only; the thread is read ticket by ticket.
				return paged(rows.map(t => publicTicket(t, 1)), total, page, pageSize);
			},
		},

		get: {
			params: SUPPORT["tickets.get"],
			async handler(ctx: ShopContext<{ id: string; before?: string; limit: number }>) {
				const ticket = await this.visibleTicket(ctx, ctx.params.id);
				const { before, limit } = ctx.params;
				if (before !== undefined && !ticket.messages.some(m => m.id === before)) throw invalidField("before", "No message of this ticket has this id.", "unknownCursor");
				return this.withDetails(ctx, ticket, limit, before);
			},
		},

		reply: {
			params: SUPPORT["tickets.reply"],
			async handler(ctx: ShopContext<{ id: string; message: string }>) {
				const user = requireUser(ctx);
				const ticket = await this.visibleTicket(ctx, ctx.params.id);
				refuse(replyRefusal(ticket));
				if (threadFull(ticket)) throw this.threadFullError();
				const now = new Date().toISOString();
				const message: TicketMessage = { id: randomUUID(), authorId: user.id, authorRole: authorRoleOf(user, ticket), body: ctx.params.message, at: now };
				const event = this.domainEvent("ticket.replied", { ticketId: ticket._id, userId: ticket.userId, messageId: message.id, authorId: user.id, authorRole: message.authorRole }, ctx);
				const added = await this.tickets.updateWhere(
					// Not closed in the meantime, and not full: the message count is part of the condition.
					{ _id: ticket._id, status: { $in: OPEN_STATUSES }, [`messages.${MAX_MESSAGES_PER_TICKET - 1}`]: { $exists: false } },
					{ $push: { messages: message, outbox: { $each: [event] } }, $set: { updatedAt: now } },
				);
				if (added === 0) {
					const now = await this.existingTicket(ticket._id);
					refuse(replyRefusal(now));
					throw this.threadFullError();
				}
				void this.relayOutbox();
				// The ticket with its thread (the contract's answer), the new message last.
				return publicTicket(await this.existingTicket(ticket._id));
			},
		},

		update: {
			roles: ["agent", "admin"],
			params: SUPPORT["tickets.update"],
			async handler(ctx: ShopContext<UpdateParams>) {
				const { id, status, priority, assigneeId } = ctx.params;
				let ticket = await this.existingTicket(id);
				if (status === undefined && priority === undefined && assigneeId === undefined) return publicTicket(ticket);
				if (assigneeId) await this.checkAssignee(ctx, assigneeId);

				for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
					if (status !== undefined) refuse(statusChangeRefusal(ticket, status));
					const now = new Date().toISOString();
					const $set: Record<string, unknown> = { updatedAt: now };
					if (priority !== undefined) $set.priority = priority;
					if (assigneeId !== undefined) $set.assigneeId = assigneeId;
					const statusChanges = status !== undefined && status !== ticket.status;
					const update: Record<string, unknown> = { $set };
					if (statusChanges) {
						$set.status = status;
						update.$push = { outbox: { $each: [this.domainEvent("ticket.status_changed", { ticketId: id, userId: ticket.userId, status }, ctx)] } };
					}
					// Compare-and-set on the status the rules were checked against.
					if ((await this.tickets.updateWhere({ _id: id, status: ticket.status }, update)) > 0) {
						if (statusChanges) void this.relayOutbox();
						return publicTicket(await this.existingTicket(id));
					}
					ticket = await this.existingTicket(id);
				}
				throw conflict("The ticket kept changing while it was being updated; try again.", "CONCURRENT_UPDATE");
			},
		},

		approveReturn: {
			roles: ["agent", "admin"],
			params: SUPPORT["tickets.approveReturn"],
			handler(ctx: ShopContext<{ id: string; reason?: string }>) {
				return this.decideReturn(ctx, "approved");
			},
		},

		rejectReturn: {
			roles: ["agent", "admin"],
			params: SUPPORT["tickets.rejectReturn"],
			handler(ctx: ShopContext<{ id: string; reason: string }>) {
				return this.decideReturn(ctx, "rejected");
			},
		},
	},

	methods: {
		threadFullError() {
			return invalidField("message", `This ticket holds its maximum of ${MAX_MESSAGES_PER_TICKET} messages; open a new ticket to go on.`, "threadFull");
		},

		/** The ticket if the caller may see it; 404 alike for missing and someone else's. */
		async visibleTicket(ctx: ShopContext<unknown>, id: string): Promise<TicketRecord> {
			const ticket = await this.tickets.findById(id);
			if (!ticket || !canSee(requireUser(ctx), ticket)) throw notFound("Ticket", id);
			return ticket;
		},

		async existingTicket(id: string): Promise<TicketRecord> {
			const ticket = await this.tickets.findById(id);
			if (!ticket) throw notFound("Ticket", id);
			return ticket;
		},

		/** The caller's own order: 404 for a missing or someone else's order, 503 when orders does not answer. */
		async callerOrder(ctx: ShopContext<unknown>, orderId: string, userId: string): Promise<OrderSummary> {
			try {
				return await ctx.call<OrderSummary, { orderId: string; userId: string }>("orders.summaryForUser", { orderId, userId }, { timeout: ORDER_CHECK_TIMEOUT_MS });
			} catch (err) {
				// 404 (missing or not the caller's) or any other refusal of this id: not an order the caller can use.
				if (refusedByService(err)) throw notFound("Order", orderId);
				this.logger.warn(`Could not check order ${orderId}: ${(err as Error).message}`);
				throw unavailable("The order could not be checked right now; try again later.");
			}
		},

		/**
		 * Insert a return ticket if its items are still returnable. Two returns of one order
		 * created at the same time could each count before the other is stored; both then try
		 * to take the same `returnSlot` (unique), and the one that loses counts again.
		 */
		async insertReturn(ticket: TicketRecord, order: OrderSummary): Promise<TicketRecord> {
			for (let attempt = 0; attempt < RETURN_SLOT_ATTEMPTS; attempt++) {
				// Count first, then read: a return stored in between is either in what we read or holds our slot.
				const before = await this.tickets.count({ orderId: order.id, type: "return" });
				const claiming = await this.tickets.find({ query: { orderId: order.id, type: "return", "return.status": { $in: CLAIMING_RETURN_STATUSES } } });
				const problems = returnItemProblems(order.items, claimedQuantities(claiming), ticket.items);
				if (problems.length) throw validationError(problems);
				try {
					return await this.tickets.insert({ ...ticket, returnSlot: returnSlot(order.id, before) });
				} catch (err) {
					if (!(err instanceof DuplicateKeyError)) throw err;
				}
			}
			throw conflict("Another return of this order is being opened right now; try again.", "RETURN_BUSY");
		},

		/** The ticket with `customer` and `order` from their services, each marked unavailable when it cannot be had. */
		async withDetails(ctx: ShopContext<unknown>, ticket: TicketRecord, pageSize?: number, before?: string) {
			const customer = async (): Promise<CustomerDetails> => {
				try {
					const u = await ctx.call<UserSummary | null, { id: string }>("users.summary", { id: ticket.userId }, { timeout: DETAILS_TIMEOUT_MS });
					// null: the account was deleted since.
					return u ? { id: u.id, name: u.name, email: u.email } : { id: ticket.userId, name: null, email: null };
				} catch (err) {
					this.logger.warn(`Ticket ${ticket._id}: customer details unavailable: ${(err as Error).message}`);
					return { id: ticket.userId, unavailable: true };
				}
			};
			const order = async (orderId: string): Promise<OrderDetails> => {
				try {
					const o = await ctx.call<OrderSummary, { orderId: string }>("orders.summaryForUser", { orderId }, { timeout: DETAILS_TIMEOUT_MS });
					return { id: o.id, status: o.status, total: o.total, currency: o.currency, createdAt: o.createdAt };
				} catch (err) {
					this.logger.warn(`Ticket ${ticket._id}: order details unavailable: ${(err as Error).message}`);
					return { id: orderId, unavailable: true };
				}
			};
			const [c, o] = await Promise.all([customer(), ticket.orderId ? order(ticket.orderId) : Promise.resolve(null)]);
			return { ...publicTicket(ticket, pageSize, before), customer: c, order: o };
		},

		/** The assignee must be an existing agent or admin (422 on `assigneeId` otherwise). */
		async checkAssignee(ctx: ShopContext<unknown>, assigneeId: string): Promise<void> {
			let assignee: { roles: Role[] } | null;
			try {
				assignee = await ctx.call<{ roles: Role[] } | null, { id: string }>("users.summary", { id: assigneeId }, { timeout: ORDER_CHECK_TIMEOUT_MS });
			} catch (err) {
				this.logger.warn(`Could not check assignee ${assigneeId}: ${(err as Error).message}`);
				throw unavailable("The assignee could not be checked right now; try again later.");
			}
			if (!assignee) throw invalidField("assigneeId", "There is no user with this id.", "notFound");
			if (!isStaff({ id: assigneeId, roles: assignee.roles })) throw invalidField("assigneeId", "The assignee must be an agent or admin.", "notStaff");
		},

		/**
		 * Approve or reject a requested return, once: the update only matches while the return is
		 * still `requested`, and carries the decision's event in the same write. Of two concurrent
		 * approvals one writes (and one refund follows), the other gets 409.
		 */
		async decideReturn(ctx: ShopContext<{ id: string; reason?: string }>, decision: "approved" | "rejected"): Promise<PublicTicket> {
			const user = requireUser(ctx);
			const ticket = await this.existingTicket(ctx.params.id);
			const ret = ticket.return;
			const orderId = ticket.orderId;
			if (ticket.type !== "return" || !ret || !orderId) throw conflict("This ticket is not a return.", "NOT_A_RETURN");
			// Whether it is still undecided is left to the conditional write below: it alone decides.
			const reason = ctx.params.reason ?? null;
			const event =
				decision === "approved"
					? this.domainEvent("return.approved", { ticketId: ticket._id, returnId: ret.id, userId: ticket.userId, orderId, items: ticket.items }, ctx)
					: this.domainEvent("return.rejected", { ticketId: ticket._id, userId: ticket.userId, orderId, reason: reason ?? "" }, ctx);
			const now = new Date().toISOString();
			const decided = await this.tickets.updateWhere(
				{ _id: ticket._id, "return.status": "requested" },
				{
					$set: { "return.status": decision, "return.reason": reason, "return.decidedBy": user.id, "return.decidedAt": now, updatedAt: now },
					$push: { outbox: { $each: [event] } },
				},
			);
			if (decided === 0) {
				const latest = await this.existingTicket(ticket._id);
				refuse(returnDecisionRefusal(latest), { status: latest.return?.status });
				throw conflict("The return is being decided right now; try again.", "RETURN_ALREADY_DECIDED", { status: latest.return?.status });
			}
			void this.relayOutbox();
			return publicTicket(await this.existingTicket(ticket._id));
		},
	},

	started() {
		this.tickets = this.collection<TicketRecord>("tickets");
	},
});

export default TicketsService;
