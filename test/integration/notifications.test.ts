/**
 * Notifications end to end: made from the real order and ticket events, listed newest first
 * per user, marked read, absent for users who turned in-app notifications off, and made once
 * for an event delivered twice.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, withRoles, type Account, type TestShop } from "../helpers/shop.js";
import { currentBus } from "../../lib/events/registry.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";
import type { Collection } from "../../lib/store/index.js";
import type { TicketRecord } from "../../lib/domain/tickets.js";
import type { OutgoingMail } from "../../services/notifications/outgoing-mail.js";

let shop: TestShop;
let boss: Account;
let agent: Account;

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products", "orders", "pricing", "tickets", "notifications"], env: ADMIN_ENV });
	boss = await admin(shop);
	agent = await withRoles(shop, ["customer", "agent"], "Agent");
});
afterAll(async () => {
	await shop?.stop();
});

interface Note {
	id: string;
	type: string;
	title: string;
	body: string;
	read: boolean;
	createdAt: string;
	ref: { kind: string; id: string };
}

async function notesOf(acc: Account): Promise<Note[]> {
	const res = await acc.http.get("/api/v1/me/notifications?pageSize=100");
	expect(res.status).toBe(200);
	return res.body.rows;
}

/** Wait until `acc` has a notification matching `match`; answer all of theirs. */
function waitForNote(acc: Account, match: (n: Note) => boolean, what: string): Promise<Note[]> {
	return eventually(
		async () => {
			const notes = await notesOf(acc);
			return notes.some(match) ? notes : undefined;
		},
		15_000,
		what,
	);
}

/** Every event the ticket caused has been handled by every consumer (in-process, publishing waits for them). */
async function ticketEventsHandled(ticketId: string): Promise<void> {
	const tickets = shop.broker.getLocalService("tickets") as unknown as { collection(name: string): Collection<TicketRecord> };
	await eventually(
		async () => (((await tickets.collection("tickets").findById(ticketId))?.outbox ?? []).length === 0 ? true : undefined),
		10_000,
		"the ticket's events",
	);
}

/** The emails about events recorded for `acc` (not the verification email of their registration), subjects without the shop's name. */
async function emailsTo(acc: Account) {
	const svc = shop.broker.getLocalService("notifications") as unknown as { mail: OutgoingMail };
	const rows = await svc.mail.emails.find({ query: { to: acc.email }, sort: ["createdAt"] });
	return rows.filter(m => m.kind !== "verification").map(m => ({ ...m, subject: m.subject.replace(/ · .*$/, "") }));
}

async function openTicket(acc: Account, subject = "Where is my parcel?") {
	const res = await acc.http.post("/api/v1/tickets", { type: "inquiry", subject, message: "It has been a week." });
	expect(res.status).toBe(201);
	return res.body as { id: string };
}

