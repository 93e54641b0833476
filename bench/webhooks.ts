/**
 * Webhook fan-out (issue #22), the `webhooks` scenario of npm run bench: the open-loop checkout
 * (bench/checkout.ts) without webhooks, then with 10 endpoints subscribed to `order.paid`, each a
 * receiver on 127.0.0.1 in the bench's process answering 204 at once (the shop runs with
 * WEBHOOKS_ALLOW_PRIVATE_TARGETS=true for them). Reports the checkout figures of both runs, their
 * ratio, and each delivery's latency from the event's time (`timestamp` in the body, the shop's
 * clock, which is this machine's) to its arrival at the receiver.
 *
 * Alone: `tsx bench/webhooks.ts` (one process, NeDB; BENCH_OPEN_RATE checkouts/s, default 40; BENCH_OPEN_SECONDS, default 20).
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { AddressInfo } from "node:net";
import { api, bearer, login } from "./http.js";
import { checkoutOpenLoop, type CheckoutResult } from "./checkout.js";
import { percentile } from "./load.js";
import { log, sleep } from "./processes.js";
import { fmt, type Row } from "./report.js";
import { ADMIN, startOneProcess, type Shop } from "./shop.js";

export const WEBHOOK_ENDPOINTS = 10;
/** What the shop needs for receivers on 127.0.0.1 (development and tests only). */
export const WEBHOOK_BENCH_ENV = { WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_POLL_MS: "1000" };

interface Arrival {
	webhookId: string;
	latencyMs: number;
}

