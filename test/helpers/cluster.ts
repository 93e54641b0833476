/**
 * A real cluster for tests: every node its own `node --import tsx scripts/start.ts` process
 * (started the way `npm run cluster` starts them, scripts/cluster.ts), on the real NATS, Kafka
 * and MongoDB/FerretDB servers (test/cluster/infra.ts).
 *
 * Each cluster is isolated from every other one (other test files, other runs, a developer's
 * `npm run cluster`): its own NAMESPACE (NATS subjects, and the Kafka topics and consumer groups,
 * lib/events/registry.ts), its own DB_PREFIX (MongoDB databases `<prefix><service>`), free ports.
 * `stop()` stops the nodes (SIGTERM, SIGKILL after a bounded wait) and removes the databases,
 * topics and consumer groups it made.
 *
 * A "probe" broker in the test process joins the cluster's namespace without services: it sees
 * what the nodes see (discovery, `$node.*`), which is how the tests wait for the services and
 * ask each node for its readiness. Node output goes to a log file per node
 * (`$TMPDIR/shop-cluster/<namespace>/<node>.log`), and with CLUSTER_VERBOSE=1 to the test's
 * output too, prefixed with the node's name. CLUSTER_KEEP=1 keeps the databases, topics and
 * logs after the test, to look into a failure.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { ServiceBroker } from "moleculer";
import { Admin, ConfigResourceTypes } from "@platformatic/kafka";
import mongoose from "mongoose";
import { ROOT, spawnNode, stopNodes, type NodeProcess, type NodeSpec } from "../../scripts/cluster.js";
import { INFRA } from "../cluster/infra.js";
import { ADMIN_ENV, eventually, freePort, HttpClient, type TestShop } from "./shop.js";

export type { NodeSpec } from "../../scripts/cluster.js";

export interface ClusterOptions {
	/** Short name, part of the namespace (`t-<name>-<random>`). */
	name: string;
	nodes: NodeSpec[];
	/** Environment of every node, over the test defaults. */
	env?: Record<string, string>;
	/** Kafka bootstrap servers (default: the shared test broker). */
	kafkaBrokers?: string;
	/** NATS and MongoDB of the test's own (startPrivateServer), instead of the shared ones. */
	natsUrl?: string;
	mongoUrl?: string;
	/** Bound on the start-up, in ms (default 120 s). */
	startTimeoutMs?: number;
}

/** Environment of every node unless a test overrides it. */
const NODE_ENV_DEFAULTS: Record<string, string> = {
	BCRYPT_COST: "4",
	LOG_LEVEL: process.env.CLUSTER_LOG_LEVEL ?? "warn",
	LOG_FORMAT: "text",
	SEED_DEMO: "false",
	OUTBOX_POLL_MS: "250",
	METRICS_ENABLED: "true",
	RATE_LIMIT_PER_MINUTE: "1000000",
	AUTH_RATE_LIMIT_PER_MINUTE: "1000000",
	// The simulated provider's webhooks are signed by one orders node and checked by any.
	SIMULATED_WEBHOOK_SECRET: `whsec_${Buffer.from("cluster-test-simulated-provider-secret").toString("base64")}`,
	...ADMIN_ENV,
};

export interface ClusterNode {
	spec: NodeSpec;
	nodeId: string;
	metricsPort: number;
	proc?: NodeProcess;
	logFile: string;
	/** The last lines of its output (all runs of this node). */
	tail: string[];
}

const live = new Set<NodeProcess>();
process.once("exit", () => {
	// The test process is going away: no node outlives it.
	for (const p of live) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
});

export class TestCluster {
	readonly namespace: string;
	readonly dbPrefix: string;
	readonly kafkaBrokers: string;
	readonly natsUrl: string;
	readonly mongoUrl: string;
	readonly nodes = new Map<string, ClusterNode>();
	readonly logDir: string;
	baseUrl = "";
	http!: HttpClient;
	probe!: ServiceBroker;
	private env: NodeJS.ProcessEnv = {};
	private stopped = false;

	constructor(readonly opts: ClusterOptions) {
		const id = randomUUID().replace(/-/g, "").slice(0, 8);
		this.namespace = `t-${opts.name}-${id}`;
		this.dbPrefix = `c${id}_`;
		this.kafkaBrokers = opts.kafkaBrokers ?? INFRA.kafka;
		this.natsUrl = opts.natsUrl ?? INFRA.nats;
		this.mongoUrl = opts.mongoUrl ?? INFRA.mongo;
		this.logDir = path.join(os.tmpdir(), "shop-cluster", this.namespace);
	}

