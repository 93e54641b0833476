/**
 * Moleculer tracing for the shop.
 *
 * - The trace id is the request id: Moleculer names a trace after `ctx.requestID`, which the
 *   gateway sets from X-Request-ID (or a new UUID). Zipkin wants 32 hex digits, so a UUID
 *   request id is used as it is (without dashes) and any other one is hashed; every span also
 *   carries the request id as its `requestID` tag, so both ways of looking it up work.
 * - TRACING_EXPORTER_URL turns tracing on: the collector's endpoint. Unset: no tracing, the
 *   embedded default. An OTLP/HTTP endpoint (Jaeger's http://127.0.0.1:4318, `/v1/traces` is
 *   added when missing) gets OTLP JSON (lib/observability/otlp-exporter.ts); a Zipkin one (port
 *   9411 or a path ending in /api/v2/spans) gets Zipkin v2 JSON through Moleculer's exporter.
 *   TRACING_SAMPLE_RATE (0..1, default 1) is the share of requests traced.
 *   TRACING_EXPORTER=console (development: span trees in the log) and `zipkin`/`jaeger` with
 *   ZIPKIN_URL remain for compatibility.
 * - Action and event spans record their parameters sanitized (no passwords, tokens or cards).
 * - Domain events carry the producing span in their envelope (`requestId`, `spanId` and the W3C
 *   `traceparent`), and the Kafka message carries a `traceparent` header naming the relay's
 *   publish span; the consumer's context is made from them (`consumerContextOptions`) and its
 *   handler runs in a span of its own (`traceConsumer`), so the consumer joins the trace of the
 *   request that caused the event, across NATS and Kafka alike.
 */
import { TracerExporters, type Context, type Service, type ServiceBroker, type Span, type TracerOptions } from "moleculer";
import { EVENTS, type EventEnvelope } from "../contracts/events.js";
import { OtlpHttpExporter } from "./otlp-exporter.js";
import { sanitize } from "./redact.js";
import { formatTraceparent, parseTraceparent, zipkinTraceId } from "./trace-context.js";

export { zipkinTraceId };

export const TRACING_EXPORTERS = ["none", "console", "zipkin", "jaeger"] as const;

/** Moleculer's Zipkin exporter with trace ids that Zipkin and Jaeger accept for any request id. */
export class ShopZipkinExporter extends TracerExporters.Zipkin {
	override makePayload(span: Span): Record<string, unknown> {
		const payload = super.makePayload(span);
		payload.traceId = zipkinTraceId(String(span.traceID));
		if (!payload.parentId) delete payload.parentId;
		return payload;
	}
}

/** Span tags of an action or event: its parameters, sanitized. */
function paramsTags(ctx: Context): Record<string, unknown> {
	return { params: sanitize(ctx.params) };
}

export interface TracingConfig {
	tracingExporter: string;
	zipkinUrl?: string;
	tracingExporterUrl?: string;
	tracingSampleRate?: number;
}

/** Whether this config traces at all. */
export function tracingEnabled(cfg: TracingConfig): boolean {
	return !!cfg.tracingExporterUrl || cfg.tracingExporter.toLowerCase() !== "none";
}

/** The collector's base URL: Moleculer's exporter appends /api/v2/spans itself. */
function zipkinBase(url: string): string {
	return url.replace(/\/+$/, "").replace(/\/api\/v2\/spans$/, "");
}

/** Is this collector endpoint Zipkin's (rather than OTLP/HTTP)? */
export function isZipkinEndpoint(url: string): boolean {
	return /\/api\/v2\/spans\/?$/.test(url) || /^[a-z]+:\/\/[^/]+:9411(\/|$)/i.test(url);
}

/** An OTLP/HTTP traces endpoint: the URL as given when it names /v1/traces, else with it appended. */
export function otlpTracesUrl(url: string): string {
	const base = url.replace(/\/+$/, "");
	return /\/v1\/traces$/.test(base) ? base : `${base}/v1/traces`;
}

