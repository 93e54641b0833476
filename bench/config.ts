/** The benchmark's settings, from the environment (bench/README.md lists them). */

export const SCENARIOS = [
	"product",
	"product-uncached",
	"revalidate",
	"search",
	"search-facets",
	"search-large",
	"checkout-closed",
	"checkout-open",
	"mixed",
	"webhooks",
	"import",
] as const;
export type Scenario = (typeof SCENARIOS)[number];
export const STORES = ["sqlite", "nedb", "ferretdb"] as const;
export type Store = (typeof STORES)[number];
/** The stores a shop keeps in its own files (EMBEDDED_STORE): one process, or a cluster of nodes each with its own DATA_DIR. */
export type EmbeddedStore = Exclude<Store, "ferretdb">;
export const isEmbedded = (s: Store): s is EmbeddedStore => s !== "ferretdb";
/** Without BENCH_STORES: the shop's default embedded store and FerretDB (NeDB, the embedded store before SQLite, when asked for). */
const DEFAULT_STORES: Store[] = ["sqlite", "ferretdb"];

export interface BenchConfig {
	/** Seconds per autocannon scenario and per closed-loop checkout. */
	duration: number;
	connections: number;
	products: number;
	productsLarge: number;
	/** The 1M search scenario (BENCH_LARGE=off skips it). */
	large: boolean;
	cluster: "auto" | "off" | "only";
	stores: Store[];
	scenarios: Set<Scenario>;
	/** Every scenario, every store, no knob that shortens a run: only then are the chart and bench/README.md rewritten. */
	full: boolean;
	openRate: number;
	openSeconds: number;
	/** Checkouts per second offered in the webhook fan-out's two runs: below what the shop settles, so the fan-out's cost shows. */
	webhookRate: number;
	/** The mixed load's offered rate (requests and checkouts per second). */
	mixedRate: number;
	/** Rows (products) of the import scenario's CSV. */
	importRows: number;
	/** Distinct queries in the search rotation. */
	queries: number;
	natsUrl: string;
	kafka: string;
	mongoUrl: string;
}

function positive(name: string, fallback: number, integer = true): number {
	const v = process.env[name];
	if (v === undefined || v === "") return fallback;
	const n = Number(v);
	if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
		throw new Error(`${name} must be a positive ${integer ? "whole " : ""}number, got '${v}'`);
	return n;
}

function oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
	const v = (process.env[name] ?? "").trim().toLowerCase();
	if (v === "") return fallback;
	if (!values.includes(v as T)) throw new Error(`${name} must be one of ${values.join(", ")}, got '${v}'`);
	return v as T;
}

function listOf<T extends string>(name: string, values: readonly T[]): T[] {
	const raw = (process.env[name] ?? "").trim();
	if (raw === "") return [...values];
	const items = raw
		.split(",")
		.map(s => s.trim().toLowerCase())
		.filter(Boolean);
	const unknown = items.filter(s => !values.includes(s as T));
	if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(", ")} (known: ${values.join(", ")})`);
	return values.filter(v => items.includes(v));
}

export function loadBenchConfig(): BenchConfig {
	const cfg: BenchConfig = {
		duration: positive("BENCH_DURATION", 10, false),
		connections: positive("BENCH_CONNECTIONS", 10),
		products: positive("BENCH_PRODUCTS", 100_000),
		productsLarge: positive("BENCH_PRODUCTS_LARGE", 1_000_000),
		large: oneOf("BENCH_LARGE", ["on", "off"], "on") === "on",
		cluster: oneOf("BENCH_CLUSTER", ["auto", "off", "only"], "auto"),
		stores: (process.env.BENCH_STORES ?? "").trim() ? listOf("BENCH_STORES", STORES) : DEFAULT_STORES,
		scenarios: new Set(listOf("BENCH_SCENARIOS", SCENARIOS)),
		full: false,
		openRate: positive("BENCH_OPEN_RATE", 100, false),
		openSeconds: positive("BENCH_OPEN_SECONDS", 30, false),
		mixedRate: positive("BENCH_MIXED_RATE", 1000, false),
		queries: positive("BENCH_QUERIES", 2000),
		importRows: positive("BENCH_IMPORT_ROWS", 100_000),
		webhookRate: positive("BENCH_WEBHOOK_RATE", 40, false),
		natsUrl: process.env.TRANSPORTER || "nats://127.0.0.1:4222",
		kafka: process.env.KAFKA_BROKERS || "127.0.0.1:9092",
		mongoUrl: process.env.MONGO_URL || "mongodb://127.0.0.1:27017",
	};
	if (cfg.queries < 1000) throw new Error("BENCH_QUERIES must be at least 1000 (a result cache must not carry the search figures)");
	// A run with any of these set is a quick look: it prints and writes its JSON, not the committed chart.
	const knobs = [
		"DURATION",
		"PRODUCTS",
		"PRODUCTS_LARGE",
		"LARGE",
		"CLUSTER",
		"STORES",
		"SCENARIOS",
		"OPEN_RATE",
		"OPEN_SECONDS",
		"MIXED_RATE",
		"QUERIES",
		"IMPORT_ROWS",
		"WEBHOOK_RATE",
	];
	const publish = oneOf("BENCH_PUBLISH", ["auto", "on", "off"], "auto");
	cfg.full = publish === "on" || (publish === "auto" && knobs.every(k => (process.env[`BENCH_${k}`] ?? "") === ""));
	return cfg;
}

/** The NATS/Kafka/MongoDB address without credentials, for messages. */
export function redact(url: string): string {
	return url.replace(/\/\/[^@/]*@/, "//***@");
}
