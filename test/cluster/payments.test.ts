/**
 * The payment race on a real cluster: two orders nodes on NATS, Kafka and FerretDB, the
 * simulated provider's webhooks not delivered by itself (the test sends them). A client's poll,
 * the same signed webhook 50 times at once (spread by NATS over both orders nodes) and both
 * nodes' sweeps asking the provider → exactly one capture in the sandbox ledger, one order.paid on
 * Kafka, the order paid.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mongoose from "mongoose";
import { INFRA, skipWithoutInfra } from "./infra.js";
import { kcat, poll, startCluster, type NodeSpec, type TestCluster } from "../helpers/cluster.js";
import { admin, customer, type TestShop } from "../helpers/shop.js";
import { ADDRESS, signedEvent } from "../helpers/payments.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"], ["kcat"]);

const LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "products", services: ["products"] },
	{ name: "orders-1", services: ["orders", "pricing"] },
	{ name: "orders-2", services: ["orders", "pricing"] },
	{ name: "api", services: ["api"] },
];
const V1 = "/api/v1";
const RECONCILE_AFTER_S = 3;
/** The secret the test cluster gives every node (test/helpers/cluster.ts). */
const SECRET = `whsec_${Buffer.from("cluster-test-simulated-provider-secret").toString("base64")}`;

describe.skipIf(skip)("payments on the cluster", () => {
	let cluster: TestCluster;
	let shop: TestShop;

	beforeAll(async () => {
		cluster = await startCluster({
			name: "payments",
			nodes: LAYOUT,
			env: { SIMULATED_WEBHOOK_DROP: "true", PAYMENT_RECONCILE_AFTER_SECONDS: String(RECONCILE_AFTER_S) },
		});
		shop = cluster.asShop();
	}, 180_000);

	afterAll(async () => {
		await cluster?.stop();
	}, 60_000);

	it("the race: poll + the same webhook 50 times + both nodes' sweeps → one capture, one order.paid on Kafka, paid", async () => {
		const adm = await admin(shop);
		const ann = await customer(shop, "Ann");
		const product = await adm.http.post(`${V1}/products`, { sku: `PAY-${randomUUID().slice(0, 8)}`, name: "Lamp", price: 1999, currency: "EUR", stock: 5 });
		expect(product.status).toBe(201);
		expect((await ann.http.post(`${V1}/cart/items`, { productId: product.body.id, quantity: 1 })).status).toBe(200);
		const placed = await ann.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment: { method: "session" } }, { "idempotency-key": randomUUID() });
		expect(placed.status, JSON.stringify(placed.body)).toBe(202);
		const order = placed.body;
		expect(order.payment.sessionId).toMatch(/^sim_pi_/);
		await poll(async () => ((await adm.http.get(`${V1}/products/${product.body.id}`)).body.available === 4 ? true : undefined), 30_000, "stock held");

		const url = new URL(order.payment.confirmUrl);
		const confirm = await fetch(`${shop.baseUrl}${url.pathname}`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({
				client_secret: url.searchParams.get("client_secret"),
				cardNumber: "4242424242424242",
				expMonth: 12,
				expYear: 2031,
				cvc: "123",
			}),
		});
		expect(await confirm.json()).toMatchObject({ status: "authorized" });

		const session = {
			sessionId: order.payment.sessionId,
			orderId: order.id,
			status: "authorized",
			amount: order.total,
			currency: order.currency,
			clientSecret: order.payment.clientSecret,
			amountRefunded: 0,
			refunds: [],
			declineReason: null,
			brand: "visa",
			last4: "4242",
		};
		const { body, headers } = signedEvent(
			{ id: `evt_${randomUUID()}`, type: "payment_intent.amount_capturable_updated", created: Math.floor(Date.now() / 1000), data: { object: session } },
			SECRET,
		);
		const due = Date.parse(order.createdAt) + RECONCILE_AFTER_S * 1000 + 50;
		await new Promise(r => setTimeout(r, Math.max(0, due - Date.now())));
		const answers = await Promise.all([
			...Array.from({ length: 50 }, () =>
				fetch(`${shop.baseUrl}${V1}/payments/webhooks/simulated`, {
					method: "POST",
					headers: { "content-type": "application/json", ...headers },
					body,
				}).then(r => r.status),
			),
			ann.http.get(`${V1}/orders/${order.id}`).then(r => r.status),
		]);
		expect(answers.every(s => s === 200)).toBe(true);

		const paid = await poll(
			async () => {
				const o = await ann.http.get(`${V1}/orders/${order.id}`);
				return o.body.status === "paid" ? o.body : undefined;
			},
			30_000,
			"paid",
		);
		expect(paid.payment.status).toBe("captured");

		const conn = await mongoose.createConnection(`${INFRA.mongo}/${cluster.dbPrefix}orders`).asPromise();
		try {
			expect(await conn.collection("sandbox_ledger").countDocuments({ id: order.payment.sessionId })).toBe(1);
			expect(await conn.collection("payment_events").countDocuments({ orderId: order.id })).toBe(1);
		} finally {
			await conn.close();
		}
		const paidEvents = await poll(
			async () => {
				const records = (await kcat(cluster.kafkaBrokers, cluster.topic("orders"))).filter(r => r.key === order.id && r.value.type === "order.paid");
				return records.length > 0 ? records : undefined;
			},
			30_000,
			"order.paid on Kafka",
		);
		await new Promise(r => setTimeout(r, 2000));
		const again = (await kcat(cluster.kafkaBrokers, cluster.topic("orders"))).filter(r => r.key === order.id && r.value.type === "order.paid");
		expect(paidEvents.length).toBe(1);
		expect(again.length).toBe(1);
		const captures = (await kcat(cluster.kafkaBrokers, cluster.topic("payments"))).filter(r => r.key === order.id && r.value.type === "payment.captured");
		expect(captures).toHaveLength(1);
	}, 120_000);
});
