/**
 * Failover. During a stream of checkouts from several customers, `kill -9` one of the two
 * `products` nodes and the only `orders` node, then start the `orders` node again. Clients do
 * what a well-behaved client does: retry a failed call, a checkout with the same Idempotency-Key.
 * Afterwards:
 *   - every accepted (202) order, and every order that exists at all, is `paid` or `cancelled`;
 *   - none is lost, and no Idempotency-Key made two orders;
 *   - no order was charged twice: at most one capture per order on Kafka (read with kcat), one
 *     for each paid order, and a capture of a cancelled order is refunded;
 *   - every product's stock is its initial stock minus the units of paid orders, exactly, and
 *     nothing is left held.
 * It also measures how long the cluster took to notice and get over the loss (printed).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutInfra } from "./infra.js";
import { groupAssignments, kcat, poll, sleep, startCluster, type NodeSpec, type TestCluster } from "../helpers/cluster.js";
import { admin, customer, type Account, type TestShop } from "../helpers/shop.js";
import type { HttpResponse } from "../helpers/shop.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"], ["kcat"]);

const LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "products-1", services: ["products"] },
	{ name: "products-2", services: ["products"] },
	{ name: "orders", services: ["orders", "pricing"] },
	{ name: "api", services: ["api"] },
];

const V1 = "/api/v1";
const ADDRESS = { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };
const payment = (cardNumber: string) => ({ method: "card", cardNumber, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" });
const CUSTOMERS = 6;
const STOCK = 150;
const STREAM_MS = 30_000;
const KILL_AT_MS = 6_000;
const RESTART_ORDERS_AFTER_MS = 10_000;

interface Attempted {
	key: string;
	account: Account;
	body: object;
	accepted?: string;
	statuses: number[];
}

describe.skipIf(skip)("failover: nodes killed during a stream of checkouts", () => {
	let cluster: TestCluster;
	let shop: TestShop;

	beforeAll(async () => {
		cluster = await startCluster({ name: "failover", nodes: LAYOUT });
		shop = cluster.asShop();
	}, 180_000);

	afterAll(async () => {
		await cluster?.stop();
	}, 60_000);

	it("loses no order, charges none twice, and keeps the stock exact", async () => {
		const boss = await admin(shop);
		const tag = randomUUID().slice(0, 6).toUpperCase();
		const productIds: string[] = [];
		for (let i = 0; i < 3; i++) {
			const res = await boss.http.post(`${V1}/products`, {
				sku: `FO-${tag}-${i}`,
				name: `Failover ${i}`,
				price: 1000 + i * 100,
				currency: "EUR",
				stock: STOCK,
			});
			expect(res.status, JSON.stringify(res.body)).toBe(201);
			productIds.push(res.body.id);
		}
		const accounts: Account[] = [];
		for (let i = 0; i < CUSTOMERS; i++) accounts.push(await customer(shop, `Buyer${i}`));

		// ---- the stream
		const t0 = Date.now();
		const streamEnd = t0 + STREAM_MS;
		const attempts: Attempted[] = [];
		const catalogFailures: { start: number; end: number }[] = [];
		const accepts: number[] = [];
		let rnd = 1;
		const random = () => (rnd = (rnd * 48271) % 2147483647) / 2147483647;

		/** Retry a call until `ok`, for at most `ms`; answers the last response. */
		async function retry(
			call: () => Promise<HttpResponse>,
			ok: (r: HttpResponse) => boolean,
			ms: number,
			statuses?: number[],
		): Promise<HttpResponse | undefined> {
			const until = Date.now() + ms;
			let last: HttpResponse | undefined;
			while (Date.now() < until) {
				try {
					last = await call();
					statuses?.push(last.status);
					if (ok(last)) return last;
					if (last.status < 500 && last.status !== 409 && last.status !== 429) return last; // a client error: retrying will not help
				} catch {
					statuses?.push(0);
				}
				await sleep(500);
			}
			return last;
		}

		async function buyer(acc: Account): Promise<void> {
			while (Date.now() < streamEnd) {
				const cleared = await retry(
					() => acc.http.delete(`${V1}/cart`),
					r => r.status === 200,
					20_000,
				);
				if (cleared?.status !== 200) continue;
				const lines = random() < 0.5 ? 1 : 2;
				let filled = true;
				for (let l = 0; l < lines && filled; l++) {
					const productId = productIds[Math.floor(random() * productIds.length)]!;
					const added = await retry(
						() => acc.http.post(`${V1}/cart/items`, { productId, quantity: 1 + Math.floor(random() * 2) }),
						r => r.status === 200,
						20_000,
					);
					filled = added?.status === 200;
				}
				if (!filled) continue;
				const card = random() < 0.1 ? "4000000000000002" : "4242424242424242";
				const a: Attempted = { key: randomUUID(), account: acc, body: { shippingAddress: ADDRESS, payment: payment(card) }, statuses: [] };
				attempts.push(a);
				const res = await retry(
					() => acc.http.post(`${V1}/orders`, a.body, { "idempotency-key": a.key }),
					r => r.status === 202,
					25_000,
					a.statuses,
				);
				if (res?.status === 202) {
					a.accepted = res.body.id;
					accepts.push(Date.now());
				}
			}
		}

		async function reader(): Promise<void> {
			while (Date.now() < streamEnd) {
				const start = Date.now();
				try {
					const r = await shop.http.get(`${V1}/products/${productIds[0]}`);
					if (r.status !== 200) catalogFailures.push({ start, end: Date.now() });
				} catch {
					catalogFailures.push({ start, end: Date.now() });
				}
				await sleep(100);
			}
		}

		const timeline: Record<string, number> = {};
		async function chaos(): Promise<void> {
			await sleep(KILL_AT_MS);
			timeline.kill = Date.now();
			await Promise.all([cluster.kill("products-1", "SIGKILL"), cluster.kill("orders", "SIGKILL")]);
			// When does the cluster (any broker, e.g. the gateway's) notice? Heartbeats: 2 s, timeout 6 s.
			const noticed = (name: string) =>
				poll(
					async () => (cluster.probe.registry.nodes.get(cluster.node(name).nodeId)?.available ? undefined : Date.now()),
					30_000,
					`${name} to be noticed dead`,
					50,
				);
			const [products, orders] = await Promise.all([noticed("products-1"), noticed("orders")]);
			timeline.productsNoticed = products;
			timeline.ordersNoticed = orders;
			// A supervisor brings the orders node back a little later.
			await sleep(Math.max(0, timeline.kill + RESTART_ORDERS_AFTER_MS - Date.now()));
			timeline.restart = Date.now();
			cluster.spawn("orders");
			await cluster.waitNodeReady("orders", 60_000);
			timeline.ordersReady = Date.now();
		}

		await Promise.all([...accounts.map(buyer), reader(), reader(), chaos()]);
		timeline.streamEnd = Date.now();

		// ---- every order settles
		const accepted = attempts.filter(a => a.accepted);
		expect(accepted.length).toBeGreaterThan(20);
		const existing = new Map<
			string,
			{
				id: string;
				status: string;
				items: { productId: string; quantity: number }[];
				payment: { status: string };
				statusHistory: { status: string; reason?: string }[];
			}
		>();
		await poll(
			async () => {
				existing.clear();
				for (const acc of accounts) {
					const res = await acc.http.get(`${V1}/orders?pageSize=100`);
					if (res.status !== 200) return undefined;
					for (let page = 1; page <= res.body.totalPages; page++) {
						const rows = page === 1 ? res.body.rows : (await acc.http.get(`${V1}/orders?pageSize=100&page=${page}`)).body.rows;
						for (const o of rows) existing.set(o.id, o);
					}
				}
				return [...existing.values()].every(o => o.status === "paid" || o.status === "cancelled") ? true : undefined;
			},
			120_000,
			"every order to be paid or cancelled",
			1000,
		).catch(err => {
			const stuck = [...existing.values()].filter(o => o.status !== "paid" && o.status !== "cancelled");
			throw new Error(
				`${(err as Error).message}; ${stuck.length} not settled, e.g. ${JSON.stringify(stuck.slice(0, 3))}\n${cluster.logTail("orders", 20)}`,
			);
		});
		timeline.settled = Date.now();

		// None lost: every accepted order exists.
		for (const a of accepted) expect(existing.has(a.accepted!), `accepted order ${a.accepted} is missing`).toBe(true);
		expect(new Set(accepted.map(a => a.accepted)).size).toBe(accepted.length);
		// Each Idempotency-Key made at most one order, and every order belongs to one key: sent again
		// with the same key and body, a checkout answers its order (or, with no order, finds the cart empty).
		const owners = new Map<string, number>();
		let inUse = 0;
		for (const a of attempts) {
			const res = await a.account.http.post(`${V1}/orders`, a.body, { "idempotency-key": a.key });
			if (res.status === 200 || res.status === 202) {
				if (a.accepted) expect(res.body.id).toBe(a.accepted);
				expect(existing.has(res.body.id), `key ${a.key} answers an order that does not exist`).toBe(true);
				owners.set(res.body.id, (owners.get(res.body.id) ?? 0) + 1);
			} else if (res.status === 409) {
				inUse++; // a checkout that died mid-way holds its key for a minute
			} else {
				expect(a.accepted, `accepted key ${a.key} answered ${res.status}`).toBeUndefined();
				expect(res.status, JSON.stringify(res.body)).toBe(422);
			}
		}
		for (const [id, n] of owners) expect(n, `order ${id} answered for ${n} keys`).toBe(1);
		const unclaimed = [...existing.keys()].filter(id => !owners.has(id));
		expect(unclaimed.length, `orders no key answers: ${unclaimed.join(", ")}`).toBeLessThanOrEqual(inUse);

		// Charged once: captures per order on Kafka, read from the outside. A settled order's events
		// may still be on their way out of its outbox: read until every paid order's capture is there.
		const captures = new Map<string, Set<string>>();
		const refunds = new Map<string, number>();
		const paidIds = [...existing.values()].filter(o => o.status === "paid").map(o => o.id);
		const payments = await poll(
			async () => {
				const records = await kcat(cluster.kafkaBrokers, cluster.topic("payments"));
				captures.clear();
				refunds.clear();
				for (const r of records) {
					const orderId = r.value.payload.orderId as string;
					if (r.value.type === "payment.captured")
						captures.set(orderId, (captures.get(orderId) ?? new Set()).add(r.value.payload.paymentId as string));
					if (r.value.type === "payment.refunded") refunds.set(orderId, (refunds.get(orderId) ?? 0) + 1);
				}
				return paidIds.every(id => captures.has(id)) ? records : undefined;
			},
			30_000,
			"the capture of every paid order on Kafka",
			1000,
		).catch(err => {
			throw new Error(`${(err as Error).message}: missing for ${paidIds.filter(id => !captures.has(id)).join(", ")}`);
		});
		let paid = 0;
		let cancelled = 0;
		for (const o of existing.values()) {
			const caps = captures.get(o.id)?.size ?? 0;
			expect(caps, `captures of order ${o.id}`).toBeLessThanOrEqual(1);
			if (o.status === "paid") {
				paid++;
				expect(caps, `paid order ${o.id} has its capture on Kafka`).toBe(1);
				expect(o.payment.status).toBe("captured");
			} else {
				cancelled++;
				expect(o.payment.status).not.toBe("captured");
				if (caps > 0) expect(refunds.get(o.id) ?? 0, `cancelled order ${o.id} was captured: refunded`).toBeGreaterThan(0);
			}
		}

		// Stock: initial minus what paid orders took, exactly; nothing held.
		const sold = new Map<string, number>();
		for (const o of existing.values())
			if (o.status === "paid") for (const it of o.items) sold.set(it.productId, (sold.get(it.productId) ?? 0) + it.quantity);
		await poll(
			async () => {
				for (const id of productIds) {
					const p = (await boss.http.get(`${V1}/products/${id}`)).body;
					if (p.stock !== STOCK - (sold.get(id) ?? 0) || p.available !== p.stock) return undefined;
				}
				return true;
			},
			30_000,
			"stock = initial - paid units",
		).catch(async err => {
			const now = await Promise.all(productIds.map(async id => (await boss.http.get(`${V1}/products/${id}`)).body));
			throw new Error(
				`${(err as Error).message}: ${JSON.stringify(now.map((p, i) => ({ stock: p.stock, available: p.available, expected: STOCK - (sold.get(productIds[i]!) ?? 0) })))}`,
			);
		});

		// The surviving products node took over every partition of the dead one.
		const members = await groupAssignments(cluster.kafkaBrokers, cluster.group("products"));
		expect(members.map(m => m.clientId)).toEqual([cluster.node("products-2").nodeId]);

		// ---- figures
		const kill = timeline.kill!;
		const lastCatalogFailure = catalogFailures.filter(f => f.end >= kill).at(-1);
		const firstAcceptAfterRestart = accepts.find(t => t > timeline.restart!);
		const gaveUp = attempts.filter(a => !a.accepted).length;
		const reasons = new Map<string, number>();
		for (const o of existing.values())
			if (o.status === "cancelled") reasons.set(o.statusHistory.at(-1)?.reason ?? "?", (reasons.get(o.statusHistory.at(-1)?.reason ?? "?") ?? 0) + 1);
		const retried = attempts.filter(a => a.statuses.length > 1).length;
		const s = (ms?: number) => (ms === undefined ? "n/a" : `${(ms / 1000).toFixed(1)} s`);
		console.info(
			[
				`[failover] checkouts attempted ${attempts.length}, accepted ${accepted.length} (${retried} needed retries, ${gaveUp} gave up), orders existing ${existing.size}: paid ${paid}, cancelled ${cancelled} (${[...reasons].map(([r, n]) => `${r} ${n}`).join(", ")}); replayed keys: ${owners.size} answered their order, ${inUse} still in use`,
				`[failover] payment events on Kafka ${payments.length}; orders with a capture ${captures.size}; units sold ${[...sold.values()].reduce((a, b) => a + b, 0)}`,
				`[failover] kill -9 noticed after ${s(timeline.productsNoticed! - kill)} (products-1) and ${s(timeline.ordersNoticed! - kill)} (orders); ${catalogFailures.length} catalog reads failed, the last one ${lastCatalogFailure ? `sent ${s(lastCatalogFailure.start - kill)} after the kill, failing after ${s(lastCatalogFailure.end - lastCatalogFailure.start)}` : "n/a"}`,
				`[failover] orders restarted ${s(timeline.restart! - kill)} after kill, ready ${s(timeline.ordersReady! - timeline.restart!)} later; first checkout accepted ${s(firstAcceptAfterRestart ? firstAcceptAfterRestart - timeline.restart! : undefined)} after restart`,
				`[failover] all orders settled ${s(timeline.settled! - timeline.streamEnd!)} after the stream ended`,
			].join("\n"),
		);
		// Heartbeat timeout 6 s, checked every 6 s: at most about 14 s, on a loaded machine a little more.
		expect(timeline.productsNoticed! - kill).toBeLessThan(20_000);
	}, 420_000);
});
