/**
 * Payment sessions with the simulated payment service delivering its signed webhooks over HTTP:
 * the session flow, a declined card, stock refused after authorization, a customer's cancel, and
 * no card data anywhere.
 */
import fs from "node:fs";
import path from "node:path";
import type { Service } from "moleculer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { stockOf } from "../helpers/commerce.js";
import { SIM_SECRET, confirmCard, sessionCheckout } from "../helpers/payments.js";
import { TEST_CARDS, type LedgerEntry } from "../../lib/payments/simulated.js";
import type { Collection } from "../../lib/store/index.js";
import { defineService } from "../../lib/broker/service.js";
import { EventsMixin } from "../../mixins/events.mixin.js";
import { DbMixin } from "../../mixins/db.mixin.js";
import { captureLogs } from "../helpers/logs.js";

const V1 = "/api/v1";
let shop: TestShop;
let adm: Account;
const seen = new Map<string, string[]>();
/** Every integration event the probe received, as JSON. */
const payloads: string[] = [];

type OrdersService = Service & { collection<T extends { _id: string }>(n: string): Collection<T> };
const ledger = async (sessionId: string) =>
	(await (shop.broker.getLocalService("orders") as OrdersService).collection<LedgerEntry>("sandbox_ledger").find({ query: { id: sessionId } })).length;
const eventsOf = (orderId: string) => seen.get(orderId) ?? [];

/** Every log line of the shop, at debug level: none may hold a card number or a CVC. */
let logs: ReturnType<typeof captureLogs>;

beforeAll(async () => {
	logs = captureLogs();
	shop = await startShop({
		services: ["users", "api", "products", "orders", "pricing"],
		env: { ...ADMIN_ENV, SIMULATED_WEBHOOK_SECRET: SIM_SECRET, SIMULATED_WEBHOOK_COPIES: "3", SIMULATED_WEBHOOK_DELAY_MS: "20", LOG_LEVEL: "debug" },
	});
	shop.broker.createService(
		defineService<Service>({
			name: "paymentprobe",
			mixins: [DbMixin({ seen: {} }), EventsMixin()],
			integrationEvents: Object.fromEntries(
				["order.placed", "order.paid", "payment.captured", "payment.declined", "order.cancelled", "payment.refunded", "order.refunded"].map(type => [
					type,
					async (event: { payload: { orderId: string } }) => {
						payloads.push(JSON.stringify(event));
						seen.set(event.payload.orderId, [...eventsOf(event.payload.orderId), type]);
					},
				]),
			),
		}),
	);
	await shop.broker.waitForServices(["paymentprobe"]);
	adm = await admin(shop);
});
afterAll(async () => {
	await shop?.stop();
	logs?.stop();
});

const orderOf = (acc: Account, id: string) => acc.http.get(`${V1}/orders/${id}`).then(r => r.body);
const until = (acc: Account, id: string, check: (o: any) => boolean, what: string) =>
	eventually(
		async () => {
			const o = await orderOf(acc, id);
			return check(o) ? o : undefined;
		},
		15_000,
		what,
	);

