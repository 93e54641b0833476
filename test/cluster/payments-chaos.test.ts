/**
 * Chaos for payments: the orders node is killed (SIGKILL) between authorization and capture.
 *
 * A real cluster (NATS, Kafka, FerretDB) with the simulated payment service delivering its signed
 * webhooks over HTTP. Every order's work runs on orders-1 (orders-2 stands by, stopped). 24 session
 * checkouts are placed and their stock held; then the customers confirm their cards, four at a
 * time, and each authorization's webhook is sent 300 ms later. While that runs, orders-1 is frozen
 * (SIGSTOP) again and again and its state read from the database; the first time some orders are
 * authorized at the provider and not captured while others already are, it is killed where it
 * stands (SIGKILL): no guess at a timing, the state says the kill fell in the window. Then orders-2
 * and orders-1 come back together, the customers whose confirmation got no answer confirm again,
 * and they poll their orders (a few tabs each), so both nodes' sweeps and polls race for the same
 * orders. In the end:
 *   - every order is `paid`, its payment captured;
 *   - one capture per order in the simulated service's ledger (none twice, none missing);
 *   - one `order.paid` and one `payment.captured` per order on Kafka (copies of one event, which the
 *     relay may publish again after a kill, are counted apart: consumers apply each event id once);
 *   - each product's stock exact (one sold, nothing held).
 * And, on the same cluster, the sweep forgets applied provider event ids past
 * PAYMENT_EVENTS_RETENTION_DAYS in FerretDB.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mongoose from "mongoose";
import { INFRA, skipWithoutInfra } from "./infra.js";
import { kcat, poll, sleep, startCluster, type NodeSpec, type TestCluster } from "../helpers/cluster.js";
import { admin, customer, type Account, type TestShop } from "../helpers/shop.js";
import { stockOf } from "../helpers/commerce.js";
import { YEAR, sessionCheckout } from "../helpers/payments.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"], ["kcat"]);

const LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "products", services: ["products"] },
	{ name: "orders-1", services: ["orders", "pricing"] },
	{ name: "orders-2", services: ["orders", "pricing"] },
	{ name: "api", services: ["api"] },
];
const V1 = "/api/v1";
const CUSTOMERS = 4;
const ORDERS_EACH = 6;
const STOCK = 3;

interface Placed {
	acc: Account;
	orderId: string;
	productId: string;
	sessionId: string;
	confirmUrl: string;
}

type Stage = "unconfirmed" | "authorized, webhook not applied" | "authorized, capture pending" | "captured, not recorded" | "paid";

interface StoredOrder {
	_id: string;
	status: string;
	payment: { status: string; session?: { stockReserved: boolean } };
}

describe.skipIf(skip)("chaos: the orders node killed between authorization and capture", () => {
	let cluster: TestCluster;
	let shop: TestShop;
	let db: mongoose.Connection;

	beforeAll(async () => {
		cluster = await startCluster({
			name: "paychaos",
			nodes: LAYOUT,
			env: { PAYMENT_RECONCILE_AFTER_SECONDS: "3", SIMULATED_WEBHOOK_DELAY_MS: "300" },
		});
		shop = cluster.asShop();
		db = await mongoose.createConnection(`${INFRA.mongo}/${cluster.dbPrefix}orders`).asPromise();
	}, 180_000);

	afterAll(async () => {
		await db?.close();
		await cluster?.stop();
	}, 60_000);

	/** Where each order's payment stands, from the orders database (the provider's sandbox and the orders). */
	async function stages(placed: Placed[]): Promise<Map<string, Stage>> {
		const ids = placed.map(p => p.orderId);
		const sessions = await db
			.collection<{ _id: string; status: string }>("sandbox_sessions")
			.find({ _id: { $in: placed.map(p => p.sessionId) } })
			.toArray();
		const orders = await db
			.collection<StoredOrder>("orders")
			.find({ _id: { $in: ids } })
			.toArray();
		const atProvider = new Map(sessions.map(s => [s._id, s.status]));
		const byId = new Map(orders.map(o => [o._id, o]));
		const out = new Map<string, Stage>();
		for (const p of placed) {
			const order = byId.get(p.orderId);
			const provider = atProvider.get(p.sessionId);
			if (order?.status === "paid") out.set(p.orderId, "paid");
			else if (provider === "captured") out.set(p.orderId, "captured, not recorded");
			else if (provider === "authorized")
				out.set(p.orderId, order?.payment.status === "authorized" ? "authorized, capture pending" : "authorized, webhook not applied");
			else out.set(p.orderId, "unconfirmed");
		}
		return out;
	}

	const count = (s: Map<string, Stage>, ...which: Stage[]) => [...s.values()].filter(v => which.includes(v)).length;
	const describeStages = (s: Map<string, Stage>) =>
		(["unconfirmed", "authorized, webhook not applied", "authorized, capture pending", "captured, not recorded", "paid"] as Stage[])
			.map(st => `${st}: ${count(s, st)}`)
			.join(", ");

	/** The customer's card on the simulated service's page (JSON), through the gateway; null when no answer came. */
	async function confirm(p: Placed): Promise<string | null> {
		const url = new URL(p.confirmUrl);
		try {
			const res = await fetch(`${shop.baseUrl}${url.pathname}`, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({
					client_secret: url.searchParams.get("client_secret"),
					cardNumber: "4242424242424242",
					expMonth: 12,
					expYear: YEAR,
					cvc: "123",
				}),
				signal: AbortSignal.timeout(15_000),
			});
			if (res.status !== 200) return null;
			return ((await res.json()) as { status: string }).status;
		} catch {
			return null;
		}
	}

	it("every order ends paid, with one capture at the provider and one order.paid on Kafka, stock exact", async () => {
		const adm = await admin(shop);
		const accounts = await Promise.all(Array.from({ length: CUSTOMERS }, (_, i) => customer(shop, `Payer${i}`)));
		// orders-2 stands by: every order's work (confirmations, webhooks, captures) is orders-1's, the node that dies.
		await cluster.kill("orders-2", "SIGTERM");

		const placed: Placed[] = (
			await Promise.all(
				accounts.map(async acc => {
					const mine: Placed[] = [];
					for (let i = 0; i < ORDERS_EACH; i++) {
						const { order, product } = await sessionCheckout(acc, adm, { stock: STOCK });
						expect(order.payment.sessionId).toMatch(/^sim_pi_/);
						mine.push({ acc, orderId: order.id, productId: product.id, sessionId: order.payment.sessionId, confirmUrl: order.payment.confirmUrl });
					}
					return mine;
				}),
			)
		).flat();
		const ids = placed.map(p => p.orderId);
		// Every order's stock is held before any card is confirmed: an authorization is then captured as soon as the shop learns of it.
		await poll(
			async () =>
				(await db.collection<StoredOrder>("orders").countDocuments({ _id: { $in: ids }, "payment.session.stockReserved": true })) === placed.length
					? true
					: undefined,
			60_000,
			"every order's stock held",
		);

		const victim = cluster.node("orders-1").proc!.child;
		let killed = false;
		const answers = new Map<string, string | null>();
		const confirming = Promise.all(
			Array.from({ length: 4 }, async (_, stream) => {
				for (const p of placed.filter((_, i) => i % 4 === stream)) {
					if (killed) return;
					answers.set(p.orderId, await confirm(p));
				}
			}),
		);

		// Freeze orders-1, read where the payments stand, and kill it there once it is between authorizations and captures.
		let atKill: Map<string, Stage> | null = null;
		for (let attempt = 0; attempt < 600 && !atKill; attempt++) {
			await sleep(25);
			victim.kill("SIGSTOP");
			const seen = await stages(placed).catch(err => {
				victim.kill("SIGCONT");
				throw err;
			});
			const inWindow = count(seen, "authorized, webhook not applied", "authorized, capture pending");
			if (inWindow >= 2 && count(seen, "captured, not recorded", "paid") >= 1) {
				victim.kill("SIGKILL");
				killed = true;
				atKill = seen;
			} else victim.kill("SIGCONT");
		}
		expect(atKill, "orders-1 was never seen between authorization and capture").not.toBeNull();
		await cluster.kill("orders-1");
		await confirming;
		// What the dead node left, once writes it had sent are done (the database no longer changes: no orders node runs).
		let left = await stages(placed);
		for (let i = 0; i < 10; i++) {
			await sleep(200);
			const again = await stages(placed);
			if (describeStages(again) === describeStages(left)) break;
			left = again;
		}
		console.info(`[paychaos] frozen and killed with ${describeStages(atKill!)}`);
		console.info(`[paychaos] left behind: ${describeStages(left)}`);
		expect(count(left, "authorized, webhook not applied", "authorized, capture pending"), "orders authorized, not captured at the kill").toBeGreaterThan(0);
		expect(count(left, "paid"), "orders still to be finished").toBeLessThan(placed.length);

		const restart = Date.now();
		cluster.spawn("orders-2");
		cluster.spawn("orders-1");
		await Promise.all([cluster.waitNodeReady("orders-2", 90_000), cluster.waitNodeReady("orders-1", 90_000)]);
		// A customer whose confirmation got no answer (or was never sent) confirms again: accepted, whether the provider saw the first one or not.
		const retried = placed.filter(p => answers.get(p.orderId) !== "authorized");
		for (const p of retried) expect(await confirm(p), `confirming ${p.orderId} again`).toBe("authorized");
		console.info(`[paychaos] ${retried.length} customers confirmed again after the restart`);
		// Each customer waits on the order page, in a few tabs: polls spread over both nodes race their sweeps.
		const settled = await Promise.all(
			placed.map(p =>
				poll(
					async () => {
						const seen = await Promise.all([1, 2, 3].map(() => p.acc.http.get(`${V1}/orders/${p.orderId}`)));
						return seen.find(r => r.body?.status === "paid")?.body;
					},
					90_000,
					`order ${p.orderId} paid`,
					300,
				),
			),
		);
		console.info(`[paychaos] every order paid ${((Date.now() - restart) / 1000).toFixed(1)} s after orders-1 and orders-2 were started`);
		for (const order of settled) expect(order.payment.status).toBe("captured");

		const ledger = await db
			.collection<{ id: string; kind: string }>("sandbox_ledger")
			.find({ kind: "capture", id: { $in: placed.map(p => p.sessionId) } })
			.toArray();
		const capturesOf = (sessionId: string) => ledger.filter(e => e.id === sessionId).length;
		expect(
			placed.filter(p => capturesOf(p.sessionId) !== 1).map(p => `${p.orderId}: ${capturesOf(p.sessionId)}`),
			"orders without exactly one capture",
		).toEqual([]);

		const eventsOf = async (family: string, type: string) => {
			const records = (await kcat(cluster.kafkaBrokers, cluster.topic(family))).filter(r => r.value.type === type && ids.includes(r.key));
			return { records, distinct: (id: string) => new Set(records.filter(r => r.key === id).map(r => r.value.id)).size };
		};
		await poll(async () => ((await eventsOf("orders", "order.paid")).records.length >= placed.length ? true : undefined), 60_000, "order.paid on Kafka");
		await sleep(2000);
		const paidEvents = await eventsOf("orders", "order.paid");
		const captured = await eventsOf("payments", "payment.captured");
		console.info(
			`[paychaos] order.paid records ${paidEvents.records.length}, payment.captured records ${captured.records.length}, for ${placed.length} orders`,
		);
		expect(
			ids.filter(id => paidEvents.distinct(id) !== 1),
			"orders without exactly one order.paid",
		).toEqual([]);
		expect(
			ids.filter(id => captured.distinct(id) !== 1),
			"orders without exactly one payment.captured",
		).toEqual([]);

		await poll(
			async () => {
				const now = await Promise.all(placed.map(p => stockOf(adm, p.productId)));
				return now.every(s => s.stock === STOCK - 1 && s.available === STOCK - 1) ? true : undefined;
			},
			60_000,
			"each product's stock down by the one sold, nothing held",
		);
	}, 400_000);

	it("the orders nodes' sweep forgets applied payment event ids older than the retention (30 days) in FerretDB, and keeps younger ones", async () => {
		const applied = db.collection<{ _id: string; orderId: string | null; type: string; at: string }>("payment_events");
		const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
		const [old, young] = [`simulated:evt_old_${Date.now()}`, `simulated:evt_young_${Date.now()}`];
		await applied.insertMany([
			{ _id: old, orderId: null, type: "payment_intent.succeeded", at: daysAgo(31) },
			{ _id: young, orderId: null, type: "payment_intent.succeeded", at: daysAgo(29) },
		]);
		await poll(async () => ((await applied.countDocuments({ _id: old })) === 0 ? true : undefined), 30_000, "the old event id forgotten by a sweep");
		expect(await applied.countDocuments({ _id: young })).toBe(1);
		expect(await applied.countDocuments({ at: { $lt: daysAgo(30) } })).toBe(0);
		const indexes = await applied.indexes();
		expect(indexes.some(i => Object.keys(i.key).join() === "at")).toBe(true);
	}, 60_000);
});
