/** Load generation: autocannon with a microsecond latency histogram, and exact percentiles of samples. */
import { createRequire } from "node:module";
import { createHistogram } from "node:perf_hooks";

const require = createRequire(import.meta.url);

interface AutocannonResult {
	requests: { average: number; total: number };
	non2xx: number;
	errors: number;
	timeouts: number;
	duration: number;
}
/** An autocannon run: a promise of its result, and an emitter of each response (latency in fractional ms). */
type Autocannon = (
	opts: Record<string, unknown>,
) => Promise<AutocannonResult> & { on(event: "response", fn: (client: unknown, status: number, bytes: number, ms: number) => void): void };
const autocannon = require("autocannon") as Autocannon;

export interface Measured {
	/** Completed 2xx responses per second. */
	rps: number;
	p50: number;
	p99: number;
	/** Non-2xx answers, connection errors and timeouts. */
	errors: number;
	requests: number;
}

export interface CannonOptions {
	url: string;
	connections: number;
	duration: number;
	/** The path of each request, called once per request (rotates queries and ids). */
	nextPath?: () => string;
	/** Headers of each request, given its path (an `If-None-Match` per product, say). */
	headersFor?: (path: string) => Record<string, string>;
	/** The status a successful answer has (default: any 2xx); 304 for revalidation. */
	okStatus?: number;
	/** Requests per second over all connections (autocannon's overallRate); default: as fast as answered. */
	overallRate?: number;
	timeoutSeconds?: number;
}

/**
 * autocannon against one URL. Latency is kept to the microsecond (autocannon's own histogram keeps
 * whole milliseconds; a loopback hello world answers in less) and counts successful answers only
 * (2xx, or `okStatus`); any other answer is an error.
 */
export async function cannon(o: CannonOptions): Promise<Measured> {
	const latency = createHistogram();
	const next = o.nextPath;
	const headersFor = o.headersFor;
	const setupRequest = (req: Record<string, unknown>) => {
		const path = next ? next() : (req.path as string);
		return { ...req, path, ...(headersFor ? { headers: { ...(req.headers as object), ...headersFor(path) } } : {}) };
	};
	const run = autocannon({
		url: o.url,
		connections: o.connections,
		duration: o.duration,
		timeout: o.timeoutSeconds ?? 10,
		...(o.overallRate ? { overallRate: o.overallRate } : {}),
		...(next || headersFor ? { requests: [{ method: "GET", setupRequest }] } : {}),
	});
	const isOk = (status: number) => (o.okStatus === undefined ? status >= 200 && status < 300 : status === o.okStatus);
	let ok = 0;
	let notOk = 0;
	run.on("response", (_client, status, _bytes, ms) => {
		if (!isOk(status)) {
			notOk++;
			return;
		}
		ok++;
		latency.record(Math.max(1, Math.round(ms * 1000)));
	});
	const r = await run;
	return {
		rps: ok / Math.max(r.duration, o.duration),
		p50: ok ? latency.percentile(50) / 1000 : NaN,
		p99: ok ? latency.percentile(99) / 1000 : NaN,
		errors: r.errors + r.timeouts + notOk,
		requests: r.requests.total,
	};
}

/** The q-th percentile (0..100) of samples, nearest rank; NaN for none. */
export function percentile(samples: readonly number[], q: number): number {
	if (samples.length === 0) return NaN;
	const sorted = [...samples].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))]!;
}
