/**
 * Trace ids in the forms collectors and the W3C trace context want (https://www.w3.org/TR/trace-context/):
 *
 *   traceparent = 00-<trace id, 32 hex>-<parent span id, 16 hex>-<flags: 01 sampled, 00 not>
 *
 * Moleculer names a trace after the request id and a span after a UUID; the trace id is the
 * request id's 32 hex digits (a UUID as it is, anything else hashed) and a span id is the first
 * 16 hex digits of the span's UUID, as Moleculer's Zipkin exporter converts them, so the ids in
 * Jaeger, in `traceparent` headers and in log lines (`traceId`) are the same.
 */
import { createHash } from "node:crypto";

/** The 32-hex trace id of a request id. */
export function zipkinTraceId(requestId: string): string {
	const hex = requestId.replace(/-/g, "").toLowerCase();
	if (/^[0-9a-f]{32}$/.test(hex)) return hex;
	if (/^[0-9a-f]{16}$/.test(hex)) return hex.padStart(32, "0");
	return createHash("sha256").update(requestId).digest("hex").slice(0, 32);
}

/** The 16-hex span id of a Moleculer span id (a UUID, or already 16 hex). */
export function spanIdOf(id: string): string {
	const hex = id.replace(/-/g, "").toLowerCase();
	if (/^[0-9a-f]{16,}$/.test(hex)) return hex.slice(0, 16);
	return createHash("sha256").update(id).digest("hex").slice(0, 16);
}

export interface TraceParent {
	traceId: string;
	parentId: string;
	sampled: boolean;
}

export function formatTraceparent(requestId: string, spanId: string, sampled: boolean): string {
	return `00-${zipkinTraceId(requestId)}-${spanIdOf(spanId)}-${sampled ? "01" : "00"}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A traceparent header's fields, or null for anything malformed (all-zero ids are invalid). */
export function parseTraceparent(value: string | null | undefined): TraceParent | null {
	const m = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
	if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return null;
	return { traceId: m[1]!, parentId: m[2]!, sampled: (parseInt(m[3]!, 16) & 1) === 1 };
}
