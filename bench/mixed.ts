/**
 * The gateway's catalog cache under a mixed load (one process): a fixed offered rate of which 80 %
 * are GET /products/:id (rotating over a thousand products), 15 % searches (rotating over the query
 * log) and 5 % checkouts (cart + POST /orders by a pool of customers, each sale purging what shows
 * the product when its stock crosses zero, and every write through the gateway purging what it
 * changed). The figure is the cache's hit ratio over the run, from the shop's own counters
 * (`shop_catalog_cache_requests_total`): hits / (hits + misses); the reads' rate and latency; the
 * checkouts settle and the inventory invariants are checked as after every checkout run.
 */
import { randomUUID } from "node:crypto";
import { metricValue, scrape } from "./http.js";
import { cannon, type Measured } from "./load.js";
import { log, sleep } from "./processes.js";
import type { Shop } from "./shop.js";
import { checkoutOnce, itemFor, prepare, readCounters, settleAndCheck, type Attempt, type CheckoutResult } from "./checkout.js";

export interface MixedResult {
	reads: Measured;
	hits: number;
	misses: number;
	bypassed: number;
	purges: number;
	/** hits / (hits + misses) over the run. */
	hitRatio: number;
	checkoutsOffered: number;
	checkouts: Omit<CheckoutResult, "acceptedRate" | "orderP50" | "orderP99" | "failedRequests" | "failures" | "dropped" | "offered">;
}

const cacheCount = (text: string | undefined, result: string) => (text ? (metricValue(text, "shop_catalog_cache_requests_total", { result }) ?? 0) : NaN);
const purgeCount = (text: string | undefined) => (text ? (metricValue(text, "shop_catalog_cache_purges_total") ?? 0) : NaN);

export async function mixedLoad(
	shop: Shop,
	ids: string[],
	queries: string[],
	o: { rate: number; duration: number; connections: number },
): Promise<MixedResult> {
	const checkoutRate = o.rate * 0.05;
	const pool = Math.max(10, Math.ceil(checkoutRate * 2));
	const { since, adminToken, products, tokens } = await prepare(shop, `M${randomUUID().slice(0, 6)}`, pool);
	const metrics = shop.metricsUrls[0]!;
	const before = await scrape(metrics);
	const countersBefore = await readCounters(shop);
	log(`mixed load: ${o.rate} req/s offered for ${o.duration} s (80 % GET by id, 15 % search, 5 % checkout)...`);
	// Of the reads (95 %): 16 in 19 by id (80 % of all), 3 in 19 searches (15 %).
	let n = 0;
	let q = 0;
	const nextPath = () => {
		const i = n++;
		return i % 19 < 16 ? `/api/v1/products/${ids[i % ids.length]}` : `/api/v1/products?q=${encodeURIComponent(queries[q++ % queries.length]!)}&pageSize=20`;
	};
	const startedAt = Date.now();
	const attempts: Attempt[] = [];
	const idle = [...tokens];
	const inFlight: Promise<void>[] = [];
	let offered = 0;
	const checkoutsDone = (async () => {
		const total = Math.round(checkoutRate * o.duration);
		const t0 = performance.now();
		for (let i = 0; i < total; i++) {
			const wait = t0 + (i * 1000) / checkoutRate - performance.now();
			if (wait > 0) await sleep(wait);
			const token = idle.pop();
			offered++;
			if (!token) continue;
			inFlight.push(
				checkoutOnce(shop, token, itemFor(products, i)).then(a => {
					attempts.push(a);
					idle.push(token);
				}),
			);
		}
	})();
	const reads = await cannon({ url: shop.base, connections: o.connections, duration: o.duration, overallRate: o.rate * 0.95, nextPath });
	await checkoutsDone;
	await Promise.all(inFlight);
	const after = await scrape(metrics);
	const checkouts = await settleAndCheck(shop, adminToken, products, attempts, startedAt, since, before, countersBefore, 180_000);
	const hits = cacheCount(after, "hit") - cacheCount(before, "hit");
	const misses = cacheCount(after, "miss") - cacheCount(before, "miss");
	return {
		reads,
		hits,
		misses,
		bypassed: cacheCount(after, "bypass") - cacheCount(before, "bypass"),
		purges: purgeCount(after) - purgeCount(before),
		hitRatio: hits / Math.max(1, hits + misses),
		checkoutsOffered: offered,
		checkouts,
	};
}
