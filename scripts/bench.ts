/**
 * npm run bench: how fast is the shop, compared with the fastest thing Node can serve, measured in
 * the same run on loopback (bench/README.md says what each scenario does and lists the knobs).
 *
 *   1. baseline: a bare node:http hello world (autocannon);
 *   2. the shop in one process (NeDB, in-process events), then as a cluster over NATS (api, users,
 *      products, orders: one node process each; Kafka for checkout) on NeDB and on FerretDB:
 *      GET /products/:id, search on BENCH_PRODUCTS generated products (with and without facets),
 *      checkout in a closed loop and at a fixed offered load, each checkout run followed by the
 *      inventory invariants (a violation fails the run);
 *      the webhook fan-out (10 receivers on order.paid during the open-loop checkout, against the
 *      same checkout without them) and the import of BENCH_IMPORT_ROWS products from CSV (rows/s,
 *      peak RSS, GET /products/:id during it against idle);
 *   3. search at BENCH_PRODUCTS_LARGE products, with the memory and start-up time it costs.
 *
 * It prints the table of every figure with its ratio to the baseline and writes the run as JSON
 * under bench/results/; a full run (no knob set) also writes bench/results/latest.svg and the
 * last-run section of bench/README.md. Timings are never asserted anywhere: they depend on the machine.
 *
 * The modules are in bench/: config, processes, shop (starting the shop), catalog (seeding and
 * cleaning up), reads, checkout, invariants, large, report, chart.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generatedQueries } from "./seed.js";
import { isEmbedded, loadBenchConfig, redact, type EmbeddedStore, type Store } from "../bench/config.js";
import { copyCatalog, deleteKafkaNamespace, dropDatabases, seedEmbedded, seedFerretdb } from "../bench/catalog.js";
import { checkoutClosedLoop, checkoutOpenLoop, type CheckoutResult } from "../bench/checkout.js";
import { emptyShopRss, searchLarge, type LargeResult } from "../bench/large.js";
import { killAll, log, reachable, ROOT, stopAll } from "../bench/processes.js";
import { baseline, calibrateIdle, catalogLabel, getProduct, getProductUncached, revalidateProduct, search, spreadIds, waitIdle } from "../bench/reads.js";
import { mixedLoad } from "../bench/mixed.js";
import { fmt, gitCommit, missingRow, rate, storeName, table, writeJson, writeReadmeSection, type Row } from "../bench/report.js";
import { ratioChart } from "../bench/chart.js";
import { startCluster, startOneProcess, type Shop, type Startup } from "../bench/shop.js";
import { importScenario } from "../bench/import.js";
import { fanoutRows, webhookFanout, WEBHOOK_BENCH_ENV } from "../bench/webhooks.js";

const cfg = loadBenchConfig();
const runId = randomBytes(3).toString("hex");
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-bench-"));
const logDir = path.join(workDir, "logs");
fs.mkdirSync(logDir, { recursive: true });

/** What must be undone however the run ends (data directories, databases, Kafka topics), last first. */
const undo = new Map<string, () => Promise<unknown>>();
async function undoNow(key: string): Promise<void> {
	const fn = undo.get(key);
	undo.delete(key);
	if (fn) await fn().catch(err => log(`cleaning up ${key}: ${(err as Error).message}`));
}
async function undoAll(): Promise<void> {
	await stopAll();
	for (const key of [...undo.keys()].reverse()) await undoNow(key);
}
function removeDir(dir: string): void {
	undo.set(`dir ${dir}`, async () => fs.rmSync(dir, { recursive: true, force: true }));
}

interface CheckoutRecord {
	mode: string;
	store: Store;
	scenario: "closed" | "open";
	result: CheckoutResult;
}
interface StartupRecord extends Startup {
	mode: string;
	store: Store;
	products: number;
}

const rows: Row[] = [];
const notes: string[] = [];
const violations: string[] = [];
/** Scenarios that could not be measured (an error, not a figure). */
const failures: string[] = [];
const checkouts: CheckoutRecord[] = [];
const startups: StartupRecord[] = [];

function listFailures(f: Record<string, number>): string {
	const parts = Object.entries(f).map(([k, n]) => `${k} ×${n}`);
	return parts.length ? `; failed: ${parts.join(", ")}` : "";
}

