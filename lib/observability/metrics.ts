/**
 * The shop's business metrics, next to Moleculer's own (`moleculer_*`, `process_*`, `os_*`) on
 * every node's Prometheus endpoint (`:METRICS_PORT/metrics`). All are registered through
 * Moleculer's MetricRegistry, all are named `shop_*`, and every function here is a no-op on a
 * broker whose metrics are off (METRICS_ENABLED=false).
 *
 * Where each series comes from:
 * - HTTP responses: the observability middleware, around the gateway's HTTP handler.
 * - Events published / consumed / their delay / outbox backlog: the events mixin.
 * - Orders by status, payments by result, checkout settle time, tickets created: derived from
 *   the domain events as the outbox relay publishes them (`observePublished`), so the services
 *   that own orders and tickets need no metrics code.
 * - Dead letters, Kafka consumer lag: the event bus (`recordDeadLetter`, `setConsumerLag`).
 * - Login failures: the users service (`recordLoginFailure`).
 * - Open tickets: the tickets service's database, counted by the metrics mixin.
 * - Readiness of the node and of each check: every readiness run (each /metrics scrape runs one).
 * - Age of the outbox backlog: the relay, from the events it finds waiting.
 * - Search index memory and build time: the products service, after building and after changes.
 */
import type { ServiceBroker } from "moleculer";
import { EVENTS, type EventEnvelope, type EventType } from "../contracts/events.js";

export const METRICS = {
	httpRequests: "shop_http_requests_total",
	orders: "shop_orders_total",
	checkoutSettle: "shop_checkout_settle_seconds",
	payments: "shop_payments_total",
	ticketsCreated: "shop_tickets_created_total",
	ticketsOpen: "shop_tickets_open",
	loginFailures: "shop_login_failures_total",
	eventsPublished: "shop_events_published_total",
	eventsConsumed: "shop_events_consumed_total",
	eventDelay: "shop_events_consume_delay_seconds",
	eventsDeadLettered: "shop_events_dead_lettered_total",
	consumerLag: "shop_events_consumer_lag",
	outboxBacklog: "shop_outbox_backlog",
	outboxOldestAge: "shop_outbox_oldest_event_age_seconds",
	nodeReady: "shop_node_ready",
	readinessCheck: "shop_readiness_check",
	mediaRenditions: "shop_media_renditions_generated_total",
	mediaRenditionSeconds: "shop_media_rendition_seconds",
	emails: "shop_emails_total",
	searchIndexBytes: "shop_search_index_bytes",
	searchIndexBuildSeconds: "shop_search_index_build_seconds",
	storeWrites: "shop_store_writes_total",
} as const;

const SECONDS_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

type MetricDef = {
	name: string;
	type: "counter" | "gauge" | "histogram";
	labelNames: string[];
	description: string;
	unit?: string;
	buckets?: number[];
	quantiles?: boolean;
};