	/** Kafka name of one of the shop's topics (`orders`, `inventory`, `payments`, `tickets`, `dead-letter`). */
	topic(family: string): string {
		return `${this.namespace}.${family}`;
	}
	/** Kafka consumer group of a service. */
	group(service: string): string {
		return `${this.namespace}.${service}`;
	}

	/** Start every node, then wait until the gateway is ready and every service is discovered. */
	async start(): Promise<this> {
		fs.mkdirSync(this.logDir, { recursive: true });
		const port = await freePort();
		this.baseUrl = `http://127.0.0.1:${port}`;
		this.http = new HttpClient(this.baseUrl);
		const inherited = Object.fromEntries(
			Object.entries(process.env).filter(
				([k]) => !k.startsWith("VITEST") && !["SERVICES", "NODE_ID", "METRICS_PORT", "PORT", "DATA_DIR", "API_SERVICES"].includes(k),
			),
		);
		// The gateway routes to the services this cluster runs (and is ready once they are there).
		const routed = [...new Set(this.opts.nodes.flatMap(n => n.services).filter(s => s !== "api"))];
		this.env = {
			...inherited,
			...NODE_ENV_DEFAULTS,
			...this.opts.env,
			NAMESPACE: this.namespace,
			DB_PREFIX: this.dbPrefix,
			TRANSPORTER: this.natsUrl,
			MONGO_URL: this.mongoUrl,
			KAFKA_BROKERS: this.kafkaBrokers,
			PORT: String(port),
			HOST: "127.0.0.1",
			API_SERVICES: routed.join(","),
		};
		for (const spec of this.opts.nodes) {
			this.nodes.set(spec.name, {
				spec,
				nodeId: `${spec.name}-${this.namespace}`,
				metricsPort: await freePort(),
				logFile: path.join(this.logDir, `${spec.name}.log`),
				tail: [],
			});
		}
		this.probe = new ServiceBroker({
			namespace: this.namespace,
			nodeID: `probe-${this.namespace}`,
			transporter: this.natsUrl as never,
			serializer: "JSON",
			logger: false,
			// The nodes' heartbeat settings, so that it notices a dead node when they do.
			heartbeatInterval: Number(this.env.HEARTBEAT_INTERVAL_S ?? 2),
			heartbeatTimeout: Number(this.env.HEARTBEAT_TIMEOUT_S ?? 6),
			requestTimeout: 10_000,
		});
		await this.probe.start();
		for (const name of this.nodes.keys()) this.spawn(name);
		await this.waitReady(this.opts.startTimeoutMs ?? 120_000);
		return this;
	}

	/** Start a node (again): same NODE_ID, same ports, a new process. */
	spawn(name: string): NodeProcess {
		const node = this.node(name);
		const verbose = process.env.CLUSTER_VERBOSE === "1";
		const out = fs.createWriteStream(node.logFile, { flags: "a" });
		out.write(`===== ${new Date().toISOString()} start ${name} =====\n`);
		const proc = spawnNode({ ...node.spec, env: { ...node.spec.env, NODE_ID: node.nodeId, METRICS_PORT: String(node.metricsPort) } }, this.env, line => {
			out.write(`${line}\n`);
			node.tail.push(line);
			if (node.tail.length > 60) node.tail.shift();
			if (verbose) process.stdout.write(`[${name}] ${line}\n`);
		});
		void proc.exited.then(code => {
			out.end(`===== exited (${code}) =====\n`);
			live.delete(proc);
		});
		node.proc = proc;
		live.add(proc);
		return proc;
	}

	/** `kill -9` (or another signal) one node; resolves when it has exited. */
	async kill(name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
		const proc = this.node(name).proc;
		if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
		proc.child.kill(signal);
		await proc.exited;
	}

	node(name: string): ClusterNode {
		const n = this.nodes.get(name);
		if (!n) throw new Error(`No node '${name}' in this cluster`);
		return n;
	}

	/** Nodes of the layout that run `service`. */
	nodesOf(service: string): ClusterNode[] {
		return [...this.nodes.values()].filter(n => n.spec.services.includes(service));
	}

