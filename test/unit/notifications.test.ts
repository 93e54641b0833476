import { describe, expect, it } from "vitest";
import { formatMoney, notificationFor, notificationId, publicNotification, recipientOf, type NotificationRecord } from "../../lib/domain/notifications.js";
import { languageOf } from "../../lib/domain/notification-texts.js";
import type { AnyEnvelope, EventPayloads, EventType } from "../../lib/contracts/events.js";
import { MailboxChannel, maskAddress } from "../../lib/notify/index.js";

function envelope<T extends EventType>(type: T, payload: EventPayloads[T]): AnyEnvelope {
	return { id: "e1", type, key: "k", source: "test", occurredAt: "2024-05-01T10:00:00.000Z", requestId: null, payload } as AnyEnvelope;
}

describe("notificationFor", () => {
	it("order events notify the order's customer, with a reference to the order", () => {
		const paid = notificationFor(envelope("order.paid", { orderId: "order-123456789", userId: "u1", items: [], total: 1999, currency: "EUR" }));
		expect(paid).toMatchObject({ userId: "u1", type: "order.paid", ref: { kind: "order", id: "order-123456789" } });
		expect(paid?.body).toContain("€19.99");
		expect(paid?.body).toContain("order-12");

		for (const type of ["order.shipped", "order.delivered"] as const) {
			expect(notificationFor(envelope(type, { orderId: "o1", userId: "u1" }))).toMatchObject({ userId: "u1", type, ref: { kind: "order", id: "o1" } });
		}
		const cancelled = notificationFor(envelope("order.cancelled", { orderId: "o1", userId: "u1", items: [], reason: "payment_declined", refunded: false }));
		expect(cancelled?.body).toMatch(/payment was declined/);
		const refunded = notificationFor(
			envelope("order.refunded", { orderId: "o1", userId: "u1", refundId: "r", amount: 500, currency: "EUR", reason: "return", items: [], full: false }),
		);
		expect(refunded).toMatchObject({ title: "Refund issued", ref: { kind: "order", id: "o1" } });
		expect(refunded?.body).toContain("€5.00");
	});

	it("ticket events notify the ticket's owner, with a reference to the ticket", () => {
		expect(notificationFor(envelope("ticket.created", { ticketId: "t1", userId: "u1", type: "inquiry", subject: "Hi", orderId: null }))).toMatchObject({
			userId: "u1",
			ref: { kind: "ticket", id: "t1" },
		});
		expect(notificationFor(envelope("ticket.status_changed", { ticketId: "t1", userId: "u1", status: "resolved" }))?.body).toMatch(/resolved/);
		expect(
			notificationFor(
				envelope("return.approved", { ticketId: "t1", returnId: "r", userId: "u1", orderId: "o1", items: [{ productId: "p", quantity: 2 }] }),
			)?.body,
		).toMatch(/2 items/);
		expect(notificationFor(envelope("return.rejected", { ticketId: "t1", userId: "u1", orderId: "o1", reason: "Worn" }))?.body).toMatch(/Worn/);
	});

	it("a reply notifies the owner only when someone else wrote it", () => {
		expect(
			notificationFor(envelope("ticket.replied", { ticketId: "t1", userId: "u1", messageId: "m", authorId: "agent", authorRole: "agent" })),
		).toMatchObject({ userId: "u1" });
		expect(
			notificationFor(envelope("ticket.replied", { ticketId: "t1", userId: "u1", messageId: "m", authorId: "u1", authorRole: "customer" })),
		).toBeNull();
	});

	it("events that are not for customers make none", () => {
		expect(notificationFor(envelope("stock.reserved", { orderId: "o1", items: [] }))).toBeNull();
		expect(notificationFor(envelope("order.placed", { orderId: "o1", userId: "u1", items: [], total: 1, currency: "EUR" }))).toBeNull();
	});
});