const DEFINITIONS: MetricDef[] = [
	{
		name: METRICS.httpRequests,
		type: "counter",
		labelNames: ["method", "route", "status"],
		description: "HTTP responses of the gateway by route pattern and status code",
	},
	{
		name: METRICS.orders,
		type: "counter",
		labelNames: ["status"],
		description: "Orders that entered each status (pending, paid, cancelled, shipped, delivered, refunded)",
	},
	{
		name: METRICS.checkoutSettle,
		type: "histogram",
		labelNames: ["result"],
		unit: "seconds",
		buckets: SECONDS_BUCKETS,
		quantiles: true,
		description: "Checkout time from the order being accepted (placed) to settled (paid, or cancelled by stock or payment)",
	},
	{ name: METRICS.payments, type: "counter", labelNames: ["result"], description: "Payments by result (captured, declined, refunded)" },
	{ name: METRICS.ticketsCreated, type: "counter", labelNames: ["type"], description: "Support tickets opened, by type" },
	{ name: METRICS.ticketsOpen, type: "gauge", labelNames: [], description: "Support tickets not resolved or closed (from the tickets database)" },
	{ name: METRICS.loginFailures, type: "counter", labelNames: ["reason"], description: "Failed logins (invalid_credentials, locked)" },
	{
		name: METRICS.eventsPublished,
		type: "counter",
		labelNames: ["topic", "type", "result"],
		description: "Domain events handed to the event bus by the outbox relay (result ok or failed)",
	},
	{
		name: METRICS.eventsConsumed,
		type: "counter",
		labelNames: ["topic", "type", "group", "result"],
		description: "Domain event deliveries to a consumer group (result ok, failed, duplicate)",
	},
	{
		name: METRICS.eventDelay,
		type: "histogram",
		labelNames: ["topic", "group"],
		unit: "seconds",
		buckets: SECONDS_BUCKETS,
		quantiles: true,
		description: "Time from an event occurring to a consumer having applied it (consumer lag in time)",
	},
	{
		name: METRICS.eventsDeadLettered,
		type: "counter",
		labelNames: ["topic", "type", "group"],
		description: "Events a consumer group gave up on after its retries",
	},
	{
		name: METRICS.consumerLag,
		type: "gauge",
		labelNames: ["group", "topic", "partition"],
		description: "Kafka messages not yet consumed by a group (end offset minus committed offset)",
	},
	{ name: METRICS.outboxBacklog, type: "gauge", labelNames: ["service"], description: "Documents whose outbox holds events not yet published" },
	{
		name: METRICS.outboxOldestAge,
		type: "gauge",
		labelNames: ["service"],
		unit: "seconds",
		description: "Age of the oldest event the relay found waiting in an outbox at its last pass (0 once all were published)",
	},
	{ name: METRICS.nodeReady, type: "gauge", labelNames: [], description: "1 when this node's last readiness check passed, 0 when not" },
	{
		name: METRICS.readinessCheck,
		type: "gauge",
		labelNames: ["check"],
		description: "Each readiness check of this node at its last run: 1 passing, 0 failing (transporter, events:kafka, database:<svc>, outbox:<svc>, ...)",
	},
	{
		name: METRICS.mediaRenditions,
		type: "counter",
		labelNames: ["preset", "format"],
		description: "Image renditions made from an original (first requests; later ones are served from storage)",
	},
	{
		name: METRICS.mediaRenditionSeconds,
		type: "histogram",
		labelNames: ["preset", "format"],
		unit: "seconds",
		buckets: SECONDS_BUCKETS,
		quantiles: true,
		description: "Time to make one image rendition with sharp",
	},
	{
		name: METRICS.emails,
		type: "counter",
		labelNames: ["channel", "result"],
		description: "Email attempts by result: sent, retry (to be tried again), dead_lettered (given up after EMAIL_RETRY_SCHEDULE)",
	},
	{
		name: METRICS.searchIndexBytes,
		type: "gauge",
		labelNames: [],
		unit: "bytes",
		description: "Estimated memory of this products node's search index (postings, dictionary, per-product rows; not the documents)",
	},
	{
		name: METRICS.searchIndexBuildSeconds,
		type: "gauge",
		labelNames: [],
		unit: "seconds",
		description: "How long this products node's last full build of its search index took",
	},
	{
		name: METRICS.storeWrites,
		type: "counter",
		labelNames: ["service", "collection"],
		description: "Writes (inserts, updates, removals) a service asked of its database, whether or not they matched a document",
	},
];

const registered = new WeakSet<ServiceBroker>();

/** Register the shop_* series on this broker (idempotent; nothing when metrics are off). */
export function registerShopMetrics(broker: ServiceBroker): void {
	if (registered.has(broker) || !broker.isMetricsEnabled()) return;
	registered.add(broker);
	for (const def of DEFINITIONS) {
		if (!broker.metrics.hasMetric(def.name)) broker.metrics.register({ ...def } as Parameters<ServiceBroker["metrics"]["register"]>[0]);
	}
}

/** The metric registry when metrics are on, with the shop_* series registered. */
function registry(broker: ServiceBroker | undefined) {
	if (!broker?.isMetricsEnabled()) return null;
	registerShopMetrics(broker);
	return broker.metrics;
}