	/** Wait until the node answers `$node.ready` with ready: true (bounded). */
	async waitNodeReady(name: string, timeoutMs = 60_000): Promise<void> {
		const node = this.node(name);
		const deadline = Date.now() + timeoutMs;
		let last = "no answer";
		while (Date.now() < deadline) {
			if (node.proc && (node.proc.child.exitCode !== null || node.proc.child.signalCode !== null)) {
				throw new Error(`Node ${name} exited during start-up:\n${this.logTail(name)}`);
			}
			try {
				const report = (await this.probe.call("$node.ready", {}, { nodeID: node.nodeId, timeout: 3000 })) as { ready: boolean; checks: unknown };
				if (report.ready) return;
				last = JSON.stringify(report.checks);
			} catch (err) {
				last = (err as Error).message;
				// A broker without the shop's `$node.ready`: ready once its services are registered.
				if (
					(err as Error).name === "ServiceNotFoundError" &&
					this.probe.registry.nodes.get(node.nodeId)?.available &&
					this.probe.registry.getServiceList({ onlyAvailable: true }).some(s => (s as { nodeID?: string }).nodeID === node.nodeId)
				)
					return;
			}
			await sleep(300);
		}
		throw new Error(`Node ${name} not ready after ${timeoutMs} ms (${last}):\n${this.logTail(name)}`);
	}

	private async waitReady(timeoutMs: number): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		const services = [...new Set(this.opts.nodes.flatMap(n => n.services))];
		for (const name of this.nodes.keys()) await this.waitNodeReady(name, Math.max(1000, deadline - Date.now()));
		// Every node is up and ready; now the gateway must see every service (discovery over NATS).
		if (services.includes("api")) {
			const wanted = services.filter(s => s !== "api");
			await poll(
				async () => {
					const ready = await this.http.get("/api/ready");
					if (ready.status !== 200) return undefined;
					const gw = this.nodesOf("api")[0]!;
					const seen = (await this.probe.call("$node.services", { onlyAvailable: true, skipInternal: true }, { nodeID: gw.nodeId })) as {
						name: string;
					}[];
					return wanted.every(s => seen.some(x => x.name === s)) ? true : undefined;
				},
				Math.max(1000, deadline - Date.now()),
				`the gateway to see ${wanted.join(", ")}`,
			);
		}
	}

	/** A TestShop view of the cluster, for the helpers of test/helpers/shop.ts (customer, admin, ...). */
	asShop(): TestShop {
		return {
			broker: this.probe,
			baseUrl: this.baseUrl,
			dataDir: "",
			http: this.http,
			stop: () => this.stop(),
			restart: () => Promise.reject(new Error("restart a cluster node with spawn(name)")),
		};
	}

	/** The Prometheus text of a node's metrics endpoint. */
	async metrics(name: string): Promise<string> {
		const res = await fetch(`http://127.0.0.1:${this.node(name).metricsPort}/metrics`);
		return res.text();
	}

	/** The sum of a Prometheus series on a node, over the samples whose labels include `labels`. */
	async metricValue(name: string, metric: string, labels: Record<string, string> = {}): Promise<number> {
		const text = await this.metrics(name);
		let sum = 0;
		for (const line of text.split("\n")) {
			if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
			if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
			sum += Number(line.slice(line.lastIndexOf(" ") + 1));
		}
		return sum;
	}

	logTail(name: string, lines = 40): string {
		return this.node(name)
			.tail.slice(-lines)
			.map(l => `  [${name}] ${l}`)
			.join("\n");
	}

	/** Stop every node (SIGTERM, SIGKILL after 20 s), then remove its databases, topics and groups. */
	async stop(opts: { keepData?: boolean } = {}): Promise<void> {
		if (this.stopped) return;
		this.stopped = true;
		const procs = [...this.nodes.values()].map(n => n.proc).filter((p): p is NodeProcess => !!p);
		await stopNodes(procs, 20_000);
		await this.probe?.stop().catch(() => undefined);
		if (opts.keepData || process.env.CLUSTER_KEEP === "1") {
			console.info(`[cluster] kept: databases ${this.dbPrefix}*, Kafka topics and groups ${this.namespace}.*, logs in ${this.logDir}`);
			return;
		}
		await Promise.all([
			dropDatabases(this.dbPrefix, this.mongoUrl).catch(() => undefined),
			deleteKafkaNamespace(this.kafkaBrokers, this.namespace).catch(() => undefined),
		]);
	}
}

