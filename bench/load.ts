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
	timeoutSeconds?: number;
}

/**
 * autocannon against one URL. Latency is kept to the microsecond (autocannon's own histogram keeps
 * whole milliseconds; a loopback hello world answers in less) and counts 2xx answers only.
 */
export async function cannon(o: CannonOptions): Promise<Measured> {
	const latency = createHistogram();
	const next = o.nextPath;
	const run = autocannon({
		url: o.url,
		connections: o.connections,
		duration: o.duration,
		timeout: o.timeoutSeconds ?? 10,
		...(next ? { requests: [{ method: "GET", setupRequest: (req: Record<string, unknown>) => ({ ...req, path: next() }) }] } : {}),
	});
	let ok = 0;
	run.on("response", (_client, status, _bytes, ms) => {
		if (status < 200 || status >= 300) return;
		ok++;
		latency.record(Math.max(1, Math.round(ms * 1000)));
	});
	const r = await run;
	return {
		rps: ok / Math.max(r.duration, o.duration),
		p50: ok ? latency.percentile(50) / 1000 : NaN,
		p99: ok ? latency.percentile(99) / 1000 : NaN,
		errors: r.errors + r.timeouts + r.non2xx,
		requests: r.requests.total,
	};
}

/** The q-th percentile (0..100) of samples, nearest rank; NaN for none. */
export function percentile(samples: readonly number[], q: number): number {
	if (samples.length === 0) return NaN;
	const sorted = [...samples].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))]!;
}