function checkoutRows(shop: Shop, kind: "closed" | "open", r: CheckoutResult): Row[] {
	const mode = shop.mode.startsWith("cluster") ? "cluster (NATS + Kafka)" : shop.mode;
	const inv = r.invariants.violations.length
		? `INVARIANTS VIOLATED (${r.invariants.violations.length})`
		: r.invariants.ok
			? "invariants held"
			: `invariants not fully checked (${r.invariants.pendingOrders} pending, ${r.invariants.unreadable.length} products unreadable)`;
	const c = r.perOrder;
	const cost = c
		? `; per order: ${fmt(c.writes, 1)} database writes (${Object.entries(c.writesBy)
				.slice(0, 6)
				.map(([k, v]) => `${k} ${fmt(v, 1)}`)
				.join(", ")}), ${fmt(c.published, 1)} events published, ${fmt(c.deliveries, 1)} deliveries`
		: "; writes per order not counted (metrics unreadable)";
	const settled = `${r.paid} paid, ${r.cancelledOutOfStock} cancelled out_of_stock (the scarce items sold out)${r.cancelledOther ? `, ${r.cancelledOther} cancelled otherwise or unsettled` : ""}; counted by ${r.settleCountedBy}; ${inv}${cost}`;
	if (kind === "closed")
		return [
			{
				scenario: "checkout closed loop: accepted",
				mode,
				store: shop.store,
				unit: "orders/s",
				rps: r.acceptedRate,
				p50: r.orderP50,
				p99: r.orderP99,
				errors: r.failedRequests,
				note: `cart + POST /orders → 202, latency of POST /orders${listFailures(r.failures)}`,
			},
			{
				scenario: "checkout closed loop: settled",
				mode,
				store: shop.store,
				unit: "orders/s",
				rps: r.paidRate,
				p50: r.settleP50,
				p99: r.settleP99,
				errors: r.cancelledOther + r.invariants.violations.length,
				note: `accepted → paid (statusHistory); ${settled}`,
			},
		];
	return [
		{
			scenario: `checkout open loop: ${fmt(cfg.openRate, 0)}/s offered`,
			mode,
			store: shop.store,
			unit: "orders/s",
			rps: r.paidRate,
			p50: r.settleP50,
			p99: r.settleP99,
			errors: r.failedRequests + r.dropped + r.cancelledOther + r.invariants.violations.length,
			note:
				`${r.offered} offered in ${fmt(cfg.openSeconds, 0)} s, ${r.dropped} dropped (no idle customer), ${r.accepted} accepted` +
				`; latency accepted → paid (statusHistory); POST /orders p99 ${fmt(r.orderP99, 1)} ms; request sent → paid p99 ${fmt(r.endToEndP99, 0)} ms; ${settled}` +
				listFailures(r.failures),
		},
	];
}

/** One scenario; a failure is recorded (the run goes on with the next one and reports it at the end). */
async function attempt(what: string, fn: () => Promise<void>): Promise<boolean> {
	try {
		await fn();
		return true;
	} catch (err) {
		const message = `${what} failed: ${err instanceof Error ? err.message : String(err)}`;
		log(message);
		failures.push(message);
		return false;
	}
}

function notMeasured(what: string, shop: Shop, reason: string): Row {
	const checkout = what.startsWith("checkout") || what.startsWith("webhooks");
	const mode = shop.mode.startsWith("cluster") && checkout ? "cluster (NATS + Kafka)" : shop.mode;
	const scenario = what.startsWith("search") ? what.replace("search", `search ${catalogLabel(cfg.products)}`) : what;
	return missingRow(scenario, mode, shop.store, checkout ? "orders/s" : what.startsWith("import") ? "rows/s" : "req/s", reason);
}

