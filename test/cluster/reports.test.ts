/**
 * Sales at a glance in the real cluster (NATS, FerretDB, Kafka): the reports node is fed only by
 * the integration events on Kafka. Orders are placed through the gateway and end paid, cancelled
 * after payment (refunded in full), declined, or paid and then refunded in part by an admin; the
 * sales per day and the top products the reports API answers must equal a computation from
 * GET /orders?all=true, in the shop's time zone, to the cent. Then events already on Kafka are
 * produced again by an outside client (kcat, the same records: a redelivery) and the same fact in
 * a new envelope: the reports node takes them (its consumed counter says so) and the figures do
 * not move.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutInfra } from "./infra.js";
import { kcat, poll, startCluster, type KafkaRecord, type NodeSpec, type TestCluster } from "../helpers/cluster.js";
import { admin, customer, type Account, type TestShop } from "../helpers/shop.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"]);

const LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "products", services: ["products"] },
	{ name: "orders", services: ["orders", "pricing"] },
	{ name: "reports", services: ["reports"] },
	{ name: "api", services: ["api"] },
];
const V1 = "/api/v1";
const TIME_ZONE = "Pacific/Kiritimati"; // UTC+14: the shop's day is not the UTC day
const ORDERS = 24;
const GOOD_CARD = "4242424242424242";
const DECLINED_CARD = "4000000000000002";
const ADDRESS = { name: "Ann", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };

interface PublicOrder {
	id: string;
	status: string;
	total: number;
	items: { productId: string; quantity: number; lineTotal: number; discount: number }[];
	statusHistory: { status: string; at: string }[];
	refunds: { id: string; amount: number; at: string }[];
	payment: { status: string };
}
interface Sales {
	timeZone: string;
	totals: { orders: number; revenue: number; refunds: number };
	buckets: { start: string; orders: number; revenue: number; refunds: number; net: number; averageOrderValue: number }[];
}

const day = (instant: string | number) => new Date(instant).toLocaleDateString("en-CA", { timeZone: TIME_ZONE });

/** Produce records again with kcat, byte for byte the same value, key and headers. */
function produce(brokers: string, topic: string, records: { key: string; headers: Record<string, string>; value: unknown }[]): Promise<void> {
	return Promise.all(
		records.map(
			r =>
				new Promise<void>((resolve, reject) => {
					const args = ["-b", brokers, "-P", "-t", topic, "-k", r.key, ...Object.entries(r.headers).flatMap(([k, v]) => ["-H", `${k}=${v}`])];
					const child = execFile("kcat", args, { timeout: 30_000 }, err => (err ? reject(new Error(`kcat -P ${topic}: ${err.message}`)) : resolve()));
					child.stdin!.end(JSON.stringify(r.value));
				}),
		),
	).then(() => undefined);
}

