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
import { METRIC, type ActionSchema, type Context, type MetricRegistry, type MetricTypes, type Middleware, type ServiceBroker } from "moleculer";

type Next = (ctx: Context) => Promise<unknown>;
type BuiltIn = Middleware & { created(broker: ServiceBroker): void };
type MetricOptions =
	MetricRegistry.GaugeMetricOptions | MetricRegistry.CounterMetricOptions | MetricRegistry.HistogramMetricOptions | MetricRegistry.InfoMetricOptions;
/** The registry's `register`, which this module swaps while the built-in middleware registers its series. */
type Registering = { register(opts: MetricOptions): unknown };

/** A series without its per-minute rate and its quantile reservoir. */
const WITHOUT_RATES = { rate: false, quantiles: false };
const LEFT_OUT = new Set<string>([METRIC.MOLECULER_REQUEST_LEVELS]);

function actionHandler(metrics: MetricRegistry, type: "local" | "remote", action: ActionSchema, next: Next): Next {
	// The series the built-in middleware registered (created, below), of these types.
	const total = metrics.getMetric(METRIC.MOLECULER_REQUEST_TOTAL) as MetricTypes.Counter;
	const active = metrics.getMetric(METRIC.MOLECULER_REQUEST_ACTIVE) as MetricTypes.Gauge;
	const time = metrics.getMetric(METRIC.MOLECULER_REQUEST_TIME) as MetricTypes.Histogram;
	const errors = metrics.getMetric(METRIC.MOLECULER_REQUEST_ERROR_TOTAL) as MetricTypes.Counter;
	const service = action.service?.fullName ?? null;
	const name = action.name ?? "";
	// One labels object per caller (a handful per action), reused by every call.
	const byCaller = new Map<string | null, { service: string | null; action: string; caller: string | null; type: string }>();
	return function leanMetrics(ctx: Context) {
		const caller = (ctx.caller as string | null) ?? null;
		let labels = byCaller.get(caller);
		if (!labels) byCaller.set(caller, (labels = { service, action: name, caller, type }));
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
	// Moleculer exports its internal middlewares at run time; its declarations leave them out.
	const builtIn = (Moleculer as typeof Moleculer & { Middlewares: { Metrics: (b: ServiceBroker) => BuiltIn } }).Middlewares.Metrics(broker);
	if (!broker.isMetricsEnabled()) return { name: "Metrics" };
	const metrics = broker.metrics;
	const registry: Registering = metrics;
	// Its hooks for events, emits and packets stay; the per-call ones are this module's.
	const { created: _c, localAction: _l, remoteAction: _r, name: _n, ...hooks } = builtIn;
	return {
		...hooks,
		name: "Metrics",
		created() {
			// The built-in middleware's own series, registered without rates and quantile reservoirs.
			const register = registry.register.bind(metrics);
			registry.register = opts => (LEFT_OUT.has(opts.name) ? null : register({ ...opts, ...WITHOUT_RATES }));
			try {
				builtIn.created(broker);
			} finally {
				registry.register = register;
			}
		},
		// Moleculer declares `next` with a service `this` it never passes (the innermost handler is bound to its service).
		localAction: (next, action) => actionHandler(metrics, "local", action, next as Next),
		remoteAction: (next, action) => actionHandler(metrics, "remote", action, next as Next),
	};
}