describe("notifications in the recipient's language", () => {
	const events: AnyEnvelope[] = [
		envelope("order.paid", { orderId: "o1", userId: "u1", items: [], total: 1999, currency: "EUR" }),
		envelope("order.cancelled", { orderId: "o1", userId: "u1", items: [], reason: "out_of_stock", refunded: true }),
		envelope("order.shipped", { orderId: "o1", userId: "u1" }),
		envelope("order.delivered", { orderId: "o1", userId: "u1" }),
		envelope("order.refunded", { orderId: "o1", userId: "u1", refundId: "r", amount: 500, currency: "EUR", reason: "return", items: [], full: true }),
		envelope("ticket.created", { ticketId: "t1", userId: "u1", type: "inquiry", subject: "Hola", orderId: null }),
		envelope("ticket.replied", { ticketId: "t1", userId: "u1", messageId: "m", authorId: "agent", authorRole: "agent" }),
		envelope("ticket.status_changed", { ticketId: "t1", userId: "u1", status: "pending" }),
		envelope("return.approved", { ticketId: "t1", returnId: "r", userId: "u1", orderId: "o1", items: [{ productId: "p", quantity: 1 }] }),
		envelope("return.rejected", { ticketId: "t1", userId: "u1", orderId: "o1", reason: "Usado" }),
	];

	it("picks the catalog by the tag's primary language; a language without one reads English", () => {
		expect(languageOf("es-ES")).toBe("es");
		expect(languageOf("ES")).toBe("es");
		expect(languageOf("es_MX")).toBe("es");
		expect(languageOf("fr")).toBe("en");
		expect(languageOf(undefined)).toBe("en");
		expect(notificationFor(events[0]!, "de-AT")).toEqual(notificationFor(events[0]!, "en"));
	});

	it("says every notification in Spanish, none of it in English, for the same recipient and reference", () => {
		for (const e of events) {
			const en = notificationFor(e, "en")!;
			const es = notificationFor(e, "es")!;
			expect(es, e.type).toMatchObject({ userId: en.userId, type: en.type, ref: en.ref });
			expect(es.title, e.type).not.toBe(en.title);
			expect(es.body, e.type).not.toBe(en.body);
		}
		expect(notificationFor(events[0]!, "es")!.body).toBe("Hemos recibido 19,99\u00a0€ por el pedido o1. Lo estamos preparando.");
		expect(notificationFor(events[1]!, "es")!.body).toBe(
			"El pedido o1 se ha cancelado porque algunos artículos estaban agotados. Te estamos devolviendo el pago.",
		);
		expect(notificationFor(events[7]!, "es")!.body).toContain("esperando tu respuesta");
	});

	it("names the recipient before the text is written, and no one for the author's own reply", () => {
		expect(events.map(recipientOf)).toEqual(Array(events.length).fill("u1"));
		expect(recipientOf(envelope("ticket.replied", { ticketId: "t1", userId: "u1", messageId: "m", authorId: "u1", authorRole: "customer" }))).toBeNull();
		expect(recipientOf(envelope("order.placed", { orderId: "o1", userId: "u1", items: [], total: 1, currency: "EUR" }))).toBeNull();
	});
});

describe("notification ids", () => {
	it("are the same for the same event and user, different otherwise", () => {
		expect(notificationId("e1", "u1")).toBe(notificationId("e1", "u1"));
		expect(notificationId("e1", "u1")).not.toBe(notificationId("e2", "u1"));
		expect(notificationId("e1", "u1")).not.toBe(notificationId("e1", "u2"));
	});
	it("leave the service with id, without user or event internals", () => {
		const rec: NotificationRecord = {
			_id: "n1",
			eventId: "e1",
			userId: "u1",
			type: "order.paid",
			title: "T",
			body: "B",
			ref: { kind: "order", id: "o1" },
			read: false,
			readAt: null,
			createdAt: "2024-01-01T00:00:00.000Z",
		};
		expect(publicNotification(rec)).toEqual({
			id: "n1",
			type: "order.paid",
			title: "T",
			body: "B",
			read: false,
			createdAt: "2024-01-01T00:00:00.000Z",
			ref: { kind: "order", id: "o1" },
		});
	});
});

describe("formatMoney", () => {
	it("reads minor units by the currency's own decimals", () => {
		expect(formatMoney(1999, "EUR")).toBe("€19.99");
		expect(formatMoney(500, "JPY")).toBe("¥500");
		expect(formatMoney(12, "XXZ")).toContain("12");
	});
});

describe("development mailbox channel", () => {
	it("masks addresses in its log line", async () => {
		const lines: string[] = [];
		const channel = new MailboxChannel({ info: (...a: unknown[]) => lines.push(a.join(" ")) });
		await channel.send({ to: "jane.doe@example.com", subject: "S", text: "x", html: "<p>x</p>", messageId: "<a@b>", headers: {} });
		expect(lines).toHaveLength(1);
		expect(lines.join("\n")).not.toContain("jane.doe");
		expect(maskAddress("jane.doe@example.com")).toBe("j***@example.com");
	});
});
