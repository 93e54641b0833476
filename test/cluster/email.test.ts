/**
 * Email on the cluster (users, products, orders + pricing, notifications, api: one process each,
 * on NATS, Kafka and FerretDB), through a real SMTP server and read back through Mailpit's HTTP
 * API: a Spanish customer's verification email and its link, a password reset that ends the old
 * password and every old access token, exactly one payment confirmation with the order's totals
 * even when Kafka delivers `order.paid` twice, and no email lost or doubled while the SMTP server
 * is away for 20 s. The test runs a Mailpit of its own (the binary `npm run infra:up` installs),
 * on other ports, so it may stop and start it. Last, an erasure: every service acknowledges, the
 * paid order stays in the admin's list with its totals, and no database of the cluster holds the
 * erased address any more; it needs the shared one to be up like every
 * other server (REQUIRE_INFRA=1 fails without it).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mongoose from "mongoose";
import { INFRA, skipWithoutInfra } from "./infra.js";
import { kcat, poll, sleep, startCluster, type NodeSpec, type TestCluster } from "../helpers/cluster.js";
import { admin, freePort, login, uniqueEmail, type Account, type TestShop } from "../helpers/shop.js";
import { KafkaBus } from "../../lib/events/kafka-bus.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";

const MAILPIT_BIN = process.env.MAILPIT_BIN ?? path.join(process.env.SHOP_CACHE ?? path.join(os.homedir(), ".cache", "shop"), "bin", "mailpit-v1.33.1");
const skip = await skipWithoutInfra(["nats", "mongo", "kafka", "mailpit"], ["kcat"], [MAILPIT_BIN]);

const LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "products", services: ["products"] },
	{ name: "orders", services: ["orders", "pricing"] },
	{ name: "tickets", services: ["tickets"] },
	{ name: "notifications", services: ["notifications"] },
	{ name: "api", services: ["api"] },
];
const V1 = "/api/v1";
const PUBLIC_URL = "https://shop.example";
const PASSWORD = "correct-horse-battery";
const ADDRESS = { name: "Ana", line1: "Calle Mayor 1", city: "Madrid", postalCode: "28013", country: "ES" };
const CARD = { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" };

/** A Mailpit of this test's own: SMTP and HTTP on free ports, its messages in a temporary directory. */
class OwnMailpit {
	private proc?: ChildProcess;
	readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailpit-test-"));
	constructor(
		readonly smtpPort: number,
		readonly httpPort: number,
	) {}

	async up(): Promise<void> {
		this.proc = spawn(
			MAILPIT_BIN,
			["--smtp", `127.0.0.1:${this.smtpPort}`, "--listen", `127.0.0.1:${this.httpPort}`, "--database", path.join(this.dir, "mailpit.db"), "--quiet"],
			{ stdio: "ignore" },
		);
		await poll(async () => ((await fetch(this.api("/info")).catch(() => null))?.ok ? true : undefined), 20_000, "Mailpit to answer");
	}

	async down(): Promise<void> {
		const p = this.proc;
		if (!p || p.exitCode !== null) return;
		const exited = new Promise(r => p.once("exit", r));
		p.kill("SIGTERM");
		await Promise.race([exited, sleep(5000)]);
		if (p.exitCode === null) p.kill("SIGKILL");
	}

	api(p: string): string {
		return `http://127.0.0.1:${this.httpPort}/api/v1${p}`;
	}

	/** Every message to `to`, each in full (text, HTML, headers). */
	async messagesTo(to: string): Promise<{ ID: string; Subject: string; MessageID: string; Text: string; HTML: string; headers: Record<string, string[]> }[]> {
		const list = (await (await fetch(this.api(`/search?limit=200&query=${encodeURIComponent(`to:"${to}"`)}`))).json()) as { messages: { ID: string }[] };
		return Promise.all(
			list.messages.map(async m => {
				const full = (await (await fetch(this.api(`/message/${m.ID}`))).json()) as {
					ID: string;
					Subject: string;
					MessageID: string;
					Text: string;
					HTML: string;
				};
				const headers = (await (await fetch(this.api(`/message/${m.ID}/headers`))).json()) as Record<string, string[]>;
				return { ...full, headers };
			}),
		);
	}
}

