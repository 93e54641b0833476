/**
 * Email on embedded defaults (no SMTP_URL: the development mailbox in the notifications database,
 * read through the admin's GET /mailbox): verification, password reset, order emails, escaping,
 * one-click unsubscribe, one email per event, and retries then dead-lettering against an SMTP
 * server that is not there.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, login, startShop, uniqueEmail, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf, newProduct } from "../helpers/commerce.js";
import { currentBus } from "../../lib/events/registry.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";
import type { Collection } from "../../lib/store/index.js";
import type { AccountTokenRecord } from "../../services/users/account-tokens.js";

const V1 = "/api/v1";
const PUBLIC_URL = "https://shop.example";
const PASSWORD = "correct-horse-battery";

let shop: TestShop;
let boss: Account;

beforeAll(async () => {
	shop = await startShop({
		services: ["users", "api", "products", "orders", "pricing", "tickets", "notifications"],
		env: { ...ADMIN_ENV, PUBLIC_URL, SHOP_NAME: "Test Shop", ACCOUNT_EMAILS_PER_ADDRESS_PER_HOUR: "1000", ACCOUNT_EMAILS_PER_CLIENT_PER_HOUR: "100000" },
	});
	boss = await admin(shop);
	expect(
		(await boss.http.post(`${V1}/shipping-methods`, { name: "Standard", countries: ["DE"], price: 490, currency: "EUR", minDays: 2, maxDays: 4 })).status,
	).toBe(201);
	expect((await boss.http.put(`${V1}/tax-rates/DE`, { rate: 1900 })).status).toBe(200);
});
afterAll(async () => {
	await shop?.stop();
});

interface Mail {
	id: string;
	kind: string;
	to: string;
	subject: string;
	state: string;
	messageId: string;
	text: string;
	html: string;
	headers: Record<string, string>;
}

/** Every email to `to`, oldest first, read in full through the admin's mailbox. */
async function mailbox(to: string): Promise<Mail[]> {
	const list = await boss.http.get(`${V1}/mailbox?pageSize=100&to=${encodeURIComponent(to)}`);
	expect(list.status).toBe(200);
	const rows = [...(list.body.rows as { id: string }[])].reverse();
	return Promise.all(
		rows.map(async r => {
			const one = await boss.http.get(`${V1}/mailbox/${r.id}`);
			expect(one.status).toBe(200);
			return one.body as Mail;
		}),
	);
}

function waitForMail(to: string, match: (m: Mail) => boolean, what: string): Promise<Mail> {
	return eventually(async () => (await mailbox(to)).find(match), 15_000, what, 100);
}

const tokenIn = (mail: Mail, path: string) => {
	const m = new RegExp(`${PUBLIC_URL}/${path}\\?token=([A-Za-z0-9_%-]+)`).exec(mail.text);
	expect(m, `a ${path} link in ${mail.text}`).not.toBeNull();
	return decodeURIComponent(m![1]!);
};

async function register(name: string, preferences?: Record<string, unknown>): Promise<{ email: string; id: string }> {
	const email = uniqueEmail(name.toLowerCase().replace(/[^a-z]/g, "") || "x");
	const res = await shop.http.post(`${V1}/auth/register`, { email, password: PASSWORD, name, ...(preferences ? { preferences } : {}) });
	expect(res.status, JSON.stringify(res.body)).toBe(201);
	return { email, id: res.body.user.id };
}

