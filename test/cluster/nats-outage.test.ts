/**
 * NATS stopped for 20 s under load, then started again (scripts/infra/down.sh nats, up.sh nats, on
 * a NATS server of the test's own: its own INFRA_DIR and ports, so no other test is disturbed).
 * Six shoppers browse, fill carts and check out throughout (test/cluster/shoppers.ts). Then:
 *   - every node said it was not ready while NATS was away, naming `transporter` (its
 *     `:METRICS_PORT/ready`, sampled over HTTP);
 *   - clients were refused cleanly: every request sent meanwhile was answered, with a 2xx, a 4xx or
 *     a 503 carrying `Retry-After`, never a 500 or a request left hanging past the call deadline;
 *   - the shop worked again by itself within 10 s of NATS answering (every node ready, a read of
 *     each service through the gateway answered), and no request failed after that;
 *   - the chaos test's invariants: every accepted order settled, none lost, one per
 *     Idempotency-Key, one capture per paid order, no valid card declined, the stock exact, no
 *     event twice on Kafka.
 * The figures (requests refused, slowest answer, time to notice and to resume) are printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutInfra } from "./infra.js";
import { sleep, startCluster, startPrivateServer, type NodeSpec, type PrivateServer, type TestCluster } from "../helpers/cluster.js";
import { admin, type TestShop } from "../helpers/shop.js";
import {
	clientFigures,
	describeClients,
	describeOrders,
	makeCatalog,
	makeShoppers,
	runShoppers,
	slowest,
	unexpectedAnswers,
	verifyOrders,
} from "./shoppers.js";
import { describeOutage, failuresAfter, outageFigures, ReadinessWatch, waitResumed } from "./outages.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"], ["kcat", "nats-server"]);

const LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "products", services: ["products"] },
	{ name: "orders", services: ["orders", "pricing"] },
	{ name: "notifications", services: ["notifications"] },
	{ name: "api", services: ["api"] },
];
const SHOPPERS = 6;
const CALM_MS = 8000;
const OUTAGE_MS = 20_000;
const AFTER_MS = 8000;
/** The deadline of every call (REQUEST_TIMEOUT_MS): no request may take longer, plus a little for the HTTP hop. */
const DEADLINE_MS = 10_000;

describe.skipIf(skip)("NATS stopped for 20 s under load", () => {
	let nats: PrivateServer | undefined;
	let cluster: TestCluster | undefined;
	let shop: TestShop;

	beforeAll(async () => {
		nats = await startPrivateServer("nats");
		cluster = await startCluster({ name: "nats-outage", nodes: LAYOUT, natsUrl: nats.url });
		shop = cluster.asShop();
	}, 300_000);

	afterAll(async () => {
		await nats?.up().catch(() => undefined);
		await cluster?.stop();
		await nats?.remove();
	}, 120_000);

	it("refuses with 503 and Retry-After while NATS is away, then resumes by itself", async () => {
		const c = cluster!;
		const n = nats!;
		const boss = await admin(shop);
		const catalog = await makeCatalog(boss);
		const accounts = await makeShoppers(shop, SHOPPERS);
		const watch = new ReadinessWatch(c).start();

		const t0 = Date.now();
		const timeline = { stopped: 0, downAt: 0, upAt: 0, upMs: 0, resumedAt: 0 };
		let done = false;
		async function outage(): Promise<void> {
			await sleep(t0 + CALM_MS - Date.now());
			timeline.stopped = Date.now();
			await n.down();
			timeline.downAt = Date.now();
			await sleep(OUTAGE_MS);
			timeline.upMs = await n.up();
			timeline.upAt = Date.now();
			timeline.resumedAt = await waitResumed(c, accounts[0]!, catalog.productIds[0]!);
			await sleep(AFTER_MS);
			done = true;
		}
		const [run] = await Promise.all([runShoppers(accounts, catalog, t0 + 300_000, { visit: ["notifications"], stopWhen: () => done }), outage()]);
		await watch.stop();

		const during = outageFigures(run, timeline.stopped, timeline.resumedAt);
		const notReady = watch.firstNotReady(timeline.downAt, timeline.upAt);
		const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
		console.info(
			[
				`[nats-outage] ${SHOPPERS} shoppers; NATS stopped at +${s(timeline.stopped - t0)} for ${s(timeline.upAt - timeline.downAt)}`,
				`[nats-outage] clients overall: ${describeClients(clientFigures(run))}; answers other than 2xx: ${unexpectedAnswers(run)}; slowest: ${slowest(run)}`,
				`[nats-outage] from the stop until the shop worked again: ${describeOutage(during)}`,
				`[nats-outage] nodes noticed (first /ready 503 after the stop): ${[...notReady].map(([node, x]) => `${node} ${x ? `${s(x.at - timeline.downAt)} (${x.failing.join(", ")})` : "never"}`).join("; ")}`,
				`[nats-outage] NATS answering ${s(timeline.upMs)} after up.sh; the shop worked again ${s(timeline.resumedAt - timeline.upAt)} after NATS answered`,
				`[nats-outage] operations failed on all tries (during the outage): ${run.failedOps.length}`,
			].join("\n"),
		);

		// Every node said it had lost NATS.
		for (const [node, sample] of notReady) expect(sample?.failing, `${node} never reported itself not ready`).toContain("transporter");
		// Clients were refused cleanly, at once, and told when to come back.
		expect(during.refused, "requests refused while NATS was away").toBeGreaterThan(0);
		expect(during.other.map(e => `${e.op}#${e.try} ${e.status} after ${e.ms} ms`)).toEqual([]);
		expect(during.refusedWithoutRetryAfter).toBe(0);
		expect(during.slowestMs).toBeLessThanOrEqual(DEADLINE_MS + 1000);
		// It came back by itself, and from then on nothing failed.
		expect(timeline.resumedAt - timeline.upAt, "time from NATS answering to the shop working again").toBeLessThanOrEqual(10_000);
		expect(failuresAfter(run, timeline.resumedAt)).toEqual([]);

		const orders = await verifyOrders(run, catalog, boss, { brokers: c.kafkaBrokers, topic: f => c.topic(f) });
		console.info(`[nats-outage] ${describeOrders(orders)}`);
		expect(orders.accepted).toBeGreaterThan(5);
		expect(orders.validDeclined).toBe(0);
		expect(orders.duplicateEvents, "copies of one event on Kafka").toBe(0);
	}, 480_000);
});
