/**
 * Broker settings, all from the environment (lib/config.ts; the README lists every variable).
 * Unset means the one-process shop: no transporter, NeDB storage, in-process events.
 */
import os from "node:os";
import type { BrokerOptions } from "moleculer";
import { config, type ShopConfig } from "./lib/config.js";

export function brokerOptions(cfg: ShopConfig = config): BrokerOptions {
	return {
		namespace: cfg.namespace,
		nodeID: cfg.nodeId ?? `${os.hostname()}-${process.pid}`,
		transporter: (cfg.transporter ?? null) as BrokerOptions["transporter"],
		serializer: "JSON",

		logger: {
			type: "Pino",
			options: {
				level: cfg.logLevel,
				pino: {
					options: {
						// Secrets never reach a log line, whatever logs them.
						redact: {
							paths: ["password", "*.password", "*.currentPassword", "*.newPassword", "*.refreshToken", "*.accessToken", "*.cardNumber", "*.cvc", "*.authorization", "*.headers.authorization", "req.headers.authorization"],
							censor: "[redacted]",
						},
						...(cfg.logFormat === "text" ? { transport: undefined } : {}),
					},
				},
			},
		},
		logLevel: cfg.logLevel as BrokerOptions["logLevel"],

		// Every call has a deadline; retries are opt-in per call, for idempotent actions only.
		requestTimeout: cfg.requestTimeoutMs,
		retryPolicy: { enabled: false, retries: 3, delay: 100, maxDelay: 1000, factor: 2, check: err => !!(err as { retryable?: boolean }).retryable },
		circuitBreaker: { enabled: true, threshold: 0.5, minRequestCount: 20, windowTime: 60, halfOpenTime: 10_000, check: err => !!(err as { code?: number }).code && (err as { code: number }).code >= 500 },
		bulkhead: { enabled: false },
		// A node that dies is noticed within seconds.
		heartbeatInterval: 2,
		heartbeatTimeout: 6,
		registry: { strategy: "RoundRobin", preferLocal: true },
		contextParamsCloning: false,
		tracking: { enabled: true, shutdownTimeout: 10_000 },
		maxCallLevel: 20,

		metrics: {
			enabled: cfg.metricsEnabled,
			reporter: cfg.metricsEnabled ? [{ type: "Prometheus", options: { port: cfg.metricsPort, host: cfg.metricsHost, path: "/metrics", defaultLabels: (registry: { broker: { namespace: string; nodeID: string } }) => ({ namespace: registry.broker.namespace, nodeID: registry.broker.nodeID }) } }] : [],
		},
		tracing: {
			enabled: cfg.tracingExporter !== "none",
			exporter: cfg.tracingExporter === "zipkin" ? [{ type: "Zipkin", options: { baseURL: cfg.zipkinUrl ?? "http://127.0.0.1:9411" } }] : cfg.tracingExporter === "console" ? [{ type: "Console" }] : [],
		},
		validator: true,
		errorHandler: undefined,
	};
}

export default brokerOptions();
