/**
 * npm run bench: how fast is the shop, compared with the fastest thing Node can serve?
 *
 * In one run, on loopback:
 *   1. baseline   a bare node:http "hello world" (autocannon);
 *   2. one-process shop (npm start in a child process, NeDB, in-process events):
 *      - GET /api/v1/products/:id through the gateway (autocannon),
 *      - GET /api/v1/products?q=<word> on a catalog of BENCH_PRODUCTS generated products (autocannon),
 *      - checkout: BENCH_CONNECTIONS customers in a closed loop add an item and POST /orders;
 *        "accepted" is the 202s, "settled" is accepted → paid, read from the shop's own
 *        shop_checkout_settle_seconds metric;
 *   3. the same across NATS when a NATS server answers (TRANSPORTER, default nats://127.0.0.1:4222):
 *      api, users, products and orders each in its own node process, in the namespace `bench`
 *      (its own NATS subjects, Kafka topics and consumer groups). Checkout across the cluster
 *      also needs Kafka (KAFKA_BROKERS, default 127.0.0.1:9092).
 *
 * It prints requests/s, p50 and p99 latency and each figure's ratio to the baseline, and writes
 * the results as JSON under bench/results/. Environment: BENCH_DURATION (seconds per scenario,
 * default 10), BENCH_CONNECTIONS (10), BENCH_PRODUCTS (100000), BENCH_CLUSTER (auto | off).
 * Timings are never asserted anywhere: they depend on the machine.
 */
