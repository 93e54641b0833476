/**
 * `npm run cluster`: the shop as a cluster on this machine. Starts the servers (`npm run infra:up`:
 * NATS, Kafka, FerretDB on 127.0.0.1), then one node process per service, plus a second
 * `products`, a second `orders` and a second `media` node:
 *
 *   users  products-1  products-2  orders-1  orders-2  tickets  notifications  webhooks  media-1  media-2  reports  api
 *
 * Each node is `node --import tsx scripts/start.ts` with its own SERVICES, NODE_ID and
 * METRICS_PORT (CLUSTER_METRICS_PORT, default 3031, then 3032, ...), and TRANSPORTER, MONGO_URL
 * and KAFKA_BROKERS from the infra scripts (or from the environment with --no-infra). Every
 * other variable (PORT, NAMESPACE, ADMIN_EMAIL, LOG_LEVEL, ...) is passed through. Each output
 * line is prefixed with the node's name. Ctrl-C or SIGTERM stops every node (SIGTERM, then
 * SIGKILL after CLUSTER_STOP_TIMEOUT seconds, default 20; a second Ctrl-C kills at once). The
 * servers keep running: `npm run infra:down` stops them. The local Prometheus scrapes every node
 * (a targets file under $INFRA_DIR/prometheus/targets) and, when Jaeger runs, the nodes export
 * their traces to it.
 *
 *   npm run cluster                    everything
 *   KAFKA_NODES=3 npm run cluster      the same on a 3-broker Kafka cluster (replication factor 3)
 *   npm run cluster -- --no-infra      the servers are already there (TRANSPORTER, MONGO_URL, KAFKA_BROKERS)
 *
 * The functions are exported for the cluster tests (test/helpers/cluster.ts), which start
 * nodes the same way.
 */
import { randomBytes } from "node:crypto";
import { spawn, execFile, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface NodeSpec {
	/** Name of the node in the output; also its NODE_ID unless `env.NODE_ID` says otherwise. */
	name: string;
	services: string[];
	/** Extra environment of this node only. */
	env?: Record<string, string>;
}

/** The layout of `npm run cluster`. */
export const CLUSTER_LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "products-1", services: ["products"] },
	{ name: "products-2", services: ["products"] },
	{ name: "orders-1", services: ["orders", "pricing"] },
	{ name: "orders-2", services: ["orders", "pricing"] },
	{ name: "tickets", services: ["tickets"] },
	{ name: "notifications", services: ["notifications"] },
	{ name: "webhooks", services: ["webhooks"] },
	{ name: "media-1", services: ["media"] },
	{ name: "media-2", services: ["media"] },
	{ name: "reports", services: ["reports"] },
	{ name: "api", services: ["api"] },
];

export interface NodeProcess {
	spec: NodeSpec;
	nodeId: string;
	child: ChildProcess;
	/** Resolves with the exit code (or the signal's name) when the process has exited. */
	exited: Promise<number | string>;
}

/** Lines of a stream, each handed to `onLine`. */
function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
	if (!stream) return;
	createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
}

/**
 * Preloaded into every node: when the process that started it is gone (killed with SIGKILL, say),
 * the node stops itself (SIGTERM: a clean stop) instead of running on as an orphan.
 */
const STOP_WITH_PARENT = `data:text/javascript,${encodeURIComponent(
	'const p = process.ppid; setInterval(() => { if (process.ppid !== p) { console.error("the process that started this node is gone: stopping"); process.kill(process.pid, "SIGTERM"); } }, 1000).unref();',
)}`;

/**
 * Start one node: `node --import tsx scripts/start.ts` with `env` (the whole environment of the
 * child) plus SERVICES and NODE_ID. Its stdout and stderr go, line by line, to `onLine`.
 */
export function spawnNode(spec: NodeSpec, env: NodeJS.ProcessEnv, onLine: (line: string, stream: "out" | "err") => void): NodeProcess {
	const nodeId = spec.env?.NODE_ID ?? spec.name;
	const child = spawn(process.execPath, ["--import", STOP_WITH_PARENT, "--import", "tsx", path.join(ROOT, "scripts", "start.ts")], {
		cwd: ROOT,
		env: { ...env, ...spec.env, SERVICES: spec.services.join(","), NODE_ID: nodeId },
		stdio: ["ignore", "pipe", "pipe"],
	});
	lines(child.stdout, l => onLine(l, "out"));
	lines(child.stderr, l => onLine(l, "err"));
	const exited = new Promise<number | string>(resolve => {
		child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
		child.once("error", err => {
			onLine(`could not start: ${err.message}`, "err");
			resolve("spawn-error");
		});
	});
	return { spec, nodeId, child, exited };
}