async function receiver(arrivals: Arrival[]): Promise<{ url: string; close(): Promise<void> }> {
	const server = http.createServer((req, res) => {
		let body = "";
		req.on("data", (c: Buffer) => (body += c.toString()));
		req.on("end", () => {
			const at = Date.now();
			const event = JSON.parse(body) as { timestamp: string };
			arrivals.push({ webhookId: String(req.headers["webhook-id"]), latencyMs: at - Date.parse(event.timestamp) });
			res.writeHead(204).end();
		});
	});
	server.keepAliveTimeout = 1000;
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
		close: () =>
			new Promise(resolve => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

export interface FanoutResult {
	without: CheckoutResult;
	withHooks: CheckoutResult;
	expected: number;
	delivered: number;
	duplicates: number;
	latencyP50: number;
	latencyP99: number;
	latencyMax: number;
	deliveriesPerSecond: number;
}

/** Both checkout runs and the deliveries of the second (waits at most 2 minutes for the last ones). */
export async function webhookFanout(shop: Shop, rate: number, seconds: number): Promise<FanoutResult> {
	const arrivals: Arrival[] = [];
	const receivers = await Promise.all(Array.from({ length: WEBHOOK_ENDPOINTS }, () => receiver(arrivals)));
	const token = await login(shop.base, ADMIN.email, ADMIN.password);
	const created: string[] = [];
	try {
		log(`webhooks: checkout without webhooks, ${rate}/s for ${seconds} s`);
		const without = await checkoutOpenLoop(shop, rate, seconds);
		for (const r of receivers) {
			const res = await api<{ id: string }>(shop.base, "POST", "/api/v1/webhooks", { url: r.url, events: ["order.paid"] }, bearer(token));
			if (res.status !== 201) throw new Error(`POST /webhooks: ${res.status} ${JSON.stringify(res.body)}`);
			created.push(res.body.id);
		}
		log(`webhooks: checkout with ${WEBHOOK_ENDPOINTS} endpoints on order.paid`);
		const started = Date.now();
		const withHooks = await checkoutOpenLoop(shop, rate, seconds);
		// The run's paid orders and the one checkout it makes alone before the load (bench/checkout.ts smokeCheckout).
		const expected = (withHooks.paid + 1) * WEBHOOK_ENDPOINTS;
		const distinct = () => new Set(arrivals.map(a => a.webhookId)).size;
		const deadline = Date.now() + 120_000;
		while (distinct() < expected && Date.now() < deadline) await sleep(250);
		const latencies = arrivals.map(a => a.latencyMs);
		const delivered = distinct();
		return {
			without,
			withHooks,
			expected,
			delivered,
			duplicates: arrivals.length - delivered,
			latencyP50: percentile(latencies, 50),
			latencyP99: percentile(latencies, 99),
			latencyMax: latencies.length ? Math.max(...latencies) : NaN,
			deliveriesPerSecond: arrivals.length / ((Date.now() - started) / 1000),
		};
	} finally {
		// Endpoints removed, so a later scenario on this shop is not slowed by deliveries to closed receivers.
		for (const id of created) await api(shop.base, "DELETE", `/api/v1/webhooks/${id}`, undefined, bearer(token)).catch(() => undefined);
		await Promise.all(receivers.map(r => r.close()));
	}
}

/** The rows of npm run bench: the two checkout runs (paid orders/s, accepted → paid) and the deliveries' latency. */
export function fanoutRows(shop: Shop, rate: number, f: FanoutResult): Row[] {
	const mode = shop.mode.startsWith("cluster") ? "cluster (NATS + Kafka)" : shop.mode;
	const checkout = (label: string, r: CheckoutResult, note: string): Row => ({
		scenario: `checkout ${fmt(rate, 0)}/s ${label}`,
		mode,
		store: shop.store,
		unit: "orders/s",
		rps: r.paidRate,
		p50: r.settleP50,
		p99: r.settleP99,
		errors: r.failedRequests + r.dropped + r.cancelledOther + r.invariants.violations.length,
		note: `${r.paid} paid, ${r.accepted} accepted of ${r.offered} offered; POST /orders p99 ${fmt(r.orderP99, 1)} ms; accepted → paid${note}`,
	});
	const ratio = (a: number, b: number) => fmt(b / a, 3);
	return [
		checkout("without webhooks", f.without, ""),
		checkout(
			`with ${WEBHOOK_ENDPOINTS} webhooks on order.paid`,
			f.withHooks,
			`; against the run without: paid/s ${ratio(f.without.paidRate, f.withHooks.paidRate)}×, accepted/s ${ratio(f.without.acceptedRate, f.withHooks.acceptedRate)}×, ` +
				`accepted → paid p99 ${ratio(f.without.settleP99, f.withHooks.settleP99)}×, POST /orders p99 ${ratio(f.without.orderP99, f.withHooks.orderP99)}×`,
		),
		{
			scenario: `webhook deliveries (${WEBHOOK_ENDPOINTS} × order.paid)`,
			mode,
			store: shop.store,
			unit: "deliveries/s",
			rps: f.deliveriesPerSecond,
			p50: f.latencyP50,
			p99: f.latencyP99,
			errors: Math.max(0, f.expected - f.delivered),
			note: `latency from the event's time to the receiver; ${f.delivered} of ${f.expected} delivered ((${f.withHooks.paid} paid orders + 1 checkout before the load) × ${WEBHOOK_ENDPOINTS}), ${f.duplicates} sent twice, max ${fmt(f.latencyMax, 0)} ms`,
		},
	];
}

async function main(): Promise<void> {
	const rate = Number(process.env.BENCH_OPEN_RATE ?? 40);
	const seconds = Number(process.env.BENCH_OPEN_SECONDS ?? 20);
	Object.assign(process.env, WEBHOOK_BENCH_ENV);
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-webhooks-"));
	const shop = await startOneProcess({ dataDir, logDir: dataDir, probeQuery: "x", readyTimeoutMs: 120_000 });
	try {
		for (const r of fanoutRows(shop, rate, await webhookFanout(shop, rate, seconds)))
			console.log(`${r.scenario}: ${fmt(r.rps, 1)} ${r.unit}, p50 ${fmt(r.p50, 0)} ms, p99 ${fmt(r.p99, 0)} ms; ${r.note}`);
	} finally {
		await shop.stop();
	}
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
	main().catch(err => {
		console.error(err);
		process.exitCode = 1;
	});
