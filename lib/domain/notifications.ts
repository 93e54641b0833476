/**
 * Notifications: which domain events make a notification, for whom, and what it says in the
 * recipient's language (the texts: notification-texts.ts). Pure: the notifications service stores and delivers what `notificationFor` returns.
 */
import type { AnyEnvelope, EventType, ParcelTracking } from "../contracts/events.js";
import { derivedId } from "../contracts/ids.js";
import { NOTIFICATION_TEXTS, languageOf } from "./notification-texts.js";
import type { Static } from "typebox";
import type { Notification } from "../http/schemas.js";

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

export type PublicNotification = Static<typeof Notification>;

/** The events the notifications service consumes. */
export const NOTIFYING_EVENTS = [
	"order.paid",
	"order.cancelled",
	"order.shipped",
	"order.fulfilment-created",
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

/** Money in minor units, as a reader of `locale` reads it: 1999 EUR → "€19.99" (en), "19,99 €" (es). */
export function formatMoney(amount: number, currency: string, locale = "en"): string {
	try {
		const format = new Intl.NumberFormat(locale, { style: "currency", currency });
		const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
		return format.format(amount / 10 ** digits);
	} catch {
		// Not a currency Intl knows: still say something true.
		return `${amount} ${currency} (minor units)`;
	}
}

/** "DHL JD0001: https://…" per parcel with a tracking number. */
export function trackingLines(parcels: readonly ParcelTracking[]): string[] {
	return parcels
		.filter(p => p.trackingNumber)
		.map(p => `${(p.carrier ?? "").toUpperCase()} ${p.trackingNumber}${p.trackingUrl ? `: ${p.trackingUrl}` : ""}`.trim());
}

/** Ids are long; people recognise an order or ticket by the first characters. */
export function shortRef(id: string): string {
	return id.slice(0, 8);
}

/**
 * Whom an event notifies, or null when it notifies no one (the service asks for that user's
 * preferences, language included, before it writes the text).
 */
export function recipientOf(event: AnyEnvelope): string | null {
	if (!(NOTIFYING_EVENTS as readonly string[]).includes(event.type)) return null;
	const p = event.payload as { userId?: string; authorId?: string };
	// The owner hears about answers from the shop, not about their own messages.
	if (event.type === "ticket.replied" && p.authorId === p.userId) return null;
	// The last parcel is told by `order.shipped`, with every parcel's tracking.
	if (event.type === "order.fulfilment-created" && event.payload.orderStatus === "shipped") return null;
	return p.userId ?? null;
}

/** The notification an event makes, in the recipient's language (`preferences.language`), or null when it makes none. */
export function notificationFor(event: AnyEnvelope, language?: string): NotificationDraft | null {
	if (recipientOf(event) === null) return null;
	const t = NOTIFICATION_TEXTS[languageOf(language)];
	const money = (amount: number, currency: string) => formatMoney(amount, currency, t.locale);
	switch (event.type) {
		case "order.paid": {
			const p = event.payload;
			return order(event.type, p.userId, p.orderId, t.paidTitle, t.paidBody(money(p.total, p.currency), shortRef(p.orderId)));
		}
		case "order.cancelled": {
			const p = event.payload;
			const reason = t.cancelReasons[p.reason] ?? t.unknownReason;
			return order(event.type, p.userId, p.orderId, t.cancelledTitle, t.cancelledBody(shortRef(p.orderId), reason, p.refunded));
		}
		case "order.shipped": {
			const p = event.payload;
			return order(event.type, p.userId, p.orderId, t.shippedTitle, t.shippedBody(shortRef(p.orderId), trackingLines(p.tracking ?? [])));
		}
		case "order.fulfilment-created": {
			const p = event.payload;
			return order(event.type, p.userId, p.orderId, t.partlyShippedTitle, t.partlyShippedBody(shortRef(p.orderId), trackingLines([p])));
		}
		case "order.delivered": {
			const p = event.payload;
			return order(event.type, p.userId, p.orderId, t.deliveredTitle, t.deliveredBody(shortRef(p.orderId)));
		}
		case "order.refunded": {
			const p = event.payload;
			return order(event.type, p.userId, p.orderId, t.refundedTitle, t.refundedBody(money(p.amount, p.currency), shortRef(p.orderId), p.full));
		}
		case "ticket.created": {
			const p = event.payload;
			return ticket(event.type, p.userId, p.ticketId, t.ticketCreatedTitle, t.ticketCreatedBody(p.subject, shortRef(p.ticketId)));
		}
		case "ticket.replied": {
			const p = event.payload;
			return ticket(event.type, p.userId, p.ticketId, t.repliedTitle, t.repliedBody(shortRef(p.ticketId)));
		}
		case "ticket.status_changed": {
			const p = event.payload;
			const status = (t.statusWords as Record<string, string>)[p.status] ?? p.status;
			return ticket(event.type, p.userId, p.ticketId, t.statusTitle, t.statusBody(shortRef(p.ticketId), status));
		}
		case "return.approved": {
			const p = event.payload;
			const count = p.items.reduce((n, i) => n + i.quantity, 0);
			return ticket(event.type, p.userId, p.ticketId, t.returnApprovedTitle, t.returnApprovedBody(count, shortRef(p.orderId)));
		}
		case "return.rejected": {
			const p = event.payload;
			return ticket(event.type, p.userId, p.ticketId, t.returnRejectedTitle, t.returnRejectedBody(shortRef(p.orderId), p.reason));
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
