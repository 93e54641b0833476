/**
 * Every series the Grafana dashboard (ops/grafana/dashboards/shop.json) and the alert rules
 * (ops/prometheus/alerts.yml) read exists on a running node's /metrics: a panel or an alert on a
 * series nobody writes would stay silent forever. The shop runs in one process with every
 * service, serves a checkout, a ticket and a failed login, and parks one event on the dead-letter
 * path, then its /metrics is read.
 */
import fs from "node:fs";
import type { Service } from "moleculer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRICS } from "../../lib/observability/metrics.js";
import { TEST_CARDS } from "../../lib/payments/simulated.js";
import { DbMixin } from "../../mixins/db.mixin.js";
import { EventsMixin } from "../../mixins/events.mixin.js";
import { defineService } from "../../lib/broker/service.js";
import { ADMIN_ENV, admin, customer, freePort, startShop, type TestShop } from "../helpers/shop.js";
import { newProduct, settledOrder } from "../helpers/commerce.js";

const V1 = "/api/v1";
/** Written only by the Kafka bus (end minus committed offsets): checked on the cluster by test/cluster/kafka-bus.test.ts. */
const KAFKA_ONLY = new Set<string>([METRICS.consumerLag]);
/** Prometheus's own. */
const PROMETHEUS_OWN = new Set(["up"]);

const SERIES = /\b((?:shop|moleculer|process|os)_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g;

/** Series names in PromQL expressions (without label matchers, functions or keywords). */
export function seriesIn(exprs: string[]): Set<string> {
	const out = new Set<string>();
	for (const e of exprs) for (const m of e.matchAll(SERIES)) out.add(m[1]!);
	return out;
}

function dashboardExprs(): string[] {
	const found: string[] = [];
	const walk = (v: unknown) => {
		if (Array.isArray(v)) v.forEach(walk);
		else if (v && typeof v === "object")
			for (const [k, x] of Object.entries(v)) {
				if (k === "expr" && typeof x === "string") found.push(x);
				else walk(x);
			}
	};
	walk(JSON.parse(fs.readFileSync("ops/grafana/dashboards/shop.json", "utf8")));
	return found;
}

function alertExprs(): string[] {
	const text = fs.readFileSync("ops/prometheus/alerts.yml", "utf8");
	// Each `expr:` is one line or a `|` block of deeper-indented lines.
	return [...text.matchAll(/^(\s*)expr: (\|\n((?:\1\s+.*\n)+)|.*)$/gm)].map(m => m[3] ?? m[2]!);
}

describe("the series the dashboard and the alerts read", () => {
	let shop: TestShop;
	let metricsPort: number;

	beforeAll(async () => {
		metricsPort = await freePort();
		// Moleculer collects the process_* and os_* series except under NODE_ENV=test (vitest's).
		const nodeEnv = process.env.NODE_ENV;
		process.env.NODE_ENV = "development";
		try {
			shop = await startShop({ env: { ...ADMIN_ENV, METRICS_ENABLED: "true", METRICS_PORT: String(metricsPort) } });
		} finally {
			process.env.NODE_ENV = nodeEnv;
		}
		// A consumer that always fails: its event ends on the dead-letter path.
		shop.broker.createService(
			defineService<Service>({
				name: "brokenconsumer",
				mixins: [EventsMixin(), DbMixin({ seen: {} })],
				integrationEvents: {
					"ticket.created": async () => {
						throw new Error("this consumer always fails");
					},
				},
			}),
		);
		await shop.broker.waitForServices(["brokenconsumer"]);

		const adm = await admin(shop);
		const buyer = await customer(shop, "Series");
		expect((await shop.http.post(`${V1}/auth/login`, { email: buyer.email, password: "wrong-password-1" })).status).toBe(401);
		const product = await newProduct(adm, { price: 500 });
		expect((await buyer.http.post(`${V1}/cart/items`, { productId: product.id, quantity: 1 })).status).toBe(200);
		const payment = { method: "card", cardNumber: TEST_CARDS.approved, expMonth: 12, expYear: new Date().getUTCFullYear() + 2, cvc: "123" };
		const address = { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };
		const order = await buyer.http.post(`${V1}/orders`, { shippingAddress: address, payment }, { "idempotency-key": `series-${process.pid}` });
		expect(order.status).toBe(202);
		await settledOrder(buyer, order.body.id);
		expect((await buyer.http.post(`${V1}/tickets`, { type: "inquiry", subject: "Where is it?", message: "Not here yet" })).status).toBe(201);
	});
	afterAll(async () => {
		await shop?.stop();
	});

	async function exposed(): Promise<Set<string>> {
		const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
		return new Set(text.split("\n").flatMap(l => (/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(l)?.[1] ?? []) as string[]));
	}

	it("finds every series the dashboard and the alert rules use on /metrics", async () => {
		const wanted = seriesIn([...dashboardExprs(), ...alertExprs()]);
		// The extraction itself: a few names it must see.
		for (const name of [
			"shop_http_requests_total",
			"shop_checkout_settle_seconds_bucket",
			"shop_node_ready",
			"shop_readiness_check",
			"shop_outbox_oldest_event_age_seconds",
			"shop_events_dead_lettered_total",
			"moleculer_request_time_bucket",
			"process_memory_rss",
		])
			expect(wanted, name).toContain(name);
		const expected = [...wanted].filter(s => !KAFKA_ONLY.has(s) && !PROMETHEUS_OWN.has(s)).sort();
		// The dead letter and the settle time come a little after the requests: bounded wait.
		let missing: string[] = expected;
		for (const until = Date.now() + 15_000; missing.length > 0 && Date.now() < until; await new Promise(r => setTimeout(r, 500))) {
			const have = await exposed();
			missing = expected.filter(s => !have.has(s));
		}
		expect(missing).toEqual([]);
	});

	it("answers the liveness probe on the metrics port (deploy/k8s probes /live and /ready there)", async () => {
		expect((await fetch(`http://127.0.0.1:${metricsPort}/live`)).status).toBe(200);
		expect((await fetch(`http://127.0.0.1:${metricsPort}/ready`)).status).toBe(200);
	});

	it("registers the Kafka-only series under the name the dashboard reads", () => {
		expect(seriesIn(dashboardExprs())).toContain(METRICS.consumerLag);
	});
});
