/**
 * Moleculer's per-call metrics at a price the GET path can pay. The built-in `Metrics`
 * middleware cost about half of a `GET /products/:id` (a profile with `node --cpu-prof`: the
 * req/s doubled with metrics off): per call it updates five series, each hashing its labels,
 * a time histogram that also keeps a sliding quantile reservoir, and a per-minute rate per
 * series that Prometheus computes itself anyway.
 *
 * This middleware takes its place (moleculer.config.ts lists the internal middlewares with it
 * instead of `Metrics`). It registers the same series under the same names, so dashboards,
 * alerts and `docs/operations.md` stay true, but without the quantile reservoirs and rates, and
 * without `moleculer_request_levels` (nobody reads it). Per call it updates what operators read:
 * `moleculer_request_total`, `moleculer_request_active`, `moleculer_request_time` (buckets) and,
 * on failure, `moleculer_request_error_total`; the label objects are built once per action and
 * caller, not per call. Events, emits, transit and transporter packets are counted as before
 * (Moleculer's own hooks), also without rates.
 */
import * as Moleculer from "moleculer";
import { METRIC, type Context, type Middleware, type ServiceBroker } from "moleculer";

interface MetricOpts {
	name: string;
	quantiles?: unknown;
	rate?: unknown;
}
interface Series {
	increment(labels: object | null, value?: number): unknown;
	decrement(labels: object | null, value?: number): unknown;
	observe(value: number, labels: object | null): unknown;
}
type Registry = { register(opts: MetricOpts): unknown; getMetric(name: string): Series | null };
type ActionDef = { name: string; service?: { fullName: string } };
type Next = (ctx: Context) => Promise<unknown>;
type BuiltIn = Middleware & { created(broker: ServiceBroker): void; localAction?: unknown; remoteAction?: unknown };

const LEFT_OUT = new Set<string>([METRIC.MOLECULER_REQUEST_LEVELS]);

function actionHandler(metrics: Registry, type: "local" | "remote", action: ActionDef, next: Next): Next {
	const total = metrics.getMetric(METRIC.MOLECULER_REQUEST_TOTAL)!;
	const active = metrics.getMetric(METRIC.MOLECULER_REQUEST_ACTIVE)!;
	const time = metrics.getMetric(METRIC.MOLECULER_REQUEST_TIME)!;
	const errors = metrics.getMetric(METRIC.MOLECULER_REQUEST_ERROR_TOTAL)!;
	const service = action.service?.fullName ?? null;
	// One labels object per caller (a handful per action), reused by every call.
	const byCaller = new Map<string | null, { service: string | null; action: string; caller: string | null; type: string }>();
	return function leanMetrics(ctx: Context) {
		const caller = (ctx.caller as string | null) ?? null;
		let labels = byCaller.get(caller);
		if (!labels) byCaller.set(caller, (labels = { service, action: action.name, caller, type }));
		total.increment(labels);
		active.increment(labels);
		const start = performance.now();
		const done = () => {
			time.observe(performance.now() - start, labels);
			active.decrement(labels);
		};
		return next(ctx).then(
			res => {
				done();
				return res;
			},
			(err: { name?: string; code?: unknown; type?: unknown } | undefined) => {
				done();
				errors.increment({ ...labels, errorName: err?.name ?? null, errorCode: err?.code ?? null, errorType: err?.type ?? null });
				throw err;
			},
		);
	};
}

/** A middleware factory: Moleculer calls it with the broker when it adds it (its hooks are read then). */
export function LeanMetricsMiddleware(broker: ServiceBroker): Middleware {
	const builtIn = (Moleculer as unknown as { Middlewares: { Metrics: (b: ServiceBroker) => BuiltIn } }).Middlewares.Metrics(broker);
	if (!broker.isMetricsEnabled()) return { name: "Metrics" };
	const metrics = broker.metrics as unknown as Registry;
	// Its hooks for events, emits and packets stay; the per-call ones are this module's.
	const { created: _c, localAction: _l, remoteAction: _r, name: _n, ...hooks } = builtIn as unknown as Record<string, unknown>;
	return {
		...hooks,
		name: "Metrics",
		created() {
			// The built-in middleware's own series, registered without rates and quantile reservoirs.
			const register = metrics.register.bind(metrics);
			metrics.register = opts => (LEFT_OUT.has(opts.name) ? null : register({ ...opts, rate: false, quantiles: false }));
			try {
				builtIn.created(broker);
			} finally {
				metrics.register = register;
			}
		},
		localAction: ((next: Next, action: ActionDef) => actionHandler(metrics, "local", action, next)) as unknown as Middleware["localAction"],
		remoteAction: ((next: Next, action: ActionDef) => actionHandler(metrics, "remote", action, next)) as unknown as Middleware["remoteAction"],
	} as Middleware;
}
