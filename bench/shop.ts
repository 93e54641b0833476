/**
 * The shop under test: in one process (`npm start`'s embedded shop: NeDB, in-process events), or as
 * a cluster of four node processes (api, users, products, orders; a fifth with webhooks for that scenario) over NATS, with Kafka for events
 * when it answers, on NeDB files or on FerretDB (MONGO_URL). Each start gets its own ports; a
 * cluster gets its own NAMESPACE (NATS subjects, Kafka topics and consumer groups) and, on
 * FerretDB, its own DB_PREFIX.
 */
import fs from "node:fs";
import path from "node:path";
import { isEmbedded, type EmbeddedStore, type Store } from "./config.js";
import { api } from "./http.js";
import { freePort, log, memoryOf, startProcess, stopProcess, waitFor, type Started } from "./processes.js";

export const ADMIN = { email: "bench-admin@shop.test", password: "bench-admin-password" };

const SHOP_ENV: Record<string, string> = {
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
	WEB_BUILD: "false",
};

export interface Startup {
	/** Seconds from spawning the products process to the gateway's /api/ready answering 200. */
	readySeconds: number;
	/** Seconds from spawning it to the first search over the whole catalog answering 200. */
	firstSearchSeconds?: number;
	/** The process that runs the products service, when ready and after the first search. */
	rssAtReady?: number;
	rssAfterFirstSearch?: number;
	peakRss?: number;
	/** What the products service logged about its search index (at LOG_LEVEL=info), and the build time it states. */
	indexLog?: string[];
	indexBuildSeconds?: number;
}

export interface Shop {
	/** "one process" or "cluster (NATS)"; checkout rows say "+ Kafka" themselves. */
	mode: string;
	store: Store;
	base: string;
	/** Prometheus endpoint of the node running the orders service, and of the one running products. */
	ordersMetrics: string;
	productsMetrics: string;
	/** Every Prometheus endpoint of the shop (one process: one), for what an order costs in writes and events. */
	metricsUrls: string[];
	/** The node process that runs the products service. */
	products: Started;
	/** Whether checkout works: events between the services (in one process, or Kafka across the cluster). */
	events: boolean;
	namespace?: string;
	nodes: Started[];
	startup: Startup;
	/** A cheap request through to the products service and how fast it answers when idle (bench/reads.ts waitIdle). */
	idle?: { path: string; thresholdMs: number };
	stop(): Promise<void>;
}

export interface ShopOptions {
	dataDir: string;
	logDir: string;
	logLevel?: string;
	/** A word that occurs in the catalog, for the first search. */
	probeQuery: string;
	readyTimeoutMs: number;
	/** The embedded store of a one-process shop (default SQLite, the shop's own default). */
	embedded?: EmbeddedStore;
	/** More environment for every node (the webhooks scenario's WEBHOOKS_ALLOW_PRIVATE_TARGETS). */
	env?: Record<string, string>;
}

/** BENCH_CPU_PROF=<dir>: every shop node writes a V8 CPU profile there when it stops (open it in Chrome DevTools or speedscope). */
const profileArgs = (): string[] => {
	const dir = process.env.BENCH_CPU_PROF;
	return dir ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(dir)}`] : [];
};

function startNode(name: string, o: ShopOptions, env: Record<string, string>): Started {
	return startProcess(
		name,
		[...profileArgs(), "--import", "tsx", "scripts/start.ts"],
		{ ...SHOP_ENV, DATA_DIR: o.dataDir, EMBEDDED_STORE: o.embedded ?? "sqlite", ...(o.logLevel ? { LOG_LEVEL: o.logLevel } : {}), ...o.env, ...env },
		path.join(o.logDir, `${name}.log`),
	);
}

/** Lines of a node log that speak of a search index (JSON lines: their message). */
export function indexLogLines(file: string): string[] {
	let text: string;
	try {
		text = fs.readFileSync(file, "utf8");
	} catch {
		return [];
	}
	const lines: string[] = [];
	for (const raw of text.split("\n")) {
		let msg = raw;
		try {
			const parsed = JSON.parse(raw) as { msg?: string };
			msg = parsed.msg ?? raw;
		} catch {
			/* a text line */
		}
		if (/\bindex/i.test(msg) && !/outbox/i.test(msg)) lines.push(msg.length > 240 ? `${msg.slice(0, 240)}…` : msg);
		if (lines.length >= 5) break;
	}
	return lines;
}

async function measureStartup(base: string, products: Started, o: ShopOptions, watch: Started[], extraReady?: () => Promise<boolean>): Promise<Startup> {
	await waitFor(
		`${products.name}: /api/ready`,
		async () => (await fetch(`${base}/api/ready`)).status === 200 && (extraReady ? await extraReady() : true),
		o.readyTimeoutMs,
		watch,
	);
	const startup: Startup = { readySeconds: (performance.now() - products.spawnedAt) / 1000, rssAtReady: memoryOf(products.child.pid)?.rss };
	await waitFor(
		`${products.name}: the first search`,
		async () => (await api(base, "GET", `/api/v1/products?q=${encodeURIComponent(o.probeQuery)}&pageSize=1`)).status === 200,
		o.readyTimeoutMs,
		watch,
	);
	startup.firstSearchSeconds = (performance.now() - products.spawnedAt) / 1000;
	const mem = memoryOf(products.child.pid);
	startup.rssAfterFirstSearch = mem?.rss;
	startup.peakRss = mem?.peak;
	startup.indexLog = indexLogLines(products.logFile);
	const built = startup.indexLog.map(l => /index built.*?\bin ([\d.]+) ?(ms|s)\b/i.exec(l)).find(m => m);
	if (built) startup.indexBuildSeconds = Number(built[1]) / (built[2] === "ms" ? 1000 : 1);
	log(
		`${products.name}: ready after ${startup.readySeconds.toFixed(1)} s, first search after ${startup.firstSearchSeconds.toFixed(1)} s` +
			(mem ? `, RSS ${(mem.rss / 2 ** 20).toFixed(0)} MB (peak ${(mem.peak / 2 ** 20).toFixed(0)} MB)` : ""),
	);
	return startup;
}

export async function startOneProcess(o: ShopOptions, name = "shop"): Promise<Shop> {
	const port = await freePort();
	const metricsPort = await freePort();
	const node = startNode(name, o, {
		PORT: String(port),
		METRICS_PORT: String(metricsPort),
		SERVICES: "",
		TRANSPORTER: "",
		KAFKA_BROKERS: "",
		MONGO_URL: "",
		NAMESPACE: "",
	});
	const base = `http://127.0.0.1:${port}`;
	const shop: Shop = {
		mode: "one process",
		store: o.embedded ?? "sqlite",
		base,
		ordersMetrics: `http://127.0.0.1:${metricsPort}/metrics`,
		productsMetrics: `http://127.0.0.1:${metricsPort}/metrics`,
		metricsUrls: [`http://127.0.0.1:${metricsPort}/metrics`],
		products: node,
		events: true,
		nodes: [node],
		startup: { readySeconds: NaN },
		stop: () => stopProcess(node.child),
	};
	try {
		shop.startup = await measureStartup(base, node, o, [node]);
	} catch (err) {
		await shop.stop();
		throw err;
	}
	return shop;
}