/** Every selected scenario against one running shop. */
async function scenarios(shop: Shop, queries: string[]): Promise<void> {
	const s = cfg.scenarios;
	const read = { connections: cfg.connections, duration: cfg.duration };
	const label = catalogLabel(cfg.products);
	const where = `${shop.mode} on ${storeName(shop.store)}`;
	const ids = spreadIds(cfg.products, 1000);
	await calibrateIdle(shop, ids[0]!);
	let busy = false;
	/** Runs a scenario, then waits for the shop to be idle again; rows made while it was still busy from the one before say so. */
	const step = async (what: string, fn: () => Promise<Row[]>) => {
		const ok = await attempt(`${where}: ${what}`, async () => {
			const made = await fn();
			if (busy) for (const r of made) r.note = `${r.note ? `${r.note}; ` : ""}started while the shop was still busy with the scenario before`;
			rows.push(...made);
		});
		if (!ok) rows.push(notMeasured(what, shop, failures[failures.length - 1]!.replace(`${where}: ${what} failed: `, "")));
		busy = !(await waitIdle(shop));
	};
	if (s.has("product")) await step("GET /products/:id", async () => [await getProduct(shop, ids, read)]);
	if (s.has("product-uncached")) await step("GET /products/:id uncached", async () => [await getProductUncached(shop, ids, read)]);
	if (s.has("revalidate")) await step("GET /products/:id → 304", async () => [await revalidateProduct(shop, ids, read)]);
	for (const facets of [false, true])
		if (s.has(facets ? "search-facets" : "search"))
			await step(`search${facets ? " + facets" : ""}`, async () => [
				await search(shop, { ...read, queries, facets, catalog: label, timeoutSeconds: 30 }),
			]);
	if (s.has("mixed") && shop.events && shop.mode === "one process")
		await step("mixed load", async () => {
			const m = await mixedLoad(shop, ids, queries, { rate: cfg.mixedRate, duration: cfg.duration, connections: cfg.connections });
			const inv = m.checkouts.invariants;
			for (const v of inv.violations) violations.push(`${where}, mixed load: ${v}`);
			if (inv.pendingOrders) failures.push(`${where}, mixed load: ${inv.pendingOrders} orders did not settle (still pending)`);
			return [
				{
					scenario: `mixed ${fmt(cfg.mixedRate, 0)}/s: cache hit ratio ${fmt(m.hitRatio * 100, 1)} %`,
					mode: shop.mode,
					store: shop.store,
					unit: "req/s",
					rps: m.reads.rps,
					p50: m.reads.p50,
					p99: m.reads.p99,
					errors: m.reads.errors + inv.violations.length,
					note:
						`80 % GET by id, 15 % search, 5 % checkout offered; rate and latency of the reads; catalog cache ${m.hits} hits, ${m.misses} misses, ` +
						`${m.bypassed} bypassed, ${m.purges} purges; ${m.checkoutsOffered} checkouts offered, ${m.checkouts.accepted} accepted, ${m.checkouts.paid} paid; ` +
						(inv.violations.length
							? `INVARIANTS VIOLATED (${inv.violations.length})`
							: inv.ok
								? "invariants held"
								: "invariants not fully checked"),
				},
			];
		});
	if (s.has("checkout-closed") || s.has("checkout-open") || s.has("webhooks")) {
		if (shop.events) await checkoutScenarios(shop, where, step);
		else notes.push(`${where}: checkout and webhooks skipped (no Kafka at ${redact(cfg.kafka)})`);
	}
	if (s.has("import"))
		await step(`import ${catalogLabel(cfg.importRows)}`, () =>
			importScenario(shop, { ...read, rows: cfg.importRows, ids, workDir, catalog: catalogLabel(cfg.importRows) }),
		);
}

async function checkoutScenarios(shop: Shop, where: string, step: (what: string, fn: () => Promise<Row[]>) => Promise<void>): Promise<void> {
	const s = cfg.scenarios;
	for (const kind of ["closed", "open"] as const) {
		if (!s.has(`checkout-${kind}`)) continue;
		await step(`checkout ${kind} loop`, async () => {
			const r =
				kind === "closed" ? await checkoutClosedLoop(shop, cfg.connections, cfg.duration) : await checkoutOpenLoop(shop, cfg.openRate, cfg.openSeconds);
			checkouts.push({ mode: shop.mode, store: shop.store, scenario: kind, result: r });
			const inv = r.invariants;
			for (const v of inv.violations) violations.push(`${where}, checkout ${kind} loop: ${v}`);
			if (inv.pendingOrders) failures.push(`${where}, checkout ${kind} loop: ${inv.pendingOrders} orders did not settle (still pending)`);
			if (inv.unreadable.length)
				failures.push(
					`${where}, checkout ${kind} loop: the invariants could not be checked: ${inv.unreadable.length} products unreadable, e.g. ${inv.unreadable[0]}`,
				);
			return checkoutRows(shop, kind, r);
		});
	}
	// After the checkout rows (the shop warmed up by them), its two runs back to back.
	if (s.has("webhooks"))
		await step("webhooks fan-out", async () => fanoutRows(shop, cfg.webhookRate, await webhookFanout(shop, cfg.webhookRate, cfg.openSeconds)));
}

/** One line on the invariants over every checkout run. */
function invariantSummary(): string {
	if (checkouts.length === 0) return "";
	if (violations.length) return `INVARIANTS VIOLATED: ${violations.length} (see the log above)`;
	const checked = checkouts.filter(c => c.result.invariants.ok).length;
	return checked === checkouts.length
		? `inventory invariants held after all ${checkouts.length} checkout runs (never oversold, stock and availability exact, nothing held)`
		: `inventory invariants: no violation, but only ${checked} of ${checkouts.length} checkout runs could be checked in full`;
}

