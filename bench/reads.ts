/**
 * The read scenarios, each with autocannon for BENCH_DURATION seconds: the baseline (a bare
 * node:http hello world in its own process), GET /products/:id rotating over a thousand products,
 * and search rotating over the query log (at least 1,000 distinct queries drawn from the catalog:
 * words, two-word phrases, prefixes, typos, SKUs, a few that find nothing; scripts/seed.ts
 * `generatedQueries`), without and with facets=true.
 */
import os from "node:os";
import path from "node:path";
import { generatedProductId } from "../scripts/seed.js";
import { api } from "./http.js";
import { cannon, type Measured } from "./load.js";
import { freePort, log, sleep, startProcess, stopProcess, waitFor } from "./processes.js";
import type { Row } from "./report.js";
import type { Shop } from "./shop.js";

export interface ReadOptions {
	connections: number;
	duration: number;
}

function row(scenario: string, mode: string, store: string, m: Measured, note?: string): Row {
	return { scenario, mode, store, unit: "req/s", rps: m.rps, p50: m.p50, p99: m.p99, errors: m.errors, ...(note ? { note } : {}) };
}

export async function baseline(o: ReadOptions, logDir = os.tmpdir()): Promise<Row> {
	const port = await freePort();
	const script = `require("node:http").createServer((q, s) => { s.writeHead(200, { "content-type": "application/json" }); s.end('{"hello":"world"}'); }).listen(${port}, "127.0.0.1");`;
	const p = startProcess("baseline", ["-e", script], {}, path.join(logDir, "baseline.log"));
	try {
		await waitFor("baseline", async () => (await fetch(`http://127.0.0.1:${port}/`)).ok, 10_000, [p]);
		log(`baseline: hello world for ${o.duration} s...`);
		const m = await cannon({ url: `http://127.0.0.1:${port}/`, connections: o.connections, duration: o.duration });
		return row("hello world (node:http)", "baseline", "-", m);
	} finally {
		await stopProcess(p.child);
	}
}

/**
 * Waits (bounded) until the shop answers a GET /products/:id about as fast as when it was idle,
 * three times in a row: requests left over from a scenario (still queued in the products service
 * after autocannon hung up) must not run into the next one. The path goes through the gateway to
 * the products service and its store, which is where a backlog sits.
 */
export async function waitIdle(shop: Shop, timeoutMs = 180_000): Promise<boolean> {
	if (!shop.idle) return true;
	const { path: probe, thresholdMs } = shop.idle;
	const deadline = Date.now() + timeoutMs;
	let quick = 0;
	while (quick < 3 && Date.now() < deadline) {
		const t0 = performance.now();
		const ok = await fetch(`${shop.base}${probe}`, { signal: AbortSignal.timeout(60_000) })
			.then(r => r.ok)
			.catch(() => false);
		quick = ok && performance.now() - t0 < thresholdMs ? quick + 1 : 0;
		if (quick < 3) await sleep(100);
	}
	if (quick < 3) log(`the shop was still busy ${Math.round(timeoutMs / 1000)} s after the scenario; going on`);
	return quick >= 3;
}

/** How fast the idle shop answers GET /products/:id (the median of 7), for waitIdle. */
export async function calibrateIdle(shop: Shop, productId: string): Promise<void> {
	const probe = `/api/v1/products/${productId}`;
	const times: number[] = [];
	for (let i = 0; i < 7; i++) {
		const t0 = performance.now();
		const res = await fetch(`${shop.base}${probe}`, { signal: AbortSignal.timeout(60_000) });
		await res.arrayBuffer();
		if (res.ok) times.push(performance.now() - t0);
	}
	times.sort((a, b) => a - b);
	const median = times[Math.floor(times.length / 2)] ?? 20;
	shop.idle = { path: probe, thresholdMs: Math.max(25, 3 * median) };
}

/** `n` ids spread over a generated catalog of `size` products (scripts/seed.ts names them the same in every seeded catalog). */
export function spreadIds(size: number, n: number): string[] {
	const count = Math.min(n, size);
	return Array.from({ length: count }, (_, i) => generatedProductId(Math.floor((i * size) / count)));
}

export async function getProduct(shop: Shop, ids: string[], o: ReadOptions): Promise<Row> {
	log(`${shop.mode} (${shop.store}): GET /products/:id over ${ids.length} products for ${o.duration} s...`);
	let i = 0;
	const m = await cannon({ url: shop.base, connections: o.connections, duration: o.duration, nextPath: () => `/api/v1/products/${ids[i++ % ids.length]}` });
	return row("GET /products/:id", shop.mode, shop.store, m, `rotating over ${ids.length} products`);
}