describe("payment sessions (simulated payment service)", () => {
	it("answers 202 with the session to confirm, and a confirmed card makes the order paid with one capture", async () => {
		const ann = await customer(shop, "Ann");
		const { order, product } = await sessionCheckout(ann, adm, { price: 2500 });
		expect(order.status).toBe("pending");
		expect(order.payment).toMatchObject({ status: "requires_confirmation", provider: "simulated" });
		expect(order.payment.sessionId).toMatch(/^sim_pi_/);
		expect(order.payment.clientSecret).toContain("_secret_");
		expect(Date.parse(order.payment.expiresAt)).toBeGreaterThan(Date.now() + 800_000);
		expect(order.payment.confirmUrl).toContain(`/api/v1/payments/simulated/sessions/${order.payment.sessionId}?client_secret=`);

		// The page works without JavaScript: a form posting the card to the service.
		const page = await fetch(order.payment.confirmUrl);
		expect(page.status).toBe(200);
		expect(page.headers.get("content-type")).toContain("text/html");
		const html = await page.text();
		expect(html).toMatch(/<form method="post"/);
		expect(html).toContain('name="cardNumber"');
		expect(html).not.toContain("<script");

		const confirmed = await confirmCard(order.payment.confirmUrl, TEST_CARDS.approved);
		expect(confirmed).toEqual({ status: 200, body: { status: "authorized", declineReason: null } });
		const paid = await until(ann, order.id, o => o.status === "paid", "paid");
		expect(paid.payment).toMatchObject({ status: "captured", brand: "visa", last4: "4242" });
		expect(await ledger(order.payment.sessionId)).toBe(1);
		await eventually(async () => (eventsOf(order.id).includes("order.paid") ? true : undefined), 5000, "order.paid");
		expect(eventsOf(order.id).filter(t => t === "order.paid")).toHaveLength(1);
		expect(eventsOf(order.id).filter(t => t === "payment.captured")).toHaveLength(1);
		expect(await stockOf(adm, product.id)).toMatchObject({ stock: 9 });
	});

	it("takes the card from the HTML form (no JavaScript) too", async () => {
		const ann = await customer(shop, "Ann");
		const { order } = await sessionCheckout(ann, adm);
		const url = new URL(order.payment.confirmUrl);
		const form = new URLSearchParams({
			client_secret: url.searchParams.get("client_secret")!,
			cardNumber: TEST_CARDS.approved,
			expMonth: "12",
			expYear: "2031",
			cvc: "123",
		});
		const res = await fetch(`${url.origin}${url.pathname}`, {
			method: "POST",
			headers: { "content-type": "application/x-www-form-urlencoded" },
			body: form.toString(),
		});
		expect(res.status).toBe(200);
		expect(await res.text()).toContain("Payment authorized");
		await until(ann, order.id, o => o.status === "paid", "paid");
	});

	it("leads back to the shop only by a same-origin returnTo path: a link on the page and through the form; another origin is 422 naming returnTo", async () => {
		const ann = await customer(shop, "Ann");
		const { order } = await sessionCheckout(ann, adm);
		const back = `/orders/${order.id}`;
		const page = await fetch(`${order.payment.confirmUrl}&returnTo=${encodeURIComponent(back)}`);
		expect(page.status).toBe(200);
		const html = await page.text();
		expect(html).toContain(`<input type="hidden" name="returnTo" value="${back}">`);
		expect(html).toContain(`<a href="${back}">Return to the shop</a>`);
		for (const bad of ["//evil.example/x", "https://evil.example/", "/\\evil.example"]) {
			const res = await fetch(`${order.payment.confirmUrl}&returnTo=${encodeURIComponent(bad)}`);
			expect(res.status, bad).toBe(422);
			expect(await res.text(), bad).toContain("returnTo");
		}
		const url = new URL(order.payment.confirmUrl);
		const form = (returnTo: string) =>
			fetch(`${url.origin}${url.pathname}`, {
				method: "POST",
				headers: { "content-type": "application/x-www-form-urlencoded" },
				body: new URLSearchParams({
					client_secret: url.searchParams.get("client_secret")!,
					cardNumber: TEST_CARDS.approved,
					expMonth: "12",
					expYear: "2031",
					cvc: "123",
					returnTo,
				}).toString(),
			});
		expect((await form("//evil.example/")).status).toBe(422);
		expect((await orderOf(ann, order.id)).payment.status).toBe("requires_confirmation");
		const done = await form(back);
		expect(done.status).toBe(200);
		const answer = await done.text();
		expect(answer).toContain("Payment authorized");
		expect(answer).toContain(`<a href="${back}">Return to the shop</a>`);
		await until(ann, order.id, o => o.status === "paid", "paid");
	});

	it("keeps the session open after a declined card, with the reason, and takes another card", async () => {
		const ann = await customer(shop, "Ann");
		const { order } = await sessionCheckout(ann, adm);
		const declined = await confirmCard(order.payment.confirmUrl, TEST_CARDS.declined);
		expect(declined.body).toEqual({ status: "requires_confirmation", declineReason: "card_declined" });
		const pending = await until(ann, order.id, o => o.payment.declineReason === "card_declined", "decline recorded");
		expect(pending).toMatchObject({ status: "pending", payment: { status: "requires_confirmation", declineReason: "card_declined" } });
		await confirmCard(order.payment.confirmUrl, TEST_CARDS.approved);
		const paid = await until(ann, order.id, o => o.status === "paid", "paid");
		expect(paid.payment.declineReason).toBeUndefined();
		expect(await ledger(order.payment.sessionId)).toBe(1);
	});

	it("voids an authorization whose stock was refused, never capturing it", async () => {
		const ann = await customer(shop, "Ann");
		const bob = await customer(shop, "Bob");
		const first = await sessionCheckout(ann, adm, { stock: 1 });
		// Bob's order for the same last unit: refused at once by the catalog.
		await bob.http.post(`${V1}/cart/items`, { productId: first.product.id, quantity: 1 });
		const second = await bob.http.post(
			`${V1}/orders`,
			{ shippingAddress: first.order.shippingAddress, payment: { method: "session" } },
			{ "idempotency-key": `bob-${Date.now()}` },
		);
		expect(second.status).toBe(202);
		const refused = await until(bob, second.body.id, o => o.status === "cancelled", "out of stock");
		expect(refused.statusHistory.at(-1)).toMatchObject({ status: "cancelled", reason: "out_of_stock" });
		await confirmCard(second.body.payment.confirmUrl, TEST_CARDS.approved);
		const voided = await until(bob, second.body.id, o => o.payment.status === "voided", "voided");
		expect(voided.status).toBe("cancelled");
		expect(await ledger(second.body.payment.sessionId)).toBe(0);
	});

	it("a customer's cancel of a pending order cancels the session at the provider and releases the hold", async () => {
		const ann = await customer(shop, "Ann");
		const { order, product } = await sessionCheckout(ann, adm, { stock: 5, quantity: 2 });
		await eventually(async () => ((await stockOf(adm, product.id)).available === 3 ? true : undefined), 5000, "hold");
		const res = await ann.http.post(`${V1}/orders/${order.id}/cancel`);
		expect(res.status).toBe(200);
		const done = await until(ann, order.id, o => o.payment.status === "voided", "voided");
		expect(done.status).toBe("cancelled");
		await eventually(async () => ((await stockOf(adm, product.id)).available === 5 ? true : undefined), 5000, "released");
		// The session is gone at the provider: confirming it now authorizes nothing.
		expect((await confirmCard(order.payment.confirmUrl, TEST_CARDS.approved)).body.status).not.toBe("authorized");
		expect(await ledger(order.payment.sessionId)).toBe(0);
	});

	it("refuses card details in a session body, naming the fields", async () => {
		const ann = await customer(shop, "Ann");
		const res = await ann.http.post(
			`${V1}/orders`,
			{
				shippingAddress: { name: "A", line1: "B", city: "C", postalCode: "1", country: "DE" },
				payment: { method: "session", cardNumber: TEST_CARDS.approved },
			},
			{ "idempotency-key": `x-${Date.now()}` },
		);
		expect(res.status).toBe(422);
		expect(res.body.data.map((p: { field: string }) => p.field)).toContain("payment.cardNumber");
	});

	it("keeps no card number or CVC in any database file, log line or event", async () => {
		const ann = await customer(shop, "Ann");
		const { order } = await sessionCheckout(ann, adm);
		const pan = "5555555555554444";
		const url = new URL(order.payment.confirmUrl);
		await fetch(`${url.origin}${url.pathname}`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ client_secret: url.searchParams.get("client_secret"), cardNumber: pan, expMonth: 12, expYear: 2031, cvc: "987" }),
		});
		await until(ann, order.id, o => o.status === "paid", "paid");
		// Refused cards too: a bad number on the form, a bad CVC in a v1 body.
		const bad = new URLSearchParams({
			client_secret: url.searchParams.get("client_secret")!,
			cardNumber: "5555555555554443",
			expMonth: "12",
			expYear: "2031",
			cvc: "987",
		});
		await fetch(`${url.origin}${url.pathname}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: bad.toString() });
		await ann.http.post(`${V1}/cart/items`, { productId: (await sessionCheckout(ann, adm)).product.id, quantity: 1 });
		const v1 = { method: "card", cardNumber: pan, expMonth: 12, expYear: 2031, cvc: "98a" };
		expect(
			(await ann.http.post(`${V1}/orders`, { shippingAddress: order.shippingAddress, payment: v1 }, { "idempotency-key": `v1-${order.id}` })).status,
		).toBe(422);
		const placed = await ann.http.post(
			`${V1}/orders`,
			{ shippingAddress: order.shippingAddress, payment: { ...v1, cvc: "987" } },
			{ "idempotency-key": `v1b-${order.id}` },
		);
		expect(placed.status).toBe(202);
		await until(ann, placed.body.id, o => o.status === "paid", "v1 paid");
		await new Promise(r => setTimeout(r, 300));
		expect(logs.lines.some(l => l.includes(placed.body.id))).toBe(true);
		for (const line of [...logs.lines, ...payloads]) {
			expect(line).not.toContain(pan);
			expect(line).not.toContain("5555555555554443");
			expect(line).not.toMatch(/"cvc"|"987"|"98a"/);
		}
		expect(payloads.some(p => p.includes(placed.body.id))).toBe(true);
		const files: string[] = [];
		const walk = (dir: string) =>
			fs.readdirSync(dir, { withFileTypes: true }).forEach(e => (e.isDirectory() ? walk(path.join(dir, e.name)) : files.push(path.join(dir, e.name))));
		walk(shop.dataDir);
		for (const f of files) {
			const text = fs.readFileSync(f, "utf8");
			expect(text, f).not.toContain(pan);
			expect(text, f).not.toMatch(/"cvc"|cardNumber|"987"/);
		}
	});

	describe("refunds", () => {
		const refund = (orderId: string, amount: number, key: string, reason = "goodwill") =>
			adm.http.post(`${V1}/orders/${orderId}/refunds`, { amount, reason }, { "idempotency-key": key });
		const paidOrder = async (price: number) => {
			const ann = await customer(shop, "Ann");
			const { order } = await sessionCheckout(ann, adm, { price });
			await confirmCard(order.payment.confirmUrl, TEST_CARDS.approved);
			await until(ann, order.id, o => o.status === "paid", "paid");
			return { ann, order };
		};
		const sandboxRefunded = async (sessionId: string) =>
			(
				await (shop.broker.getLocalService("orders") as OrdersService)
					.collection<{ _id: string; refunded: number }>("sandbox_payments")
					.findById(sessionId)
			)?.refunded;

		it("partial refunds add up exactly; a repeated key refunds nothing more; beyond the capture is 422 naming amount", async () => {
			const { ann, order } = await paidOrder(2500);
			const tag = `r-${order.id}`;
			const first = await refund(order.id, 1000, `${tag}-a`);
			expect(first.status, JSON.stringify(first.body)).toBe(201);
			expect(first.body).toMatchObject({ orderId: order.id, amount: 1000, reason: "goodwill" });
			expect((await refund(order.id, 1000, `${tag}-a`)).body).toEqual(first.body);
			expect((await refund(order.id, 1000, `${tag}-b`)).status).toBe(201);
			const over = await refund(order.id, 501, `${tag}-c`);
			expect(over.status).toBe(422);
			expect(over.body.data.map((p: { field: string }) => p.field)).toEqual(["amount"]);
			expect((await refund(order.id, 500, `${tag}-d`)).status).toBe(201);
			const done = await orderOf(ann, order.id);
			expect(done.status).toBe("refunded");
			expect(done.payment.status).toBe("refunded");
			expect(done.refunds.map((r: { amount: number }) => r.amount)).toEqual([1000, 1000, 500]);
			expect(await sandboxRefunded(order.payment.sessionId)).toBe(2500);
			expect((await refund(order.id, 1, `${tag}-e`)).status).toBe(422);
			const customerTry = await ann.http.post(`${V1}/orders/${order.id}/refunds`, { amount: 1, reason: "x" }, { "idempotency-key": `${tag}-f` });
			expect(customerTry.status).toBe(403);
		});

		it("20 racing refunds never add up to more than the capture", async () => {
			const { ann, order } = await paidOrder(2500);
			const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => refund(order.id, 300, `race-${order.id}-${i}`)));
			const ok = answers.filter(a => a.status === 201).length;
			expect(answers.every(a => a.status === 201 || a.status === 422 || a.status === 409)).toBe(true);
			expect(ok).toBeLessThanOrEqual(8);
			const after = await orderOf(ann, order.id);
			const total = after.refunds.reduce((t: number, r: { amount: number }) => t + r.amount, 0);
			expect(total).toBe(ok * 300);
			expect(await sandboxRefunded(order.payment.sessionId)).toBe(total);
			expect(total).toBeLessThanOrEqual(2500);
		});

		it("a refund made at the provider (charge.refunded webhook) is reflected in the order", async () => {
			const { ann, order } = await paidOrder(2000);
			const svc = shop.broker.getLocalService("orders") as OrdersService & { simulated: { refund(r: object): Promise<unknown> } };
			await svc.simulated.refund({ idempotencyKey: `dashboard-${order.id}`, paymentId: order.payment.sessionId, amount: 400, currency: "EUR" });
			const after = await until(ann, order.id, o => o.refunds.length === 1, "refund reflected");
			expect(after.refunds[0]).toMatchObject({ amount: 400, reason: "provider" });
			expect(after.payment.status).toBe("partially_refunded");
			expect(after.status).toBe("paid");
			// Our own refund afterwards counts from what is left.
			expect((await refund(order.id, 1601, `after-${order.id}`)).status).toBe(422);
			expect((await refund(order.id, 1600, `after2-${order.id}`)).status).toBe(201);
			expect((await orderOf(ann, order.id)).status).toBe("refunded");
		});
	});
});
