/**
 * Moleculer tracing for the shop.
 *
 * - The trace id is the request id: Moleculer names a trace after `ctx.requestID`, which the
 *   gateway sets from X-Request-ID (or a new UUID). Zipkin wants 32 hex digits, so a UUID
 *   request id is used as it is (without dashes) and any other one is hashed; every span also
 *   carries the request id as its `requestID` tag, so both ways of looking it up work.
 * - TRACING_EXPORTER_URL turns tracing on: spans go as Zipkin v2 JSON to that collector (Jaeger
 *   takes this format on its Zipkin port, http://127.0.0.1:9411). Unset: no tracing, the
 *   embedded default. TRACING_SAMPLE_RATE (0..1, default 1) is the share of requests traced.
 *   Moleculer's own Zipkin exporter is used rather than an OTLP one of our own: it batches spans
 *   every few seconds off the request path, and Jaeger reads its format natively.
 *   TRACING_EXPORTER=console (development: span trees in the log) and `zipkin`/`jaeger` with
 *   ZIPKIN_URL remain for compatibility.
 * - Action and event spans record their parameters sanitized (no passwords, tokens or cards).
 * - Domain events carry the producing span in their envelope (`requestId`, `spanId` and the W3C
 *   `traceparent`), and the Kafka message carries a `traceparent` header naming the relay's
 *   publish span; the consumer's context is made from them (`consumerContextOptions`) and its
 *   handler runs in a span of its own (`traceConsumer`), so the consumer joins the trace of the
 *   request that caused the event, across NATS and Kafka alike.
 */
import { createHash } from "node:crypto";
import { TracerExporters, type Context, type Service, type ServiceBroker, type Span, type TracerOptions } from "moleculer";
import type { EventEnvelope } from "../contracts/events.js";
import { sanitize } from "./redact.js";

export const TRACING_EXPORTERS = ["none", "console", "zipkin", "jaeger"] as const;

/** A trace id Zipkin accepts for a request id: the UUID's 32 hex digits, or a hash of anything else. */
export function zipkinTraceId(requestId: string): string {
	const hex = requestId.replace(/-/g, "").toLowerCase();
	if (/^[0-9a-f]{32}$/.test(hex) || /^[0-9a-f]{16}$/.test(hex)) return hex;
	return createHash("sha256").update(requestId).digest("hex").slice(0, 32);
}

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

/** The `tracing` broker option. */
export function tracingOptions(cfg: TracingConfig): TracerOptions {
	const kind = cfg.tracingExporterUrl ? "zipkin" : cfg.tracingExporter.toLowerCase();
	if (!(TRACING_EXPORTERS as readonly string[]).includes(kind))
		throw new Error(`TRACING_EXPORTER must be one of ${TRACING_EXPORTERS.join(", ")}; got '${cfg.tracingExporter}'`);
	if (kind === "none") return { enabled: false };
	const url = zipkinBase(cfg.tracingExporterUrl ?? cfg.zipkinUrl ?? "http://127.0.0.1:9411");
	return {
		enabled: true,
		sampling: { rate: cfg.tracingSampleRate ?? 1 },
		exporter:
			kind === "console"
				? [{ type: "Console", options: { width: 100, gaugeWidth: 40 } }]
				: [new ShopZipkinExporter({ baseURL: url, interval: 2, payloadOptions: { debug: false, shared: false } })],
		errorFields: ["name", "message", "code", "type"],
		stackTrace: false,
		tags: { action: paramsTags, event: paramsTags },
	} as TracerOptions;
}

/** The tracing fields of an event produced in `ctx` (for the envelope). */
export function producerTrace(ctx: Context | null | undefined): { requestId: string | null; spanId?: string } {
	const requestId = (ctx?.requestID as string | undefined) ?? null;
	const spanId = ctx?.span?.id;
	return spanId ? { requestId, spanId } : { requestId };
}

/** Context options for the consumer of `event`: its request id and, when traced, the producing span as parent. */
export function consumerContextOptions(event: EventEnvelope): Record<string, unknown> {
	const requestID = event.requestId ?? event.id;
	const opts: Record<string, unknown> = { requestID };
	if (event.spanId) opts.parentSpan = { id: event.spanId, traceID: requestID, sampled: null };
	return opts;
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
