import { describe, expect, it } from "vitest";
import {
	authorRoleOf,
	canSee,
	claimedQuantities,
	newTicketProblems,
	publicTicket,
	replyRefusal,
	returnDecisionRefusal,
	returnItems,
	returnSlot,
	returnableQuantities,
	statusChangeRefusal,
	type ReturnRecord,
	type TicketRecord,
} from "../../lib/domain/tickets.js";

const customer = { id: "u1", roles: ["customer" as const] };
const other = { id: "u2", roles: ["customer" as const] };
const agent = { id: "a1", roles: ["customer" as const, "agent" as const] };
const adminUser = { id: "ad", roles: ["customer" as const, "admin" as const] };

function ret(status: ReturnRecord["status"]): ReturnRecord {
	return { id: "r1", status, reason: null, decidedBy: null, decidedAt: null };
}

function ticket(over: Partial<TicketRecord> = {}): TicketRecord {
	return {
		_id: "t1",
		userId: "u1",
		type: "inquiry",
		subject: "Where is my parcel?",
		status: "open",
		priority: "normal",
		assigneeId: null,
		orderId: null,
		items: [],
		rating: null,
		messages: [{ id: "m1", authorId: "u1", authorRole: "customer", body: "Hello", at: "2024-01-01T00:00:00.000Z" }],
		return: null,
		createdAt: "2024-01-01T00:00:00.000Z",
		updatedAt: "2024-01-01T00:00:00.000Z",
		...over,
	};
}

describe("publicTicket", () => {
	it("has id, not _id, and leaves internals (outbox, return slot, decider) out", () => {
		const t = publicTicket(
			ticket({
				type: "return",
				orderId: "o1",
				items: [{ productId: "p1", quantity: 1 }],
				return: { ...ret("approved"), decidedBy: "a1" },
				returnSlot: "o1#0",
				outbox: [],
			}),
		);
		expect(t.id).toBe("t1");
		expect(t).not.toHaveProperty("_id");
		expect(t).not.toHaveProperty("outbox");
		expect(t).not.toHaveProperty("returnSlot");
		expect(t.return).toEqual({ status: "approved", reason: null });
	});
});

describe("who sees a ticket and as whom they write", () => {
	it("owner and staff see it, another customer does not", () => {
		expect(canSee(customer, ticket())).toBe(true);
		expect(canSee(agent, ticket())).toBe(true);
		expect(canSee(adminUser, ticket())).toBe(true);
		expect(canSee(other, ticket())).toBe(false);
	});
	it("the owner writes as customer even when staff; others as their highest role", () => {
		expect(authorRoleOf(customer, ticket())).toBe("customer");
		expect(authorRoleOf(agent, ticket())).toBe("agent");
		expect(authorRoleOf(adminUser, ticket())).toBe("admin");
		expect(authorRoleOf({ id: "u1", roles: ["customer", "admin"] }, ticket())).toBe("customer");
	});
});

describe("newTicketProblems", () => {
	it("accepts a plain inquiry and a complete return or feedback", () => {
		expect(newTicketProblems({ type: "inquiry" })).toEqual([]);
		expect(newTicketProblems({ type: "complaint", orderId: "o1" })).toEqual([]);
		expect(newTicketProblems({ type: "return", orderId: "o1", items: [{ productId: "p1", quantity: 1 }] })).toEqual([]);
		expect(newTicketProblems({ type: "feedback", rating: 5 })).toEqual([]);
	});
	it("a return needs orderId and items", () => {
		const fields = newTicketProblems({ type: "return" }).map(p => p.field);
		expect(fields).toEqual(["orderId", "items"]);
	});
	it("items only on returns, rating only (and always) on feedback", () => {
		expect(newTicketProblems({ type: "inquiry", items: [{ productId: "p", quantity: 1 }] }).map(p => p.field)).toEqual(["items"]);
		expect(newTicketProblems({ type: "complaint", rating: 3 }).map(p => p.field)).toEqual(["rating"]);
		expect(newTicketProblems({ type: "feedback" }).map(p => p.field)).toEqual(["rating"]);
	});
	it("a product may appear once in a return", () => {
		const problems = newTicketProblems({
			type: "return",
			orderId: "o1",
			items: [
				{ productId: "p1", quantity: 1 },
				{ productId: "p2", quantity: 1 },
				{ productId: "p1", quantity: 2 },
			],
		});
		expect(problems.map(p => p.field)).toEqual(["items[2].productId"]);
	});
});

