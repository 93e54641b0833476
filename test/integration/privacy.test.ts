/**
 * Export and erasure across the services (embedded): GET /me/export gathers a customer's data
 * from users, orders, tickets and notifications; DELETE /me (password confirmed) erases the
 * account everywhere: every service acknowledges, the paid order stays for the admin with its
 * totals but without name and address, the ticket keeps its text without its author, the
 * notifications and emails are gone, and after the next start (the store at rest: its log folded in) no
 * database file holds the address. Doing it again changes nothing.
 */
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, withRoles, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf, newProduct } from "../helpers/commerce.js";
import type { Collection } from "../../lib/store/index.js";
import type { RedemptionRecord, RedemptionSlot } from "../../lib/domain/promotions.js";

const V1 = "/api/v1";
let shop: TestShop;
let boss: Account;

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products", "orders", "pricing", "tickets", "notifications"], env: ADMIN_ENV });
	boss = await admin(shop);
	expect(
		(await boss.http.post(`${V1}/shipping-methods`, { name: "Std", countries: ["*"], price: 300, currency: "EUR", minDays: 1, maxDays: 2 })).status,
	).toBe(201);
});
afterAll(async () => {
	await shop?.stop();
});

const ADDRESS = { name: "Erin Example", line1: "Privacy Lane 7", city: "Dublin", postalCode: "D02", country: "IE" };