import { spawn, execSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { createHistogram, performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

interface AutocannonResult {
	requests: { average: number; total: number };
	non2xx: number;
	errors: number;
	timeouts: number;
	duration: number;
}
/** An autocannon run: a promise of its result, and an emitter of each response (latency in fractional ms). */
type Autocannon = (
	opts: Record<string, unknown>,
) => Promise<AutocannonResult> & { on(event: "response", fn: (client: unknown, status: number, bytes: number, ms: number) => void): void };
const autocannon = require("autocannon") as Autocannon;

function envInt(name: string, fallback: number): number {
	const v = process.env[name];
	if (v === undefined || v === "") return fallback;
	const n = Number(v);
	if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got '${v}'`);
	return n;
}

const DURATION = envInt("BENCH_DURATION", 10);
const CONNECTIONS = Math.round(envInt("BENCH_CONNECTIONS", 10));
const PRODUCTS = Math.round(envInt("BENCH_PRODUCTS", 100_000));
const CLUSTER = (process.env.BENCH_CLUSTER ?? "auto").toLowerCase();
const NATS_URL = process.env.TRANSPORTER ?? "nats://127.0.0.1:4222";
const KAFKA = process.env.KAFKA_BROKERS ?? "127.0.0.1:9092";
const ADMIN = { email: "bench-admin@shop.test", password: "bench-admin-password" };
const SEARCH_WORDS = [
	"lamp",
	"kettle",
	"backpack",
	"speaker",
	"notebook",
	"chair",
	"jacket",
	"router",
	"blender",
	"tent",
	"keyboard",
	"mug",
	"drill",
	"monitor",
];

interface Row {
	scenario: string;
	mode: string;
	rps: number;
	p50: number;
	p99: number;
	errors: number;
	note?: string;
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

// ---------------------------------------------------------------- processes

async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.listen(0, "127.0.0.1", () => {
			const port = (srv.address() as net.AddressInfo).port;
			srv.close(() => resolve(port));
		});
		srv.on("error", reject);
	});
}

function reachable(url: string, defaultPort: number): Promise<boolean> {
	const m = /^(?:\w+:\/\/)?(?:[^@/]*@)?([^:/,]+)(?::(\d+))?/.exec(url);
	const host = m?.[1] ?? "127.0.0.1";
	const port = Number(m?.[2] ?? defaultPort);
	return new Promise(resolve => {
		const socket = net.connect({ host, port });
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(1000, () => done(false));
		socket.on("connect", () => done(true));
		socket.on("error", () => done(false));
	});
}

const children = new Set<ChildProcess>();

function startProcess(name: string, args: string[], env: Record<string, string>, logFile: string): ChildProcess {
	const out = fs.openSync(logFile, "a");
	const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", out, out] });
	fs.closeSync(out);
	children.add(child);
	child.on("exit", () => children.delete(child));
	log(`started ${name} (pid ${child.pid}), log in ${logFile}`);
	return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise<void>(resolve => child.once("exit", () => resolve()));
	child.kill("SIGTERM");
	const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
	await exited;
	clearTimeout(timer);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, child?: ChildProcess): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (child && child.exitCode !== null) throw new Error(`${what}: the process exited with code ${child.exitCode}`);
		try {
			if (await check()) return;
		} catch {
			/* not yet */
		}
		await sleep(250);
	}
	throw new Error(`${what}: not ready within ${timeoutMs / 1000} s`);
}

// ---------------------------------------------------------------- HTTP helpers

async function api<T = any>(
	base: string,
	method: string,
	url: string,
	body?: unknown,
	headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
	const res = await fetch(base + url, {
		method,
		headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function loginAs(base: string, email: string, password: string): Promise<string> {
	const res = await api<{ accessToken: string }>(base, "POST", "/api/v1/auth/login", { email, password });
	if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body.accessToken;
}

async function newCustomer(base: string, n: number): Promise<string> {
	const email = `bench-${process.pid}-${n}-${Date.now().toString(36)}@shop.test`;
	const password = "bench-customer-password";
	const reg = await api(base, "POST", "/api/v1/auth/register", { email, password, name: `Bench ${n}` });
	if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
	return loginAs(base, email, password);
}

async function scrape(metricsUrl: string): Promise<string> {
	const res = await fetch(metricsUrl);
	return res.text();
}

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
	let sum = 0;
	for (const line of text.split("\n")) {
		if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
		if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
		const value = Number(line.slice(line.lastIndexOf(" ") + 1));
		if (Number.isFinite(value)) sum += value;
	}
	return sum;
}

// ---------------------------------------------------------------- scenarios

async function cannon(scenario: string, mode: string, opts: Record<string, unknown>): Promise<Row> {
	log(`${mode}: ${scenario} for ${DURATION} s...`);
	// autocannon's own histogram keeps whole milliseconds; a loopback hello world answers in less.
	const latency = createHistogram();
	const run = autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts });
	run.on("response", (_client, _status, _bytes, ms) => latency.record(Math.max(1, Math.round(ms * 1000))));
	const r = await run;
	return {
		scenario,
		mode,
		rps: r.requests.average,
		p50: latency.percentile(50) / 1000,
		p99: latency.percentile(99) / 1000,
		errors: r.errors + r.timeouts + r.non2xx,
	};
}

async function baseline(): Promise<Row> {
	const port = await freePort();
	const script = `require("node:http").createServer((q, s) => { s.writeHead(200, { "content-type": "application/json" }); s.end('{"hello":"world"}'); }).listen(${port}, "127.0.0.1");`;
	const child = startProcess("baseline", ["-e", script], {}, path.join(os.tmpdir(), `bench-baseline-${process.pid}.log`));
	try {
		await waitFor("baseline", async () => (await fetch(`http://127.0.0.1:${port}/`)).ok, 10_000, child);
		return await cannon("hello world (node:http)", "baseline", { url: `http://127.0.0.1:${port}/` });
	} finally {
		await stopProcess(child);
	}
}

interface Target {
	mode: string;
	base: string;
	/** Prometheus endpoint of the node running the orders service. */
	ordersMetrics: string;
	checkout: boolean;
}

async function readRoutes(t: Target): Promise<Row[]> {
	const list = await api<{ rows: { id: string }[]; total: number }>(t.base, "GET", "/api/v1/products?pageSize=1&sort=-createdAt");
	const id = list.body.rows[0]?.id;
	if (!id) throw new Error("the catalog is empty");
	const rows = [await cannon("GET /api/v1/products/:id", t.mode, { url: `${t.base}/api/v1/products/${id}` })];
	let i = 0;
	rows.push(
		await cannon(`GET /api/v1/products?q= (${list.body.total} products)`, t.mode, {
			url: t.base,
			requests: [
				{
					method: "GET",
					setupRequest: (req: Record<string, unknown>) => ({
						...req,
						path: `/api/v1/products?q=${SEARCH_WORDS[i++ % SEARCH_WORDS.length]}&pageSize=20`,
					}),
				},
			],
		}),
	);
	return rows;
}

/** Closed-loop checkouts for DURATION seconds, then the wait for every accepted order to settle. */
async function checkout(t: Target): Promise<Row[]> {
	log(`${t.mode}: checkout with ${CONNECTIONS} customers for ${DURATION} s...`);
	const adminToken = await loginAs(t.base, ADMIN.email, ADMIN.password);
	const product = await api<{ id: string }>(
		t.base,
		"POST",
		"/api/v1/products",
		{ sku: `BENCH-${randomUUID().slice(0, 8)}`, name: "Bench checkout item", price: 1000, currency: "EUR", stock: 1_000_000_000 },
		{ authorization: `Bearer ${adminToken}` },
	);
	if (product.status !== 201) throw new Error(`create product: ${product.status} ${JSON.stringify(product.body)}`);
	const tokens = await Promise.all(Array.from({ length: CONNECTIONS }, (_, n) => newCustomer(t.base, n)));
	const body = {
		shippingAddress: { name: "Bench", line1: "1 Load St", city: "Testville", postalCode: "12345", country: "US" },
		payment: { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 3, cvc: "123" },
	};
	const metricsBefore = await scrape(t.ordersMetrics);
	const settledBefore = metricValue(metricsBefore, "shop_checkout_settle_seconds_count");
	const latency = createHistogram();
	let accepted = 0;
	let failed = 0;
	const started = performance.now();
	const until = started + DURATION * 1000;
	await Promise.all(
		tokens.map(async token => {
			const auth = { authorization: `Bearer ${token}` };
			while (performance.now() < until) {
				const cart = await api(t.base, "POST", "/api/v1/cart/items", { productId: product.body.id, quantity: 1 }, auth);
				if (cart.status >= 300) {
					failed++;
					continue;
				}
				const t0 = performance.now();
				const res = await api(t.base, "POST", "/api/v1/orders", body, { ...auth, "idempotency-key": randomUUID() });
				latency.record(Math.max(1, Math.round((performance.now() - t0) * 1000)));
				if (res.status === 202) accepted++;
				else failed++;
			}
		}),
	);
	const loadSeconds = (performance.now() - started) / 1000;
	// Settled: every accepted order paid (or cancelled), as counted by the shop itself.
	let settledAt: number;
	let text = "";
	const deadline = Date.now() + 120_000;
	for (;;) {
		text = await scrape(t.ordersMetrics);
		settledAt = performance.now();
		if (metricValue(text, "shop_checkout_settle_seconds_count") - settledBefore >= accepted) break;
		if (Date.now() > deadline) {
			log(`${t.mode}: not every order settled within 120 s`);
			break;
		}
		await sleep(100);
	}
	const settled = metricValue(text, "shop_checkout_settle_seconds_count") - settledBefore;
	const settleSeconds = (settledAt - started) / 1000;
	const quantile = (q: string) => metricValue(text, "shop_checkout_settle_seconds", { quantile: q, result: "paid" }) * 1000;
	const cancelled =
		metricValue(text, "shop_checkout_settle_seconds_count", { result: "cancelled" }) -
		metricValue(metricsBefore, "shop_checkout_settle_seconds_count", { result: "cancelled" });
	return [
		{
			scenario: "checkout accepted (cart + POST /orders → 202)",
			mode: t.mode,
			rps: accepted / loadSeconds,
			p50: latency.percentile(50) / 1000,
			p99: latency.percentile(99) / 1000,
			errors: failed,
			note: "latency of POST /orders",
		},
		{
			scenario: "checkout settled (accepted → paid)",
			mode: t.mode,
			rps: settled / settleSeconds,
			p50: quantile("0.5"),
			p99: quantile("0.99"),
			errors: cancelled,
			note: "latency from the order's placed to paid events (shop_checkout_settle_seconds)",
		},
	];
}

// ---------------------------------------------------------------- the shop, one process and cluster

const SHOP_ENV = {
	LOG_LEVEL: "warn",
	LOG_FORMAT: "json",
	NODE_ENV: "production",
	ADMIN_EMAIL: ADMIN.email,
	ADMIN_PASSWORD: ADMIN.password,
	RATE_LIMIT_PER_MINUTE: "1000000000",
	AUTH_RATE_LIMIT_PER_MINUTE: "1000000000",
	BCRYPT_COST: "8",
	SEED_DEMO: "false",
	TRACING_EXPORTER: "none",
	HOST: "127.0.0.1",
	METRICS_HOST: "127.0.0.1",
};

async function seedCatalog(dataDir: string): Promise<void> {
	process.env.DATA_DIR = dataDir;
	delete process.env.MONGO_URL;
	const { reloadConfig } = await import("../lib/config.js");
	reloadConfig();
	const { openCatalog, seedDemoCatalog, seedGeneratedProducts } = await import("./seed.js");
	const started = performance.now();
	log(`seeding ${PRODUCTS} generated products into ${dataDir}...`);
	const catalog = await openCatalog();
	try {
		await seedDemoCatalog(catalog);
		await seedGeneratedProducts(catalog, PRODUCTS);
	} finally {
		await catalog.close();
	}
	log(`seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function startNode(name: string, dataDir: string, env: Record<string, string>): Promise<ChildProcess> {
	return startProcess(name, ["--import", "tsx", "scripts/start.ts"], { ...SHOP_ENV, DATA_DIR: dataDir, ...env }, path.join(dataDir, `${name}.log`));
}

async function oneProcess(dataDir: string): Promise<Row[]> {
	const port = await freePort();
	const metricsPort = await freePort();
	const child = await startNode("shop", dataDir, {
		PORT: String(port),
		METRICS_PORT: String(metricsPort),
		SERVICES: "",
		TRANSPORTER: "",
		KAFKA_BROKERS: "",
		MONGO_URL: "",
	});
	const base = `http://127.0.0.1:${port}`;
	try {
		await waitFor("the one-process shop", async () => (await fetch(`${base}/api/ready`)).status === 200, 180_000, child);
		const t: Target = { mode: "one process", base, ordersMetrics: `http://127.0.0.1:${metricsPort}/metrics`, checkout: true };
		return [...(await readRoutes(t)), ...(await checkout(t))];
	} finally {
		await stopProcess(child);
	}
}

async function cluster(dataDir: string, withKafka: boolean): Promise<Row[]> {
	const namespace = "bench";
	const port = await freePort();
	const metricsPort = await freePort();
	const common = {
		TRANSPORTER: NATS_URL,
		NAMESPACE: namespace,
		METRICS_ENABLED: "false",
		MONGO_URL: "",
		...(withKafka ? { KAFKA_BROKERS: KAFKA } : { KAFKA_BROKERS: "" }),
	};
	const nodes = [
		await startNode("node-users", dataDir, { ...common, SERVICES: "users", NODE_ID: `${namespace}-users` }),
		await startNode("node-products", dataDir, { ...common, SERVICES: "products", NODE_ID: `${namespace}-products` }),
		await startNode("node-orders", dataDir, {
			...common,
			SERVICES: "orders",
			NODE_ID: `${namespace}-orders`,
			METRICS_ENABLED: "true",
			METRICS_PORT: String(metricsPort),
		}),
		await startNode("node-api", dataDir, { ...common, SERVICES: "api", NODE_ID: `${namespace}-api`, PORT: String(port) }),
	];
	const base = `http://127.0.0.1:${port}`;
	try {
		await waitFor(
			"the cluster",
			async () => {
				const ready = (await fetch(`${base}/api/ready`)).status === 200;
				const products = (await fetch(`${base}/api/v1/products?pageSize=1`)).status === 200;
				const users = (await fetch(`${base}/api/v1/auth/jwks`)).status === 200;
				return ready && products && users;
			},
			180_000,
			nodes[3],
		);
		const t: Target = { mode: "cluster (NATS)", base, ordersMetrics: `http://127.0.0.1:${metricsPort}/metrics`, checkout: withKafka };
		const rows = await readRoutes(t);
		if (withKafka) rows.push(...(await checkout({ ...t, mode: "cluster (NATS + Kafka)" })));
		return rows;
	} finally {
		for (const n of nodes.reverse()) await stopProcess(n);
	}
}

// ---------------------------------------------------------------- report

function fmt(n: number, digits = 1): string {
	return Number.isFinite(n) ? n.toFixed(digits) : "-";
}

function table(rows: Row[], base: Row): string {
	const head = ["scenario", "mode", "req/s", "× base", "p50 ms", "× base", "p99 ms", "× base", "errors"];
	const body = rows.map(r => [
		r.scenario,
		r.mode,
		fmt(r.rps, 0),
		fmt(r.rps / base.rps, 3),
		fmt(r.p50, 2),
		fmt(r.p50 / base.p50, 1),
		fmt(r.p99, 2),
		fmt(r.p99 / base.p99, 1),
		String(r.errors),
	]);
	const widths = head.map((h, i) => Math.max(h.length, ...body.map(b => b[i]!.length)));
	const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
	return [line(head), `|${widths.map((w, i) => (i < 2 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...body.map(line)].join("\n");
}

function gitCommit(): string | undefined {
	try {
		return execSync("git rev-parse --short HEAD", { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] })
			.toString()
			.trim();
	} catch {
		return undefined;
	}
}

async function main() {
	const startedAt = new Date();
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-bench-"));
	log(`${os.cpus().length} CPUs, Node ${process.version}, ${DURATION} s per scenario, ${CONNECTIONS} connections`);
	const rows: Row[] = [];
	const base = await baseline();
	rows.push(base);
	await seedCatalog(dataDir);
	rows.push(...(await oneProcess(dataDir)));

	const natsUp = CLUSTER !== "off" && (await reachable(NATS_URL, 4222));
	const kafkaUp = natsUp && (await reachable(KAFKA.split(",")[0]!, 9092));
	let clusterNote: string;
	if (CLUSTER === "off") clusterNote = "cluster: skipped (BENCH_CLUSTER=off)";
	else if (!natsUp) clusterNote = `cluster: skipped (no NATS at ${NATS_URL.replace(/\/\/[^@]*@/, "//***@")}; npm run infra:up)`;
	else {
		rows.push(...(await cluster(dataDir, kafkaUp)));
		clusterNote = kafkaUp ? "cluster: NATS + Kafka" : `cluster: NATS only (no Kafka at ${KAFKA} for checkout)`;
	}

	const report = table(rows, base);
	console.log(`\n${report}\n\n${clusterNote}`);
	const result = {
		date: startedAt.toISOString(),
		commit: gitCommit(),
		node: process.version,
		cpus: os.cpus().length,
		cpuModel: os.cpus()[0]?.model,
		durationSeconds: DURATION,
		connections: CONNECTIONS,
		products: PRODUCTS,
		cluster: clusterNote,
		rows: rows.map(r => ({ ...r, rpsRatio: r.rps / base.rps, p50Ratio: r.p50 / base.p50, p99Ratio: r.p99 / base.p99 })),
		table: report,
	};
	const dir = path.join(ROOT, "bench", "results");
	fs.mkdirSync(dir, { recursive: true });
	const file = path.join(dir, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
	fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
	console.log(
		`Results: ${path.relative(process.cwd(), file)} (run took ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s; node logs in ${dataDir})`,
	);
}

const cleanup = () => {
	for (const c of children) c.kill("SIGKILL");
};
process.on("SIGINT", () => {
	cleanup();
	process.exit(130);
});
main().then(
	() => process.exit(0),
	err => {
		console.error("Benchmark failed:", err);
		cleanup();
		process.exit(1);
	},
);