function topicOf(type: string): string {
	return EVENTS[type as EventType]?.topic ?? "unknown";
}

// ---------------------------------------------------------------- gateway

export function recordHttpResponse(broker: ServiceBroker, method: string, route: string, status: number): void {
	registry(broker)?.increment(METRICS.httpRequests, { method, route, status });
}

// ---------------------------------------------------------------- media

export function recordRenditionGenerated(broker: ServiceBroker, preset: string, format: string, ms: number): void {
	const m = registry(broker);
	m?.increment(METRICS.mediaRenditions, { preset, format });
	m?.observe(METRICS.mediaRenditionSeconds, ms / 1000, { preset, format });
}

// ---------------------------------------------------------------- notifications

export function recordEmailAttempt(broker: ServiceBroker, channel: string, result: "sent" | "retry" | "dead_lettered"): void {
	registry(broker)?.increment(METRICS.emails, { channel, result });
}

// ---------------------------------------------------------------- products

/** The search index's estimated memory, and the time its last full build took when it was just built. */
export function setSearchIndexFigures(broker: ServiceBroker, figures: { bytes: number; buildSeconds?: number }): void {
	const m = registry(broker);
	m?.set(METRICS.searchIndexBytes, figures.bytes);
	if (figures.buildSeconds !== undefined) m?.set(METRICS.searchIndexBuildSeconds, figures.buildSeconds);
}

// ---------------------------------------------------------------- users

/** A login that failed: call it in the users service where it answers 401 (or 429 when locked). */
export function recordLoginFailure(broker: ServiceBroker, reason: "invalid_credentials" | "locked" = "invalid_credentials"): void {
	registry(broker)?.increment(METRICS.loginFailures, { reason });
}

// ---------------------------------------------------------------- store

/** One write asked of a service's database (lib/store Collection, through the db mixin). */
export function recordStoreWrite(broker: ServiceBroker, service: string, collection: string): void {
	registry(broker)?.increment(METRICS.storeWrites, { service, collection });
}

// ---------------------------------------------------------------- events

/** After the relay published `events` (or failed to): counts, and the business series they imply. */
export function recordEventsPublished(broker: ServiceBroker, events: readonly EventEnvelope[], result: "ok" | "failed" = "ok"): void {
	const m = registry(broker);
	if (!m) return;
	for (const e of events) {
		m.increment(METRICS.eventsPublished, { topic: topicOf(e.type), type: e.type, result });
		if (result === "ok") observePublished(broker, e);
	}
}

export function recordEventConsumed(broker: ServiceBroker, group: string, event: EventEnvelope, result: "ok" | "failed" | "duplicate"): void {
	const m = registry(broker);
	if (!m) return;
	const topic = topicOf(event.type);
	m.increment(METRICS.eventsConsumed, { topic, type: event.type, group, result });
	if (result === "ok") {
		const delay = (Date.now() - Date.parse(event.occurredAt)) / 1000;
		if (Number.isFinite(delay)) m.observe(METRICS.eventDelay, Math.max(0, delay), { topic, group });
	}
}

/** An event a consumer group gave up on: call it where the bus dead-letters. */
export function recordDeadLetter(broker: ServiceBroker, dead: { group: string; type: EventType | undefined }): void {
	registry(broker)?.increment(METRICS.eventsDeadLettered, {
		topic: dead.type ? topicOf(dead.type) : "unknown",
		type: dead.type ?? "unparsable",
		group: dead.group,
	});
}

/** Kafka consumer lag of one partition, for the Kafka transport to report. */
export function setConsumerLag(broker: ServiceBroker, group: string, topic: string, partition: number, lag: number): void {
	registry(broker)?.set(METRICS.consumerLag, lag, { group, topic, partition });
}

export function setOutboxBacklog(broker: ServiceBroker, service: string, documents: number): void {
	registry(broker)?.set(METRICS.outboxBacklog, documents, { service });
}

