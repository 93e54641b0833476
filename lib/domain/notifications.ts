/**
 * Notifications: which domain events make a notification, for whom, and what it says.
 * Pure: the notifications service stores and delivers what `notificationFor` returns.
 */
import type { AnyEnvelope, CancelReason, EventType } from "../contracts/events.js";
import { derivedId } from "../contracts/ids.js";

export type RefKind = "order" | "ticket";

export interface NotificationDraft {
	userId: string;
	type: EventType;
	title: string;
	body: string;
	ref: { kind: RefKind; id: string };
}

export interface NotificationRecord extends NotificationDraft {
	_id: string;
	eventId: string;
	read: boolean;
	readAt: string | null;
	createdAt: string;
}

export interface PublicNotification {
	id: string;
	type: string;
	title: string;
	body: string;
	read: boolean;
	createdAt: string;
	ref: { kind: RefKind; id: string };
}

/** The events the notifications service consumes. */
export const NOTIFYING_EVENTS = [
	"order.paid",
	"order.cancelled",
	"order.shipped",
	"order.delivered",
	"order.refunded",
	"ticket.created",
	"ticket.replied",
	"ticket.status_changed",
	"return.approved",
	"return.rejected",
] as const satisfies readonly EventType[];

export function publicNotification(n: NotificationRecord): PublicNotification {
	return { id: n._id, type: n.type, title: n.title, body: n.body, read: n.read, createdAt: n.createdAt, ref: { kind: n.ref.kind, id: n.ref.id } };
}

/**
 * The same event for the same user always gives the same id, so a redelivered event
 * (at-least-once) collides with the notification it already made instead of adding one.
 */
/** One notification per event and user, whatever the number of deliveries: its id is derived from both. */
export function notificationId(eventId: string, userId: string): string {
	return derivedId("notification", eventId, userId);
}

/** Money in minor units, as a person reads it: 1999 EUR → "€19.99". */
export function formatMoney(amount: number, currency: string): string {
	try {
		const format = new Intl.NumberFormat("en", { style: "currency", currency });
		const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
		return format.format(amount / 10 ** digits);
	} catch {
		// Not a currency Intl knows: still say something true.
		return `${amount} ${currency} (minor units)`;
	}
}

/** Ids are long; people recognise an order or ticket by the first characters. */
export function shortRef(id: string): string {
	return id.slice(0, 8);
}

const CANCEL_REASONS: Record<CancelReason, string> = {
	out_of_stock: "some items were out of stock",
	payment_declined: "the payment was declined",
	reservation_expired: "it was not paid in time",
	cancelled_by_customer: "you cancelled it",
	cancelled_by_admin: "it was cancelled by the shop",
};

const STATUS_WORDS: Record<string, string> = {
	open: "open",
	pending: "waiting for your answer",
	resolved: "resolved",
	closed: "closed",
};

/** The notification an event makes, or null when it makes none. */
export function notificationFor(event: AnyEnvelope): NotificationDraft | null {
	switch (event.type) {
		case "order.paid": {
			const p = event.payload;
			return order(
				event.type,
				p.userId,
				p.orderId,
				"Payment received",
				`We received ${formatMoney(p.total, p.currency)} for order ${shortRef(p.orderId)}. We are preparing it.`,
			);
		}
		case "order.cancelled": {
			const p = event.payload;
			const refund = p.refunded ? " Your payment is being refunded." : "";
			return order(
				event.type,
				p.userId,
				p.orderId,
				"Order cancelled",
				`Order ${shortRef(p.orderId)} was cancelled because ${CANCEL_REASONS[p.reason] ?? "of a problem"}.${refund}`,
			);
		}
		case "order.shipped": {
			const p = event.payload;
			return order(event.type, p.userId, p.orderId, "Order shipped", `Order ${shortRef(p.orderId)} is on its way.`);
		}
		case "order.delivered": {
			const p = event.payload;
			return order(event.type, p.userId, p.orderId, "Order delivered", `Order ${shortRef(p.orderId)} was delivered.`);
		}
		case "order.refunded": {
			const p = event.payload;
			const what = p.full ? "the whole order" : "part of the order";
			return order(
				event.type,
				p.userId,
				p.orderId,
				"Refund issued",
				`We refunded ${formatMoney(p.amount, p.currency)} for ${what} ${shortRef(p.orderId)}.`,
			);
		}
		case "ticket.created": {
			const p = event.payload;
			return ticket(
				event.type,
				p.userId,
				p.ticketId,
				"We received your request",
				`Your ticket "${p.subject}" (${shortRef(p.ticketId)}) is open. We will answer soon.`,
			);
		}
		case "ticket.replied": {
			const p = event.payload;
			// The owner hears about answers from the shop, not about their own messages.
			if (p.authorId === p.userId) return null;
			return ticket(event.type, p.userId, p.ticketId, "New reply to your ticket", `Support answered your ticket ${shortRef(p.ticketId)}.`);
		}
		case "ticket.status_changed": {
			const p = event.payload;
			return ticket(
				event.type,
				p.userId,
				p.ticketId,
				"Ticket updated",
				`Your ticket ${shortRef(p.ticketId)} is now ${STATUS_WORDS[p.status] ?? p.status}.`,
			);
		}
		case "return.approved": {
			const p = event.payload;
			const count = p.items.reduce((n, i) => n + i.quantity, 0);
			return ticket(
				event.type,
				p.userId,
				p.ticketId,
				"Return approved",
				`Your return of ${count} item${count === 1 ? "" : "s"} from order ${shortRef(p.orderId)} was approved. The refund follows.`,
			);
		}
		case "return.rejected": {
			const p = event.payload;
			return ticket(event.type, p.userId, p.ticketId, "Return rejected", `Your return for order ${shortRef(p.orderId)} was rejected: ${p.reason}`);
		}
		default:
			return null;
	}
}

function order(type: EventType, userId: string, orderId: string, title: string, body: string): NotificationDraft {
	return { userId, type, title, body, ref: { kind: "order", id: orderId } };
}
function ticket(type: EventType, userId: string, ticketId: string, title: string, body: string): NotificationDraft {
	return { userId, type, title, body, ref: { kind: "ticket", id: ticketId } };
}