describe("status rules", () => {
	it("open, pending and resolved move freely; the same status is no change", () => {
		expect(statusChangeRefusal(ticket({ status: "open" }), "pending").ok).toBe(true);
		expect(statusChangeRefusal(ticket({ status: "pending" }), "resolved").ok).toBe(true);
		expect(statusChangeRefusal(ticket({ status: "resolved" }), "open").ok).toBe(true);
		expect(statusChangeRefusal(ticket({ status: "open" }), "closed").ok).toBe(true);
		expect(statusChangeRefusal(ticket({ status: "closed" }), "closed").ok).toBe(true);
	});
	it("closed is final", () => {
		expect(statusChangeRefusal(ticket({ status: "closed" }), "open")).toMatchObject({ ok: false, type: "TICKET_CLOSED" });
	});
	it("a return waiting for a decision cannot be resolved or closed", () => {
		const t = ticket({ type: "return", return: ret("requested") });
		expect(statusChangeRefusal(t, "resolved")).toMatchObject({ ok: false, type: "RETURN_UNDECIDED" });
		expect(statusChangeRefusal(t, "closed")).toMatchObject({ ok: false, type: "RETURN_UNDECIDED" });
		expect(statusChangeRefusal(t, "pending").ok).toBe(true);
		expect(statusChangeRefusal(ticket({ type: "return", return: ret("rejected") }), "closed").ok).toBe(true);
	});
	it("a closed ticket takes no replies", () => {
		expect(replyRefusal(ticket({ status: "resolved" })).ok).toBe(true);
		expect(replyRefusal(ticket({ status: "closed" }))).toMatchObject({ ok: false, type: "TICKET_CLOSED" });
	});
	it("a return is decided once, and only a return", () => {
		expect(returnDecisionRefusal(ticket({ type: "return", return: ret("requested") })).ok).toBe(true);
		expect(returnDecisionRefusal(ticket({ type: "return", return: ret("approved") }))).toMatchObject({ ok: false, type: "RETURN_ALREADY_DECIDED" });
		expect(returnDecisionRefusal(ticket({ type: "return", return: ret("rejected") }))).toMatchObject({ ok: false, type: "RETURN_ALREADY_DECIDED" });
		expect(returnDecisionRefusal(ticket())).toMatchObject({ ok: false, type: "NOT_A_RETURN" });
	});
});

describe("returnable quantities", () => {
	const order = [
		{ productId: "p1", quantity: 3 },
		{ productId: "p2", quantity: 1 },
	];
	const returnOf = (status: ReturnRecord["status"], items: { productId: string; quantity: number }[]) => ({ items, return: ret(status) });

	it("requested and approved returns claim their items, rejected ones do not", () => {
		const claimed = claimedQuantities([
			returnOf("requested", [{ productId: "p1", quantity: 1 }]),
			returnOf("approved", [
				{ productId: "p1", quantity: 1 },
				{ productId: "p2", quantity: 1 },
			]),
			returnOf("rejected", [{ productId: "p1", quantity: 1 }]),
		]);
		expect(Object.fromEntries(claimed)).toEqual({ p1: 2, p2: 1 });
		expect(Object.fromEntries(returnableQuantities(order, claimed))).toEqual({ p1: 1, p2: 0 });
	});

	it("order lines of the same product add up", () => {
		expect(Object.fromEntries(returnableQuantities([...order, { productId: "p1", quantity: 2 }], new Map()))).toEqual({ p1: 5, p2: 1 });
	});

	it("accepts what is left, names the line that asks for more or for a product not ordered", () => {
		const claimed = new Map([["p1", 2]]);
		expect(returnItems(order, claimed, [{ productId: "p1", quantity: 1 }])).toEqual({ items: [{ productId: "p1", quantity: 1 }], problems: [] });
		const { problems } = returnItems(
			order,
			new Map([
				["p1", 2],
				["p2", 1],
			]),
			[
				{ productId: "p1", quantity: 2 },
				{ productId: "p2", quantity: 1 },
				{ productId: "zz", quantity: 1 },
			],
		);
		expect(problems.map(p => [p.field, p.type])).toEqual([
			["items[0].quantity", "returnQuantity"],
			["items[1].quantity", "returnQuantity"],
			["items[2].productId", "notInOrder"],
		]);
		expect(problems[0]?.message).toMatch(/Only 1/);
		expect(problems[1]?.message).toMatch(/already returned/);
	});

	it("names a variant's line by its itemId or by product and variant, never by the product alone", () => {
		const lines = [
			{ itemId: "v1", productId: "p1", variantId: "v1", quantity: 2 },
			{ itemId: "v2", productId: "p1", variantId: "v2", quantity: 1 },
		];
		expect(returnItems(lines, new Map(), [{ itemId: "v2", quantity: 1 }]).items).toEqual([{ productId: "p1", variantId: "v2", quantity: 1 }]);
		expect(returnItems(lines, new Map(), [{ productId: "p1", variantId: "v1", quantity: 2 }]).items).toEqual([
			{ productId: "p1", variantId: "v1", quantity: 2 },
		]);
		expect(returnItems(lines, new Map(), [{ productId: "p1", quantity: 1 }]).problems.map(p => p.type)).toEqual(["notInOrder"]);
		expect(returnItems(lines, new Map([["v1", 2]]), [{ itemId: "v1", quantity: 1 }]).problems.map(p => p.type)).toEqual(["returnQuantity"]);
	});

	it("a return slot numbers an order's returns", () => {
		expect(returnSlot("o1", 0)).toBe("o1#0");
		expect(returnSlot("o1", 2)).not.toBe(returnSlot("o1", 1));
	});
});