/**
 * GET /products/:id past the gateway's cache: each request carries a cookie, which the cache never
 * answers nor keeps (a caller who may be identified), so every one goes to the products service.
 */
export async function getProductUncached(shop: Shop, ids: string[], o: ReadOptions): Promise<Row> {
	log(`${shop.mode} (${shop.store}): GET /products/:id uncached over ${ids.length} products for ${o.duration} s...`);
	let i = 0;
	const m = await cannon({
		url: shop.base,
		connections: o.connections,
		duration: o.duration,
		nextPath: () => `/api/v1/products/${ids[i++ % ids.length]}`,
		headersFor: () => ({ cookie: "bench=uncached" }),
	});
	return row(
		"GET /products/:id uncached",
		shop.mode,
		shop.store,
		m,
		`rotating over ${ids.length} products; a cookie on each request bypasses the gateway's cache`,
	);
}

/** GET /products/:id with the ETag each product was last answered with: every answer a 304 (from the gateway's cache). */
export async function revalidateProduct(shop: Shop, ids: string[], o: ReadOptions): Promise<Row> {
	const etags = new Map<string, string>();
	for (const id of ids) {
		const res = await fetch(`${shop.base}/api/v1/products/${id}`);
		await res.arrayBuffer();
		const etag = res.headers.get("etag");
		if (res.ok && etag) etags.set(`/api/v1/products/${id}`, etag);
	}
	if (etags.size === 0) throw new Error("no product answered with an ETag");
	const paths = [...etags.keys()];
	log(`${shop.mode} (${shop.store}): If-None-Match over ${paths.length} products for ${o.duration} s...`);
	let i = 0;
	const m = await cannon({
		url: shop.base,
		connections: o.connections,
		duration: o.duration,
		nextPath: () => paths[i++ % paths.length]!,
		headersFor: path => ({ "if-none-match": etags.get(path)! }),
		okStatus: 304,
	});
	return row(
		"GET /products/:id → 304",
		shop.mode,
		shop.store,
		m,
		`If-None-Match with each product's ETag, rotating over ${paths.length} products; only 304s count`,
	);
}

export interface SearchRowOptions extends ReadOptions {
	queries: string[];
	facets: boolean;
	/** In the scenario's name: the catalog size, e.g. "100k". */
	catalog: string;
	timeoutSeconds?: number;
}

export async function search(shop: Shop, o: SearchRowOptions): Promise<Row> {
	const suffix = o.facets ? "&facets=true" : "";
	const scenario = `search ${o.catalog}${o.facets ? " + facets" : ""}`;
	// One search alone first: a shop that cannot answer one within its deadline would only be buried under a backlog.
	const t0 = performance.now();
	const probe = await api<{ facets?: unknown }>(shop.base, "GET", `/api/v1/products?q=${encodeURIComponent(o.queries[0]!)}&pageSize=20${suffix}`).catch(
		(err: Error) => ({ status: 0, body: { error: err.message } as { facets?: unknown } }),
	);
	const probeMs = performance.now() - t0;
	if (probe.status !== 200) throw new Error(`a single search, alone, answered ${probe.status || "nothing"} after ${(probeMs / 1000).toFixed(1)} s`);
	const notes = [`${o.queries.length} distinct queries rotating`];
	if (o.facets && probe.body?.facets === undefined) notes.push("the answer has no facets (facets=true not served)");
	log(`${shop.mode} (${shop.store}): ${scenario} for ${o.duration} s...`);
	let i = 0;
	const m = await cannon({
		url: shop.base,
		connections: o.connections,
		duration: o.duration,
		timeoutSeconds: o.timeoutSeconds,
		nextPath: () => `/api/v1/products?q=${encodeURIComponent(o.queries[i++ % o.queries.length]!)}&pageSize=20${suffix}`,
	});
	if (m.requests < o.queries.length) notes.push(`${m.requests} requests: not every query was asked`);
	return row(scenario, shop.mode, shop.store, m, notes.join("; "));
}

/** "100k", "1M", "20k", "1,234". */
export function catalogLabel(n: number): string {
	if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`;
	if (n >= 1000 && n % 1000 === 0) return `${n / 1000}k`;
	return n.toLocaleString("en-US");
}