export async function startCluster(opts: ClusterOptions): Promise<TestCluster> {
	const cluster = new TestCluster(opts);
	try {
		return await cluster.start();
	} catch (err) {
		await cluster.stop().catch(() => undefined);
		throw err;
	}
}

// ---------------------------------------------------------------------------------------------
// Servers of one test's own

/**
 * A server only this test uses (NATS, FerretDB or a Kafka broker), run by the same scripts as the
 * shared ones (scripts/infra/up.sh and down.sh, with their own INFRA_DIR and ports): a test may
 * stop it (`down()`, data kept) and start it again (`up()`) without disturbing anyone else's
 * tests. Needs what `npm run infra:up` installed (nats-server, the FerretDB binary, Java and the
 * Kafka jars, kcat). `url` is what the nodes are given (`nats://...`, `mongodb://...`, or Kafka's
 * bootstrap `host:port`).
 */
export interface PrivateServer {
	url: string;
	dir: string;
	/** Start it (again); resolves with the time until it answered (ms). */
	up(): Promise<number>;
	/** Stop it (SIGTERM), data kept; resolves with the time it took (ms). */
	down(): Promise<number>;
	/** Stop it and delete its data. */
	remove(): Promise<void>;
}
/** A Kafka broker of the test's own; `brokers` is its bootstrap address. */
export type PrivateKafka = PrivateServer & { brokers: string };

export type PrivateServerKind = "nats" | "mongo" | "kafka";

function runInfra(script: "up.sh" | "down.sh", args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<number> {
	const started = Date.now();
	return new Promise((resolve, reject) => {
		execFile(
			"bash",
			[path.join(ROOT, "scripts", "infra", script), ...args],
			{ cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 4 << 20 },
			(err, _stdout, stderr) => {
				if (err)
					return reject(new Error(`scripts/infra/${script} ${args.join(" ")} failed: ${err.message}\n${stderr.split("\n").slice(-15).join("\n")}`));
				resolve(Date.now() - started);
			},
		);
	});
}

/**
 * A free port below the kernel's ephemeral range. A server that is stopped while clients keep
 * reconnecting must not listen on an ephemeral port: a client's connect to it can be given that
 * very port as its own and connect to itself (TCP self-connect), then talk to itself.
 */
async function freeServerPort(): Promise<number> {
	let low = 32768;
	try {
		low = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || low;
	} catch {
		/* not Linux: the usual lower bound */
	}
	const from = 10_000;
	const to = Math.max(from + 1000, low - 100);
	for (let attempt = 0; attempt < 100; attempt++) {
		const port = from + Math.floor(Math.random() * (to - from));
		if (await portIsFree(port)) return port;
	}
	throw new Error(`no free port found between ${from} and ${to}`);
}

/** Ports of a private server, as scripts/infra/lib.sh names them, and the URL the nodes use. */
async function privateServerPorts(kind: PrivateServerKind): Promise<{ env: Record<string, string>; url: string }> {
	const port = await freeServerPort();
	const second = String(await freeServerPort());
	switch (kind) {
		case "nats":
			return { env: { NATS_PORT: String(port), NATS_MONITOR_PORT: second }, url: `nats://127.0.0.1:${port}` };
		case "mongo":
			return { env: { MONGO_PORT: String(port), FERRETDB_DEBUG_PORT: second }, url: `mongodb://127.0.0.1:${port}` };
		case "kafka":
			return { env: { KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: second, KAFKA_HEAP_OPTS: "-Xmx384m -Xms128m" }, url: `127.0.0.1:${port}` };
	}
}

export async function startPrivateServer(kind: PrivateServerKind): Promise<PrivateServer> {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), `shop-${kind}-`));
	const ports = await privateServerPorts(kind);
	const env = { ...process.env, INFRA_DIR: dir, ...ports.env };
	const server: PrivateServer = {
		url: ports.url,
		dir,
		up: () => runInfra("up.sh", [kind], env, 180_000),
		down: () => runInfra("down.sh", [kind], env, 60_000),
		async remove() {
			if (process.env.CLUSTER_KEEP === "1") {
				await runInfra("down.sh", [kind], env, 60_000).catch(() => undefined);
				console.info(`[cluster] kept: ${kind} state and log in ${dir}`);
				return;
			}
			await runInfra("down.sh", ["--wipe", kind], env, 60_000).catch(() => undefined);
			fs.rmSync(dir, { recursive: true, force: true });
		},
	};
	try {
		await server.up();
	} catch (err) {
		await server.remove();
		throw err;
	}
	return server;
}

