/**
 * Emails: which events send one, what each says in the recipient's language (notification-texts.ts
 * for the event's title and sentence, email-texts.ts for the rest), as a content model that
 * lib/notify/templates.ts renders to HTML and plain text. Pure: no clock, no I/O.
 *
 * Every value that comes from a person (a name, a product name, a ticket subject, a rejection
 * reason) stays a plain string here; the templates escape it.
 */
import type { AnyEnvelope, EventType, OrderCharges, ParcelTracking } from "../contracts/events.js";
import type { OrderSummary } from "../contracts/calls.js";
import { derivedId } from "../contracts/ids.js";
import { NOTIFICATION_TEXTS, languageOf, type Language } from "./notification-texts.js";
import { EMAIL_TEXTS } from "./email-texts.js";
import { NOTIFYING_EVENTS, formatMoney, notificationFor, recipientOf, shortRef } from "./notifications.js";

/** The events that send an email: every notifying event, and the order's placement. */
export const EMAIL_EVENTS = [...NOTIFYING_EVENTS, "order.placed"] as const satisfies readonly EventType[];
export type EmailEvent = (typeof EMAIL_EVENTS)[number];

/** The events whose email lists what was ordered (the notifications service fetches the order for them). */
export const ORDER_DETAIL_EVENTS: readonly EventType[] = ["order.placed", "order.paid"];

/** Sent whatever `preferences.notifications.email` says, without an unsubscribe link. */
export type AccountEmailKind = "verification" | "password_reset";
export type EmailKind = AccountEmailKind | EmailEvent;

export interface EmailLine {
	name: string;
	options: string | null;
	quantity: number;
	unitPrice: string;
	lineTotal: string;
}
export interface EmailTotal {
	label: string;
	amount: string;
	strong: boolean;
}

/** A parcel on its way: `url` is null when there is none or it is not an http(s) URL (it becomes a link). */
export interface EmailParcel {
	carrier: string;
	trackingNumber: string;
	url: string | null;
}
export interface EmailParcels {
	heading: string;
	columns: { carrier: string; trackingNumber: string };
	trackLabel: string;
	rows: EmailParcel[];
}

/** One email, before rendering: every string is the final text, not yet escaped. */
export interface EmailContent {
	language: Language;
	subject: string;
	heading: string;
	greeting: string;
	paragraphs: string[];
	action: { label: string; url: string } | null;
	linkFallback: string;
	order: { date: string | null; columns: { item: string; quantity: string; price: string; total: string }; lines: EmailLine[]; totals: EmailTotal[] } | null;
	/** The parcels with tracking, on the shipped emails (the whole order's, or the one parcel's). */
	parcels: EmailParcels | null;
	footer: { shopName: string; why: string; unsubscribeLabel: string; unsubscribeUrl: string | null };
}

export interface ShopIdentity {
	shopName: string;
	/** The shop's public origin, no trailing slash. */
	publicUrl: string;
}

export interface Recipient {
	name: string;
	language: string;
}

export function isEmailEvent(type: string): type is EmailEvent {
	return (EMAIL_EVENTS as readonly string[]).includes(type);
}

/** Whom an event's email goes to, or null (the same rules as notifications: no mail about one's own reply). */
export function emailRecipientOf(event: AnyEnvelope): string | null {
	if (!isEmailEvent(event.type)) return null;
	if (event.type === "order.placed") return event.payload.userId;
	return recipientOf(event);
}

/** One email per source (event or request) and recipient: its record id. */
export function emailId(sourceId: string, userId: string): string {
	return derivedId("email", sourceId, userId);
}

/** The Message-ID header: the same for every attempt of one email, so a receiver can tell a repeat. */
export function messageIdOf(id: string, publicUrl: string): string {
	let host = "shop.invalid";
	try {
		host = new URL(publicUrl).hostname || host;
	} catch {
		/* keep the fallback */
	}
	return `<${id}@${host}>`;
}

/**
 * After `attempts` failed attempts, how long to wait before the next one (ms), or null: give up
 * (dead-letter). `schedule` is EMAIL_RETRY_SCHEDULE, seconds.
 */
export function retryDelayMs(attempts: number, schedule: readonly number[]): number | null {
	const s = schedule[attempts - 1];
	return s === undefined ? null : s * 1000;
}

/** The one-click unsubscribe URL of RFC 8058 (POST) and the page a person opens from the footer. */
export function unsubscribeLinks(publicUrl: string, token: string): { oneClick: string; page: string } {
	const q = `token=${encodeURIComponent(token)}`;
	return { oneClick: `${publicUrl}/api/v1/email/unsubscribe?${q}`, page: `${publicUrl}/unsubscribe?${q}` };
}

