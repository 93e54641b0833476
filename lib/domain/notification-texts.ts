/**
 * What notifications say, by language: one message catalog per language, each a complete set
 * of the same keys (the type says so), so a text cannot be missing in one language only. The
 * recipient's `preferences.language` (a BCP 47 tag such as `es-ES`) picks the catalog by its
 * primary subtag; a language without a catalog reads English.
 */
import type { CancelReason } from "../contracts/events.js";

export const LANGUAGES = ["en", "es"] as const;
export type Language = (typeof LANGUAGES)[number];

/** `es-ES` → `es`; anything without a catalog → `en`. */
export function languageOf(tag: string | null | undefined): Language {
	const primary = (tag ?? "").split(/[-_]/)[0]!.toLowerCase();
	return (LANGUAGES as readonly string[]).includes(primary) ? (primary as Language) : "en";
}

type TicketStatus = "open" | "pending" | "resolved" | "closed";

export interface NotificationTexts {
	locale: string;
	paidTitle: string;
	paidBody(amount: string, order: string): string;
	cancelledTitle: string;
	cancelledBody(order: string, reason: string, refunded: boolean): string;
	cancelReasons: Record<CancelReason, string>;
	unknownReason: string;
	shippedTitle: string;
	/** `tracking`: one "carrier number: link" per parcel (empty when shipped without tracking). */
	shippedBody(order: string, tracking: string[]): string;
	partlyShippedTitle: string;
	partlyShippedBody(order: string, tracking: string[]): string;
	deliveredTitle: string;
	deliveredBody(order: string): string;
	refundedTitle: string;
	refundedBody(amount: string, order: string, full: boolean): string;
	ticketCreatedTitle: string;
	ticketCreatedBody(subject: string, ticket: string): string;
	repliedTitle: string;
	repliedBody(ticket: string): string;
	statusTitle: string;
	statusBody(ticket: string, status: string): string;
	statusWords: Record<TicketStatus, string>;
	returnApprovedTitle: string;
	returnApprovedBody(count: number, order: string): string;
	returnRejectedTitle: string;
	returnRejectedBody(order: string, reason: string): string;
}

const en: NotificationTexts = {
	locale: "en",
	paidTitle: "Payment received",
	paidBody: (amount, order) => `We received ${amount} for order ${order}. We are preparing it.`,
	cancelledTitle: "Order cancelled",
	cancelledBody: (order, reason, refunded) => `Order ${order} was cancelled because ${reason}.${refunded ? " Your payment is being refunded." : ""}`,
	cancelReasons: {
		out_of_stock: "some items were out of stock",
		payment_declined: "the payment was declined",
		reservation_expired: "it was not paid in time",
		payment_expired: "the payment was not confirmed in time",
		cancelled_by_customer: "you cancelled it",
		cancelled_by_admin: "it was cancelled by the shop",
	},
	unknownReason: "of a problem",
	shippedTitle: "Order shipped",
	shippedBody: (order, tracking) => `Order ${order} is on its way.${tracking.length ? ` Track it: ${tracking.join("; ")}` : ""}`,
	partlyShippedTitle: "Part of your order shipped",
	partlyShippedBody: (order, tracking) =>
		`A parcel of order ${order} is on its way; the rest follows.${tracking.length ? ` Track it: ${tracking.join("; ")}` : ""}`,
	deliveredTitle: "Order delivered",
	deliveredBody: order => `Order ${order} was delivered.`,
	refundedTitle: "Refund issued",
	refundedBody: (amount, order, full) => `We refunded ${amount} for ${full ? "the whole order" : "part of the order"} ${order}.`,
	ticketCreatedTitle: "We received your request",
	ticketCreatedBody: (subject, ticket) => `Your ticket "${subject}" (${ticket}) is open. We will answer soon.`,
	repliedTitle: "New reply to your ticket",
	repliedBody: ticket => `Support answered your ticket ${ticket}.`,
	statusTitle: "Ticket updated",
	statusBody: (ticket, status) => `Your ticket ${ticket} is now ${status}.`,
	statusWords: { open: "open", pending: "waiting for your answer", resolved: "resolved", closed: "closed" },
	returnApprovedTitle: "Return approved",
	returnApprovedBody: (count, order) => `Your return of ${count} item${count === 1 ? "" : "s"} from order ${order} was approved. The refund follows.`,
	returnRejectedTitle: "Return rejected",
	returnRejectedBody: (order, reason) => `Your return for order ${order} was rejected: ${reason}`,
};

const es: NotificationTexts = {
	locale: "es",
	paidTitle: "Pago recibido",
	paidBody: (amount, order) => `Hemos recibido ${amount} por el pedido ${order}. Lo estamos preparando.`,
	cancelledTitle: "Pedido cancelado",
	cancelledBody: (order, reason, refunded) => `El pedido ${order} se ha cancelado porque ${reason}.${refunded ? " Te estamos devolviendo el pago." : ""}`,
	cancelReasons: {
		out_of_stock: "algunos artículos estaban agotados",
		payment_declined: "el pago fue rechazado",
		reservation_expired: "no se pagó a tiempo",
		payment_expired: "el pago no se confirmó a tiempo",
		cancelled_by_customer: "lo cancelaste",
		cancelled_by_admin: "la tienda lo canceló",
	},
	unknownReason: "hubo un problema",
	shippedTitle: "Pedido enviado",
	shippedBody: (order, tracking) => `El pedido ${order} está en camino.${tracking.length ? ` Seguimiento: ${tracking.join("; ")}` : ""}`,
	partlyShippedTitle: "Parte de tu pedido enviada",
	partlyShippedBody: (order, tracking) =>
		`Un paquete del pedido ${order} está en camino; el resto llegará después.${tracking.length ? ` Seguimiento: ${tracking.join("; ")}` : ""}`,
	deliveredTitle: "Pedido entregado",
	deliveredBody: order => `El pedido ${order} ha sido entregado.`,
	refundedTitle: "Reembolso realizado",
	refundedBody: (amount, order, full) => `Te hemos reembolsado ${amount} por ${full ? "todo el pedido" : "parte del pedido"} ${order}.`,
	ticketCreatedTitle: "Hemos recibido tu solicitud",
	ticketCreatedBody: (subject, ticket) => `Tu ticket "${subject}" (${ticket}) está abierto. Te responderemos pronto.`,
	repliedTitle: "Nueva respuesta a tu ticket",
	repliedBody: ticket => `El equipo de soporte ha respondido a tu ticket ${ticket}.`,
	statusTitle: "Ticket actualizado",
	statusBody: (ticket, status) => `Tu ticket ${ticket} ahora está ${status}.`,
	statusWords: { open: "abierto", pending: "esperando tu respuesta", resolved: "resuelto", closed: "cerrado" },
	returnApprovedTitle: "Devolución aprobada",
	returnApprovedBody: (count, order) =>
		`Tu devolución de ${count} artículo${count === 1 ? "" : "s"} del pedido ${order} ha sido aprobada. El reembolso llegará a continuación.`,
	returnRejectedTitle: "Devolución rechazada",
	returnRejectedBody: (order, reason) => `Tu devolución del pedido ${order} ha sido rechazada: ${reason}`,
};

export const NOTIFICATION_TEXTS: Record<Language, NotificationTexts> = { en, es };
