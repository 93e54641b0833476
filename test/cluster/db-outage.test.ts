/**
 * The database (FerretDB) stopped for 20 s under load, then started again (scripts/infra/down.sh
 * mongo, up.sh mongo, on a FerretDB of the test's own: its own INFRA_DIR, ports and SQLite files,
 * so no other test is disturbed). Six shoppers browse, fill carts and check out throughout. Then:
 *   - every node with a database said it was not ready, naming its `database:<service>` check;
 *   - clients were refused cleanly: every request sent meanwhile was answered with a 2xx, a 4xx or
 *     a 503 carrying `Retry-After`, never a 500 or a request left hanging past the call deadline;
 *   - consumers waited instead of giving up: nothing was parked on the dead-letter topic (an event
 *     whose write failed is neither skipped nor committed), and every order settled afterwards;
 *   - what was committed stayed committed: every order accepted before the stop, and every event in
 *     an outbox, was carried through once the database was back (the chaos test's invariants:
 *     every accepted order settled, none lost, one per Idempotency-Key, one capture per paid
 *     order, no valid card declined, the stock exact, no event twice on Kafka);
 *   - the shop worked again by itself, and no request failed after that.
 * The figures (requests refused, slowest answer, time to notice and to resume) are printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutInfra } from "./infra.js";
import { kcat, sleep, startCluster, startPrivateServer, type NodeSpec, type PrivateServer, type TestCluster } from "../helpers/cluster.js";
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

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"], ["kcat"]);

const LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "products", services: ["products"] },
	{ name: "orders", services: ["orders", "pricing"] },
	{ name: "notifications", services: ["notifications"] },
	{ name: "api", services: ["api"] },
];
/** The nodes that keep a database, and the readiness check naming it. */
const DATABASES: Record<string, string> = {
	users: "database:users",
	products: "database:products",
	orders: "database:orders",
	notifications: "database:notifications",
};
const SHOPPERS = 6;
const CALM_MS = 8000;
const OUTAGE_MS = 20_000;
const AFTER_MS = 8000;
/** The deadline of every call (REQUEST_TIMEOUT_MS): no request may take longer, plus a little for the HTTP hop. */
const DEADLINE_MS = 10_000;

describe.skipIf(skip)("the database stopped for 20 s under load", () => {
	let db: PrivateServer | undefined;
	let cluster: TestCluster | undefined;
	let shop: TestShop;

	beforeAll(async () => {
		db = await startPrivateServer("mongo");
		cluster = await startCluster({ name: "db-outage", nodes: LAYOUT, mongoUrl: db.url });
		shop = cluster.asShop();
	}, 300_000);

	afterAll(async () => {
		await db?.up().catch(() => undefined);
		await cluster?.stop();
		await db?.remove();
	}, 120_000);

	it("refuses with 503 while the database is away, loses nothing, and resumes by itself", async () => {
		const c = cluster!;
		const d = db!;
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
			await d.down();
			timeline.downAt = Date.now();
			await sleep(OUTAGE_MS);
			timeline.upMs = await d.up();
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
				`[db-outage] ${SHOPPERS} shoppers; FerretDB stopped at +${s(timeline.stopped - t0)} for ${s(timeline.upAt - timeline.downAt)}`,
				`[db-outage] clients overall: ${describeClients(clientFigures(run))}; answers other than 2xx: ${unexpectedAnswers(run)}; slowest: ${slowest(run)}`,
				`[db-outage] from the stop until the shop worked again: ${describeOutage(during)}`,
				`[db-outage] nodes noticed (first /ready 503 after the stop): ${[...notReady].map(([node, x]) => `${node} ${x ? `${s(x.at - timeline.downAt)} (${x.failing.join(", ")})` : "never"}`).join("; ")}`,
				`[db-outage] FerretDB answering ${s(timeline.upMs)} after up.sh; the shop worked again ${s(timeline.resumedAt - timeline.upAt)} after it answered`,
				`[db-outage] operations failed on all tries (during the outage): ${run.failedOps.length}`,
			].join("\n"),
		);

		// Every node with a database said it had lost it.
		for (const [node, check] of Object.entries(DATABASES))
			expect(notReady.get(node)?.failing ?? [], `${node} never reported its database down`).toContain(check);
		// Clients were refused cleanly, and told when to come back; none waited past the deadline.
		expect(during.refused, "requests refused while the database was away").toBeGreaterThan(0);
		expect(during.other.map(e => `${e.op}#${e.try} ${e.status} ${e.type ?? ""} after ${e.ms} ms`)).toEqual([]);
		expect(during.refusedWithoutRetryAfter).toBe(0);
		expect(during.slowestMs).toBeLessThanOrEqual(DEADLINE_MS + 1000);
		// It came back by itself, and from then on nothing failed.
		expect(failuresAfter(run, timeline.resumedAt)).toEqual([]);

		const orders = await verifyOrders(run, catalog, boss, { brokers: c.kafkaBrokers, topic: f => c.topic(f) });
		console.info(`[db-outage] ${describeOrders(orders)}`);
		expect(orders.accepted).toBeGreaterThan(5);
		expect(orders.validDeclined).toBe(0);
		expect(orders.duplicateEvents, "copies of one event on Kafka").toBe(0);
		// Consumers waited for the database: no event was given up on (parked and committed past).
		const parked = await kcat(c.kafkaBrokers, c.topic("dead-letter")).catch(() => []);
		expect(parked.map(r => `${r.value.type} ${r.headers["dead-letter-group"]}: ${r.headers["dead-letter-error"]}`)).toEqual([]);
	}, 480_000);
});