/** The headers of an email that may be unsubscribed from (RFC 2369, RFC 8058). */
export function unsubscribeHeaders(oneClickUrl: string): Record<string, string> {
	return { "List-Unsubscribe": `<${oneClickUrl}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
function dateIn(iso: string, locale: string): string | null {
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return null;
	let format = dateFormats.get(locale);
	if (!format) {
		format = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" });
		if (dateFormats.size >= 100) dateFormats.clear();
		dateFormats.set(locale, format);
	}
	return format.format(d);
}

/** Verification or password reset: always sent, no unsubscribe link. */
export function accountEmail(kind: AccountEmailKind, recipient: Recipient, actionUrl: string, shop: ShopIdentity): EmailContent {
	const language = languageOf(recipient.language);
	const t = EMAIL_TEXTS[language];
	const verify = kind === "verification";
	const subject = verify ? t.verifySubject(shop.shopName) : t.resetSubject(shop.shopName);
	return {
		language,
		subject,
		heading: subject,
		greeting: t.greeting(recipient.name),
		paragraphs: verify ? [t.verifyBody, t.verifyExpiry] : [t.resetBody, t.resetExpiry, t.resetIgnore],
		action: { label: verify ? t.verifyAction : t.resetAction, url: actionUrl },
		linkFallback: t.linkFallback,
		order: null,
		parcels: null,
		footer: { shopName: shop.shopName, why: t.footerWhy(shop.shopName), unsubscribeLabel: t.unsubscribe, unsubscribeUrl: null },
	};
}

/**
 * The email an event sends to its recipient, or null when it sends none. `order` (for
 * ORDER_DETAIL_EVENTS) lists the lines; `unsubscribePage` is the footer's link.
 */
export function eventEmail(
	event: AnyEnvelope,
	recipient: Recipient,
	order: OrderSummary | null,
	shop: ShopIdentity,
	unsubscribePage: string,
): EmailContent | null {
	if (emailRecipientOf(event) === null) return null;
	const language = languageOf(recipient.language);
	const t = EMAIL_TEXTS[language];
	const locale = NOTIFICATION_TEXTS[language].locale;
	let title: string;
	let body: string;
	let link: { label: string; url: string };
	if (event.type === "order.placed") {
		title = t.placedTitle;
		body = t.placedBody(shortRef(event.payload.orderId));
		link = { label: t.orderAction, url: `${shop.publicUrl}/orders/${encodeURIComponent(event.payload.orderId)}` };
	} else {
		const draft = notificationFor(event, language)!;
		title = draft.title;
		body = draft.body;
		// The notification's sentence lists the tracking inline; the email shows it as a table instead.
		const n = NOTIFICATION_TEXTS[language];
		if (event.type === "order.shipped") body = n.shippedBody(shortRef(event.payload.orderId), []);
		if (event.type === "order.fulfilment-created") body = n.partlyShippedBody(shortRef(event.payload.orderId), []);
		const path = draft.ref.kind === "order" ? "orders" : "support";
		link = { label: draft.ref.kind === "order" ? t.orderAction : t.ticketAction, url: `${shop.publicUrl}/${path}/${encodeURIComponent(draft.ref.id)}` };
	}
	const details =
		(event.type === "order.placed" || event.type === "order.paid") && order
			? orderDetails(order, event.payload.charges, event.payload.total, event.payload.currency, locale, language)
			: null;
	return {
		language,
		subject: `${title} · ${shop.shopName}`,
		heading: title,
		greeting: t.greeting(recipient.name),
		paragraphs: [body],
		action: link,
		linkFallback: t.linkFallback,
		order: details,
		parcels: parcelsOf(event, language),
		footer: { shopName: shop.shopName, why: t.footerWhy(shop.shopName), unsubscribeLabel: t.unsubscribe, unsubscribeUrl: unsubscribePage },
	};
}

/** The tracked parcels an event tells of (`order.shipped`: all of them; `order.fulfilment-created`: its own), or null when none. */
export function parcelsOf(event: AnyEnvelope, language: Language): EmailParcels | null {
	let tracking: readonly ParcelTracking[];
	if (event.type === "order.shipped") tracking = event.payload.tracking ?? [];
	else if (event.type === "order.fulfilment-created") tracking = [event.payload];
	else return null;
	const t = EMAIL_TEXTS[language];
	const rows = tracking.flatMap(p =>
		p.trackingNumber
			? [
					{
						carrier: t.carrierName(p.carrier),
						trackingNumber: p.trackingNumber,
						url: p.trackingUrl && /^https?:\/\//i.test(p.trackingUrl) ? p.trackingUrl : null,
					},
				]
			: [],
	);
	return rows.length ? { heading: t.parcelsHeading(rows.length), columns: t.parcelColumns, trackLabel: t.trackAction, rows } : null;
}

/** The order's lines and totals as the recipient reads them: discount, shipping, tax (included or added), total. */
export function orderDetails(
	order: OrderSummary,
	charges: OrderCharges | undefined,
	total: number,
	currency: string,
	locale: string,
	language: Language,
): NonNullable<EmailContent["order"]> {
	const t = EMAIL_TEXTS[language];
	const money = (amount: number) => formatMoney(amount, currency, locale);
	const lines = order.items.map(i => ({
		name: i.name,
		options: i.options
			? Object.entries(i.options)
					.map(([k, v]) => `${k}: ${v}`)
					.join(", ")
			: null,
		quantity: i.quantity,
		unitPrice: money(i.unitPrice),
		lineTotal: money(i.unitPrice * i.quantity),
	}));
	const totals: EmailTotal[] = [];
	const row = (label: string, amount: number, strong = false) => totals.push({ label, amount: money(amount), strong });
	if (charges) {
		row(t.subtotal, charges.subtotal);
		if (charges.discountTotal > 0) row(t.discount(charges.promotion?.code ?? null), -charges.discountTotal);
		if (charges.shippingMethod || charges.shippingTotal > 0) row(t.shipping(charges.shippingMethod?.name ?? null), charges.shippingTotal);
		const taxIncluded = total === charges.subtotal - charges.discountTotal + charges.shippingTotal;
		if (charges.taxTotal > 0) row(taxIncluded ? t.taxIncluded : t.tax, charges.taxTotal);
	}
	row(t.total, total, true);
	const date = dateIn(order.createdAt, locale);
	return { date: date === null ? null : t.orderedOn(date), columns: t.columns, lines, totals };
}
