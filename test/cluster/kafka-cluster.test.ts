/**
 * Kafka as a real cluster: three KRaft brokers of the test's own (scripts/infra/up.sh with
 * KAFKA_NODES=3, other ports and state dir), the shop's topics with replication factor 3 and
 * min.insync.replicas=2. The chaos test's cluster and shoppers; after 15 s the broker that is the
 * active controller (and leads a third of the partitions) is killed with SIGKILL, and started
 * again 15 s later. Then, as in the chaos test: no 5xx on the first try and no failed operation,
 * every order settled and none lost, every event of every order on Kafka (order.placed, and
 * payment.captured and order.paid of each paid order), one capture per paid order, no valid card
 * declined, the stock exact, nothing held; and the topics really are replicated three times with
 * min.insync.replicas=2, every partition back in sync once the broker returned.
 * Figures: requests, errors, time until the dead broker's partitions had new leaders, time until
 * it was back in sync.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutInfra } from "./infra.js";
import {
	kafkaController,
	kafkaPartitions,
	poll,
	sleep,
	startCluster,
	startPrivateKafkaCluster,
	topicConfig,
	type NodeSpec,
	type PrivateKafkaCluster,
	type TestCluster,
} from "../helpers/cluster.js";
import { admin, type TestShop } from "../helpers/shop.js";
import {
	clientFigures,
	describeClients,
	describeOrders,
	firstTryFailures,
	makeCatalog,
	makeShoppers,
	replicated,
	runShoppers,
	slowest,
	unexpectedAnswers,
	verifyOrders,
} from "./shoppers.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"], ["kcat"]);

const LAYOUT: NodeSpec[] = [
	...replicated(["users", "products", ["orders", "pricing"]]),
	{ name: "notifications", services: ["notifications"] },
	{ name: "api", services: ["api"] },
];
const SHOPPERS = 8;
const STREAM_MS = 45_000;
const KILL_AT_MS = 15_000;
const RESTART_AFTER_MS = 15_000;
const FAMILIES = ["orders", "inventory", "payments"];

describe.skipIf(skip)("Kafka cluster: one of three brokers killed under load", () => {
	let kafka: PrivateKafkaCluster | undefined;
	let cluster: TestCluster | undefined;
	let shop: TestShop;

	beforeAll(async () => {
		kafka = await startPrivateKafkaCluster(3);
		cluster = await startCluster({
			name: "kafka3",
			nodes: LAYOUT,
			kafkaBrokers: kafka.brokers,
			env: { KAFKA_REPLICATION_FACTOR: "3", KAFKA_MIN_INSYNC_REPLICAS: "2" },
		});
		shop = cluster.asShop();
	}, 360_000);

	afterAll(async () => {
		await cluster?.stop();
		await kafka?.remove();
	}, 150_000);

	/** Partitions of the shop's topics whose leader is `broker`, and those not fully in sync. */
	async function partitionState(broker: number): Promise<{ ledBy: number; underReplicated: number; leaderless: number }> {
		let ledBy = 0;
		let underReplicated = 0;
		let leaderless = 0;
		for (const f of FAMILIES) {
			for (const p of await kafkaPartitions(kafka!.brokers, cluster!.topic(f))) {
				if (p.leader === broker) ledBy++;
				if (p.leader < 0) leaderless++;
				if (p.isr.length < 3) underReplicated++;
			}
		}
		return { ledBy, underReplicated, leaderless };
	}

	it("keeps taking orders, loses no event and charges none twice while a broker is down", async () => {
		const k = kafka!;
		const c = cluster!;
		const boss = await admin(shop);
		const catalog = await makeCatalog(boss);
		const accounts = await makeShoppers(shop, SHOPPERS);
		// The topics exist (made by the nodes at start) with three replicas each and min.insync.replicas 2.
		for (const f of FAMILIES) {
			const parts = await kafkaPartitions(k.brokers, c.topic(f));
			expect(parts.length, `partitions of ${c.topic(f)}`).toBeGreaterThan(0);
			for (const p of parts) expect(p.isr.length, `in-sync replicas of ${c.topic(f)}:${p.partition}`).toBe(3);
			expect(await topicConfig(k.brokers, c.topic(f), ["min.insync.replicas"])).toEqual({ "min.insync.replicas": "2" });
		}

		const t0 = Date.now();
		const timeline: Record<string, number> = {};
		let victim = 0;
		async function chaos(): Promise<void> {
			await sleep(t0 + KILL_AT_MS - Date.now());
			victim = (await kafkaController(k.brokers)) ?? 1;
			timeline.kill = Date.now();
			await k.kill(victim);
			// Its partitions get new leaders once the controller fences it.
			await poll(async () => ((await partitionState(victim)).ledBy === 0 ? true : undefined), 60_000, `the partitions of broker ${victim} to move`, 250);
			timeline.moved = Date.now();
			await sleep(Math.max(0, timeline.kill + RESTART_AFTER_MS - Date.now()));
			timeline.restart = Date.now();
			await k.up(victim);
			timeline.up = Date.now();
			await poll(async () => ((await partitionState(victim)).underReplicated === 0 ? true : undefined), 90_000, `broker ${victim} back in sync`, 500);
			timeline.inSync = Date.now();
		}
		// Meanwhile every node is asked for its readiness each second: a broker down must not make one "not ready".
		const notReady: string[] = [];
		let sampling = true;
		async function readiness(): Promise<void> {
			while (sampling) {
				await Promise.all(
					[...c.nodes.values()].map(async n => {
						const r = (await c.probe
							.call("$node.ready", {}, { nodeID: n.nodeId, timeout: 5000 })
							.catch((e: Error) => ({ ready: false, checks: { call: { ok: false, detail: e.message } } }))) as {
							ready: boolean;
							checks: Record<string, { ok: boolean; detail?: string }>;
						};
						if (!r.ready)
							notReady.push(
								`${n.spec.name} +${((Date.now() - t0) / 1000).toFixed(1)} s: ${Object.entries(r.checks)
									.filter(([, v]) => !v.ok)
									.map(([k, v]) => `${k} ${v.detail ?? ""}`)
									.join("; ")}`,
							);
					}),
				);
				await sleep(1000);
			}
		}
		const sampler = readiness();
		const [run] = await Promise.all([runShoppers(accounts, catalog, t0 + STREAM_MS, { visit: ["notifications"] }), chaos()]);
		sampling = false;
		await sampler;
		const clients = clientFigures(run);
		const s = (a: number | undefined, b: number | undefined) => (a && b ? `${((b - a) / 1000).toFixed(1)} s` : "n/a");
		console.info(
			[
				`[kafka-cluster] ${SHOPPERS} shoppers for ${STREAM_MS / 1000} s, 3 brokers, replication factor 3, min.insync.replicas 2`,
				`[kafka-cluster] clients: ${describeClients(clients)}; slowest: ${slowest(run)}; answers other than 2xx: ${unexpectedAnswers(run)}`,
				`[kafka-cluster] broker ${victim} (the controller) killed at +0: its partitions had new leaders after ${s(timeline.kill, timeline.moved)}; ` +
					`started again ${s(timeline.kill, timeline.restart)} after the kill, answering ${s(timeline.restart, timeline.up)} later, every partition in sync again ${s(timeline.restart, timeline.inSync)} after its start`,
			].join("\n"),
		);
		console.info(
			`[kafka-cluster] readiness samples that were not ready: ${notReady.length}${notReady.length ? `, e.g. ${notReady.slice(0, 3).join(" | ")}` : ""}`,
		);
		expect(clients.firstTry5xx, `first-try failures: ${firstTryFailures(run)}`).toBe(0);
		expect(run.failedOps, "operations that failed on every try").toEqual([]);
		expect(notReady, "nodes that said they were not ready while a broker was down").toEqual([]);

		const orders = await verifyOrders(run, catalog, boss, { brokers: k.brokers, topic: f => c.topic(f) });
		console.info(`[kafka-cluster] ${describeOrders(orders)}`);
		expect(orders.accepted).toBeGreaterThan(40);
		expect(orders.validDeclined).toBe(0);
		expect(await partitionState(victim)).toMatchObject({ underReplicated: 0, leaderless: 0 });
	}, 480_000);
});
