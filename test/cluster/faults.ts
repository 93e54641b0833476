/**
 * Faults for the resilience tests, and what they cost in time: a node killed (SIGKILL, no
 * goodbye) and started again, and how long the cluster took to notice and to recover.
 *
 *   noticed   the registry (the tests' probe broker, with the nodes' heartbeat settings) marks the
 *             node unavailable: the heartbeat timeout. Calls stopped going to it long before, when
 *             NATS dropped its subscriptions with its connection.
 *   ready     the restarted node answers `$node.ready` with ready: true
 *   serving   the restarted node has served a call of its services (its `moleculer_request_total`)
 */
import { poll, sleep, type TestCluster } from "../helpers/cluster.js";

export interface KillTimeline {
	kill: number;
	noticed: Record<string, number>;
	restart?: number;
	ready: Record<string, number>;
	serving: Record<string, number>;
}

/** Calls of the shop's services (not `$node.*`) this node has served since it started. */
export async function servedCalls(cluster: TestCluster, name: string): Promise<number> {
	const text = await cluster.metrics(name).catch(() => "");
	let sum = 0;
	for (const line of text.split("\n")) {
		if (!line.startsWith("moleculer_request_total{") || !line.includes('type="local"') || /service="\$/.test(line)) continue;
		sum += Number(line.slice(line.lastIndexOf(" ") + 1));
	}
	return sum;
}

/** `shop_call_repeats_total` summed over the nodes running now, by reason (hedge, transient, refused). */
export async function callRepeats(cluster: TestCluster): Promise<Record<string, number>> {
	const out: Record<string, number> = {};
	for (const name of cluster.nodes.keys()) {
		const text = await cluster.metrics(name).catch(() => "");
		for (const line of text.split("\n")) {
			const m = /^shop_call_repeats_total\{.*reason="(\w+)".*\} (\d+)/.exec(line);
			if (m) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
		}
	}
	return out;
}

/** A Prometheus series summed over every node running now (e.g. `moleculer_circuit_breaker_opened_total`). */
export async function sumOverNodes(cluster: TestCluster, metric: string): Promise<number> {
	let sum = 0;
	for (const name of cluster.nodes.keys()) sum += await cluster.metricValue(name, metric).catch(() => 0);
	return sum;
}

/** When the probe's registry says the node is gone (bounded). */
export function noticedDead(cluster: TestCluster, name: string, timeoutMs = 60_000): Promise<number> {
	const id = cluster.node(name).nodeId;
	return poll(async () => (cluster.probe.registry.nodes.get(id)?.available ? undefined : Date.now()), timeoutMs, `${name} to be noticed dead`, 50);
}

/** Start a node again and say when it is ready and when it serves calls again (bounded). */
export async function restartNode(cluster: TestCluster, name: string, timeline: KillTimeline): Promise<void> {
	cluster.spawn(name);
	await cluster.waitNodeReady(name, 90_000);
	timeline.ready[name] = Date.now();
	await poll(async () => ((await servedCalls(cluster, name)) > 0 ? true : undefined), 60_000, `${name} to serve calls again`, 100);
	timeline.serving[name] = Date.now();
}

/** SIGKILL `names` at `killAt`, start them again `restartAfterMs` later. */
export async function killAndRestart(cluster: TestCluster, names: string[], killAt: number, restartAfterMs: number): Promise<KillTimeline> {
	await sleep(Math.max(0, killAt - Date.now()));
	const timeline: KillTimeline = { kill: Date.now(), noticed: {}, ready: {}, serving: {} };
	await Promise.all(names.map(n => cluster.kill(n, "SIGKILL")));
	await Promise.all(names.map(async n => (timeline.noticed[n] = await noticedDead(cluster, n))));
	await sleep(Math.max(0, timeline.kill + restartAfterMs - Date.now()));
	timeline.restart = Date.now();
	await Promise.all(names.map(n => restartNode(cluster, n, timeline)));
	return timeline;
}

const s = (ms: number | undefined) => (ms === undefined ? "n/a" : `${(ms / 1000).toFixed(1)} s`);

export function describeKill(t: KillTimeline): string {
	const names = Object.keys(t.noticed);
	const noticed = names.map(n => `${n} ${s(t.noticed[n]! - t.kill)}`).join(", ");
	const back = names.map(
		n =>
			`${n} ready ${s(t.ready[n] && t.restart ? t.ready[n] - t.restart : undefined)}, serving ${s(t.serving[n] && t.restart ? t.serving[n] - t.restart : undefined)}`,
	);
	return `kill -9 at +0: noticed dead (heartbeat timeout) after ${noticed}; started again ${s(t.restart ? t.restart - t.kill : undefined)} after the kill: ${back.join("; ")} after their start`;
}
