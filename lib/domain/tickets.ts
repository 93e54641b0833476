/**
 * Support tickets: what a ticket is, what leaves the service, and the rules the tickets
 * service applies (which inputs go together, which status changes are allowed, and which
 * items of an order can still be returned). Pure: the service loads and stores.
 */
import { isStaff, type AuthUser } from "../auth/access.js";
import type { FieldProblem } from "../errors.js";
import type { EventEnvelope, ItemQuantity } from "../contracts/events.js";
import type { Static } from "typebox";
import type { Ticket, TicketMessage as TicketMessageSchema } from "../http/schemas.js";
import { itemIdOf } from "./variants.js";

import { MAX_MESSAGES_PER_TICKET, MESSAGE_PAGE_SIZE, PRIORITIES, TICKET_STATUSES, TICKET_TYPES } from "../contracts/http/support.js";
export { MAX_MESSAGES_PER_TICKET, MESSAGE_PAGE_SIZE, PRIORITIES, TICKET_STATUSES, TICKET_TYPES };
export type TicketType = (typeof TICKET_TYPES)[number];
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export type Priority = (typeof PRIORITIES)[number];

export const RETURN_STATUSES = ["requested", "approved", "rejected"] as const;
export type ReturnStatus = (typeof RETURN_STATUSES)[number];

/** Return statuses whose items count as (about to be) returned. */
export const CLAIMING_RETURN_STATUSES: ReturnStatus[] = ["requested", "approved"];

export type AuthorRole = "customer" | "agent" | "admin";

export type TicketMessage = Static<typeof TicketMessageSchema>;

export interface ReturnRecord {
	/** The `returnId` of `return.approved`: fixed when the return is requested, so a re-sent event carries the same one. */
	id: string;
	status: ReturnStatus;
	reason: string | null;
	decidedBy: string | null;
	decidedAt: string | null;
}

export interface TicketRecord {
	_id: string;
	userId: string;
	type: TicketType;
	subject: string;
	status: TicketStatus;
	priority: Priority;
	assigneeId: string | null;
	orderId: string | null;
	items: ItemQuantity[];
	rating: number | null;
	messages: TicketMessage[];
	return: ReturnRecord | null;
	/**
	 * Return tickets only: `<orderId>#<n>` where n is how many return tickets the order had
	 * before this one. A unique index on it makes two concurrent returns of one order collide,
	 * so the loser re-counts what is still returnable (see tickets.service `create`).
	 */
	returnSlot?: string;
	outbox?: EventEnvelope[];
	createdAt: string;
	updatedAt: string;
}

/**
 * A ticket as it leaves the service: `id` for `_id`, the return's decision only, no bookkeeping,
 * and a bounded part of its thread: `messages` is one page of it (oldest first within the page;
 * the newest page unless `before` says otherwise), `messagesTotal` the thread's length, and
 * `olderMessages` the cursor that pages back (`GET /tickets/:id?before=<cursor>`), null when
 * nothing is older.
 */
export type PublicTicket = Static<typeof Ticket>;

interface MessagePage {
	rows: TicketMessage[];
	total: number;
	/** Pass as `before` for the page before this one; null at the start of the thread. */
	olderMessages: string | null;
}

function publicMessage(m: TicketMessage): TicketMessage {
	return { id: m.id, authorId: m.authorId, authorRole: m.authorRole, body: m.body, at: m.at };
}

/**
 * The `limit` messages just before the one with id `before` (the newest ones without it), oldest
 * first. Null when `before` names no message of the thread.
 */
export function messagePage(messages: readonly TicketMessage[], before: string | undefined, limit: number): MessagePage | null {
	const end = before === undefined ? messages.length : messages.findIndex(m => m.id === before);
	if (end < 0) return null;
	const start = Math.max(0, end - limit);
	return { rows: messages.slice(start, end).map(publicMessage), total: messages.length, olderMessages: start > 0 ? messages[start]!.id : null };
}

/**
 * A ticket with a page of `pageSize` messages ending before the message `before` (the newest
 * page without it): GET /tickets/:id; lists show the last message alone. Null when `before`
 * names no message of the thread.
 */
