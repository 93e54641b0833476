/**
 * What a dependency's outage looks like from the outside, for the outage tests (NATS, the
 * database): every node's readiness sampled over HTTP (`:METRICS_PORT/ready`, which needs no
 * NATS), the shoppers' exchanges cut into before, during and after the outage, and the moment the
 * shop works again after the server returned (every node ready, and a read and a write of each
 * service through the gateway answered).
 */
import { poll, sleep, type TestCluster } from "../helpers/cluster.js";
import type { Account } from "../helpers/shop.js";
import type { Exchange, ShopperRun } from "./shoppers.js";

const V1 = "/api/v1";

export interface ReadySample {
	node: string;
	at: number;
	ready: boolean;
	/** Names of the failing checks (`transporter`, `database:orders`, ...), or why no report came. */
	failing: string[];
}

async function readyOf(cluster: TestCluster, node: string): Promise<ReadySample> {
	const at = Date.now();
	try {
		const res = await fetch(`http://127.0.0.1:${cluster.node(node).metricsPort}/ready`, { signal: AbortSignal.timeout(3000) });
		const report = (await res.json()) as { ready?: boolean; checks?: Record<string, { ok: boolean }>; error?: string };
		const failing = Object.entries(report.checks ?? {})
			.filter(([, c]) => !c.ok)
			.map(([name]) => name);
		return { node, at, ready: res.status === 200 && report.ready === true, failing: report.error ? [report.error] : failing };
	} catch (err) {
		return { node, at, ready: false, failing: [`no report: ${(err as Error).message}`] };
	}
}

/** Samples every node's `/ready` every `everyMs` until stopped. */
export class ReadinessWatch {
	readonly samples: ReadySample[] = [];
	private running = true;
	private loop?: Promise<void>;

	constructor(
		private readonly cluster: TestCluster,
		private readonly everyMs = 500,
	) {}

	start(): this {
		this.loop = (async () => {
			while (this.running) {
				this.samples.push(...(await Promise.all([...this.cluster.nodes.keys()].map(n => readyOf(this.cluster, n)))));
				await sleep(this.everyMs);
			}
		})();
		return this;
	}

	async stop(): Promise<void> {
		this.running = false;
		await this.loop;
	}

	/** Per node: the first sample after `from` that was not ready, and its failing checks. */
	firstNotReady(from: number, to: number): Map<string, ReadySample | undefined> {
		return new Map([...this.cluster.nodes.keys()].map(n => [n, this.samples.find(s => s.node === n && s.at >= from && s.at <= to && !s.ready)] as const));
	}
}

/** Every node ready now. */
export async function allReady(cluster: TestCluster): Promise<boolean> {
	return (await Promise.all([...cluster.nodes.keys()].map(n => readyOf(cluster, n)))).every(s => s.ready);
}

/**
 * Waits (bounded) until the shop works again: every node ready, and through the gateway a product
 * read, the customer's profile, cart and orders answered 200. Resolves with when that was.
 */
export async function waitResumed(cluster: TestCluster, acc: Account, productId: string, timeoutMs = 90_000): Promise<number> {
	let last = "";
	return poll(
		async () => {
			const samples = await Promise.all([...cluster.nodes.keys()].map(n => readyOf(cluster, n)));
			const urls = [`${V1}/products/${productId}`, `${V1}/me`, `${V1}/cart`, `${V1}/orders?pageSize=1`];
			const answers = await Promise.all(
				urls.map(u =>
					acc.http.get(u).then(
						r => r.status,
						() => 0,
					),
				),
			);
			last = [
				...samples.filter(s => !s.ready).map(s => `${s.node} not ready (${s.failing.join(", ")})`),
				...urls.map((u, i) => `${u} ${answers[i]}`),
			].join("; ");
			return samples.every(s => s.ready) && answers.every(s => s === 200) ? Date.now() : undefined;
		},
		timeoutMs,
		"the shop to work again (every node ready, reads of every service answered)",
		200,
	).catch(err => {
		throw new Error(`${(err as Error).message}; last seen: ${last}`);
	});
}

export interface OutageFigures {
	/** Requests sent while the server was away (from its stop until the shop worked again). */
	requests: number;
	ok: number;
	/** Answered 503, and how many of them without a Retry-After. */
	refused: number;
	refusedWithoutRetryAfter: number;
	/** Answers other than 2xx, 4xx and 503 (a 500, a 502, no answer at all). */
	other: Exchange[];
	slowestMs: number;
}

/** What the shoppers saw between `from` and `to` (requests sent in that window). */
export function outageFigures(run: ShopperRun, from: number, to: number): OutageFigures {
	const during = run.exchanges.filter(e => e.start >= from && e.start <= to);
	const refused = during.filter(e => e.status === 503);
	return {
		requests: during.length,
		ok: during.filter(e => e.status >= 200 && e.status < 300).length,
		refused: refused.length,
		refusedWithoutRetryAfter: refused.filter(e => !e.retryAfter).length,
		other: during.filter(e => e.status === 0 || (e.status >= 500 && e.status !== 503)),
		slowestMs: Math.max(0, ...during.map(e => e.ms)),
	};
}

export function describeOutage(f: OutageFigures): string {
	return (
		`${f.requests} requests sent: ${f.ok} answered 2xx, ${f.refused} refused with 503 (${f.refusedWithoutRetryAfter} without Retry-After), ` +
		`${f.other.length} other 5xx or unanswered; slowest ${(f.slowestMs / 1000).toFixed(2)} s`
	);
}

/** The exchanges sent after `from` that got a 5xx or no answer, for a failure message. */
export function failuresAfter(run: ShopperRun, from: number): string[] {
	return run.exchanges
		.filter(e => e.start >= from && (e.status === 0 || e.status >= 500))
		.map(e => `${e.op}#${e.try} ${e.status} ${e.type ?? ""} at +${((e.start - from) / 1000).toFixed(1)} s`);
}