describe.skipIf(skip)("reports: the read model in the cluster, fed from Kafka", () => {
	let cluster: TestCluster;
	let shop: TestShop;
	let boss: Account;
	let range = "";

	beforeAll(async () => {
		cluster = await startCluster({ name: "reports", nodes: LAYOUT, env: { SHOP_TIMEZONE: TIME_ZONE } });
		shop = cluster.asShop();
		boss = await admin(shop);
	}, 180_000);

	afterAll(async () => {
		await cluster?.stop();
	}, 60_000);

	async function ok<T = any>(res: Promise<{ status: number; body: T }>, status = 200): Promise<T> {
		const r = await res;
		expect(r.status, JSON.stringify(r.body)).toBe(status);
		return r.body;
	}

	async function settled(buyer: Account, id: string, done: (o: PublicOrder) => boolean): Promise<PublicOrder> {
		return poll(
			async () => {
				const o = (await buyer.http.get(`${V1}/orders/${id}`)).body as PublicOrder;
				return done(o) ? o : undefined;
			},
			30_000,
			`order ${id}`,
		);
	}
	const isSettled = (o: PublicOrder) => !(o.status === "pending" || (o.status === "cancelled" && o.payment.status === "authorized"));

	async function allOrders(): Promise<PublicOrder[]> {
		const orders: PublicOrder[] = [];
		for (let page = 1; ; page++) {
			const body = await ok(boss.http.get(`${V1}/orders?all=true&pageSize=100&page=${page}`));
			orders.push(...body.rows);
			if (orders.length >= body.total) return orders;
		}
	}

	/** Per shop day: paid orders, revenue, refunds; per product: revenue (what the orders themselves say). */
	function expected(orders: PublicOrder[]) {
		const days = new Map<string, { orders: number; revenue: number; refunds: number }>();
		const at = (d: string) => days.get(d) ?? days.set(d, { orders: 0, revenue: 0, refunds: 0 }).get(d)!;
		const products = new Map<string, number>();
		for (const o of orders) {
			const paid = o.statusHistory.find(h => h.status === "paid");
			if (paid) {
				at(day(paid.at)).orders += 1;
				at(day(paid.at)).revenue += o.total;
				for (const i of o.items) products.set(i.productId, (products.get(i.productId) ?? 0) + i.lineTotal - i.discount);
			}
			for (const r of o.refunds) at(day(r.at)).refunds += r.amount;
		}
		const totals = [...days.values()].reduce((t, d) => ({ orders: t.orders + d.orders, revenue: t.revenue + d.revenue, refunds: t.refunds + d.refunds }), {
			orders: 0,
			revenue: 0,
			refunds: 0,
		});
		return { days, products, totals };
	}

	const sales = () => ok<Sales>(boss.http.get(`${V1}/reports/sales?${range}`));
	const top = async () => (await ok(boss.http.get(`${V1}/reports/top-products?${range}`))).products as { productId: string; revenue: number }[];

	it("sales per day and the top products equal a computation from GET /orders?all=true, to the cent", async () => {
		const products: { id: string }[] = [];
		for (const [i, price] of [1999, 2500, 349, 12_000, 799, 4550, 101, 3333, 15_999, 650, 2200, 999].entries())
			products.push(
				await ok(
					boss.http.post(`${V1}/products`, {
						sku: `RC-${i}-${randomUUID().slice(0, 6)}`,
						name: `Report ${i}`,
						price,
						currency: "EUR",
						stock: 10_000,
					}),
					201,
				),
			);
		const buyers = await Promise.all(Array.from({ length: 4 }, (_, i) => customer(shop, `buyer${i}`)));
		const from = day(Date.now() - 86_400_000);

		const place = async (buyer: Account, n: number) => {
			for (const [i, p] of [products[n % 12]!, products[(n * 5 + 1) % 12]!].entries())
				await ok(buyer.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 1 + ((n + i) % 3) }));
			const outcome = n % 6; // 0-2 paid, 3 cancelled after payment, 4 declined, 5 paid then refunded in part
			const body = {
				shippingAddress: ADDRESS,
				payment: { method: "card", cardNumber: outcome === 4 ? DECLINED_CARD : GOOD_CARD, expMonth: 12, expYear: 2035, cvc: "123" },
			};
			const placed = await ok(buyer.http.post(`${V1}/orders`, body, { "idempotency-key": randomUUID() }), 202);
			const order = await settled(buyer, placed.id, isSettled);
			if (outcome === 4) return expect(order.status).toBe("cancelled");
			expect(order.status).toBe("paid");
			if (outcome === 3) {
				await ok(buyer.http.post(`${V1}/orders/${order.id}/cancel`, {}));
				await settled(buyer, order.id, o => o.status === "refunded");
			}
			if (outcome === 5) {
				await ok(
					boss.http.post(
						`${V1}/orders/${order.id}/refunds`,
						{ amount: Math.floor(order.total / 3), reason: "damaged" },
						{ "idempotency-key": randomUUID() },
					),
					201,
				);
				await settled(buyer, order.id, o => o.refunds.length === 1);
			}
		};
		for (let round = 0; round < ORDERS / buyers.length; round++) await Promise.all(buyers.map((b, i) => place(b, round * buyers.length + i)));
		range = `from=${from}&to=${day(Date.now() + 86_400_000)}`;

		const orders = await allOrders();
		expect(orders).toHaveLength(ORDERS);
		const want = expected(orders);
		expect(want.totals.refunds).toBeGreaterThan(0);
		const report = await poll(
			async () => {
				const r = await sales();
				return r.totals.orders === want.totals.orders && r.totals.refunds === want.totals.refunds ? r : undefined;
			},
			60_000,
			"the read model to catch up with the orders",
		);
		expect(report.timeZone).toBe(TIME_ZONE);
		expect(report.totals).toMatchObject(want.totals);
		for (const bucket of report.buckets) {
			const w = want.days.get(bucket.start) ?? { orders: 0, revenue: 0, refunds: 0 };
			expect(bucket, bucket.start).toEqual({
				start: bucket.start,
				...w,
				net: w.revenue - w.refunds,
				averageOrderValue: w.orders ? Math.round(w.revenue / w.orders) : 0,
			});
		}
		expect(report.buckets.filter(b => b.orders > 0).map(b => b.start)).toEqual([...want.days.keys()].filter(d => want.days.get(d)!.orders > 0).sort());
		const best = [...want.products].sort((a, b) => b[1] - a[1]).slice(0, 10);
		expect((await top()).map(p => [p.productId, p.revenue])).toEqual(best);
	}, 300_000);

	it("events produced again on Kafka (a redelivery, the same fact in a new envelope) change nothing", async () => {
		const before = { sales: await sales(), top: await top() };
		const topic = cluster.topic("orders");
		const records = await kcat(cluster.kafkaBrokers, topic);
		const paid = records.find(r => r.value.type === "order.paid")!;
		const refunded = records.find(r => r.value.type === "order.refunded")!;
		expect(paid && refunded).toBeTruthy();
		const consumed = (type: string, result: string) => cluster.metricValue("reports", "shop_events_consumed_total", { type, result });
		const counts = async () => ({
			paidDuplicate: await consumed("order.paid", "duplicate"),
			refundedDuplicate: await consumed("order.refunded", "duplicate"),
			paidOk: await consumed("order.paid", "ok"),
		});
		const start = await counts();

		const again = (r: KafkaRecord) => ({ key: r.key, headers: r.headers, value: r.value });
		await produce(cluster.kafkaBrokers, topic, [again(paid), again(paid), again(refunded), again(refunded)]);
		await produce(cluster.kafkaBrokers, topic, [{ ...again(paid), value: { ...paid.value, id: randomUUID() } }]);
		// Taken by the reports node: the same ids as duplicates, the new envelope handled (and found to be a fact it has).
		await poll(
			async () => {
				const now = await counts();
				return now.paidDuplicate >= start.paidDuplicate + 2 && now.refundedDuplicate >= start.refundedDuplicate + 2 && now.paidOk >= start.paidOk + 1
					? true
					: undefined;
			},
			60_000,
			"the reports node to consume the events produced again",
		);
		expect({ sales: await sales(), top: await top() }).toEqual(before);
	}, 120_000);
});