export interface ClusterOptions extends ShopOptions {
	store: Store;
	namespace: string;
	natsUrl: string;
	/** Kafka bootstrap servers, or undefined: then the nodes have no events between them (no checkout). */
	kafka?: string;
	mongoUrl?: string;
	dbPrefix?: string;
	/** A fifth node with the webhooks service (the webhooks scenario), routed by the gateway. */
	webhooks?: boolean;
}

export async function startCluster(o: ClusterOptions): Promise<Shop> {
	const port = await freePort();
	const ordersMetricsPort = await freePort();
	const productsMetricsPort = await freePort();
	const common = {
		TRANSPORTER: o.natsUrl,
		NAMESPACE: o.namespace,
		METRICS_ENABLED: "false",
		MONGO_URL: o.store === "ferretdb" ? o.mongoUrl! : "",
		EMBEDDED_STORE: isEmbedded(o.store) ? o.store : "sqlite",
		DB_PREFIX: o.dbPrefix ?? "",
		KAFKA_BROKERS: o.kafka ?? "",
	};
	const tag = `${o.store}-node`;
	const nodes: Started[] = [];
	const stop = async () => {
		for (const n of [...nodes].reverse()) await stopProcess(n.child);
	};
	try {
		nodes.push(startNode(`${tag}-users`, o, { ...common, SERVICES: "users", NODE_ID: `${o.namespace}-users` }));
		nodes.push(
			startNode(`${tag}-products`, o, {
				...common,
				SERVICES: "products",
				NODE_ID: `${o.namespace}-products`,
				// For its "Search index built" line; it logs nothing per request at info.
				LOG_LEVEL: "info",
				METRICS_ENABLED: "true",
				METRICS_PORT: String(productsMetricsPort),
			}),
		);
		nodes.push(
			startNode(`${tag}-orders`, o, {
				...common,
				SERVICES: "orders,pricing",
				NODE_ID: `${o.namespace}-orders`,
				METRICS_ENABLED: "true",
				METRICS_PORT: String(ordersMetricsPort),
			}),
		);
		if (o.webhooks) nodes.push(startNode(`${tag}-webhooks`, o, { ...common, SERVICES: "webhooks", NODE_ID: `${o.namespace}-webhooks` }));
		nodes.push(
			startNode(`${tag}-api`, o, {
				...common,
				SERVICES: "api",
				API_SERVICES: o.webhooks ? "users,products,orders,webhooks" : "users,products,orders",
				NODE_ID: `${o.namespace}-api`,
				PORT: String(port),
			}),
		);
		const base = `http://127.0.0.1:${port}`;
		const startup = await measureStartup(base, nodes[1]!, o, nodes, async () => (await fetch(`${base}/api/v1/auth/jwks`)).status === 200);
		return {
			mode: "cluster (NATS)",
			store: o.store,
			base,
			ordersMetrics: `http://127.0.0.1:${ordersMetricsPort}/metrics`,
			productsMetrics: `http://127.0.0.1:${productsMetricsPort}/metrics`,
			// The api and users nodes have no metrics in the bench: an order's writes and events are the orders, pricing and products nodes'.
			metricsUrls: [`http://127.0.0.1:${ordersMetricsPort}/metrics`, `http://127.0.0.1:${productsMetricsPort}/metrics`],
			products: nodes[1]!,
			events: o.kafka !== undefined,
			namespace: o.namespace,
			nodes,
			startup,
			stop,
		};
	} catch (err) {
		await stop();
		throw err;
	}
}