/** The oldest event the relay saw waiting (its `occurredAt`), or none: the backlog's age in seconds. */
export function setOutboxOldest(broker: ServiceBroker, service: string, oldestOccurredAt: string | undefined): void {
	const m = registry(broker);
	if (!m) return;
	const age = oldestOccurredAt ? (Date.now() - Date.parse(oldestOccurredAt)) / 1000 : 0;
	m.set(METRICS.outboxOldestAge, Number.isFinite(age) ? Math.max(0, age) : 0, { service });
}

// ---------------------------------------------------------------- readiness

/** The outcome of a readiness check run (lib/readiness.ts): the node and each of its checks, 1 or 0. */
export function recordReadiness(broker: ServiceBroker, ready: boolean, checks: Record<string, { ok: boolean }>): void {
	const m = registry(broker);
	if (!m) return;
	m.set(METRICS.nodeReady, ready ? 1 : 0);
	for (const [check, result] of Object.entries(checks)) m.set(METRICS.readinessCheck, result.ok ? 1 : 0, { check });
}

// ---------------------------------------------------------------- business series from events

/** Cancellations that end a checkout (as opposed to a customer or admin cancelling later). */
const CHECKOUT_FAILURES = new Set(["out_of_stock", "payment_declined", "payment_expired", "reservation_expired"]);
const PLACED_MEMORY = 10_000;
/** When each order was placed, for events whose payload does not say (`placedAt`). Per broker, bounded. */
const placedAt = new WeakMap<ServiceBroker, Map<string, number>>();

function rememberPlaced(broker: ServiceBroker, orderId: string, at: number): void {
	let map = placedAt.get(broker);
	if (!map) placedAt.set(broker, (map = new Map()));
	map.set(orderId, at);
	if (map.size > PLACED_MEMORY) map.delete(map.keys().next().value as string);
}

function settle(broker: ServiceBroker, e: EventEnvelope<"order.paid" | "order.cancelled">, result: "paid" | "cancelled"): void {
	const map = placedAt.get(broker);
	const placed = e.payload.placedAt ? Date.parse(e.payload.placedAt) : map?.get(e.payload.orderId);
	map?.delete(e.payload.orderId);
	if (placed === undefined || !Number.isFinite(placed)) return;
	const seconds = (Date.parse(e.occurredAt) - placed) / 1000;
	if (seconds >= 0) broker.metrics.observe(METRICS.checkoutSettle, seconds, { result });
}

/** The business meaning of one published event. */
export function observePublished(broker: ServiceBroker, e: EventEnvelope): void {
	const m = registry(broker);
	if (!m) return;
	switch (e.type) {
		case "order.placed":
			m.increment(METRICS.orders, { status: "pending" });
			rememberPlaced(broker, (e as EventEnvelope<"order.placed">).payload.orderId, Date.parse(e.occurredAt));
			break;
		case "order.paid":
			m.increment(METRICS.orders, { status: "paid" });
			settle(broker, e as EventEnvelope<"order.paid">, "paid");
			break;
		case "order.cancelled": {
			const ev = e as EventEnvelope<"order.cancelled">;
			m.increment(METRICS.orders, { status: "cancelled" });
			if (CHECKOUT_FAILURES.has(ev.payload.reason)) settle(broker, ev, "cancelled");
			break;
		}
		case "order.shipped":
			m.increment(METRICS.orders, { status: "shipped" });
			break;
		case "order.delivered":
			m.increment(METRICS.orders, { status: "delivered" });
			break;
		case "order.refunded":
			if ((e as EventEnvelope<"order.refunded">).payload.full) m.increment(METRICS.orders, { status: "refunded" });
			break;
		case "payment.captured":
			m.increment(METRICS.payments, { result: "captured" });
			break;
		case "payment.declined":
			m.increment(METRICS.payments, { result: "declined" });
			break;
		case "payment.refunded":
			m.increment(METRICS.payments, { result: "refunded" });
			break;
		case "ticket.created":
			m.increment(METRICS.ticketsCreated, { type: (e as EventEnvelope<"ticket.created">).payload.type });
			break;
	}
}
