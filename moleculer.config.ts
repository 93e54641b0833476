/**
 * Broker settings, all from the environment (lib/config.ts; the README lists every variable).
 * Unset means the one-process shop: no transporter, NeDB storage, in-process events.
 */
import os from "node:os";
import type { BrokerOptions } from "moleculer";
import { NullIsAValueValidator } from "./lib/broker/validation.js";
import { config, type ShopConfig } from "./lib/config.js";
import { loggerOptions } from "./lib/observability/logging.js";
import { metricsOptions } from "./lib/observability/prometheus.js";
import { tracingOptions } from "./lib/observability/tracing.js";
import { ObservabilityMiddleware } from "./lib/observability/middleware.js";
import { LeanMetricsMiddleware } from "./lib/observability/action-metrics.js";
import { nodeServiceSchema, replCommands } from "./lib/observability/operator.js";
import { ResilienceMiddleware } from "./lib/broker/call-resilience.js";
import { DrainingNatsTransporter } from "./lib/broker/draining-nats.js";
import { AccessMiddleware } from "./lib/broker/access-middleware.js";

/** Moleculer 0.15's internal middlewares, in the order it adds them (src/service-broker.js; a unit test compares). */
export const INTERNAL_MIDDLEWARES = [
	"ActionHook",
	"Validator",
	"Bulkhead",
	"Cacher",
	"ContextTracker",
	"CircuitBreaker",
	"Timeout",
	"Retry",
	"Fallback",
	"ErrorHandler",
	"Tracing",
	"Metrics",
	"Debounce",
	"Throttle",
] as const;

/** The transporter: NATS through the draining subclass (lib/broker/draining-nats.ts), anything else as Moleculer takes it. */
function transporter(cfg: ShopConfig): BrokerOptions["transporter"] {
	if (!cfg.transporter) return null as unknown as BrokerOptions["transporter"];
	if (!/^nats:\/\//i.test(cfg.transporter)) return cfg.transporter as BrokerOptions["transporter"];
	return new DrainingNatsTransporter({ url: cfg.transporter }) as unknown as BrokerOptions["transporter"];
}

export function brokerOptions(cfg: ShopConfig = config): BrokerOptions {
	// NATS hands each call to a connected node of the service (lib/broker/call-resilience.ts): a dead node gets none.
	const natsBalanced = cfg.calls.balancer === "nats" && /^nats:\/\//i.test(cfg.transporter ?? "");
	return {
		namespace: cfg.namespace,
		nodeID: cfg.nodeId ?? `${os.hostname()}-${process.pid}`,
		transporter: transporter(cfg),
		disableBalancer: natsBalanced,
		serializer: "JSON",

		// Pino; JSON lines or readable text; request id, node and service on every line; no secrets.
		logger: loggerOptions(cfg),
		logLevel: cfg.logLevel as BrokerOptions["logLevel"],

		// Every call has a deadline. What is sent again, and when, is lib/broker/call-resilience.ts (per action:
		// `idempotent` in its schema); Moleculer's own retry middleware stays off.
		requestTimeout: cfg.requestTimeoutMs,
		retryPolicy: { enabled: false },
		// Per endpoint (node): only meaningful when Moleculer picks the node.
		circuitBreaker: {
			enabled: !natsBalanced,
			threshold: 0.5,
			minRequestCount: 20,
			windowTime: 60,
			halfOpenTime: 10_000,
			check: err => !!(err as { code?: number }).code && (err as { code: number }).code >= 500,
		},
		bulkhead: { enabled: false },
		// A node that dies leaves the registry within seconds (calls have stopped going to it at once with NATS balancing).
		heartbeatInterval: cfg.heartbeat.intervalSeconds,
		heartbeatTimeout: cfg.heartbeat.timeoutSeconds,
		registry: { strategy: "RoundRobin", preferLocal: true },
		contextParamsCloning: false,
		// At stop: in-flight calls (made and served) finish first, at most this long.
		tracking: { enabled: true, shutdownTimeout: 10_000 },
		// scripts/start.ts stops the broker on SIGINT/SIGTERM (bounded); Moleculer's own handlers
		// would stop it a second time at once (two "Good bye"s, ERR_SERVER_NOT_RUNNING from the metrics server).
		skipProcessEventRegistration: true,
		maxCallLevel: 20,

		// Prometheus on :METRICS_PORT/metrics (and /ready); the shop_* series are registered by the middleware.
		metrics: metricsOptions(cfg),
		// TRACING_EXPORTER_URL (Zipkin v2, e.g. Jaeger :9411) and TRACING_SAMPLE_RATE; the trace id is the request id.
		tracing: tracingOptions(cfg),
		// Moleculer's internal middlewares in their own order, with the per-call metrics at a lower
		// price in place of its `Metrics` (lib/observability/action-metrics.ts says why).
		internalMiddlewares: false,
		middlewares: [
			ObservabilityMiddleware({ accessLog: cfg.accessLog }),
			ResilienceMiddleware({ natsBalanced, hedgeMs: cfg.calls.hedgeMs, repeats: cfg.calls.repeats }),
			// A middleware added later wraps the earlier ones: right after the Validator, who may call
			// is checked before what the call says (401/403 before 422, as at the gateway).
			...INTERNAL_MIDDLEWARES.flatMap((name): unknown[] =>
				name === "Metrics" ? [LeanMetricsMiddleware] : name === "Validator" ? [name, AccessMiddleware()] : [name],
			),
		] as BrokerOptions["middlewares"],
		// `$node.ready` on every node, and the operator's REPL commands (lib/observability/operator.ts).
		internalServices: { $node: nodeServiceSchema() },
		replOptions: { customCommands: replCommands() },
		// null is a value, not "absent": an optional field given null is a 422, not a stored null.
		validator: new NullIsAValueValidator(),
		errorHandler: undefined,
	};
}

export default brokerOptions();
