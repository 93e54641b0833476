/**
 * A rolling restart under load: two nodes of every service, two gateways behind a load balancer
 * that health-checks `/api/ready` (test/cluster/balancer.ts, what nginx or a Kubernetes Service
 * does). While eight shoppers browse, fill carts and check out, every node is restarted, one
 * after the other: SIGTERM, wait until it has exited, start it again, wait until it is ready and
 * serving. A graceful stop drains (scripts/start.ts): the node leaves the registry and its NATS
 * queue groups first, finishes what it is serving, commits its consumers and exits; a gateway
 * first says it is not ready and keeps serving until the load balancer has taken it out.
 * Then: no client error at all (no 5xx, no request without an answer, no failed operation, on any
 * try), and the orders add up as in the chaos test (settled, none lost, one per key, one capture
 * per paid order, stock exact, nothing held, no event twice on Kafka).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutInfra } from "./infra.js";
import { poll, sleep, startCluster, type NodeSpec, type TestCluster } from "../helpers/cluster.js";
import { admin, freePort, type TestShop } from "../helpers/shop.js";
import { Balancer } from "./balancer.js";
import { restartNode, servedCalls, type KillTimeline } from "./faults.js";
import {
	clientFigures,
	describeClients,
	describeOrders,
	makeCatalog,
	makeShoppers,
	replicated,
	runShoppers,
	slowest,
	unexpectedAnswers,
	via,
	verifyOrders,
} from "./shoppers.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"], ["kcat"]);

const SHOPPERS = 8;
/** Load before the first restart and after the last. */
const CALM_MS = 5000;

describe.skipIf(skip)("rolling restart of every node under load", () => {
	let cluster: TestCluster;
	let shop: TestShop;
	let balancer: Balancer;
	let layout: NodeSpec[];

	beforeAll(async () => {
		// The second gateway needs a port of its own; the first uses the cluster's.
		layout = [
			...replicated(["users", "products", ["orders", "pricing"], "tickets", "notifications"]),
			{ name: "api-1", services: ["api"] },
			{ name: "api-2", services: ["api"], env: { PORT: String(await freePort()) } },
		];
		cluster = await startCluster({ name: "rolling", nodes: layout });
		shop = cluster.asShop();
		balancer = new Balancer([cluster.baseUrl, `http://127.0.0.1:${layout.at(-1)!.env!.PORT}`]);
		await balancer.start();
		await poll(async () => (balancer.inRotation().length === 2 ? true : undefined), 30_000, "both gateways in rotation");
	}, 300_000);

	afterAll(async () => {
		await balancer?.stop();
		await cluster?.stop();
	}, 120_000);

	it("answers every request while each node is restarted in turn", async () => {
		const boss = await admin(shop);
		const catalog = await makeCatalog(boss);
		const accounts = (await makeShoppers(shop, SHOPPERS)).map(a => via(balancer.url, a));

		const restarts: { name: string; from: number; to: number; stopMs: number; readyMs: number; servingMs: number }[] = [];
		let done = false;
		async function roll(): Promise<void> {
			await sleep(CALM_MS);
			for (const spec of layout) {
				const t: KillTimeline = { kill: Date.now(), noticed: {}, ready: {}, serving: {} };
				await cluster.kill(spec.name, "SIGTERM");
				const stopped = Date.now();
				t.restart = stopped;
				if (spec.services.includes("api")) {
					cluster.spawn(spec.name);
					await cluster.waitNodeReady(spec.name, 90_000);
					t.ready[spec.name] = Date.now();
					await poll(async () => (balancer.inRotation().length === 2 ? true : undefined), 30_000, `${spec.name} back in rotation`, 100);
					t.serving[spec.name] = Date.now();
				} else {
					await restartNode(cluster, spec.name, t);
				}
				restarts.push({
					name: spec.name,
					from: t.kill,
					to: Date.now(),
					stopMs: stopped - t.kill,
					readyMs: t.ready[spec.name]! - stopped,
					servingMs: t.serving[spec.name]! - stopped,
				});
			}
			await sleep(CALM_MS);
			done = true;
		}
		const started = Date.now();
		// The shoppers run until the last node is back (bounded by the test's timeout).
		const [run] = await Promise.all([
			runShoppers(accounts, catalog, Date.now() + 400_000, { visit: ["notifications", "tickets"], stopWhen: () => done }),
			roll(),
		]);
		const clients = clientFigures(run);
		const served = await Promise.all(layout.map(async n => `${n.name} ${await servedCalls(cluster, n.name)}`));
		console.info(
			[
				`[rolling] ${SHOPPERS} shoppers through a load balancer for ${((Date.now() - started) / 1000).toFixed(0)} s while ${layout.length} nodes were restarted one by one`,
				`[rolling] clients: ${describeClients(clients)}; answers other than 2xx: ${unexpectedAnswers(run)}; slowest: ${slowest(run)}`,
				`[rolling] load balancer: ${balancer.stats.redispatched} requests sent to the other gateway (connection refused), ${balancer.stats.badGateway} answered 502`,
				`[rolling] per node, SIGTERM to exit / start to ready / start to serving: ${restarts.map(r => `${r.name} ${(r.stopMs / 1000).toFixed(1)}/${(r.readyMs / 1000).toFixed(1)}/${(r.servingMs / 1000).toFixed(1)} s`).join(", ")}`,
				`[rolling] calls served since their restart: ${served.join(", ")}`,
			].join("\n"),
		);
		// What went wrong, if anything: when, and which node was being restarted then.
		const during = (at: number) => restarts.find(r => r.from <= at && at <= r.to)?.name ?? "none";
		const at = (ms: number) => `+${((ms - started) / 1000).toFixed(1)} s (restarting ${during(ms)})`;
		for (const e of run.exchanges.filter(x => x.status >= 500 || x.status === 0))
			console.info(`[rolling] ${e.op}#${e.try} ${e.status} ${e.type ?? ""} sent ${at(e.start)}`);
		for (const f of balancer.stats.failures) console.info(`[rolling] 502 ${f.request} ${at(f.at)}: ${f.reason}`);
		for (const c of balancer.stats.changes)
			console.info(`[rolling] ${c.upstream} ${c.ok ? "joined" : "left"} the rotation ${at(c.at)}${c.detail ? `: ${c.detail}` : ""}`);
		expect(run.exchanges.filter(e => e.status >= 500 || e.status === 0).map(e => `${e.op}#${e.try} ${e.status} ${e.type ?? ""}`)).toEqual([]);
		expect(run.failedOps).toEqual([]);
		expect(balancer.stats.badGateway).toBe(0);

		const orders = await verifyOrders(run, catalog, boss, { brokers: cluster.kafkaBrokers, topic: f => cluster.topic(f) });
		console.info(`[rolling] ${describeOrders(orders)}`);
		expect(orders.accepted).toBeGreaterThan(40);
		expect(orders.validDeclined).toBe(0);
		// One publisher per outbox row, also while relays stop and start (lib/events/relay-owner.ts).
		expect(orders.duplicateEvents, "copies of one event on Kafka").toBe(0);
	}, 600_000);
});
