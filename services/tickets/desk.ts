/**
 * The support desk: opening tickets, replying in their thread, and staff changes of status,
 * priority and assignee. Each write is one document update with its event in the ticket's outbox;
 * a reply or a change is conditional on the status the rules were checked against.
 */
import { randomUUID } from "node:crypto";
import type { Context } from "moleculer";
import { conflict, invalidField, notFound, validationError } from "../../lib/errors.js";
import { requireUser, isStaff, type ShopContext } from "../../lib/auth/access.js";
import { domainEvent, type Collection } from "../../lib/store/index.js";
import type { SUPPORT } from "../../lib/contracts/http/support.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import {
	MAX_MESSAGES_PER_TICKET,
	TICKET_STATUSES,
	authorRoleOf,
	canSee,
	newTicketProblems,
	publicTicket,
	replyRefusal,
	statusChangeRefusal,
	threadFull,
	type PublicTicket,
	type TicketMessage,
	type TicketRecord,
	type TicketStatus,
} from "../../lib/domain/tickets.js";
import { callerOrder, checkAssignee } from "./lookups.js";
import type { Returns } from "./returns.js";
import { refuse } from "./refuse.js";

type Params<A extends keyof typeof SUPPORT> = ParamsOf<(typeof SUPPORT)[A]>;
/** Statuses a ticket can take a message in. */
const OPEN_STATUSES: TicketStatus[] = TICKET_STATUSES.filter(s => s !== "closed");
const UPDATE_ATTEMPTS = 3;
type Log = { warn(msg: string): void };

const threadFullError = () =>
	invalidField("message", `This ticket holds its maximum of ${MAX_MESSAGES_PER_TICKET} messages; open a new ticket to go on.`, "threadFull");

export class SupportDesk {
	constructor(
		readonly tickets: Collection<TicketRecord>,
		private readonly returns: Returns,
		private readonly log: Log,
	) {}

	async existing(id: string): Promise<TicketRecord> {
		const ticket = await this.tickets.findById(id);
		if (!ticket) throw notFound("Ticket", id);
		return ticket;
	}

	/** The ticket if the caller may see it; 404 alike for missing and someone else's. */
	async visible(ctx: ShopContext<unknown>, id: string): Promise<TicketRecord> {
		const ticket = await this.tickets.findById(id);
		if (!ticket || !canSee(requireUser(ctx), ticket)) throw notFound("Ticket", id);
		return ticket;
	}

	async open(ctx: ShopContext<Params<"tickets.create">>): Promise<PublicTicket> {
		const user = requireUser(ctx);
		const p = ctx.params;
		const problems = newTicketProblems(p);
		if (problems.length) throw validationError(problems);
		const order = p.orderId === undefined ? null : await callerOrder(ctx, p.orderId, user.id, this.log);
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
			// A return's items are the order's lines they name (returns.ts); no other ticket has any.
			items: [],
			rating: p.rating ?? null,
			messages: [{ id: randomUUID(), authorId: user.id, authorRole: "customer", body: p.message, at: now }],
			return: p.type === "return" ? { id: randomUUID(), status: "requested", reason: null, decidedBy: null, decidedAt: null } : null,
			createdAt: now,
			updatedAt: now,
		};
		const created = [domainEvent("ticket.created", { ticketId: id, userId: user.id, type: p.type, subject: p.subject, orderId: p.orderId ?? null })];
		const saved =
			order && p.type === "return"
				? await this.returns.open(ticket, created, order, p.items ?? [], ctx)
				: await this.tickets.insertWithEvents(ticket, created, ctx);
		return publicTicket(saved);
	}

	async reply(ctx: ShopContext<Params<"tickets.reply">>): Promise<PublicTicket> {
		const user = requireUser(ctx);
		const ticket = await this.visible(ctx, ctx.params.id);
		refuse(replyRefusal(ticket));
		if (threadFull(ticket)) throw threadFullError();
		const now = new Date().toISOString();
		const message: TicketMessage = { id: randomUUID(), authorId: user.id, authorRole: authorRoleOf(user, ticket), body: ctx.params.message, at: now };
		const event = domainEvent("ticket.replied", {
			ticketId: ticket._id,
			userId: ticket.userId,
			messageId: message.id,
			authorId: user.id,
			authorRole: message.authorRole,
		});
		const added = await this.tickets.changeWithEvents(
			// Not closed in the meantime, and not full: the message count is part of the condition.
			{ _id: ticket._id, status: { $in: OPEN_STATUSES }, [`messages.${MAX_MESSAGES_PER_TICKET - 1}`]: { $exists: false } },
			{ $push: { messages: message }, $set: { updatedAt: now } },
			[event],
			ctx,
		);
		if (added === 0) {
			refuse(replyRefusal(await this.existing(ticket._id)));
			throw threadFullError();
		}
		// The ticket with its thread (the contract's answer), the new message last.
		return publicTicket(await this.existing(ticket._id));
	}

	async update(ctx: Context & ShopContext<Params<"tickets.update">>): Promise<PublicTicket> {
		const { id, status, priority, assigneeId } = ctx.params;
		const ticket = await this.existing(id);
		if (status === undefined && priority === undefined && assigneeId === undefined) return publicTicket(ticket);
		if (assigneeId) await checkAssignee(ctx, assigneeId, this.log);
		const { doc } = await this.tickets.change(
			id,
			t => {
				if (status !== undefined) refuse(statusChangeRefusal(t, status));
				const $set: Record<string, unknown> = { updatedAt: new Date().toISOString() };
				if (priority !== undefined) $set.priority = priority;
				if (assigneeId !== undefined) $set.assigneeId = assigneeId;
				const statusChanges = status !== undefined && status !== t.status;
				if (statusChanges) $set.status = status;
				// Compare-and-set on the status the rules were checked against.
				return {
					expect: { status: t.status },
					update: { $set },
					events: statusChanges ? [domainEvent("ticket.status_changed", { ticketId: id, userId: t.userId, status })] : [],
				};
			},
			{
				attempts: UPDATE_ATTEMPTS,
				cause: ctx,
				contended: () => conflict("The ticket kept changing while it was being updated; try again.", "CONCURRENT_UPDATE"),
			},
		);
		if (!doc) throw notFound("Ticket", id);
		return publicTicket(doc);
	}

	/** Own tickets; agents and admins see all. */
	listQuery(user: ReturnType<typeof requireUser>, p: Params<"tickets.list">): Record<string, unknown> {
		const query: Record<string, unknown> = isStaff(user) ? {} : { userId: user.id };
		if (p.status) query.status = p.status;
		if (p.type) query.type = p.type;
		if (p.assigneeId) query.assigneeId = p.assigneeId;
		return query;
	}
}