async function withShop(what: string, start: () => Promise<Shop>, queries: string[]): Promise<void> {
	let shop: Shop;
	try {
		shop = await start();
	} catch (err) {
		const message = `${what}: the shop did not start: ${err instanceof Error ? err.message : String(err)}`;
		log(message);
		failures.push(message);
		return;
	}
	startups.push({ mode: shop.mode, store: shop.store, products: cfg.products, ...shop.startup });
	try {
		await attempt(`${what}: the scenarios`, () => scenarios(shop, queries));
	} finally {
		await shop.stop();
	}
}

async function clusterRun(store: Store, seeded: Map<EmbeddedStore, string>, queries: string[], probeQuery: string, kafkaUp: boolean): Promise<void> {
	const namespace = `bench-${runId}-${store}`;
	const dataDir = path.join(workDir, `cluster-${store}`);
	removeDir(dataDir);
	fs.mkdirSync(dataDir, { recursive: true });
	if (kafkaUp)
		undo.set(`kafka ${namespace}`, () =>
			deleteKafkaNamespace(cfg.kafka, namespace).then(r =>
				log(`deleted ${r.topics.length} topics and ${r.groups.length} consumer groups of ${namespace}`),
			),
		);
	let dbPrefix: string | undefined;
	if (isEmbedded(store)) copyCatalog(seeded.get(store)!, dataDir);
	else {
		dbPrefix = `bench_${runId}_`;
		undo.set(`mongo ${dbPrefix}`, () => dropDatabases(cfg.mongoUrl, dbPrefix!).then(dbs => log(`dropped ${dbs.length} FerretDB databases (${dbPrefix}*)`)));
		await seedFerretdb(cfg.products, cfg.mongoUrl, dbPrefix, logDir);
	}
	try {
		await withShop(
			`cluster on ${storeName(store)}`,
			() =>
				startCluster({
					store,
					namespace,
					natsUrl: cfg.natsUrl,
					kafka: kafkaUp ? cfg.kafka : undefined,
					mongoUrl: cfg.mongoUrl,
					dbPrefix,
					dataDir,
					logDir,
					probeQuery,
					readyTimeoutMs: 10 * 60_000,
					...(cfg.scenarios.has("webhooks") && kafkaUp && { webhooks: true, env: WEBHOOK_BENCH_ENV }),
				}),
			queries,
		);
	} finally {
		await undoNow(`kafka ${namespace}`);
		if (dbPrefix) await undoNow(`mongo ${dbPrefix}`);
		await undoNow(`dir ${dataDir}`);
	}
}

function mb(bytes: number | undefined): string {
	return bytes === undefined || !Number.isFinite(bytes) ? "-" : `${fmt(bytes / 2 ** 20, 0)} MB`;
}

function largeNotes(large: LargeResult): string[] {
	const s = large.startup;
	const built = s.indexBuildSeconds !== undefined ? `the search index built in ${fmt(s.indexBuildSeconds, 1)} s (the products service's log line); ` : "";
	const out = [
		`${catalogLabel(large.products)} products (one process, SQLite): seeded in ${fmt(large.seedSeconds, 0)} s; ${built}ready ${fmt(s.readySeconds, 1)} s and first search answered ${fmt(s.firstSearchSeconds ?? NaN, 1)} s after spawning; ` +
			`RSS ${mb(s.rssAfterFirstSearch)} (peak ${mb(s.peakRss)}), ${mb(large.catalogRss)} more than an empty shop (${mb(large.emptyRss)}): the search index and SQLite's page cache`,
	];
	for (const [k, v] of Object.entries(large.shopMetrics)) out.push(`  products node metric ${k} = ${v}`);
	for (const line of large.shopLog) out.push(`  products log: ${line}`);
	return out;
}

function startupNotes(): string[] {
	return startups.map(
		s =>
			`${s.mode} on ${storeName(s.store)}, ${catalogLabel(s.products)} products: ready ${fmt(s.readySeconds, 1)} s, first search ${fmt(s.firstSearchSeconds ?? NaN, 1)} s after spawning` +
			(s.indexBuildSeconds !== undefined ? ` (index built in ${fmt(s.indexBuildSeconds, 1)} s, by its log)` : "") +
			`; products process RSS ${mb(s.rssAfterFirstSearch)}`,
	);
}