/** The `tracing` broker option. */
export function tracingOptions(cfg: TracingConfig): TracerOptions {
	const otlp = !!cfg.tracingExporterUrl && !isZipkinEndpoint(cfg.tracingExporterUrl);
	const kind = cfg.tracingExporterUrl ? (otlp ? "otlp" : "zipkin") : cfg.tracingExporter.toLowerCase();
	if (!(TRACING_EXPORTERS as readonly string[]).includes(kind) && kind !== "otlp")
		throw new Error(`TRACING_EXPORTER must be one of ${TRACING_EXPORTERS.join(", ")}; got '${cfg.tracingExporter}'`);
	if (kind === "none") return { enabled: false };
	const zipkinUrl = zipkinBase(cfg.tracingExporterUrl ?? cfg.zipkinUrl ?? "http://127.0.0.1:9411");
	return {
		enabled: true,
		sampling: { rate: cfg.tracingSampleRate ?? 1 },
		exporter:
			kind === "console"
				? [{ type: "Console", options: { width: 100, gaugeWidth: 40 } }]
				: kind === "otlp"
					? [new OtlpHttpExporter({ url: otlpTracesUrl(cfg.tracingExporterUrl!) })]
					: [new ShopZipkinExporter({ baseURL: zipkinUrl, interval: 2, payloadOptions: { debug: false, shared: false } })],
		errorFields: ["name", "message", "code", "type"],
		stackTrace: false,
		tags: { action: paramsTags, event: paramsTags },
	} as TracerOptions;
}

/** The tracing fields of an event produced in `ctx` (for the envelope): its request id and, when traced, its span as `traceparent`. */
export function producerTrace(ctx: Context | null | undefined): { requestId: string | null; spanId?: string; traceparent?: string } {
	const requestId = (ctx?.requestID as string | undefined) ?? null;
	const span = ctx?.span as (Span & { id: string; sampled?: boolean }) | null | undefined;
	if (!span?.id) return { requestId };
	return { requestId, spanId: span.id, traceparent: formatTraceparent(requestId ?? span.id, span.id, span.sampled !== false) };
}

/**
 * Context options for the consumer of `event`: its request id and, when traced, the span that
 * handed it over as parent: the `traceparent` (on Kafka the header's, naming the relay's publish
 * span), else the producing span of older envelopes (`spanId`).
 */
export function consumerContextOptions(event: EventEnvelope): Record<string, unknown> {
	const requestID = event.requestId ?? event.id;
	const opts: Record<string, unknown> = { requestID };
	const parent = parseTraceparent(event.traceparent);
	if (parent) opts.parentSpan = { id: parent.parentId, traceID: requestID, sampled: parent.sampled };
	else if (event.spanId) opts.parentSpan = { id: event.spanId, traceID: requestID, sampled: null };
	return opts;
}

/**
 * The relay's span for handing `events` to the bus: one per traced event, a child of the span
 * that wrote it, named after the topic (the Kafka hop in a trace). Returns the envelopes to
 * publish, each with `traceparent` naming its publish span, and `finish` to call once the bus
 * acknowledged them (with the error when it did not).
 */
export function tracePublish(service: Service, events: readonly EventEnvelope[], system: string): { events: EventEnvelope[]; finish(err?: Error): void } {
	const broker: ServiceBroker = service.broker;
	if (!broker.isTracingEnabled()) return { events: [...events], finish: () => undefined };
	const spans: Span[] = [];
	const out = events.map(e => {
		const parent = parseTraceparent(e.traceparent);
		if (!parent?.sampled || !e.requestId) return e;
		const topic = EVENTS[e.type]?.topic ?? "unknown";
		const span = broker.tracer.startSpan(`publish ${e.type} to ${topic}`, {
			traceID: e.requestId,
			parentID: parent.parentId,
			sampled: true,
			service,
			type: "publish",
			tags: {
				"messaging.system": system,
				"messaging.operation": "publish",
				"messaging.destination": topic,
				event: { type: e.type, id: e.id, key: e.key },
			},
		});
		spans.push(span);
		return { ...e, traceparent: formatTraceparent(e.requestId, span.id, true) };
	});
	return {
		events: out,
		finish(err?: Error) {
			for (const span of spans) {
				if (err) span.setError(err);
				span.finish();
			}
		},
	};
}

/** Run a durable consumer's handler in a span named after the event and the consuming service. */
export async function traceConsumer<T>(service: Service, ctx: Context, event: EventEnvelope, fn: () => Promise<T>): Promise<T> {
	const broker: ServiceBroker = service.broker;
	if (!broker.isTracingEnabled()) return fn();
	const span = ctx.startSpan(`event '${event.type}' in '${service.fullName}'`, {
		id: ctx.id,
		type: "event",
		traceID: ctx.requestID,
		parentID: ctx.parentID ?? undefined,
		service,
		sampled: ctx.tracing ?? undefined,
		tags: {
			event: { type: event.type, id: event.id, source: event.source, key: event.key },
			requestID: ctx.requestID,
			nodeID: broker.nodeID,
			params: sanitize(event.payload),
		},
	});
	ctx.tracing = span.sampled;
	try {
		const result = await fn();
		ctx.finishSpan(span);
		return result;
	} catch (err) {
		span.setError(err as Error);
		ctx.finishSpan(span);
		throw err;
	}
}
