import { randomUUID } from "node:crypto";
/**
 * Support tickets through the gateway: opening, reading, listing, replying, staff changes,
 * and every refusal. Orders are not running in this shop, so a ticket on an order is a 503
 * here (tickets with orders and returns: returns.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, startShop, withRoles, type Account, type TestShop } from "../helpers/shop.js";

let shop: TestShop;
let ann: Account;
let bob: Account;
let agent: Account;
let boss: Account;

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "tickets"], env: ADMIN_ENV });
	ann = await customer(shop, "Ann");
	bob = await customer(shop, "Bob");
	agent = await withRoles(shop, ["customer", "agent"], "Agent");
	boss = await admin(shop);
});
afterAll(async () => {
	await shop?.stop();
});

function fieldsOf(body: { data?: { field: string }[] }): string[] {
	return (body.data ?? []).map(p => p.field);
}

async function openTicket(acc: Account, body: Record<string, unknown> = {}) {
	const res = await acc.http.post("/api/v1/tickets", { type: "inquiry", subject: "Where is my parcel?", message: "It has been a week.", ...body });
	expect(res.status, JSON.stringify(res.body)).toBe(201);
	return res.body;
}

describe("opening a ticket", () => {
	it("answers 201 with the ticket, its first message and a Location", async () => {
		const res = await ann.http.post("/api/v1/tickets", { type: "inquiry", subject: "  Where is my parcel?  ", message: "It has been a week." });
		expect(res.status).toBe(201);
		expect(res.headers.get("location")).toBe(`/api/v1/tickets/${res.body.id}`);
		expect(res.body).toMatchObject({
			userId: ann.id,
			type: "inquiry",
			subject: "Where is my parcel?",
			status: "open",
			priority: "normal",
			assigneeId: null,
			orderId: null,
			items: [],
			rating: null,
			return: null,
		});
		expect(res.body.messages).toEqual([
			{ id: expect.any(String), authorId: ann.id, authorRole: "customer", body: "It has been a week.", at: expect.any(String) },
		]);
		expect(res.body).not.toHaveProperty("_id");
		expect(res.body).not.toHaveProperty("outbox");
		expect(Date.parse(res.body.createdAt)).not.toBeNaN();
	});

	it("takes feedback with a rating from 1 to 5", async () => {
		const t = await openTicket(ann, { type: "feedback", subject: "Great shop", message: "Fast delivery", rating: 5 });
		expect(t).toMatchObject({ type: "feedback", rating: 5 });
	});

	it("needs a token", async () => {
		expect((await shop.http.post("/api/v1/tickets", { type: "inquiry", subject: "x", message: "y" })).status).toBe(401);
	});

	const P = randomUUID();
	const O = randomUUID();
	it.each([
		["no type", { subject: "s", message: "m" }, "type"],
		["an unknown type", { type: "refund", subject: "s", message: "m" }, "type"],
		["an empty subject", { type: "inquiry", subject: "   ", message: "m" }, "subject"],
		["no message", { type: "inquiry", subject: "s" }, "message"],
		["a too long subject", { type: "inquiry", subject: "x".repeat(201), message: "m" }, "subject"],
		["feedback without rating", { type: "feedback", subject: "s", message: "m" }, "rating"],
		["a rating of 6", { type: "feedback", subject: "s", message: "m", rating: 6 }, "rating"],
		["a rating of 0", { type: "feedback", subject: "s", message: "m", rating: 0 }, "rating"],
		["a fractional rating", { type: "feedback", subject: "s", message: "m", rating: 2.5 }, "rating"],
		["a rating on an inquiry", { type: "inquiry", subject: "s", message: "m", rating: 3 }, "rating"],
		["items on an inquiry", { type: "inquiry", subject: "s", message: "m", items: [{ productId: P, quantity: 1 }] }, "items"],
		["a return without order", { type: "return", subject: "s", message: "m", items: [{ productId: P, quantity: 1 }] }, "orderId"],
		["a return without items", { type: "return", subject: "s", message: "m", orderId: O }, "items"],
		["a return with an empty item list", { type: "return", subject: "s", message: "m", orderId: O, items: [] }, "items"],
		[
			"a return item with quantity 0",
			{ type: "return", subject: "s", message: "m", orderId: O, items: [{ productId: P, quantity: 0 }] },
			"items[0].quantity",
		],
		["a priority (staff only)", { type: "inquiry", subject: "s", message: "m", priority: "urgent" }, "priority"],
		["an unknown field", { type: "inquiry", subject: "s", message: "m", status: "closed" }, "status"],
	])("refuses %s with 422 naming the field", async (_what, body, field) => {
		const res = await ann.http.post("/api/v1/tickets", body);
		expect(res.status, JSON.stringify(res.body)).toBe(422);
		expect(fieldsOf(res.body)).toContain(field);
	});

	it("answers 503, not 5xx garbage, when the order cannot be checked", async () => {
		const res = await ann.http.post("/api/v1/tickets", { type: "complaint", subject: "Broken", message: "It broke", orderId: randomUUID() });
		expect(res.status).toBe(503);
		expect(res.body.type).toBe("SERVICE_UNAVAILABLE");
		expect(JSON.stringify(res.body)).not.toMatch(/orders\.|summaryForUser/);
	});
});

describe("reading a ticket", () => {
	it("the owner reads it with customer details and no order", async () => {
		const t = await openTicket(ann);
		const res = await ann.http.get(`/api/v1/tickets/${t.id}`);
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id: t.id, customer: { id: ann.id, name: "Ann", email: ann.email }, order: null });
		expect(res.body.messages).toHaveLength(1);
	});

	it("agents and admins read any ticket", async () => {
		const t = await openTicket(ann);
		for (const staff of [agent, boss]) {
			const res = await staff.http.get(`/api/v1/tickets/${t.id}`);
			expect(res.status).toBe(200);
			expect(res.body.customer).toEqual({ id: ann.id, name: "Ann", email: ann.email });
		}
	});

	it("someone else's ticket is 404, like one that does not exist", async () => {
		const t = await openTicket(ann);
		const theirs = await bob.http.get(`/api/v1/tickets/${t.id}`);
		const missing = await bob.http.get(`/api/v1/tickets/${randomUUID()}`);
		expect(theirs.status).toBe(404);
		expect(missing.status).toBe(404);
		expect(theirs.body.message).toBe(missing.body.message);
		expect(JSON.stringify(theirs.body)).not.toContain(ann.id);
	});

	it("needs a token", async () => {
		const t = await openTicket(ann);
		expect((await shop.http.get(`/api/v1/tickets/${t.id}`)).status).toBe(401);
	});
});

describe("listing tickets", () => {
	let carl: Account;
	let carlInquiry: { id: string };
	let carlFeedback: { id: string };
	beforeAll(async () => {
		carl = await customer(shop, "Carl");
		carlInquiry = await openTicket(carl);
		carlFeedback = await openTicket(carl, { type: "feedback", subject: "Nice", message: "Nice", rating: 4 });
	});

	it("a customer sees only their own, newest first, in the contract's page shape", async () => {
		const res = await carl.http.get("/api/v1/tickets");
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ total: 2, page: 1, pageSize: 20, totalPages: 1 });
		expect(res.body.rows.map((t: { id: string }) => t.id)).toEqual([carlFeedback.id, carlInquiry.id]);
		expect(res.body.rows.every((t: { userId: string }) => t.userId === carl.id)).toBe(true);
	});

	it("pages", async () => {
		const res = await carl.http.get("/api/v1/tickets?page=2&pageSize=1");
		expect(res.body).toMatchObject({ total: 2, page: 2, pageSize: 1, totalPages: 2 });
		expect(res.body.rows.map((t: { id: string }) => t.id)).toEqual([carlInquiry.id]);
	});

	it("filters by type and status", async () => {
		const res = await carl.http.get("/api/v1/tickets?type=feedback&status=open");
		expect(res.body.rows.map((t: { id: string }) => t.id)).toEqual([carlFeedback.id]);
	});

	it("staff see everyone's tickets", async () => {
		const res = await agent.http.get("/api/v1/tickets?pageSize=100");
		const owners = new Set(res.body.rows.map((t: { userId: string }) => t.userId));
		expect(owners.has(ann.id) && owners.has(carl.id)).toBe(true);
		expect(res.body.total).toBeGreaterThan(2);
	});

	it.each([
		["pageSize=101", "pageSize"],
		["page=0", "page"],
		["status=done", "status"],
		["type=refund", "type"],
	])("refuses ?%s with 422", async (qs, field) => {
		const res = await agent.http.get(`/api/v1/tickets?${qs}`);
		expect(res.status).toBe(422);
		expect(fieldsOf(res.body)).toContain(field);
	});
});

describe("replies", () => {
	it("the owner and staff reply; each message says who wrote it as what", async () => {
		const t = await openTicket(ann);
		const mine = await ann.http.post(`/api/v1/tickets/${t.id}/messages`, { message: "Any news?" });
		expect(mine.status).toBe(201);
		// The answer is the ticket, the new message last.
		expect(mine.body).toMatchObject({ id: t.id, status: "open" });
		expect(mine.body.messages.at(-1)).toEqual({
			id: expect.any(String),
			authorId: ann.id,
			authorRole: "customer",
			body: "Any news?",
			at: expect.any(String),
		});
		const theirs = await agent.http.post(`/api/v1/tickets/${t.id}/messages`, { message: "It ships tomorrow." });
		expect(theirs.status).toBe(201);
		expect(theirs.body.messages.at(-1)).toMatchObject({ authorId: agent.id, authorRole: "agent" });
		const byAdmin = await boss.http.post(`/api/v1/tickets/${t.id}/messages`, { message: "Sorry for the wait." });
		expect(byAdmin.body.messages.at(-1).authorRole).toBe("admin");

		const read = await ann.http.get(`/api/v1/tickets/${t.id}`);
		expect(read.body.messages.map((m: { body: string }) => m.body)).toEqual([
			"It has been a week.",
			"Any news?",
			"It ships tomorrow.",
			"Sorry for the wait.",
		]);
		expect(read.body.updatedAt >= read.body.createdAt).toBe(true);
	});

	it("another customer cannot reply: 404", async () => {
		const t = await openTicket(ann);
		expect((await bob.http.post(`/api/v1/tickets/${t.id}/messages`, { message: "hi" })).status).toBe(404);
		expect((await ann.http.get(`/api/v1/tickets/${t.id}`)).body.messages).toHaveLength(1);
	});

	it.each([
		["an empty message", { message: "  " }, "message"],
		["no message", {}, "message"],
		["an unknown field", { message: "x", authorRole: "admin" }, "authorRole"],
	])("refuses %s with 422", async (_what, body, field) => {
		const t = await openTicket(ann);
		const res = await ann.http.post(`/api/v1/tickets/${t.id}/messages`, body);
		expect(res.status).toBe(422);
		expect(fieldsOf(res.body)).toContain(field);
	});

	it("a missing ticket is 404", async () => {
		expect((await ann.http.post("/api/v1/tickets/nope/messages", { message: "hi" })).status).toBe(404);
	});
});

describe("staff changes: status, priority, assignee", () => {
	it("an agent changes status and priority", async () => {
		const t = await openTicket(ann);
		const res = await agent.http.patch(`/api/v1/tickets/${t.id}`, { status: "pending", priority: "urgent" });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id: t.id, status: "pending", priority: "urgent" });
		expect((await ann.http.get(`/api/v1/tickets/${t.id}`)).body).toMatchObject({ status: "pending", priority: "urgent" });
	});

	it("a customer cannot, not even on their own ticket: 403", async () => {
		const t = await openTicket(ann);
		expect((await ann.http.patch(`/api/v1/tickets/${t.id}`, { status: "closed" })).status).toBe(403);
		expect((await ann.http.get(`/api/v1/tickets/${t.id}`)).body.status).toBe("open");
	});

	it("assigns to an agent, filters by assignee, unassigns", async () => {
		const t = await openTicket(ann);
		const res = await boss.http.patch(`/api/v1/tickets/${t.id}`, { assigneeId: agent.id });
		expect(res.status).toBe(200);
		expect(res.body.assigneeId).toBe(agent.id);
		const mine = await agent.http.get(`/api/v1/tickets?assigneeId=${agent.id}`);
		expect(mine.body.rows.map((r: { id: string }) => r.id)).toContain(t.id);
		expect(mine.body.rows.every((r: { assigneeId: string }) => r.assigneeId === agent.id)).toBe(true);

		const cleared = await agent.http.patch(`/api/v1/tickets/${t.id}`, { assigneeId: null });
		expect(cleared.status).toBe(200);
		expect(cleared.body.assigneeId).toBeNull();
	});

	it("the assignee must exist and be staff: 422 on assigneeId", async () => {
		const t = await openTicket(ann);
		for (const assigneeId of ["no-such-user", bob.id]) {
			const res = await agent.http.patch(`/api/v1/tickets/${t.id}`, { assigneeId });
			expect(res.status, assigneeId).toBe(422);
			expect(fieldsOf(res.body)).toEqual(["assigneeId"]);
		}
		expect((await agent.http.get(`/api/v1/tickets/${t.id}`)).body.assigneeId).toBeNull();
	});

	it.each([
		["an unknown status", { status: "done" }, "status"],
		["an unknown priority", { priority: "asap" }, "priority"],
		["an unknown field", { subject: "new" }, "subject"],
		["a non-string assignee", { assigneeId: 7 }, "assigneeId"],
	])("refuses %s with 422", async (_what, body, field) => {
		const t = await openTicket(ann);
		const res = await agent.http.patch(`/api/v1/tickets/${t.id}`, body);
		expect(res.status).toBe(422);
		expect(fieldsOf(res.body)).toContain(field);
	});

	it("a closed ticket stays closed and takes no replies: 409", async () => {
		const t = await openTicket(ann);
		expect((await agent.http.patch(`/api/v1/tickets/${t.id}`, { status: "closed" })).status).toBe(200);
		const reopen = await agent.http.patch(`/api/v1/tickets/${t.id}`, { status: "open" });
		expect(reopen.status).toBe(409);
		expect(reopen.body.type).toBe("TICKET_CLOSED");
		const reply = await ann.http.post(`/api/v1/tickets/${t.id}/messages`, { message: "Hello?" });
		expect(reply.status).toBe(409);
		expect((await ann.http.get(`/api/v1/tickets/${t.id}`)).body).toMatchObject({ status: "closed", messages: [expect.anything()] });
	});

	it("an empty change answers the ticket unchanged", async () => {
		const t = await openTicket(ann);
		const res = await agent.http.patch(`/api/v1/tickets/${t.id}`, {});
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id: t.id, status: "open", updatedAt: t.updatedAt });
	});

	it("a missing ticket is 404", async () => {
		expect((await agent.http.patch("/api/v1/tickets/nope", { status: "pending" })).status).toBe(404);
	});
});

describe("return decisions on tickets that are not returns", () => {
	it("are 409 for staff, 403 for customers, 404 for a missing ticket", async () => {
		const t = await openTicket(ann);
		const approve = await agent.http.post(`/api/v1/tickets/${t.id}/return/approve`, {});
		expect(approve.status).toBe(409);
		expect(approve.body.type).toBe("NOT_A_RETURN");
		expect((await agent.http.post(`/api/v1/tickets/${t.id}/return/reject`, { reason: "No" })).status).toBe(409);
		expect((await ann.http.post(`/api/v1/tickets/${t.id}/return/approve`, {})).status).toBe(403);
		expect((await agent.http.post("/api/v1/tickets/nope/return/approve", {})).status).toBe(404);
	});

	it("a rejection needs a reason: 422", async () => {
		const t = await openTicket(ann);
		const res = await agent.http.post(`/api/v1/tickets/${t.id}/return/reject`, {});
		expect(res.status).toBe(422);
		expect(fieldsOf(res.body)).toEqual(["reason"]);
	});
});

describe("when the users service is down", () => {
	it("a ticket still reads, with the customer marked unavailable", async () => {
		const t = await openTicket(ann);
		const users = shop.broker.getLocalService("users");
		await shop.broker.destroyService(users!);
		const res = await agent.http.get(`/api/v1/tickets/${t.id}`);
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id: t.id, customer: { id: ann.id, unavailable: true } });
		// Assigning cannot be checked without users: a clear 503, not a silent assignment.
		expect((await agent.http.patch(`/api/v1/tickets/${t.id}`, { assigneeId: agent.id })).status).toBe(503);
	});
});