async function main(): Promise<void> {
	const startedAt = new Date();
	const commit = gitCommit();
	log(
		`${os.cpus().length} CPUs, Node ${process.version}, ${cfg.duration} s per scenario, ${cfg.connections} connections, ${cfg.products} products; scenarios ${[...cfg.scenarios].join(", ")}; work dir ${workDir}`,
	);
	const s = cfg.scenarios;
	const needShop = [
		"product",
		"product-uncached",
		"revalidate",
		"search",
		"search-facets",
		"checkout-closed",
		"checkout-open",
		"mixed",
		"webhooks",
		"import",
	].some(x => s.has(x as never));
	const shopEnv = s.has("webhooks") ? WEBHOOK_BENCH_ENV : undefined;

	const queries = generatedQueries(cfg.queries, cfg.products);
	if (new Set(queries).size < 1000) throw new Error(`the query log has only ${new Set(queries).size} distinct queries (at least 1,000 needed)`);
	const probeQuery = queries.find(q => /^\p{Ll}{4,}$/u.test(q)) ?? queries[0]!;

	const base = await baseline({ connections: cfg.connections, duration: cfg.duration }, logDir);
	rows.push(base);

	const natsUp = cfg.cluster !== "off" && (await reachable(cfg.natsUrl, 4222));
	const kafkaUp = natsUp && (await reachable(cfg.kafka, 9092));
	const mongoUp = natsUp && cfg.stores.includes("ferretdb") && (await reachable(cfg.mongoUrl, 27017));
	const oneProcessStores = cfg.cluster === "only" ? [] : cfg.stores.filter(isEmbedded);
	const oneProcess = oneProcessStores.length > 0;
	const clusterStores = natsUp ? cfg.stores.filter(st => isEmbedded(st) || mongoUp) : [];
	if (cfg.cluster === "off") notes.push("cluster: skipped (BENCH_CLUSTER=off)");
	else if (!natsUp) notes.push(`cluster: skipped (no NATS at ${redact(cfg.natsUrl)}; npm run infra:up)`);
	else {
		if (!kafkaUp) notes.push(`cluster: no Kafka at ${redact(cfg.kafka)}, so no checkout across the cluster`);
		if (cfg.stores.includes("ferretdb") && !mongoUp) notes.push(`cluster on FerretDB: skipped (nothing answers at ${redact(cfg.mongoUrl)})`);
	}

	// Each embedded store's catalog is seeded once and copied for every shop that runs on it.
	const seeded = new Map<EmbeddedStore, string>();
	if (needShop)
		for (const store of new Set([...oneProcessStores, ...clusterStores.filter(isEmbedded)])) {
			const dir = path.join(workDir, `catalog-${store}`);
			removeDir(dir);
			await seedEmbedded(store, cfg.products, dir, logDir);
			seeded.set(store, dir);
		}
	let emptyRss: number | undefined;
	if ((needShop && oneProcess) || (cfg.large && s.has("search-large"))) emptyRss = await emptyShopRss(workDir, logDir, probeQuery);

	if (needShop)
		for (const store of oneProcessStores) {
			const dataDir = path.join(workDir, `one-process-${store}`);
			removeDir(dataDir);
			copyCatalog(seeded.get(store)!, dataDir);
			await withShop(
				`one process on ${storeName(store)}`,
				() => startOneProcess({ dataDir, logDir, probeQuery, readyTimeoutMs: 10 * 60_000, embedded: store, env: shopEnv }),
				queries,
			);
			await undoNow(`dir ${dataDir}`);
		}
	if (needShop) for (const store of clusterStores) await clusterRun(store, seeded, queries, probeQuery, kafkaUp);
	for (const dir of seeded.values()) await undoNow(`dir ${dir}`);

	let large: LargeResult | undefined;
	if (s.has("search-large") && !cfg.large) notes.push("search at the large catalog: skipped (BENCH_LARGE=off)");
	if (s.has("search-large") && cfg.large) {
		const r = await searchLarge(
			{
				products: cfg.productsLarge,
				connections: cfg.connections,
				duration: cfg.duration,
				queries: generatedQueries(cfg.queries, cfg.productsLarge),
				probeQuery,
				facets: s.has("search-facets"),
				workDir,
				logDir,
			},
			emptyRss,
		);
		rows.push(...r.rows);
		large = r.result;
	}

	const rated = rate(rows, base);
	const report = table(rated);
	const runSeconds = (Date.now() - startedAt.getTime()) / 1000;
	const allNotes = [
		...notes,
		...(emptyRss !== undefined ? [`an empty shop in one process: RSS ${mb(emptyRss)}`] : []),
		...startupNotes(),
		...(large ? largeNotes(large) : []),
		invariantSummary(),
		...failures.map(f => `NOT MEASURED: ${f}`),
	].filter(Boolean);
	console.log(`\n${report}\n`);
	for (const r of rated) if (r.note) console.log(`- ${r.scenario}, ${r.mode}, ${storeName(r.store)}: ${r.note}`);
	console.log("");
	for (const n of allNotes) console.log(n);

	const machine = `${os.cpus().length} × ${os.cpus()[0]?.model?.trim() ?? "CPU"}, ${fmt(os.totalmem() / 2 ** 30, 0)} GB, Node ${process.version}`;
	const result = {
		date: startedAt.toISOString(),
		commit,
		machine,
		node: process.version,
		cpus: os.cpus().length,
		cpuModel: os.cpus()[0]?.model,
		config: { ...cfg, scenarios: [...cfg.scenarios], natsUrl: redact(cfg.natsUrl), kafka: redact(cfg.kafka), mongoUrl: redact(cfg.mongoUrl) },
		servers: { nats: natsUp, kafka: kafkaUp, ferretdb: mongoUp },
		runSeconds,
		rows: rated,
		startups,
		emptyRss,
		large,
		checkouts,
		violations,
		failures,
		notes: allNotes,
		table: report,
	};
	const file = writeJson(result, startedAt);
	const title = "npm run bench: the shop against a bare node:http hello world, measured in the same run";
	const subtitle = `${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC, commit ${commit ?? "?"}, ${machine}; baseline ${fmt(base.rps, 0)} req/s, p99 ${fmt(base.p99, 2)} ms; ${cfg.duration} s per scenario, ${cfg.connections} connections`;
	const chartNotes = [
		...(large ? largeNotes(large).slice(0, 1) : []),
		invariantSummary(),
		"Checkout rows are orders/s (settled = accepted → paid); their latency is accepted → paid. The load generator shares the machine with the shop.",
	].filter(Boolean);
	const svg = ratioChart(rated, { title, subtitle, notes: chartNotes });
	const publish = cfg.full && violations.length === 0;
	const svgFile = publish ? path.join(ROOT, "bench", "results", "latest.svg") : path.join(workDir, "chart.svg");
	fs.writeFileSync(svgFile, svg);
	if (publish) {
		const rowNotes = rated.filter(r => r.note).map(r => `- ${r.scenario}, ${r.mode}, ${storeName(r.store)}: ${r.note}`);
		writeReadmeSection(
			[
				`${startedAt.toISOString().slice(0, 10)}, commit ${commit ?? "?"}, ${machine}; ${cfg.duration} s per scenario, ${cfg.connections} connections, ${catalogLabel(cfg.products)} products; the run took ${fmt(runSeconds / 60, 0)} min.`,
				"",
				"![The ratio table as a chart](results/latest.svg)",
				"",
				report,
				"",
				...rowNotes,
				"",
				...allNotes.map(n => (n.startsWith("  ") ? `  - ${n.trim()}` : `- ${n}`)),
			].join("\n"),
		);
	}
	console.log(
		`\nResults: ${path.relative(process.cwd(), file)}; chart: ${path.relative(process.cwd(), svgFile)}${publish ? " and bench/README.md" : ""} (the run took ${fmt(runSeconds / 60, 1)} min; node logs in ${logDir})`,
	);
	if (violations.length) throw new Error(`the inventory invariants were violated:\n  ${violations.join("\n  ")}`);
	if (failures.length) console.log(`\n${failures.length} scenario(s) could not be measured:\n  ${failures.join("\n  ")}`);
}

let interrupted = false;
const onSignal = () => {
	if (interrupted) {
		killAll();
		process.exit(130);
	}
	interrupted = true;
	log("interrupted: stopping the shop and cleaning up (Ctrl-C again to kill at once)...");
	const hard = setTimeout(() => {
		killAll();
		process.exit(130);
	}, 60_000);
	void undoAll().finally(() => {
		clearTimeout(hard);
		process.exit(130);
	});
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

main().then(
	async () => {
		await undoAll();
		process.exit(0);
	},
	async (err: unknown) => {
		console.error(`\nBenchmark failed: ${err instanceof Error ? err.message : String(err)}`);
		await undoAll();
		process.exit(1);
	},
);