const checkoutBody = {
	shippingAddress: { name: "Ann", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" },
	payment: { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123" },
};

async function paidOrder(buyer: Account): Promise<{ id: string }> {
	const product = await boss.http.post("/api/v1/products", {
		sku: `SKU-${randomUUID().slice(0, 8)}`,
		name: "Mug",
		description: "A mug",
		price: 1999,
		currency: "EUR",
		stock: 10,
	});
	if (product.status !== 201) throw new Error(`product: ${product.status} ${JSON.stringify(product.body)}`);
	const added = await buyer.http.post("/api/v1/cart/items", { productId: product.body.id, quantity: 1 });
	if (added.status !== 200) throw new Error(`cart: ${added.status} ${JSON.stringify(added.body)}`);
	const placed = await buyer.http.post("/api/v1/orders", checkoutBody, { "idempotency-key": randomUUID() });
	if (placed.status !== 202) throw new Error(`checkout: ${placed.status} ${JSON.stringify(placed.body)}`);
	return eventually(
		async () => {
			const o = await buyer.http.get(`/api/v1/orders/${placed.body.id}`);
			return o.body.status === "paid" ? o.body : undefined;
		},
		15_000,
		"the order to be paid",
	);
}

describe("order events", () => {
	it("paid, shipped and delivered each notify the buyer, newest first", async () => {
		const ann = await customer(shop, "Ann");
		const order = await paidOrder(ann);
		expect((await boss.http.post(`/api/v1/orders/${order.id}/ship`, {})).status).toBe(200);
		expect((await boss.http.post(`/api/v1/orders/${order.id}/deliver`, {})).status).toBe(200);

		const notes = await waitForNote(ann, n => n.type === "order.delivered", "order.delivered");
		const orderNotes = notes.filter(n => n.ref.kind === "order");
		expect(orderNotes.map(n => n.type)).toEqual(["order.delivered", "order.shipped", "order.paid"]);
		for (const n of orderNotes) {
			expect(n).toEqual({
				id: expect.any(String),
				type: n.type,
				title: expect.any(String),
				body: expect.any(String),
				read: false,
				createdAt: expect.any(String),
				ref: { kind: "order", id: order.id },
			});
		}
		expect(orderNotes.find(n => n.type === "order.paid")?.body).toContain("€19.99");
		// Someone else has none of these.
		expect((await notesOf(await customer(shop, "Other"))).length).toBe(0);
	});

	it("a cancelled order notifies the buyer", async () => {
		const ann = await customer(shop, "Ann");
		const order = await paidOrder(ann);
		expect((await ann.http.post(`/api/v1/orders/${order.id}/cancel`, {})).status).toBe(200);
		const notes = await waitForNote(ann, n => n.type === "order.cancelled", "order.cancelled");
		expect(notes.find(n => n.type === "order.cancelled")?.ref).toEqual({ kind: "order", id: order.id });
	});
});

describe("ticket events", () => {
	it("created, staff replies and status changes notify the owner; their own replies do not", async () => {
		const carl = await customer(shop, "Carl");
		const t = await openTicket(carl);
		await waitForNote(carl, n => n.type === "ticket.created" && n.ref.id === t.id, "ticket.created");

		expect((await carl.http.post(`/api/v1/tickets/${t.id}/messages`, { message: "Any news?" })).status).toBe(201);
		expect((await agent.http.post(`/api/v1/tickets/${t.id}/messages`, { message: "Tomorrow." })).status).toBe(201);
		expect((await agent.http.patch(`/api/v1/tickets/${t.id}`, { status: "resolved" })).status).toBe(200);
		// The ticket's events are handled in order: once the status change shows, both replies were handled.
		const notes = await waitForNote(carl, n => n.type === "ticket.status_changed", "ticket.status_changed");

		const ticketNotes = notes.filter(n => n.ref.id === t.id);
		expect(ticketNotes.map(n => n.type)).toEqual(["ticket.status_changed", "ticket.replied", "ticket.created"]);
		expect(ticketNotes.every(n => n.ref.kind === "ticket")).toBe(true);
		expect(ticketNotes[0]?.body).toContain("resolved");
		// Staff get no notification for a ticket they answered.
		expect((await notesOf(agent)).some(n => n.ref.id === t.id)).toBe(false);
	});
});

describe("preferences", () => {
	it("in-app off: nothing is stored, the email still goes out", async () => {
		const dave = await customer(shop, "Dave");
		const prefs = await dave.http.patch("/api/v1/me", { preferences: { notifications: { inApp: false } } });
		expect(prefs.status).toBe(200);
		const t = await openTicket(dave, "Opted out");
		await eventually(async () => ((await emailsTo(dave)).length > 0 ? true : undefined), 10_000, "dave's email");
		await ticketEventsHandled(t.id);

		expect((await emailsTo(dave)).map(m => m.subject)).toEqual(["We received your request"]);
		const res = await dave.http.get("/api/v1/me/notifications");
		expect(res.body).toMatchObject({ rows: [], total: 0 });
	});

	it("email off: stored in-app, no email", async () => {
		const erin = await customer(shop, "Erin");
		expect((await erin.http.patch("/api/v1/me", { preferences: { notifications: { email: false } } })).status).toBe(200);
		const t = await openTicket(erin);
		await ticketEventsHandled(t.id);
		expect((await notesOf(erin)).map(n => n.type)).toEqual(["ticket.created"]);
		expect(await emailsTo(erin)).toEqual([]);
	});
});

describe("language", () => {
	it("a customer who reads Spanish gets Spanish notifications and emails, money as Spanish readers write it", async () => {
		const lola = await customer(shop, "Lola");
		expect((await lola.http.patch("/api/v1/me", { preferences: { language: "es-ES" } })).status).toBe(200);
		const order = await paidOrder(lola);
		const t = await openTicket(lola, "¿Dónde está mi paquete?");
		await ticketEventsHandled(t.id);
		const notes = await waitForNote(lola, n => n.type === "order.paid", "order.paid");
		const paid = notes.find(n => n.type === "order.paid")!;
		expect(paid.title).toBe("Pago recibido");
		expect(paid.body).toContain("19,99\u00a0€");
		expect(paid.body).toContain(order.id.slice(0, 8));
		expect(notes.find(n => n.type === "ticket.created")?.title).toBe("Hemos recibido tu solicitud");
		const emails = await eventually(async () => {
			const all = await emailsTo(lola);
			return all.length >= 3 ? all : undefined;
		});
		expect(emails.map(m => m.subject)).toEqual(expect.arrayContaining(["Pedido recibido", "Pago recibido", "Hemos recibido tu solicitud"]));
		expect(emails.every(m => m.html.includes('<html lang="es">'))).toBe(true);
	});
});

describe("reading the list", () => {
	let fay: Account;
	let ids: string[];
	beforeAll(async () => {
		fay = await customer(shop, "Fay");
		for (const subject of ["One", "Two", "Three"]) {
			const t = await openTicket(fay, subject);
			await ticketEventsHandled(t.id);
		}
		ids = (await notesOf(fay)).map(n => n.id);
	});

	it("pages in the contract's shape, newest first", async () => {
		const notes = await notesOf(fay);
		expect(notes.map(n => n.body.match(/"(\w+)"/)?.[1])).toEqual(["Three", "Two", "One"]);
		const page = await fay.http.get("/api/v1/me/notifications?page=2&pageSize=2");
		expect(page.status).toBe(200);
		expect(page.body).toMatchObject({ total: 3, page: 2, pageSize: 2, totalPages: 2 });
		expect(page.body.rows.map((n: Note) => n.id)).toEqual([ids[2]]);
	});

	it("marks one read: 204, and again 204", async () => {
		const res = await fay.http.post(`/api/v1/me/notifications/${ids[1]}/read`);
		expect(res.status).toBe(204);
		expect(res.body).toBeNull();
		expect((await fay.http.post(`/api/v1/me/notifications/${ids[1]}/read`)).status).toBe(204);
		expect((await notesOf(fay)).map(n => n.read)).toEqual([false, true, false]);
	});

	it("someone else's or a missing notification is 404; no token is 401", async () => {
		const gus = await customer(shop, "Gus");
		expect((await gus.http.post(`/api/v1/me/notifications/${ids[0]}/read`)).status).toBe(404);
		expect((await gus.http.post("/api/v1/me/notifications/nope/read")).status).toBe(404);
		expect((await notesOf(fay))[0]?.read).toBe(false);
		expect((await shop.http.get("/api/v1/me/notifications")).status).toBe(401);
		expect((await shop.http.post(`/api/v1/me/notifications/${ids[0]}/read`)).status).toBe(401);
	});

	it.each([
		["GET", "/api/v1/me/notifications?pageSize=101", "pageSize"],
		["GET", "/api/v1/me/notifications?page=0", "page"],
		["POST", "/api/v1/me/notifications/ID/read?extra=1", "extra"],
	])("refuses %s %s with 422", async (method, url, field) => {
		const res = await fay.http.request(method, url.replace("ID", ids[0]!), method === "POST" ? {} : undefined);
		expect(res.status).toBe(422);
		expect(res.body.data.map((p: { field: string }) => p.field)).toContain(field);
	});
});

describe("at-least-once delivery", () => {
	it("an event delivered twice, even after a crash before it was recorded, makes one notification and one email", async () => {
		const hal = await customer(shop, "Hal");
		const orderId = randomUUID();
		const event: EventEnvelope<"order.shipped"> = {
			id: randomUUID(),
			type: "order.shipped",
			key: orderId,
			source: "orders",
			occurredAt: new Date().toISOString(),
			requestId: null,
			payload: { orderId, userId: hal.id },
		};
		const transport = currentBus(shop.broker)!;
		await transport.publish([event]);
		await transport.publish([event]);
		// A consumer that crashed after making the notification but before recording the event id.
		const svc = shop.broker.getLocalService("notifications") as unknown as { collection(name: string): Collection<{ _id: string }> };
		expect(await svc.collection("processed_events").removeWhere({ _id: event.id })).toBe(1);
		await transport.publish([event]);

		const notes = (await notesOf(hal)).filter(n => n.ref.id === orderId);
		expect(notes).toHaveLength(1);
		expect(notes[0]).toMatchObject({ type: "order.shipped", ref: { kind: "order", id: orderId } });
		expect(await emailsTo(hal)).toHaveLength(1);
	});
});