/** Stop nodes: SIGTERM, then SIGKILL to whatever still runs after `timeoutMs`. */
export async function stopNodes(nodes: NodeProcess[], timeoutMs: number, log: (msg: string) => void = () => undefined): Promise<void> {
	const running = nodes.filter(n => n.child.exitCode === null && n.child.signalCode === null);
	for (const n of running) n.child.kill("SIGTERM");
	let timer: NodeJS.Timeout | undefined;
	const timedOut = new Promise<"timeout">(resolve => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
	const all = Promise.all(running.map(n => n.exited));
	if ((await Promise.race([all, timedOut])) === "timeout") {
		for (const n of running) {
			if (n.child.exitCode === null && n.child.signalCode === null) {
				log(`${n.spec.name} did not stop within ${Math.round(timeoutMs / 1000)} s: SIGKILL`);
				n.child.kill("SIGKILL");
			}
		}
		await all;
	}
	clearTimeout(timer);
}

/** Run `scripts/infra/up.sh` (npm run infra:up); its progress goes to stderr, and its exports are returned. */
export function infraUp(): Promise<Record<string, string>> {
	return new Promise((resolve, reject) => {
		const child = execFile(
			"bash",
			[path.join(ROOT, "scripts", "infra", "up.sh")],
			{ cwd: ROOT, timeout: 20 * 60_000, maxBuffer: 1 << 20 },
			(err, stdout) => {
				if (err) return reject(new Error(`scripts/infra/up.sh failed (${err.message.split("\n")[0]})`));
				const env: Record<string, string> = {};
				for (const m of stdout.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
				resolve(env);
			},
		);
		child.stderr?.pipe(process.stderr);
	});
}

/**
 * A file-discovery target list for the local Prometheus (scripts/infra/up.sh scrapes
 * `$INFRA_DIR/prometheus/targets/*.json`): one target per node, labelled with its name. Answers
 * the file written, or nothing when that Prometheus is not set up here.
 */
export function writePrometheusTargets(name: string, nodes: { name: string; port: number }[]): string | undefined {
	const dir = path.join(path.resolve(process.env.INFRA_DIR ?? path.join(ROOT, ".infra")), "prometheus", "targets");
	if (!fs.existsSync(dir)) return undefined;
	const file = path.join(dir, `${name}.json`);
	const list = nodes.map(n => ({ targets: [`127.0.0.1:${n.port}`], labels: { node: n.name } }));
	// Written whole, then renamed: Prometheus never reads half a file.
	fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(list, null, 1)}\n`);
	fs.renameSync(`${file}.tmp`, file);
	return file;
}

const COLORS = [36, 33, 32, 35, 34, 91, 92, 93, 94, 95, 96];

async function main(): Promise<void> {
	const args = process.argv.slice(2);
	const color = process.stdout.isTTY && !process.env.NO_COLOR;
	const width = Math.max(...CLUSTER_LAYOUT.map(n => n.name.length));
	const say = (msg: string) => console.log(`${color ? "\x1b[1m" : ""}[cluster]${color ? "\x1b[0m" : ""} ${msg}`);

	let infra: Record<string, string> = {};
	if (!args.includes("--no-infra")) {
		say("starting the servers (npm run infra:up) ...");
		infra = await infraUp();
	}
	const env: NodeJS.ProcessEnv = {
		...process.env,
		TRANSPORTER: process.env.TRANSPORTER ?? infra.TRANSPORTER ?? "nats://127.0.0.1:4222",
		MONGO_URL: process.env.MONGO_URL ?? infra.MONGO_URL ?? "mongodb://127.0.0.1:27017",
		KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? infra.KAFKA_BROKERS ?? "127.0.0.1:9092",
		METRICS_ENABLED: process.env.METRICS_ENABLED ?? "true",
		// One secret for every orders node: the simulated provider's webhooks are signed by one node and checked by any.
		SIMULATED_WEBHOOK_SECRET: process.env.SIMULATED_WEBHOOK_SECRET ?? `whsec_${randomBytes(24).toString("base64")}`,
	};
	// KAFKA_NODES=3 npm run cluster: the topics get the cluster's replication (up.sh says which).
	// Traces go to the local Jaeger when up.sh started it (TRACING_EXPORTER_URL), unless set already.
	for (const k of ["KAFKA_REPLICATION_FACTOR", "KAFKA_MIN_INSYNC_REPLICAS", "TRACING_EXPORTER_URL"]) if (env[k] === undefined && infra[k]) env[k] = infra[k];
	// Email through the local Mailpit when up.sh started one (its web UI shows what the shop sent).
	if (env.SMTP_URL === undefined && infra.SMTP_URL) {
		env.SMTP_URL = infra.SMTP_URL;
		env.MAIL_FROM ??= "Moleculer Shop <shop@localhost>";
	}
	const metricsBase = Number(process.env.CLUSTER_METRICS_PORT ?? 3031);
	const stopTimeoutMs = Number(process.env.CLUSTER_STOP_TIMEOUT ?? 20) * 1000;
	say(
		`TRANSPORTER=${env.TRANSPORTER} MONGO_URL=${String(env.MONGO_URL).replace(/\/\/[^@]*@/, "//***@")} KAFKA_BROKERS=${env.KAFKA_BROKERS} NAMESPACE=${env.NAMESPACE ?? "shop"}`,
	);

	let stopping = false;
	const nodes = CLUSTER_LAYOUT.map((spec, i) => {
		const prefix = `${spec.name.padEnd(width)} |`;
		const tag = color ? `\x1b[${COLORS[i % COLORS.length]}m${prefix}\x1b[0m` : prefix;
		const node = spawnNode({ ...spec, env: { METRICS_PORT: String(metricsBase + i), ...spec.env } }, env, line => process.stdout.write(`${tag} ${line}\n`));
		say(`${spec.name}: pid ${node.child.pid}, services ${spec.services.join(",")}, metrics on :${metricsBase + i}`);
		void node.exited.then(code => {
			if (!stopping) say(`${spec.name} exited (${code}); the other nodes keep running. Ctrl-C stops them.`);
		});
		return node;
	});
	const targets = writePrometheusTargets(
		"cluster",
		CLUSTER_LAYOUT.map((spec, i) => ({ name: spec.name, port: metricsBase + i })),
	);
	if (targets) say(`Prometheus (http://127.0.0.1:9090) scrapes every node: ${targets}`);
	const gateway = `http://${env.HOST === "0.0.0.0" ? "127.0.0.1" : (env.HOST ?? "127.0.0.1")}:${env.PORT ?? 3000}`;
	say(`gateway: ${gateway}/api/v1 (ready: /api/ready). Ctrl-C stops the cluster.`);
	void (async () => {
		// Say when the gateway is ready (bounded: two minutes).
		const started = Date.now();
		while (!stopping && Date.now() - started < 120_000) {
			const ok = await fetch(`${gateway}/api/ready`, { signal: AbortSignal.timeout(3000) }).then(
				r => r.ok,
				() => false,
			);
			if (ok) return say(`ready after ${((Date.now() - started) / 1000).toFixed(1)} s: ${gateway}/api/v1`);
			await new Promise(r => setTimeout(r, 500));
		}
		if (!stopping) say(`the gateway is still not ready after 2 minutes; see the nodes' output above`);
	})();

	const stop = async (signal: string) => {
		if (stopping) {
			say(`${signal} again: killing every node`);
			for (const n of nodes) n.child.kill("SIGKILL");
			return;
		}
		stopping = true;
		say(`${signal}: stopping ${nodes.length} nodes (at most ${stopTimeoutMs / 1000} s, then SIGKILL) ...`);
		await stopNodes(nodes, stopTimeoutMs, say);
		if (targets) fs.rmSync(targets, { force: true });
		say("all nodes stopped. The servers still run: npm run infra:down stops them.");
		process.exit(0);
	};
	process.on("SIGINT", () => void stop("SIGINT"));
	process.on("SIGTERM", () => void stop("SIGTERM"));
	process.on("exit", () => {
		for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill("SIGKILL");
	});
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	main().catch(err => {
		console.error(`[cluster] failed: ${(err as Error).message}`);
		process.exit(1);
	});
}