export function publicTicket(t: TicketRecord, pageSize: number = MESSAGE_PAGE_SIZE, before?: string): PublicTicket {
	const page = messagePage(t.messages, before, pageSize) ?? messagePage(t.messages, undefined, pageSize)!;
	return {
		id: t._id,
		userId: t.userId,
		type: t.type,
		subject: t.subject,
		status: t.status,
		priority: t.priority,
		assigneeId: t.assigneeId,
		orderId: t.orderId,
		items: t.items.map(i => ({ itemId: itemIdOf(i), productId: i.productId, variantId: i.variantId ?? null, quantity: i.quantity })),
		rating: t.rating,
		messages: page.rows,
		messagesTotal: page.total,
		olderMessages: page.olderMessages,
		return: t.return ? { status: t.return.status, reason: t.return.reason } : null,
		createdAt: t.createdAt,
		updatedAt: t.updatedAt,
	};
}

// ---------------------------------------------------------------------------------------------
// Who may see a ticket, and as whom they write in it

/** Owners and staff see a ticket; everyone else must not learn that it exists. */
export function canSee(user: AuthUser, ticket: Pick<TicketRecord, "userId">): boolean {
	return ticket.userId === user.id || isStaff(user);
}

/** The owner writes as the customer, even when they are staff themselves; others as their highest role. */
export function authorRoleOf(user: AuthUser, ticket: Pick<TicketRecord, "userId">): AuthorRole {
	if (ticket.userId === user.id) return "customer";
	if (user.roles.includes("admin")) return "admin";
	if (user.roles.includes("agent")) return "agent";
	return "customer";
}

// ---------------------------------------------------------------------------------------------
// Creating a ticket: which fields go with which type

export interface NewTicketInput {
	type: TicketType;
	orderId?: string;
	items?: ReturnRequestItem[];
	rating?: number;
}

/** An item a customer returns: named by the order line's `itemId`, or by `productId` (and `variantId` for a variant). */
export interface ReturnRequestItem {
	itemId?: string;
	productId?: string;
	variantId?: string;
	quantity: number;
}
const requestKey = (i: ReturnRequestItem): string => i.itemId ?? i.variantId ?? i.productId ?? "";

export function newTicketProblems(input: NewTicketInput): FieldProblem[] {
	const problems: FieldProblem[] = [];
	if (input.type === "return") {
		if (input.orderId === undefined) problems.push({ field: "orderId", message: "A return needs the 'orderId' of a delivered order.", type: "required" });
		if (input.items === undefined)
			problems.push({ field: "items", message: "A return needs the 'items' to return: [{ productId, quantity }].", type: "required" });
	} else if (input.items !== undefined) {
		problems.push({ field: "items", message: "'items' is only allowed on return tickets.", type: "forbidden" });
	}
	if (input.type === "feedback") {
		if (input.rating === undefined) problems.push({ field: "rating", message: "Feedback needs a 'rating' from 1 to 5.", type: "required" });
	} else if (input.rating !== undefined) {
		problems.push({ field: "rating", message: "'rating' is only allowed on feedback tickets.", type: "forbidden" });
	}
	(input.items ?? []).forEach((item, i) => {
		if (item.itemId === undefined && item.productId === undefined) {
			problems.push({ field: `items[${i}].itemId`, message: "Name the item: its itemId, or its productId (and variantId).", type: "itemNeeded" });
		} else if (input.items!.findIndex(other => requestKey(other) === requestKey(item)) !== i) {
			problems.push({
				field: `items[${i}].${item.itemId !== undefined ? "itemId" : "productId"}`,
				message: "Each item may appear once; give its total quantity.",
				type: "duplicate",
			});
		}
	});
	return problems;
}

// ---------------------------------------------------------------------------------------------
// Status

export type Refusal = { ok: true } | { ok: false; reason: string; type: string };
const OK: Refusal = { ok: true };

/**
 * Staff move a ticket between statuses freely, except: `closed` is final, and a return
 * ticket cannot be resolved or closed while its return still waits for a decision
 * (its items would stay counted as being returned forever).
 */
export function statusChangeRefusal(ticket: Pick<TicketRecord, "status" | "return">, to: TicketStatus): Refusal {
	if (ticket.status === to) return OK;
	if (ticket.status === "closed") return { ok: false, reason: "A closed ticket cannot change status.", type: "TICKET_CLOSED" };
	if ((to === "resolved" || to === "closed") && ticket.return?.status === "requested") {
		return { ok: false, reason: "Approve or reject the return before resolving or closing this ticket.", type: "RETURN_UNDECIDED" };
	}
	return OK;
}

