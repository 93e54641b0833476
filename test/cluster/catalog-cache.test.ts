/**
 * The gateway's catalog cache across a real cluster (NATS, Kafka, FerretDB): two gateway nodes,
 * each with its own cache kept fresh by its own subscription to the catalog's events. Writes go
 * through one gateway, reads through the other (anonymous, so cached there); no read made more
 * than a second after a write may show what was there before it.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutInfra } from "./infra.js";
import { poll, startCluster, type NodeSpec, type TestCluster } from "../helpers/cluster.js";
import { HttpClient, admin, customer, freePort, type Account, type TestShop } from "../helpers/shop.js";
import { TEST_CARDS } from "../../lib/payments/simulated.js";
import { CACHE_METRICS } from "../../services/api/catalog-cache.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"]);

const V1 = "/api/v1";
const FRESH_WITHIN_MS = 1000;
/** How long after a write a round keeps reading (bounded): well past the second that matters. */
const ROUND_MS = 3000;
const ADDRESS = { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };
const CARD = { method: "card", cardNumber: TEST_CARDS.approved, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" };

describe.skipIf(skip)("the catalog cache on two gateways", () => {
	let cluster: TestCluster;
	let shop: TestShop;
	let boss: Account;
	let other: HttpClient;

	beforeAll(async () => {
		const layout: NodeSpec[] = [
			{ name: "users", services: ["users"] },
			{ name: "products", services: ["products"] },
			{ name: "orders", services: ["orders", "pricing"] },
			{ name: "api-1", services: ["api"] },
			{ name: "api-2", services: ["api"], env: { PORT: String(await freePort()) } },
		];
		cluster = await startCluster({ name: "cache", nodes: layout });
		shop = cluster.asShop();
		other = new HttpClient(`http://127.0.0.1:${layout.at(-1)!.env!.PORT}`);
		boss = await admin(shop);
	}, 180_000);

	afterAll(async () => {
		await cluster?.stop();
	}, 60_000);

	/** Reads through the other gateway after a write until `isNew` holds; every read after the second that matters must be new. */
	async function readUntilNew(url: string, writtenAt: number, isNew: (body: Record<string, unknown>) => boolean) {
		const stale: string[] = [];
		let reads = 0;
		let firstNewAfter = -1;
		while (Date.now() - writtenAt < ROUND_MS) {
			const res = await other.get(url);
			reads++;
			const at = Date.now() - writtenAt;
			expect(res.status).toBe(200);
			if (isNew(res.body)) {
				if (firstNewAfter < 0) firstNewAfter = at;
				// Once new, it stays new: two more reads (the second one answered from the cache again).
				if (reads >= 3 && firstNewAfter >= 0) break;
				continue;
			}
			if (firstNewAfter >= 0 || at > FRESH_WITHIN_MS) stale.push(`${url} stale ${at} ms after the write: ${JSON.stringify(res.body).slice(0, 120)}`);
		}
		return { stale, reads, firstNewAfter };
	}

	it("shows a change written through one gateway on the other within a second, 200 reads and more", async () => {
		const tag = randomUUID().slice(0, 6);
		const created = await boss.http.post(`${V1}/products`, { sku: `C-${tag}`, name: `Cached ${tag}`, price: 1000, currency: "EUR", stock: 50 });
		expect(created.status, JSON.stringify(created.body)).toBe(201);
		const id = created.body.id as string;
		// The other gateway follows the catalog's events once its Kafka consumer has joined; until then it serves uncached.
		await poll(async () => ((await other.get(`${V1}/products/${id}`)).headers.get("x-cache") === "HIT" ? true : undefined), 60_000, "a hit on api-2");

		const stale: string[] = [];
		const lags: number[] = [];
		let reads = 0;
		for (let round = 1; reads < 200 || round <= 20; round++) {
			if (round > 100) break;
			// The answer is in the other gateway's cache before the write.
			await other.get(`${V1}/products/${id}`);
			await other.get(`${V1}/products?q=${tag}`);
			const price = 1000 + round;
			const res = await boss.http.patch(`${V1}/products/${id}`, { price });
			expect(res.status).toBe(200);
			const writtenAt = Date.now();
			const one = await readUntilNew(`${V1}/products/${id}`, writtenAt, b => b.price === price);
			const list = await readUntilNew(`${V1}/products?q=${tag}`, writtenAt, b => (b.rows as { price: number }[])[0]?.price === price);
			stale.push(...one.stale, ...list.stale);
			reads += one.reads + list.reads + 2;
			lags.push(one.firstNewAfter);
		}
		expect(stale).toEqual([]);
		expect(reads).toBeGreaterThanOrEqual(200);
		expect(lags.every(l => l >= 0)).toBe(true);
		// The other gateway really answered from its cache in between.
		expect(await cluster.metricValue("api-2", CACHE_METRICS.requests, { result: "hit" })).toBeGreaterThan(20);
		console.info(
			`[catalog-cache] ${reads} reads on api-2; first fresh read after a write (ms): max ${Math.max(...lags)}, median ${lags.sort((a, b) => a - b)[lags.length >> 1]}`,
		);
	}, 240_000);

	it("shows fewer units available on the other gateway within a second of a sale, never more than the inventory has", async () => {
		const tag = randomUUID().slice(0, 6);
		const created = await boss.http.post(`${V1}/products`, { sku: `S-${tag}`, name: `Sold ${tag}`, price: 500, currency: "EUR", stock: 3 });
		const id = created.body.id as string;
		const ann = await customer(shop, "Ann");
		for (let left = 3; left > 0; left--) {
			await poll(async () => ((await other.get(`${V1}/products/${id}`)).body.available === left ? true : undefined), 10_000, `${left} available`);
			// Cached before the first sale; after a sale its answers are served uncached for the settle window.
			if (left === 3) expect((await other.get(`${V1}/products/${id}`)).headers.get("x-cache")).toBe("HIT");
			expect((await ann.http.post(`${V1}/cart/items`, { productId: id, quantity: 1 })).status).toBe(200);
			const placed = await ann.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment: CARD }, { "idempotency-key": randomUUID() });
			expect(placed.status, JSON.stringify(placed.body)).toBe(202);
			// Once the order is paid its unit was held (stock.reserved comes before the payment): one fewer available.
			await poll(
				async () => ((await ann.http.get(`${V1}/orders/${placed.body.id}`)).body.status === "paid" ? true : undefined),
				30_000,
				"the order paid",
			);
			const soldAt = Date.now();
			const seen = await readUntilNew(`${V1}/products/${id}`, soldAt, b => b.available === left - 1);
			expect(seen.stale).toEqual([]);
		}
		// The sales are committed after the payment (order.paid): the stock on hand follows.
		await poll(async () => ((await boss.http.get(`${V1}/products/${id}`)).body.stock === 0 ? true : undefined), 10_000, "the stock committed");
		const committedAt = Date.now();
		expect((await readUntilNew(`${V1}/products/${id}`, committedAt, b => b.stock === 0 && b.available === 0)).stale).toEqual([]);
	}, 240_000);
});
