/**
 * Webhook fan-out (issue #22): the checkout scenario (bench/checkout.ts, open loop) without
 * webhooks, then with 10 endpoints subscribed to `order.paid`, each a receiver on 127.0.0.1 in this
 * process answering 204 at once. Reports the checkout figures of both runs and each delivery's
 * latency from the event's time (`timestamp` in the body, the shop's clock, which is this
 * machine's) to its arrival at the receiver.
 *
 *   tsx bench/webhooks.ts      (BENCH_OPEN_RATE checkouts/s, default 40; BENCH_DURATION seconds, default 20)
 *
 * One process (NeDB, in-process events): WEBHOOKS_ALLOW_PRIVATE_TARGETS=true for the loopback receivers.
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { api, bearer, login } from "./http.js";
import { checkoutOpenLoop, type CheckoutResult } from "./checkout.js";
import { percentile } from "./load.js";
import { log, sleep } from "./processes.js";
import { ADMIN, startOneProcess } from "./shop.js";

const ENDPOINTS = 10;
/** Checkouts per second offered (open loop): below what the one-process shop settles, so a slower shop shows as later settling, not as a backlog. */
const RATE = Number(process.env.BENCH_OPEN_RATE ?? 40);
const DURATION = Number(process.env.BENCH_DURATION ?? 20);

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
		close: () => new Promise(resolve => server.close(() => resolve())),
	};
}

const row = (name: string, r: CheckoutResult) =>
	`| ${name} | ${r.acceptedRate.toFixed(1)} | ${r.orderP50.toFixed(0)} / ${r.orderP99.toFixed(0)} | ${r.paidRate.toFixed(1)} | ${r.settleP50.toFixed(0)} / ${r.settleP99.toFixed(0)} |`;

async function main(): Promise<void> {
	process.env.WEBHOOKS_ALLOW_PRIVATE_TARGETS = "true";
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-webhooks-"));
	const shop = await startOneProcess({ dataDir, logDir: dataDir, probeQuery: "x", readyTimeoutMs: 120_000 });
	const arrivals: Arrival[] = [];
	const receivers = await Promise.all(Array.from({ length: ENDPOINTS }, () => receiver(arrivals)));
	try {
		log(`checkout without webhooks: ${RATE}/s for ${DURATION} s`);
		const without = await checkoutOpenLoop(shop, RATE, DURATION);

		const token = await login(shop.base, ADMIN.email, ADMIN.password);
		for (const r of receivers) {
			const res = await api(shop.base, "POST", "/api/v1/webhooks", { url: r.url, events: ["order.paid"] }, bearer(token));
			if (res.status !== 201) throw new Error(`POST /webhooks: ${res.status} ${JSON.stringify(res.body)}`);
		}
		log(`checkout with ${ENDPOINTS} endpoints on order.paid`);
		const withHooks = await checkoutOpenLoop(shop, RATE, DURATION);
		const expected = withHooks.paid * ENDPOINTS;
		const deadline = Date.now() + 120_000;
		while (new Set(arrivals.map(a => a.webhookId)).size < expected && Date.now() < deadline) await sleep(250);
		const latencies = arrivals.map(a => a.latencyMs);
		const delivered = new Set(arrivals.map(a => a.webhookId)).size;

		console.log(`\nWebhook fan-out, one process (NeDB), ${RATE} checkouts/s offered for ${DURATION} s, ${ENDPOINTS} endpoints on order.paid\n`);
		console.log("| run | accepted/s | POST /orders p50 / p99 ms | paid/s | accept → paid p50 / p99 ms |");
		console.log("| --- | --- | --- | --- | --- |");
		console.log(row("no webhooks", without));
		console.log(row(`${ENDPOINTS} endpoints`, withHooks));
		console.log(
			`\ndeliveries: ${delivered} of ${expected} (${withHooks.paid} paid orders × ${ENDPOINTS}), ${arrivals.length - delivered} sent twice; ` +
				`latency from the event's time: p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms`,
		);
		const change = (a: number, b: number) => `${((b / a - 1) * 100).toFixed(1)} %`;
		console.log(
			`with webhooks against without: paid/s ${change(without.paidRate, withHooks.paidRate)}, accept → paid p99 ${change(without.settleP99, withHooks.settleP99)}`,
		);
	} finally {
		await shop.stop();
		await Promise.all(receivers.map(r => r.close()));
	}
}

main().catch(err => {
	console.error(err);
	process.exitCode = 1;
});
