/**
 * Gauges counted from a service's own database, refreshed on a timer: what can only be known
 * by asking the data (how many tickets are open right now), as opposed to the counters that
 * lib/observability/metrics.ts derives from events.
 *
 *   mixins: [DbMixin({...}), EventsMixin({...}), MetricsMixin({ gauges: [
 *     { metric: "shop_tickets_open", collection: "tickets", query: { status: { $in: ["open", "pending"] } } },
 *   ] })]
 *
 * Each node running the service reports the same number: aggregate with max(), not sum().
 * Nothing runs when metrics are off. `refreshGauges()` can be called after a change for an
 * immediate value.
 */
import type { Service, ServiceSchema } from "moleculer";
import { defineMixin } from "../lib/broker/service.js";
import { registerShopMetrics } from "../lib/observability/metrics.js";
import type { Collection, Doc, Query } from "../lib/store/index.js";

export interface CountGauge {
	/** A gauge registered in lib/observability/metrics.ts, or a new one (registered here, label names from `labels`). */
	metric: string;
	collection: string;
	query: Query;
	labels?: Record<string, string>;
}

export interface MetricsMixinOptions {
	gauges: CountGauge[];
	/** How often to count (default 15 s, the Prometheus scrape interval of ops/prometheus/compose.yml). */
	refreshMs?: number;
}

type MetricsThis = Service & {
	collection<T extends Doc>(name: string): Collection<T>;
	refreshGauges(): Promise<void>;
	$metricsTimer?: NodeJS.Timeout;
};

export function MetricsMixin(opts: MetricsMixinOptions): Partial<ServiceSchema> {
	const refreshMs = opts.refreshMs ?? 15_000;
	return defineMixin<MetricsThis>({
		async started() {
			if (!this.broker.isMetricsEnabled()) return;
			registerShopMetrics(this.broker);
			for (const g of opts.gauges) {
				if (!this.broker.metrics.hasMetric(g.metric))
					this.broker.metrics.register({ name: g.metric, type: "gauge", labelNames: Object.keys(g.labels ?? {}) });
			}
			this.$metricsTimer = setInterval(() => void this.refreshGauges(), refreshMs);
			this.$metricsTimer.unref();
			await this.refreshGauges();
		},
		stopped() {
			if (this.$metricsTimer) clearInterval(this.$metricsTimer);
		},
		methods: {
			async refreshGauges(this: MetricsThis): Promise<void> {
				if (!this.broker.isMetricsEnabled()) return;
				for (const g of opts.gauges) {
					try {
						this.broker.metrics.set(g.metric, await this.collection(g.collection).count(g.query), g.labels ?? {});
					} catch (err) {
						this.logger.warn(`Could not count ${g.metric}: ${(err as Error).message}`);
					}
				}
			},
		},
	});
}
