/**
 * The `metrics` broker option: Moleculer's built-in Prometheus reporter on every node at
 * `http://METRICS_HOST:METRICS_PORT/metrics` (embedded default 127.0.0.1:3030).
 *
 * The same little server answers `GET /ready` with this node's readiness report (200 or 503),
 * so a node without the HTTP gateway still has something a container health check can ask.
 *
 * (Not the `moleculer-prometheus` package: it was written for Moleculer 0.13 and registers a
 * second reporter that collides with the built-in one.)
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { MetricReporters, type BrokerOptions, type MetricRegistry, type ServiceBroker } from "moleculer";
import { checkReadiness } from "../readiness.js";

export class ShopPrometheusReporter extends MetricReporters.Prometheus {
	override handler(req: IncomingMessage, res: ServerResponse): void {
		if (req.url !== "/ready") return super.handler(req, res);
		const broker = (this as unknown as { registry: MetricRegistry & { broker: ServiceBroker } }).registry.broker;
		checkReadiness(broker).then(
			report => {
				res.writeHead(report.ready ? 200 : 503, { "Content-Type": "application/json; charset=utf-8" });
				res.end(JSON.stringify(report));
			},
			(err: Error) => {
				res.writeHead(503, { "Content-Type": "application/json; charset=utf-8" });
				res.end(JSON.stringify({ ready: false, error: err.message }));
			},
		);
	}
}

export function metricsOptions(cfg: { metricsEnabled: boolean; metricsPort: number; metricsHost: string }): BrokerOptions["metrics"] {
	if (!cfg.metricsEnabled) return { enabled: false };
	return {
		enabled: true,
		reporter: [
			new ShopPrometheusReporter({
				port: cfg.metricsPort,
				host: cfg.metricsHost,
				path: "/metrics",
				defaultLabels: (registry: { broker: { namespace: string; nodeID: string } }) => ({
					namespace: registry.broker.namespace,
					nodeID: registry.broker.nodeID,
				}),
			}),
		],
	} as unknown as BrokerOptions["metrics"];
}
