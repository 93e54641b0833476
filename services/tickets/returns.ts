/**
 * Returns (RMA) of delivered orders: opening one only while its items are still returnable,
 * and an agent's decision, once. An approved return leaves as `return.approved`, which the
 * orders service refunds and the products service restocks.
 */
import type { Context } from "moleculer";
import { conflict, notFound, validationError } from "../../lib/errors.js";
import { requireUser, type ShopContext } from "../../lib/auth/access.js";
import { domainEvent, type Collection, type DomainEvent } from "../../lib/store/index.js";
import type { OrderSummary } from "../../lib/contracts/calls.js";
import {
	CLAIMING_RETURN_STATUSES,
	claimedQuantities,
	publicTicket,
	returnDecisionRefusal,
	returnItems,
	type ReturnRequestItem,
	returnSlot,
	type PublicTicket,
	type TicketRecord,
} from "../../lib/domain/tickets.js";
import { refuse } from "./refuse.js";

/** Concurrent returns of one order collide on their return slot; the loser re-counts this often. */
const RETURN_SLOT_ATTEMPTS = 5;

export class Returns {
	constructor(private readonly tickets: Collection<TicketRecord>) {}

	/**
	 * Insert a return ticket if its items are still returnable. Two returns of one order
	 * created at the same time could each count before the other is stored; both then try
	 * to take the same `returnSlot` (unique), and the one that loses counts again.
	 */
	async open(
		ticket: TicketRecord,
		events: readonly DomainEvent[],
		order: OrderSummary,
		requested: ReturnRequestItem[],
		cause: Context | null,
	): Promise<TicketRecord> {
		return this.tickets.insertDecided(
			async () => {
				// Count first, then read: a return stored in between is either in what we read or holds our slot.
				const before = await this.tickets.count({ orderId: order.id, type: "return" });
				const claiming = await this.tickets.find({ query: { orderId: order.id, type: "return", "return.status": { $in: CLAIMING_RETURN_STATUSES } } });
				const { items, problems } = returnItems(order.items, claimedQuantities(claiming), requested);
				if (problems.length) throw validationError(problems);
				return { doc: { ...ticket, items, returnSlot: returnSlot(order.id, before) }, events };
			},
			{
				attempts: RETURN_SLOT_ATTEMPTS,
				cause,
				contended: () => conflict("Another return of this order is being opened right now; try again.", "RETURN_BUSY"),
			},
		);
	}

	/**
	 * Approve or reject a requested return, once: the update only matches while the return is
	 * still `requested`, and carries the decision's event in the same write. Of two concurrent
	 * approvals one writes (and one refund follows), the other gets 409.
	 */
	async decide(ctx: Context & ShopContext<{ id: string; reason?: string }>, decision: "approved" | "rejected"): Promise<PublicTicket> {
		const user = requireUser(ctx);
		const ticket = await this.tickets.findById(ctx.params.id);
		if (!ticket) throw notFound("Ticket", ctx.params.id);
		const ret = ticket.return;
		const orderId = ticket.orderId;
		if (ticket.type !== "return" || !ret || !orderId) throw conflict("This ticket is not a return.", "NOT_A_RETURN");
		// Whether it is still undecided is left to the conditional write below: it alone decides.
		const reason = ctx.params.reason ?? null;
		const event =
			decision === "approved"
				? domainEvent("return.approved", { ticketId: ticket._id, returnId: ret.id, userId: ticket.userId, orderId, items: ticket.items })
				: domainEvent("return.rejected", { ticketId: ticket._id, userId: ticket.userId, orderId, reason: reason ?? "" });
		const now = new Date().toISOString();
		const decided = await this.tickets.changeWithEvents(
			{ _id: ticket._id, "return.status": "requested" },
			{ $set: { "return.status": decision, "return.reason": reason, "return.decidedBy": user.id, "return.decidedAt": now, updatedAt: now } },
			[event],
			ctx,
		);
		const latest = (await this.tickets.findById(ticket._id))!;
		if (decided === 0) {
			refuse(returnDecisionRefusal(latest), { status: latest.return?.status });
			throw conflict("The return is being decided right now; try again.", "RETURN_ALREADY_DECIDED", { status: latest.return?.status });
		}
		return publicTicket(latest);
	}
}