export async function startPrivateKafka(): Promise<PrivateKafka> {
	const server = await startPrivateServer("kafka");
	return { ...server, brokers: server.url };
}

/**
 * A Kafka cluster of `nodes` brokers only this test uses (scripts/infra/up.sh with KAFKA_NODES,
 * its own INFRA_DIR and ports): brokers `kafka-1` ... `kafka-N`. `kill(i)` is a SIGKILL of one
 * broker, `up(i)` starts it again (same data), `remove()` stops them all and deletes their data.
 */
export interface PrivateKafkaCluster {
	brokers: string;
	dir: string;
	nodes: number;
	/** The bootstrap address of broker i (1-based). */
	broker(i: number): string;
	kill(i: number): Promise<void>;
	up(i: number): Promise<number>;
	remove(): Promise<void>;
}

/** A base port with `count` free ports after it (one broker and its controller take two). */
async function freePortRange(count: number): Promise<number> {
	for (let attempt = 0; attempt < 50; attempt++) {
		const base = 20_000 + Math.floor(Math.random() * 30_000);
		const free = await Promise.all(Array.from({ length: count }, (_, i) => portIsFree(base + i)));
		if (free.every(Boolean)) return base;
	}
	throw new Error(`no ${count} free consecutive ports found`);
}
function portIsFree(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const srv = net.createServer();
		srv.once("error", () => resolve(false));
		srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
	});
}

export async function startPrivateKafkaCluster(nodes = 3): Promise<PrivateKafkaCluster> {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-kafka-cluster-"));
	const base = await freePortRange(2 * nodes);
	const env = {
		...process.env,
		INFRA_DIR: dir,
		KAFKA_NODES: String(nodes),
		KAFKA_PORT: String(base),
		KAFKA_CONTROLLER_PORT: String(base + 1),
		KAFKA_HEAP_OPTS: "-Xmx384m -Xms128m",
	};
	const broker = (i: number) => `127.0.0.1:${base + 2 * (i - 1)}`;
	const k: PrivateKafkaCluster = {
		brokers: Array.from({ length: nodes }, (_, i) => broker(i + 1)).join(","),
		dir,
		nodes,
		broker,
		async kill(i) {
			const pid = Number(fs.readFileSync(path.join(dir, `kafka-${i}`, `kafka-${i}.pid`), "utf8").trim());
			process.kill(pid, "SIGKILL");
			const deadline = Date.now() + 10_000;
			while (Date.now() < deadline) {
				try {
					process.kill(pid, 0);
				} catch {
					return;
				}
				await sleep(50);
			}
			throw new Error(`kafka-${i} (pid ${pid}) still alive 10 s after SIGKILL`);
		},
		up: i => runInfra("up.sh", [`kafka-${i}`], env, 180_000),
		async remove() {
			await runInfra("down.sh", ["--wipe", "kafka"], env, 90_000).catch(() => undefined);
			fs.rmSync(dir, { recursive: true, force: true });
		},
	};
	try {
		await runInfra("up.sh", ["kafka"], env, 240_000);
	} catch (err) {
		await k.remove();
		throw err;
	}
	return k;
}

/** Partition leaders and in-sync replicas of a topic, from kcat's metadata (`-L`). */
export function kafkaPartitions(brokers: string, topic: string): Promise<{ partition: number; leader: number; isr: number[] }[]> {
	return new Promise((resolve, reject) => {
		execFile("kcat", ["-b", brokers, "-L", "-t", topic, "-m", "5"], { encoding: "utf8", timeout: 15_000 }, (err, stdout) => {
			if (err) return reject(new Error(`kcat -L ${topic}: ${err.message}`));
			const out: { partition: number; leader: number; isr: number[] }[] = [];
			for (const m of stdout.matchAll(/partition (\d+), leader (-?\d+), replicas: [\d,]*, isrs: ([\d,]*)/g))
				out.push({ partition: Number(m[1]), leader: Number(m[2]), isr: m[3]!.split(",").filter(Boolean).map(Number) });
			resolve(out);
		});
	});
}

