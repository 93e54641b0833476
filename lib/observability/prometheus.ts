/**
 * The `metrics` broker option: Moleculer's built-in Prometheus reporter on every node at
 * `http://METRICS_HOST:METRICS_PORT/metrics` (embedded default 127.0.0.1:3030).
 *
 * The same little server answers `GET /ready` with this node's readiness report (200 or 503),
 * so a node without the HTTP gateway still has something a container health check can ask, and
 * `GET /live` with 200 as long as the process's event loop turns (a liveness probe). A
 * scrape of `/metrics` runs the same checks first, so `shop_node_ready` and
 * `shop_readiness_check{check}` (lib/observability/metrics.ts) are as fresh as the scrape.
 *
 * Histograms without quantiles (the per-call ones, lib/observability/action-metrics.ts) also get
 * their `_sum` and `_count` series, which Moleculer's reporter writes only beside quantiles but
 * the Prometheus format has for every histogram (average latency is rate(_sum) / rate(_count)).
 *
 * (Not the `moleculer-prometheus` package: it was written for Moleculer 0.13 and registers a
 * second reporter that collides with the built-in one.)
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { MetricReporters, type BrokerOptions } from "moleculer";
import { checkReadiness } from "../readiness.js";

interface HistogramItem {
	labels: Record<string, unknown>;
	sum: number;
	count: number;
	buckets?: object;
	quantiles?: object;
}

export class ShopPrometheusReporter extends MetricReporters.Prometheus {
	override generatePrometheusResponse(): string {
		const lines = String(super.generatePrometheusResponse()).split("\n");
		const after = new Map<string, string[]>();
		for (const metric of this.registry.store.values()) {
			if (metric.type !== "histogram" || !this.matchMetricName(metric.name)) continue;
			const name = this.formatMetricName(metric.name).replace(/[.-]/g, "_");
			for (const item of metric.snapshot() as HistogramItem[]) {
				if (item.quantiles || !item.buckets) continue;
				const labels = this.labelsToStr(item.labels);
				after.set(`${name}_bucket${this.labelsToStr(item.labels, { le: "+Inf" })}`, [
					`${name}_sum${labels} ${item.sum}`,
					`${name}_count${labels} ${item.count}`,
				]);
			}
		}
		if (after.size === 0) return lines.join("\n");
		// Right after the item's +Inf bucket, inside its family's block as the format wants.
		return lines.flatMap(line => [line, ...(after.get(line.slice(0, line.lastIndexOf(" "))) ?? [])]).join("\n");
	}

	override handler(req: IncomingMessage, res: ServerResponse): void {
		const broker = this.registry.broker;
		if (req.url === "/live") {
			// Liveness: the event loop answers. Never a dependency (a NATS outage must not restart every pod).
			res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
			res.end("live\n");
			return;
		}
		if (req.url !== "/ready") {
			// Each scrape runs the readiness checks first, so shop_node_ready and shop_readiness_check are current.
			checkReadiness(broker, 1500)
				.catch(() => undefined)
				.finally(() => super.handler(req, res));
			return;
		}
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
	const reporter = new ShopPrometheusReporter({
		port: cfg.metricsPort,
		host: cfg.metricsHost,
		path: "/metrics",
		defaultLabels: (registry: { broker: { namespace: string; nodeID: string } }) => ({
			namespace: registry.broker.namespace,
			nodeID: registry.broker.nodeID,
		}),
	});
	// Moleculer takes a reporter instance; its declarations list only reporters named by type.
	return { enabled: true, reporter: [reporter] } as unknown as BrokerOptions["metrics"];
}