describe.skipIf(skip)("email on the cluster, through Mailpit", () => {
	let cluster: TestCluster;
	let shop: TestShop;
	let boss: Account;
	let mailpit: OwnMailpit;

	beforeAll(async () => {
		mailpit = new OwnMailpit(await freePort(), await freePort());
		await mailpit.up();
		cluster = await startCluster({
			name: "email",
			nodes: LAYOUT,
			env: {
				SMTP_URL: `smtp://127.0.0.1:${mailpit.smtpPort}`,
				MAIL_FROM: "Test Shop <shop@example.com>",
				SHOP_NAME: "Test Shop",
				PUBLIC_URL,
				EMAIL_RETRY_SCHEDULE: "1,2,3,5,5,5,5,5,5,5",
			},
		});
		shop = cluster.asShop();
		boss = await admin(shop);
		const m = await boss.http.post(`${V1}/shipping-methods`, { name: "Estándar", countries: ["ES"], price: 500, currency: "EUR", minDays: 1, maxDays: 3 });
		expect(m.status).toBe(201);
		expect((await boss.http.put(`${V1}/tax-rates/ES`, { rate: 2100 })).status).toBe(200);
	}, 240_000);

	afterAll(async () => {
		await cluster?.stop();
		await mailpit?.down();
	}, 60_000);

	const tokenIn = (text: string, page: string) => decodeURIComponent(new RegExp(`${PUBLIC_URL}/${page}\\?token=([A-Za-z0-9_%-]+)`).exec(text)![1]!);

	function mailsTo(to: string, match: (m: { Subject: string }) => boolean, count: number, what: string) {
		return poll(
			async () => {
				const all = (await mailpit.messagesTo(to)).filter(match);
				return all.length >= count ? all : undefined;
			},
			60_000,
			what,
			500,
		);
	}

	async function register(name: string, language?: string): Promise<string> {
		const email = uniqueEmail(
			name
				.normalize("NFD")
				.replace(/[^A-Za-z]/g, "")
				.toLowerCase(),
		);
		const res = await shop.http.post(`${V1}/auth/register`, { email, password: PASSWORD, name, ...(language ? { preferences: { language } } : {}) });
		expect(res.status, JSON.stringify(res.body)).toBe(201);
		return email;
	}

	async function pay(acc: Account): Promise<{ id: string; total: number; subtotal: number; shippingTotal: number; taxTotal: number }> {
		const sku = `EM-${randomUUID().slice(0, 8)}`;
		const product = await boss.http.post(`${V1}/products`, { sku, name: "Taza <b>grande</b>", price: 1250, currency: "EUR", stock: 50 });
		expect(product.status).toBe(201);
		expect((await acc.http.post(`${V1}/cart/items`, { productId: product.body.id, quantity: 2 })).status).toBe(200);
		const placed = await acc.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment: CARD }, { "idempotency-key": randomUUID() });
		expect(placed.status, JSON.stringify(placed.body)).toBe(202);
		return poll(
			async () => {
				const o = await acc.http.get(`${V1}/orders/${placed.body.id}`);
				return o.body.status === "paid" ? o.body : undefined;
			},
			60_000,
			"the order to be paid",
		);
	}

	it("registration sends one email: the verification, in Spanish for a Spanish customer; its link verifies", async () => {
		const email = await register("Lucía", "es-ES");
		const [mail] = await mailsTo(email, () => true, 1, "the verification email");
		expect(mail!.Subject).toBe("Confirma tu dirección de correo en Test Shop");
		expect(mail!.Text).toContain("Hola, Lucía:");
		expect(mail!.headers["List-Unsubscribe"]).toBeUndefined();
		const token = tokenIn(mail!.Text, "verify-email");
		expect((await shop.http.post(`${V1}/auth/verify-email`, { token })).status).toBe(204);
		const lucia = await login(shop, email, PASSWORD);
		expect((await lucia.http.get(`${V1}/me`)).body.emailVerified).toBe(true);
		await sleep(1000);
		expect(await mailpit.messagesTo(email)).toHaveLength(1);
	});

	it("password reset: the emailed link sets a new password; the old one and every old access token stop working", async () => {
		const email = await register("Rosa");
		const rosa = await login(shop, email, PASSWORD);
		expect((await shop.http.post(`${V1}/auth/password-reset`, { email })).status).toBe(202);
		const [reset] = await mailsTo(email, m => m.Subject.startsWith("Reset"), 1, "the reset email");
		const token = tokenIn(reset!.Text, "reset-password");
		expect((await shop.http.post(`${V1}/auth/password-reset/confirm`, { token, newPassword: "another-long-secret" })).status).toBe(204);
		expect((await shop.http.post(`${V1}/auth/login`, { email, password: PASSWORD })).status).toBe(401);
		expect((await shop.http.post(`${V1}/auth/login`, { email, password: "another-long-secret" })).status).toBe(200);
		await poll(async () => ((await rosa.http.get(`${V1}/me`)).status === 401 ? true : undefined), 5000, "the old access token refused");
		expect((await shop.http.post(`${V1}/auth/password-reset/confirm`, { token, newPassword: "a-third-long-secret" })).status).toBe(422);
	});

	it("an order paid: exactly one confirmation with the order's totals, even when Kafka delivers order.paid twice more", async () => {
		const email = await register("Pablo", "es");
		const pablo = await login(shop, email, PASSWORD);
		const order = await pay(pablo);
		const [paid] = await mailsTo(email, m => m.Subject.startsWith("Pago recibido"), 1, "the payment confirmation");
		const eur = (n: number) => new Intl.NumberFormat("es", { style: "currency", currency: "EUR" }).format(n / 100);
		expect(paid!.Text).toContain(`Subtotal: ${eur(order.subtotal)}`);
		expect(paid!.Text).toContain(`Envío (Estándar): ${eur(order.shippingTotal)}`);
		expect(paid!.Text).toContain(`Impuestos (incluidos): ${eur(order.taxTotal)}`);
		expect(paid!.Text).toContain(`Total: ${eur(order.total)}`);
		expect(paid!.HTML).toContain("Taza &lt;b&gt;grande&lt;/b&gt;");
		expect(paid!.headers["List-Unsubscribe-Post"]).toEqual(["List-Unsubscribe=One-Click"]);

		// The very envelope from Kafka, published again twice: the consumers see it as redelivered.
		const records = await kcat(cluster.kafkaBrokers, cluster.topic("orders"));
		const event = records.find(r => r.value.type === "order.paid" && r.value.payload.orderId === order.id)!.value as unknown as EventEnvelope;
		const logger = { info() {}, warn() {}, debug() {}, error() {}, fatal() {}, trace() {} } as never;
		const bus = new KafkaBus({ brokers: cluster.kafkaBrokers.split(","), clientId: "email-test", logger, topicPrefix: `${cluster.namespace}.` });
		try {
			await bus.connect();
			await bus.publish([event]);
			await bus.publish([event]);
		} finally {
			await bus.disconnect();
		}
		await sleep(5000);
		expect((await mailpit.messagesTo(email)).filter(m => m.Subject.startsWith("Pago recibido"))).toHaveLength(1);
	}, 90_000);

	it("SMTP away for 20 s while three orders are paid: afterwards exactly three confirmations, none twice", async () => {
		const email = await register("Olga");
		const olga = await login(shop, email, PASSWORD);
		await mailsTo(email, () => true, 1, "the verification email");
		await mailpit.down();
		const downAt = Date.now();
		const orders = [];
		for (let i = 0; i < 3; i++) orders.push(await pay(olga));
		await sleep(Math.max(0, 20_000 - (Date.now() - downAt)));
		await mailpit.up();
		const paid = await mailsTo(email, m => m.Subject.startsWith("Payment received"), 3, "three confirmations");
		await sleep(8000); // any repeat would have come by now
		const all = await mailpit.messagesTo(email);
		const confirmations = all.filter(m => m.Subject.startsWith("Payment received"));
		expect(confirmations).toHaveLength(3);
		expect(new Set(confirmations.map(m => m.MessageID)).size).toBe(3);
		for (const o of orders) expect(paid.some(m => m.Text.includes(o.id.slice(0, 8)))).toBe(true);
		expect(all.filter(m => m.Subject.startsWith("Order received"))).toHaveLength(3);
	}, 150_000);

	it("erasure: every service acknowledges, the paid order stays with its totals, the address is in no database", async () => {
		const email = await register("Erika");
		const erika = await login(shop, email, PASSWORD);
		const order = await pay(erika);
		expect((await erika.http.post(`${V1}/me/addresses`, { ...ADDRESS, label: "Casa" })).status).toBe(201);
		const ticket = await erika.http.post(`${V1}/tickets`, { type: "inquiry", subject: "Pedido", message: "¿Cuándo llega?", orderId: order.id });
		expect(ticket.status).toBe(201);
		await mailsTo(email, m => m.Subject.startsWith("Payment received"), 1, "the payment confirmation");
		expect((await erika.http.request("DELETE", `${V1}/me`, { password: PASSWORD })).status).toBe(202);
		const done = await poll(
			async () => {
				const u = (await boss.http.get(`${V1}/users/${erika.id}`)).body;
				return u.erasure?.completedAt ? u : undefined;
			},
			60_000,
			"every service to acknowledge",
		);
		expect(done.erasure.acknowledged).toEqual(["notifications", "orders", "pricing", "tickets", "users"]);
		const kept = (await boss.http.get(`${V1}/orders?all=true&pageSize=100`)).body.rows as { id: string; total: number }[];
		expect(kept.find(o => o.id === order.id)?.total).toBe(order.total);

		const conn = await mongoose.createConnection(INFRA.mongo, { serverSelectionTimeoutMS: 5000 }).asPromise();
		try {
			const dbs = (await conn.db!.admin().listDatabases()).databases.map(d => d.name).filter(n => n.startsWith(cluster.dbPrefix));
			expect(dbs.length).toBeGreaterThanOrEqual(5);
			const holding: string[] = [];
			for (const name of dbs) {
				const db = conn.useDb(name).db!;
				for (const c of await db.listCollections().toArray()) {
					for await (const doc of db.collection(c.name).find({})) if (JSON.stringify(doc).includes(email)) holding.push(`${name}.${c.name}`);
				}
			}
			expect(holding).toEqual([]);
		} finally {
			await conn.close();
		}
	}, 120_000);
});