async function paidOrder(acc: Account, code?: string): Promise<{ id: string; total: number }> {
	const product = await newProduct(boss, { price: 2500 });
	expect((await acc.http.post(`${V1}/cart/items`, { productId: product.id, quantity: 1 })).status).toBe(200);
	if (code) expect((await acc.http.put(`${V1}/cart/promotion`, { code })).status).toBe(200);
	const placed = await acc.http.post(
		`${V1}/orders`,
		{ shippingAddress: ADDRESS, payment: { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123" } },
		{ "idempotency-key": randomUUID() },
	);
	expect(placed.status).toBe(202);
	return eventually(async () => {
		const o = (await acc.http.get(`${V1}/orders/${placed.body.id}`)).body;
		return o.status === "paid" ? o : undefined;
	});
}

function filesUnder(dir: string): string[] {
	return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe("export and erasure", () => {
	it("exports everything, then erases it across every service, idempotently", async () => {
		const erin = await customer(shop, "Erin");
		expect((await erin.http.post(`${V1}/me/addresses`, { ...ADDRESS, label: "Home" })).status).toBe(201);
		const code = `P${randomUUID().slice(0, 6).toUpperCase()}`;
		const promo = await boss.http.post(`${V1}/promotions`, { code, type: "percent", value: 10, maxRedemptions: 5, perCustomerLimit: 1 });
		expect(promo.status, JSON.stringify(promo.body)).toBe(201);
		const order = await paidOrder(erin, code);
		const ticket = await erin.http.post(`${V1}/tickets`, { type: "inquiry", subject: "Parcel", message: "Where is my parcel?", orderId: order.id });
		expect(ticket.status).toBe(201);
		const agent = await withRoles(shop, ["customer", "agent"], "Agent");
		expect((await agent.http.post(`${V1}/tickets/${ticket.body.id}/messages`, { message: "On its way." })).status).toBe(201);
		await eventually(async () => {
			const notes = (await erin.http.get(`${V1}/me/notifications`)).body.rows as { type: string }[];
			return notes.some(n => n.type === "ticket.replied") ? true : undefined;
		});

		const exported = await erin.http.get(`${V1}/me/export`);
		expect(exported.status).toBe(200);
		const data = exported.body;
		expect(Object.keys(data).sort()).toEqual(["addresses", "cart", "emails", "exportedAt", "notifications", "orders", "profile", "promotions", "tickets"]);
		expect(data.profile).toMatchObject({ id: erin.id, email: erin.email });
		expect(data.addresses).toHaveLength(1);
		expect(data.orders.map((o: { id: string }) => o.id)).toEqual([order.id]);
		expect(data.promotions).toEqual([{ code, orderId: order.id, status: "confirmed", createdAt: expect.any(String) }]);
		expect(data.tickets.map((t: { id: string }) => t.id)).toEqual([ticket.body.id]);
		expect(data.notifications.length).toBeGreaterThan(0);
		expect(data.emails.map((e: { kind: string }) => e.kind)).toContain("verification");
		expect(JSON.stringify(data)).not.toContain("passwordHash");

		const wrong = await erin.http.request("DELETE", `${V1}/me`, { password: "not-my-password" });
		expect(wrong.status).toBe(422);
		expect(fieldsOf(wrong.body)).toEqual(["password"]);
		expect((await erin.http.request("DELETE", `${V1}/me`, { password: erin.password })).status).toBe(202);

		const status = await eventually(async () => {
			const u = (await boss.http.get(`${V1}/users/${erin.id}`)).body;
			return u.erasure?.completedAt ? u : undefined;
		}, 15_000);
		expect(status.erasure.acknowledged).toEqual(["notifications", "orders", "pricing", "tickets", "users"]);
		expect(status).toMatchObject({ email: `erased-${erin.id}@erased.invalid`, active: false });
		expect((await shop.http.post(`${V1}/auth/login`, { email: erin.email, password: erin.password })).status).toBe(401);
		await eventually(async () => ((await erin.http.get(`${V1}/me`)).status === 401 ? true : undefined), 5000, "the old token refused");

		// The order stays for accounting, without name or address; the ticket keeps its text, not its author.
		const kept = (await boss.http.get(`${V1}/orders/${order.id}`)).body;
		expect(kept).toMatchObject({ id: order.id, total: order.total, status: "paid" });
		expect(kept.shippingAddress).toEqual({ name: "(erased)", line1: "(erased)", city: "(erased)", postalCode: "0", country: "IE" });
		const allOrders = (await boss.http.get(`${V1}/orders?all=true&pageSize=100`)).body.rows as { id: string }[];
		expect(allOrders.some(o => o.id === order.id)).toBe(true);
		const t = (await agent.http.get(`${V1}/tickets/${ticket.body.id}`)).body;
		expect(t.messages.map((m: { body: string }) => m.body)).toEqual(expect.arrayContaining(["Where is my parcel?", "On its way."]));
		expect(t.userId).not.toBe(erin.id);
		expect(JSON.stringify(t)).not.toContain(erin.email);
		// The code's use stays counted (its limits stay exact) under a pseudonym: erin's id is in no redemption or slot.
		const pricing = shop.broker.getLocalService("pricing") as unknown as { collection<T extends { _id: string }>(name: string): Collection<T> };
		const uses = await pricing.collection<RedemptionRecord>("redemptions").find({ query: { promotionId: promo.body.id } });
		expect(uses.map(u => [u._id, u.status])).toEqual([[order.id, "confirmed"]]);
		const slots = await pricing.collection<RedemptionSlot>("redemption_slots").find({ query: { promotionId: promo.body.id } });
		expect(slots.map(s => s.kind).sort()).toEqual(["all", "customer"]);
		expect(new Set([uses[0]!.userId, ...slots.map(s => s.userId)]).size).toBe(1);
		expect(JSON.stringify([uses, slots])).not.toContain(erin.id);
		expect((await boss.http.get(`${V1}/promotions/${promo.body.id}`)).body).toMatchObject({ code });
		const mailbox = (await boss.http.get(`${V1}/mailbox?to=${encodeURIComponent(erin.email)}`)).body;
		expect(mailbox.total).toBe(0);

		// Again: nothing changes.
		expect((await boss.http.delete(`${V1}/users/${erin.id}`)).status).toBe(204);
		const again = (await boss.http.get(`${V1}/users/${erin.id}`)).body;
		expect(again.erasure).toEqual(status.erasure);

		// The store overwrites what it deletes (SQLite's secure_delete); its write-ahead log is folded in and removed at a clean stop.
		shop = await shop.restart();
		const holding = filesUnder(shop.dataDir).filter(f => fs.readFileSync(f, "utf8").includes(erin.email));
		expect(holding).toEqual([]);
	});
});