/** The broker id of the cluster's active controller (kcat -L marks it). */
export function kafkaController(brokers: string): Promise<number | undefined> {
	return new Promise((resolve, reject) => {
		execFile("kcat", ["-b", brokers, "-L", "-m", "5"], { encoding: "utf8", timeout: 15_000 }, (err, stdout) => {
			if (err) return reject(new Error(`kcat -L: ${err.message}`));
			const m = /broker (\d+) at \S+ \(controller\)/.exec(stdout);
			resolve(m ? Number(m[1]) : undefined);
		});
	});
}

// ---------------------------------------------------------------------------------------------
// Kafka from the outside

export interface KafkaRecord {
	partition: number;
	offset: number;
	key: string;
	headers: Record<string, string>;
	value: { id: string; type: string; key: string; requestId: string | null; payload: Record<string, unknown> };
}

/** Every message of a topic, read with `kcat` (an outside client: what is really on Kafka). */
export function kcat(brokers: string, topic: string): Promise<KafkaRecord[]> {
	return new Promise((resolve, reject) => {
		execFile(
			"kcat",
			["-b", brokers, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p\\t%o\\t%k\\t%h\\t%s\\n"],
			{ encoding: "utf8", timeout: 30_000, maxBuffer: 64 << 20 },
			(err, stdout) => {
				if (err) return reject(new Error(`kcat ${topic}: ${err.message}`));
				const records: KafkaRecord[] = [];
				for (const line of stdout.split("\n")) {
					if (!line.trim()) continue;
					const [partition, offset, key, headers, ...rest] = line.split("\t");
					const h: Record<string, string> = {};
					for (const kv of (headers ?? "").split(",")) {
						const i = kv.indexOf("=");
						if (i > 0) h[kv.slice(0, i)] = kv.slice(i + 1);
					}
					records.push({ partition: Number(partition), offset: Number(offset), key: key ?? "", headers: h, value: JSON.parse(rest.join("\t")) });
				}
				resolve(records);
			},
		);
	});
}

const testAdmin = (brokers: string, retries = 3) => new Admin({ clientId: "shop-test-admin", bootstrapBrokers: brokers.split(","), retries, retryDelay: 500 });

/** Settings of a topic as the brokers report them (e.g. `min.insync.replicas`). */
export async function topicConfig(brokers: string, topic: string, keys: string[]): Promise<Record<string, string | null>> {
	const admin = testAdmin(brokers);
	try {
		const [described] = await admin.describeConfigs({
			resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: keys }],
		});
		return Object.fromEntries((described?.configs ?? []).map(c => [c.name, c.value ?? null]));
	} finally {
		await admin.close();
	}
}

/** Members of a consumer group and the partitions each holds. */
export async function groupAssignments(brokers: string, groupId: string): Promise<{ clientId: string; partitions: Record<string, number[]> }[]> {
	const admin = testAdmin(brokers);
	try {
		const groups = await admin.describeGroups({ groups: [groupId] });
		return [...(groups.get(groupId)?.members.values() ?? [])].map(m => ({
			clientId: m.clientId,
			partitions: Object.fromEntries([...(m.assignments?.values() ?? [])].map(a => [a.topic, a.partitions])),
		}));
	} finally {
		await admin.close();
	}
}

/** Delete the topics and consumer groups of a namespace. */
export async function deleteKafkaNamespace(brokers: string, namespace: string): Promise<void> {
	const admin = testAdmin(brokers, 2);
	try {
		const prefix = `${namespace}.`;
		const groups = [...(await admin.listGroups()).keys()].filter(g => g.startsWith(prefix));
		if (groups.length) await admin.deleteGroups({ groups }).catch(() => undefined);
		const topics = (await admin.listTopics()).filter(t => t.startsWith(prefix));
		if (topics.length) await admin.deleteTopics({ topics });
	} finally {
		await admin.close();
	}
}

/** Drop the MongoDB databases whose names start with `prefix`. */
export async function dropDatabases(prefix: string, url = INFRA.mongo): Promise<void> {
	const conn = await mongoose.createConnection(url, { serverSelectionTimeoutMS: 5000 }).asPromise();
	try {
		const { databases } = await conn.db!.admin().listDatabases();
		for (const d of databases) if (d.name.startsWith(prefix)) await conn.useDb(d.name).dropDatabase();
	} finally {
		await conn.close();
	}
}

// ---------------------------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

/** Poll `check` until it returns something other than undefined; bounded (cluster pace: 250 ms). */
export function poll<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string, intervalMs = 250): Promise<T> {
	return eventually(check, timeoutMs, what, intervalMs);
}