async function paidOrder(buyer: Account, productName = "Mug", code?: string): Promise<{ id: string; total: number }> {
	const product = await newProduct(boss, { name: productName, price: 1999, stock: 10 });
	expect((await buyer.http.post(`${V1}/cart/items`, { productId: product.id, quantity: 2 })).status).toBe(200);
	if (code) expect((await buyer.http.put(`${V1}/cart/promotion`, { code })).status).toBe(200);
	const placed = await buyer.http.post(
		`${V1}/orders`,
		{
			shippingAddress: { name: buyer.email, line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" },
			payment: { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123" },
		},
		{ "idempotency-key": randomUUID() },
	);
	expect(placed.status, JSON.stringify(placed.body)).toBe(202);
	return eventually(
		async () => {
			const o = await buyer.http.get(`${V1}/orders/${placed.body.id}`);
			return o.body.status === "paid" ? o.body : undefined;
		},
		15_000,
		"the order to be paid",
	);
}

describe("verification", () => {
	it("registration sends exactly one email, the verification, whose link verifies once", async () => {
		const { email } = await register("Vera");
		const mail = await waitForMail(email, m => m.kind === "verification" && m.state === "sent", "the verification email sent");
		expect(mail.subject).toBe("Confirm your email address for Test Shop");
		expect(mail.headers["List-Unsubscribe"]).toBeUndefined();
		expect(mail.html).toContain(`href="${PUBLIC_URL}/verify-email?token`);
		// Give stray emails a moment to show: there must be none.
		await new Promise(r => setTimeout(r, 500));
		expect(await mailbox(email)).toHaveLength(1);

		const vera = await login(shop, email, PASSWORD);
		expect((await vera.http.get(`${V1}/me`)).body.emailVerified).toBe(false);
		const token = tokenIn(mail, "verify-email");
		expect((await shop.http.post(`${V1}/auth/verify-email`, { token })).status).toBe(204);
		expect((await vera.http.get(`${V1}/me`)).body.emailVerified).toBe(true);
		const again = await shop.http.post(`${V1}/auth/verify-email`, { token });
		expect(again.status).toBe(422);
		expect(fieldsOf(again.body)).toEqual(["token"]);
	});

	it("a Spanish customer gets it in Spanish; POST /me/verify-email sends a new one", async () => {
		const { email } = await register("Lola", { language: "es-ES" });
		const first = await waitForMail(email, m => m.kind === "verification", "the verification email");
		expect(first.subject).toBe("Confirma tu dirección de correo en Test Shop");
		expect(first.html).toContain('<html lang="es">');
		const lola = await login(shop, email, PASSWORD);
		expect((await lola.http.post(`${V1}/me/verify-email`, {})).status).toBe(202);
		await eventually(async () => ((await mailbox(email)).length === 2 ? true : undefined), 10_000, "a second verification email");
		const [, second] = await mailbox(email);
		expect(tokenIn(second!, "verify-email")).not.toBe(tokenIn(first, "verify-email"));
		expect((await shop.http.post(`${V1}/auth/verify-email`, { token: tokenIn(second!, "verify-email") })).status).toBe(204);
	});
});

describe("password reset", () => {
	it("answers a known and an unknown address alike; the emailed link sets a new password once and ends every session", async () => {
		const { email } = await register("Rita");
		const rita = await login(shop, email, PASSWORD);
		const unknown = await shop.http.post(`${V1}/auth/password-reset`, { email: uniqueEmail("nobody") });
		const known = await shop.http.post(`${V1}/auth/password-reset`, { email: email.toUpperCase() });
		expect(known.status).toBe(202);
		expect(unknown.status).toBe(202);
		expect(known.body).toEqual(unknown.body);

		const mail = await waitForMail(email, m => m.kind === "password_reset", "the reset email");
		expect(mail.headers["List-Unsubscribe"]).toBeUndefined();
		const token = tokenIn(mail, "reset-password");

		const weak = await shop.http.post(`${V1}/auth/password-reset/confirm`, { token, newPassword: "password123" });
		expect(weak.status).toBe(422);
		expect(fieldsOf(weak.body)).toEqual(["newPassword"]);
		const done = await shop.http.post(`${V1}/auth/password-reset/confirm`, { token, newPassword: "a-brand-new-secret" });
		expect(done.status).toBe(204);

		expect((await shop.http.post(`${V1}/auth/login`, { email, password: PASSWORD })).status).toBe(401);
		expect((await shop.http.post(`${V1}/auth/login`, { email, password: "a-brand-new-secret" })).status).toBe(200);
		expect((await shop.http.post(`${V1}/auth/refresh`, { refreshToken: rita.refreshToken })).status).toBe(401);
		await eventually(async () => ((await rita.http.get(`${V1}/me`)).status === 401 ? true : undefined), 5000, "the old access token refused");

		const reused = await shop.http.post(`${V1}/auth/password-reset/confirm`, { token, newPassword: "yet-another-secret" });
		expect(reused.status).toBe(422);
		expect(fieldsOf(reused.body)).toEqual(["token"]);
		const made = await shop.http.post(`${V1}/auth/password-reset/confirm`, { token: "made-up-token", newPassword: "yet-another-secret" });
		expect(made.status).toBe(422);
		expect(fieldsOf(made.body)).toEqual(["token"]);
	});

	it("an expired link is refused with 422 naming token", async () => {
		const { email } = await register("Exp");
		expect((await shop.http.post(`${V1}/auth/password-reset`, { email })).status).toBe(202);
		const token = tokenIn(await waitForMail(email, m => m.kind === "password_reset", "the reset email"), "reset-password");
		const users = shop.broker.getLocalService("users") as unknown as { collection(name: string): Collection<AccountTokenRecord> };
		// 30 minutes later: the record's expiry moved into the past.
		expect(
			await users
				.collection("account_tokens")
				.updateWhere({ kind: "password_reset", usedAt: null, expiresAt: { $gt: Date.now() + 29 * 60_000 } }, { $set: { expiresAt: Date.now() - 1 } }),
		).toBeGreaterThanOrEqual(1);
		const res = await shop.http.post(`${V1}/auth/password-reset/confirm`, { token, newPassword: "a-brand-new-secret" });
		expect(res.status).toBe(422);
		expect(fieldsOf(res.body)).toEqual(["token"]);
		expect((await shop.http.post(`${V1}/auth/login`, { email, password: PASSWORD })).status).toBe(200);
	});

	it("takes as long for an unknown address as for a known one (medians of 50 each, loosely)", async () => {
		const { email } = await register("Tim");
		const timeOf = async (address: string) => {
			const t0 = process.hrtime.bigint();
			const res = await shop.http.post(`${V1}/auth/password-reset`, { email: address });
			expect(res.status).toBe(202);
			return Number(process.hrtime.bigint() - t0) / 1e6;
		};
		const known: number[] = [];
		const unknown: number[] = [];
		for (let i = 0; i < 50; i++) {
			known.push(await timeOf(email));
			unknown.push(await timeOf(uniqueEmail("ghost")));
		}
		const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
		const [k, u] = [median(known), median(unknown)];
		// Noise only: neither median is twice the other (an email sent inline, or a skipped store, would be).
		expect(Math.max(k, u) / Math.min(k, u)).toBeLessThan(2);
	});
});

describe("order emails", () => {
	it("a paid order's email lists the items, discount, shipping, tax and total in the buyer's locale; a hostile product name arrives as text", async () => {
		const code = `E${randomUUID().slice(0, 6).toUpperCase()}`;
		expect((await boss.http.post(`${V1}/promotions`, { code, type: "percent", value: 10 })).status).toBe(201);
		const reg = await register("<b>Mallory</b>", { language: "es" });
		const buyer = await login(shop, reg.email, PASSWORD);
		const hostile = "<img src=x onerror=alert(1)>";
		const order = await paidOrder(buyer, hostile, code);
		const full = (await buyer.http.get(`${V1}/orders/${order.id}`)).body;
		const mail = await waitForMail(reg.email, m => m.kind === "order.paid", "the paid email");

		expect(mail.subject).toBe("Pago recibido · Test Shop");
		expect(mail.html).not.toContain("<img src=x");
		expect(mail.html).toContain("&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;");
		expect(mail.html).not.toContain("<b>Mallory</b>");
		expect(mail.text).toContain(hostile);
		const eur = (n: number) => new Intl.NumberFormat("es", { style: "currency", currency: "EUR" }).format(n / 100);
		for (const [label, amount] of [
			["Subtotal", full.subtotal],
			[`Descuento (${code})`, -full.discountTotal],
			["Envío (Standard)", full.shippingTotal],
			["Impuestos (incluidos)", full.taxTotal],
			["Total", full.total],
		] as const) {
			expect(mail.text).toContain(`${label}: ${eur(amount)}`);
		}
		expect(full.discountTotal).toBeGreaterThan(0);
		expect(mail.headers["List-Unsubscribe"]).toMatch(new RegExp(`^<${PUBLIC_URL}/api/v1/email/unsubscribe\\?token=`));
		expect(mail.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
		expect(mail.messageId).toMatch(/^<[0-9a-f-]{36}@shop\.example>$/);
		// The order placed email came first, one each.
		const kinds = (await mailbox(reg.email)).map(m => m.kind);
		expect(kinds.filter(k => k === "order.placed")).toHaveLength(1);
		expect(kinds.filter(k => k === "order.paid")).toHaveLength(1);
	});

	it("order.paid delivered twice (and once more after a crash before it was recorded) sends one email", async () => {
		const ann = await customer(shop, "Ann");
		await paidOrder(ann);
		await waitForMail(ann.email, m => m.kind === "order.paid", "the paid email");
		const orderId = randomUUID();
		const event: EventEnvelope<"order.shipped"> = {
			id: randomUUID(),
			type: "order.shipped",
			key: orderId,
			source: "orders",
			occurredAt: new Date().toISOString(),
			requestId: null,
			payload: { orderId, userId: ann.id },
		};
		const bus = currentBus(shop.broker)!;
		await bus.publish([event]);
		await bus.publish([event]);
		const svc = shop.broker.getLocalService("notifications") as unknown as { collection(name: string): Collection<{ _id: string }> };
		expect(await svc.collection("processed_events").removeWhere({ _id: event.id })).toBe(1);
		await bus.publish([event]);
		await new Promise(r => setTimeout(r, 300));
		const shipped = (await mailbox(ann.email)).filter(m => m.kind === "order.shipped");
		expect(shipped).toHaveLength(1);
		expect(shipped[0]!.state).toBe("sent");
	});
});

describe("shipping emails", () => {
	it("an order shipped in two parcels: one email for the partial parcel, one for the order shipped with both tracking links, in Spanish", async () => {
		const reg = await register("Pilar", { language: "es" });
		const buyer = await login(shop, reg.email, PASSWORD);
		const order = await paidOrder(buyer);
		const itemId = (await buyer.http.get(`${V1}/orders/${order.id}`)).body.items[0].itemId as string;
		const dhl = "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id=JD0146000062";
		const ups = "https://www.ups.com/track?tracknum=1Z999AA10123456784";
		const first = await boss.http.post(`${V1}/orders/${order.id}/fulfilments`, {
			items: [{ itemId, quantity: 1 }],
			carrier: "dhl",
			trackingNumber: "JD0146000062",
		});
		expect(first.status, JSON.stringify(first.body)).toBe(201);
		const partial = await waitForMail(reg.email, m => m.kind === "order.fulfilment-created", "the partial parcel email");
		expect(partial.subject).toBe("Parte de tu pedido enviada · Test Shop");
		expect(partial.text).toContain(`Tu paquete:\n- DHL JD0146000062: ${dhl}\n`);
		expect(partial.html).toContain(`href="${dhl.replaceAll("=", "&#x3D;").replaceAll("&tracking", "&amp;tracking")}"`);

		const rest = await boss.http.post(`${V1}/orders/${order.id}/fulfilments`, { carrier: "ups", trackingNumber: "1Z999AA10123456784" });
		expect(rest.status, JSON.stringify(rest.body)).toBe(201);
		expect(rest.body.status).toBe("shipped");
		const shipped = await waitForMail(reg.email, m => m.kind === "order.shipped", "the shipped email");
		expect(shipped.subject).toBe("Pedido enviado · Test Shop");
		expect(shipped.text).toContain(`Tus 2 paquetes:\n- DHL JD0146000062: ${dhl}\n- UPS 1Z999AA10123456784: ${ups}\n`);
		expect(shipped.html).toContain(`href="${ups.replaceAll("=", "&#x3D;")}"`);
		expect(shipped.html).toContain("Seguir el paquete");
		expect(shipped.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");

		// Exactly one email per event: the last parcel's own event sends none (order.shipped tells of it).
		await new Promise(r => setTimeout(r, 500));
		const kinds = (await mailbox(reg.email)).map(m => m.kind).filter(k => k === "order.fulfilment-created" || k === "order.shipped");
		expect(kinds).toEqual(["order.fulfilment-created", "order.shipped"]);
	});
});

describe("one-click unsubscribe", () => {
	it("the List-Unsubscribe URL, POSTed as RFC 8058 says, turns email notifications off without a login", async () => {
		const bob = await customer(shop, "Bob");
		await paidOrder(bob);
		const mail = await waitForMail(bob.email, m => m.kind === "order.paid", "the paid email");
		const url = /^<(.+)>$/.exec(mail.headers["List-Unsubscribe"]!)![1]!.replace(PUBLIC_URL, shop.baseUrl);
		const res = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "List-Unsubscribe=One-Click" });
		expect(res.status).toBe(204);
		expect((await bob.http.get(`${V1}/me`)).body.preferences.notifications).toEqual({ email: false, inApp: true });
		// Idempotent, and a tampered token is refused.
		expect((await fetch(url, { method: "POST", body: "List-Unsubscribe=One-Click" })).status).toBe(204);
		const bad = await shop.http.post(`${V1}/email/unsubscribe?token=${encodeURIComponent(`${Buffer.from(boss.id).toString("base64url")}.forged`)}`, {});
		expect(bad.status).toBe(422);
		expect(fieldsOf(bad.body)).toEqual(["token"]);
		expect((await boss.http.get(`${V1}/me`)).body.preferences.notifications.email).toBe(true);

		// No more order emails; the in-app notification still comes.
		const before = (await mailbox(bob.email)).length;
		const order = await paidOrder(bob);
		await eventually(async () => {
			const notes = (await bob.http.get(`${V1}/me/notifications?pageSize=100`)).body.rows as { type: string; ref: { id: string } }[];
			return notes.some(n => n.type === "order.paid" && n.ref.id === order.id) ? true : undefined;
		});
		expect(await mailbox(bob.email)).toHaveLength(before);
	});
});

describe("limits and failures", () => {
	it("reset requests are rate-limited per address; an SMTP server that is not there: retried, then dead-lettered and kept", async () => {
		const small = await startShop({
			services: ["users", "api", "notifications"],
			env: {
				...ADMIN_ENV,
				SMTP_URL: "smtp://127.0.0.1:9",
				MAIL_FROM: "shop@example.com",
				EMAIL_RETRY_SCHEDULE: "0.2,0.2",
				ACCOUNT_EMAILS_PER_ADDRESS_PER_HOUR: "3",
			},
		});
		try {
			const email = uniqueEmail("limited");
			expect((await small.http.post(`${V1}/auth/register`, { email, password: PASSWORD, name: "Lim" })).status).toBe(201);
			const answers = [];
			for (let i = 0; i < 4; i++) answers.push(await small.http.post(`${V1}/auth/password-reset`, { email }));
			expect(answers.map(a => a.status)).toEqual([202, 202, 202, 429]);
			expect(Number(answers[3]!.headers.get("retry-after"))).toBeGreaterThan(0);

			const adm = await admin(small);
			const dead = await eventually(
				async () => {
					const rows = (await adm.http.get(`${V1}/mailbox?state=dead&to=${encodeURIComponent(email)}`)).body.rows as {
						kind: string;
						attempts: number;
						lastError: string;
					}[];
					return rows.length === 4 ? rows : undefined;
				},
				15_000,
				"the emails dead-lettered",
			);
			expect(dead.every(r => r.attempts === 3 && r.lastError.length > 0)).toBe(true);
		} finally {
			await small.stop();
		}
	});
});
