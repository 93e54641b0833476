/**
 * An alert fires on a running cluster: a Prometheus of the test's own (its own port and data
 * directory, Debian's `prometheus` binary) scrapes every node every second with the rules of
 * ops/prometheus/alerts.yml. A node killed with SIGKILL is `NodeDown` pending within seconds
 * (its `for` is 1 minute), and the gateway, which routes to the service that went away, reports
 * itself not ready: `NodeNotReady` pending for it. Nothing pending before the kill.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutInfra } from "./infra.js";
import { poll, startCluster, type NodeSpec, type TestCluster } from "../helpers/cluster.js";
import { freePort } from "../helpers/shop.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"], ["prometheus"]);

const LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "api", services: ["api"] },
];

interface Alert {
	labels: Record<string, string>;
	state: "pending" | "firing" | "inactive";
}

describe.skipIf(skip)("alerts on a running cluster", () => {
	let cluster: TestCluster;
	let prometheus: ChildProcess | undefined;
	let url = "";
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-prometheus-"));

	async function query<T>(p: string): Promise<T> {
		const r = await fetch(`${url}${p}`, { signal: AbortSignal.timeout(5000) });
		const body = (await r.json()) as { status: string; data: T };
		expect(body.status).toBe("success");
		return body.data;
	}
	const alerts = async () => (await query<{ alerts: Alert[] }>("/api/v1/alerts")).alerts.filter(a => a.state !== "inactive");

	beforeAll(async () => {
		cluster = await startCluster({ name: "alerts", nodes: LAYOUT });
		const port = await freePort();
		url = `http://127.0.0.1:${port}`;
		const targets = [...cluster.nodes.values()].map(n => ({ targets: [`127.0.0.1:${n.metricsPort}`], labels: { node: n.spec.name } }));
		fs.writeFileSync(path.join(dir, "targets.json"), JSON.stringify(targets));
		fs.writeFileSync(
			path.join(dir, "prometheus.yml"),
			[
				"global: { scrape_interval: 1s, evaluation_interval: 1s }",
				`rule_files: [${JSON.stringify(path.resolve("ops/prometheus/alerts.yml"))}]`,
				"scrape_configs:",
				"  - job_name: shop",
				"    scrape_timeout: 900ms",
				`    file_sd_configs: [{ files: [${JSON.stringify(path.join(dir, "targets.json"))}] }]`,
			].join("\n"),
		);
		prometheus = spawn(
			"prometheus",
			[`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`],
			{ stdio: ["ignore", "ignore", fs.openSync(path.join(dir, "prometheus.log"), "a")] },
		);
		// Every node scraped and up.
		await poll(
			async () => {
				const up = await query<{ result: { value: [number, string] }[] }>("/api/v1/query?query=up").catch(() => null);
				return up && up.result.length === LAYOUT.length && up.result.every(r => r.value[1] === "1") ? true : undefined;
			},
			30_000,
			"Prometheus scraping every node",
			500,
		);
	}, 180_000);

	afterAll(async () => {
		prometheus?.kill("SIGTERM");
		await cluster?.stop();
		fs.rmSync(dir, { recursive: true, force: true });
	}, 60_000);

	it("loads the shop's rules, pends none on a healthy cluster, and pends NodeDown and NodeNotReady when a node dies", async () => {
		const groups = await query<{ groups: { rules: { name: string }[] }[] }>("/api/v1/rules");
		expect(groups.groups.flatMap(g => g.rules.map(r => r.name))).toEqual(expect.arrayContaining(["NodeDown", "NodeNotReady", "NatsDisconnected"]));
		// A few evaluations of a healthy cluster: nothing pending.
		await new Promise(r => setTimeout(r, 3000));
		expect(await alerts()).toEqual([]);

		const users = cluster.nodes.get("users")!;
		const killedAt = Date.now();
		await cluster.kill("users");
		const pending = await poll(
			async () => {
				const now = await alerts();
				const down = now.find(a => a.labels.alertname === "NodeDown" && a.labels.instance === `127.0.0.1:${users.metricsPort}`);
				const notReady = now.find(a => a.labels.alertname === "NodeNotReady" && a.labels.node === "api");
				return down && notReady ? { down, notReady } : undefined;
			},
			45_000,
			"NodeDown and NodeNotReady pending",
			500,
		);
		const seconds = (Date.now() - killedAt) / 1000;
		console.info(`[alerts] NodeDown and NodeNotReady pending ${seconds.toFixed(1)} s after the kill (their 'for' is 60 s)`);
		expect(pending.down.state).toBe("pending");
		expect(pending.notReady.state).toBe("pending");
		expect(pending.down.labels.severity).toBe("page");
	}, 90_000);
});
