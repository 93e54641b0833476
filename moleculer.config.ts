/**
 * Broker settings, all from the environment (lib/config.ts; the README lists every variable).
 * Unset means the one-process shop: no transporter, NeDB storage, in-process events.
 */
import os from "node:os";
import type { BrokerOptions } from "moleculer";
import { NullIsAValueValidator } from "./lib/validation.js";
import { config, type ShopConfig } from "./lib/config.js";
import { loggerOptions } from "./lib/observability/logging.js";
import { metricsOptions } from "./lib/observability/prometheus.js";
import { tracingOptions } from "./lib/observability/tracing.js";
import { ObservabilityMiddleware } from "./lib/observability/middleware.js";
import { nodeServiceSchema, replCommands } from "./lib/observability/operator.js";

export function brokerOptions(cfg: ShopConfig = config): BrokerOptions {
	return {
		namespace: cfg.namespace,
		nodeID: cfg.nodeId ?? `${os.hostname()}-${process.pid}`,
		transporter: (cfg.transporter ?? null) as BrokerOptions["transporter"],
		serializer: "JSON",

		// Pino; JSON lines or readable text; request id, node and service on every line; no secrets.
		logger: loggerOptions(cfg),
		logLevel: cfg.logLevel as BrokerOptions["logLevel"],

		// Every call has a deadline; retries are opt-in per call, for idempotent actions only.
		requestTimeout: cfg.requestTimeoutMs,
		retryPolicy: { enabled: false, retries: 3, delay: 100, maxDelay: 1000, factor: 2, check: err => !!(err as { retryable?: boolean }).retryable },
		circuitBreaker: {
			enabled: true,
			threshold: 0.5,
			minRequestCount: 20,
			windowTime: 60,
			halfOpenTime: 10_000,
			check: err => !!(err as { code?: number }).code && (err as { code: number }).code >= 500,
		},
		bulkhead: { enabled: false },
		// A node that dies is noticed within seconds.
		heartbeatInterval: 2,
		heartbeatTimeout: 6,
		registry: { strategy: "RoundRobin", preferLocal: true },
		contextParamsCloning: false,
		tracking: { enabled: true, shutdownTimeout: 10_000 },
		// scripts/start.ts stops the broker on SIGINT/SIGTERM (bounded); Moleculer's own handlers
		// would stop it a second time at once (two "Good bye"s, ERR_SERVER_NOT_RUNNING from the metrics server).
		skipProcessEventRegistration: true,
		maxCallLevel: 20,

		// Prometheus on :METRICS_PORT/metrics (and /ready); the shop_* series are registered by the middleware.
		metrics: metricsOptions(cfg),
		// TRACING_EXPORTER: none | console | zipkin | jaeger (ZIPKIN_URL); the trace id is the request id.
		tracing: tracingOptions(cfg),
		middlewares: [ObservabilityMiddleware()],
		// `$node.ready` on every node, and the operator's REPL commands (lib/observability/operator.ts).
		internalServices: { $node: nodeServiceSchema() },
		replOptions: { customCommands: replCommands() },
		// null is a value, not "absent": an optional field given null is a 422, not a stored null.
		validator: new NullIsAValueValidator(),
		errorHandler: undefined,
	};
}

export default brokerOptions();