export function replyRefusal(ticket: Pick<TicketRecord, "status">): Refusal {
	return ticket.status === "closed" ? { ok: false, reason: "A closed ticket takes no more messages.", type: "TICKET_CLOSED" } : OK;
}

/** A thread holds at most MAX_MESSAGES_PER_TICKET messages, so a ticket (one stored document) stays bounded. */
export function threadFull(ticket: Pick<TicketRecord, "messages">): boolean {
	return ticket.messages.length >= MAX_MESSAGES_PER_TICKET;
}

/** Approving or rejecting: only a return that is still requested (the compare-and-set condition). */
export function returnDecisionRefusal(ticket: Pick<TicketRecord, "type" | "return">): Refusal {
	if (ticket.type !== "return" || !ticket.return) return { ok: false, reason: "This ticket is not a return.", type: "NOT_A_RETURN" };
	if (ticket.return.status !== "requested") return { ok: false, reason: `The return was already ${ticket.return.status}.`, type: "RETURN_ALREADY_DECIDED" };
	return OK;
}

// ---------------------------------------------------------------------------------------------
// Returns: which items of an order can still be returned

export interface OrderLine {
	/** Absent on orders from before variants: the product's id. */
	itemId?: string;
	productId: string;
	variantId?: string | null;
	quantity: number;
}
const lineId = (l: OrderLine): string => l.itemId ?? itemIdOf(l);

/** Quantities per item claimed by returns that are requested or approved (rejected ones free theirs). */
export function claimedQuantities(returns: Pick<TicketRecord, "items" | "return">[]): Map<string, number> {
	const claimed = new Map<string, number>();
	for (const t of returns) {
		if (!t.return || !CLAIMING_RETURN_STATUSES.includes(t.return.status)) continue;
		for (const item of t.items) claimed.set(itemIdOf(item), (claimed.get(itemIdOf(item)) ?? 0) + item.quantity);
	}
	return claimed;
}

/** What can still be returned of each item of the order. */
export function returnableQuantities(orderLines: OrderLine[], claimed: Map<string, number>): Map<string, number> {
	const ordered = new Map<string, number>();
	for (const line of orderLines) ordered.set(lineId(line), (ordered.get(lineId(line)) ?? 0) + line.quantity);
	const left = new Map<string, number>();
	for (const [itemId, quantity] of ordered) left.set(itemId, Math.max(0, quantity - (claimed.get(itemId) ?? 0)));
	return left;
}

/** The order line a requested item names: by its itemId, or by its product (and variant). */
function lineOf(orderLines: OrderLine[], item: ReturnRequestItem): OrderLine | undefined {
	if (item.itemId !== undefined) return orderLines.find(l => lineId(l) === item.itemId);
	return orderLines.find(l => l.productId === item.productId && (l.variantId ?? undefined) === item.variantId);
}

/**
 * The items of a return as the events carry them (product and variant of the order's line),
 * and what is wrong with the request: each item must be a line of the order, in at most the
 * quantity still returnable.
 */
export function returnItems(
	orderLines: OrderLine[],
	claimed: Map<string, number>,
	requested: ReturnRequestItem[],
): { items: ItemQuantity[]; problems: FieldProblem[] } {
	const left = returnableQuantities(orderLines, claimed);
	const problems: FieldProblem[] = [];
	const items: ItemQuantity[] = [];
	requested.forEach((item, i) => {
		const line = lineOf(orderLines, item);
		const available = line ? left.get(lineId(line)) : undefined;
		if (!line || available === undefined) {
			problems.push({
				field: `items[${i}].${item.itemId !== undefined ? "itemId" : "productId"}`,
				message: "This item is not part of the order.",
				type: "notInOrder",
			});
		} else if (item.quantity > available) {
			problems.push({
				field: `items[${i}].quantity`,
				message:
					available === 0
						? "This item was already returned in full (or its return is pending)."
						: `Only ${available} of this item can still be returned.`,
				type: "returnQuantity",
			});
		} else {
			items.push({ productId: line.productId, ...(line.variantId ? { variantId: line.variantId } : {}), quantity: item.quantity });
		}
	});
	return { items, problems };
}

export function returnSlot(orderId: string, returnTicketsBefore: number): string {
	return `${orderId}#${returnTicketsBefore}`;
}
