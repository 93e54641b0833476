/**
 * Moleculer spans to an OpenTelemetry collector over OTLP/HTTP with JSON bodies (Jaeger v2 takes
 * them on :4318/v1/traces). A small exporter of our own: Moleculer ships none for OTLP, and the
 * OpenTelemetry SDK would bring its own context propagation and instrumentation that Moleculer's
 * tracer already does. Spans are batched off the request path (every `intervalMs`, or at
 * `maxBatch` spans) and flushed at stop; a collector that is away costs a warning per minute,
 * never a request.
 *
 * Ids as Jaeger and the W3C trace context want them: the trace id is the request id's 32 hex
 * digits (`zipkinTraceId`), a span id the first 16 hex digits of Moleculer's UUID (`spanIdOf`).
 * One resource per Moleculer service (`service.name` = its full name), so Jaeger shows the
 * gateway, orders, products... as services of one trace.
 */
import { TracerExporters, type Span, type Tracer } from "moleculer";
import { spanIdOf, zipkinTraceId } from "./trace-context.js";

interface OtlpAttribute {
	key: string;
	value: { stringValue: string } | { boolValue: boolean } | { doubleValue: number };
}
interface OtlpSpan {
	traceId: string;
	spanId: string;
	parentSpanId?: string;
	name: string;
	kind: number;
	startTimeUnixNano: string;
	endTimeUnixNano: string;
	attributes: OtlpAttribute[];
	status: { code: number; message?: string };
}

/** OTLP span kinds. */
const KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

export interface OtlpExporterOptions {
	/** The collector's traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
	url: string;
	intervalMs?: number;
	maxBatch?: number;
}

type MoleculerSpan = Span & {
	id: string;
	traceID: string;
	parentID?: string | null;
	type?: string;
	startTime: number;
	finishTime?: number;
	tags: Record<string, unknown>;
	error?: { name?: string; message?: string } | null;
	service?: { fullName?: string; name?: string } | null;
};

const nanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

function kindOf(span: MoleculerSpan): number {
	if (span.tags["messaging.system"]) return span.tags["messaging.operation"] === "publish" ? KIND.producer : KIND.consumer;
	if (span.type === "event") return KIND.consumer;
	if (!span.parentID) return KIND.server;
	return KIND.internal;
}

export class OtlpHttpExporter extends TracerExporters.Base {
	private queue: MoleculerSpan[] = [];
	private timer?: NodeJS.Timeout;
	private lastWarning = 0;
	private inFlight = new Set<Promise<void>>();

	constructor(private readonly options: OtlpExporterOptions) {
		super({});
	}

	override init(tracer: Tracer): void {
		super.init(tracer);
		this.timer = setInterval(() => void this.flush(), this.options.intervalMs ?? 2000);
		this.timer.unref();
	}

	override spanFinished(span: MoleculerSpan): void {
		this.queue.push(span);
		if (this.queue.length >= (this.options.maxBatch ?? 512)) void this.flush();
	}

	override async stop(): Promise<void> {
		if (this.timer) clearInterval(this.timer);
		await this.flush();
		await Promise.all(this.inFlight);
	}

	/** The OTLP/JSON request body for these spans. */
	payload(spans: MoleculerSpan[]): object {
		const byService = new Map<string, OtlpSpan[]>();
		for (const span of spans) {
			const service = span.service?.fullName ?? span.service?.name ?? "moleculer";
			let list = byService.get(service);
			if (!list) byService.set(service, (list = []));
			list.push(this.toOtlp(span));
		}
		return {
			resourceSpans: [...byService].map(([service, list]) => ({
				resource: {
					attributes: [
						{ key: "service.name", value: { stringValue: service } },
						{ key: "service.instance.id", value: { stringValue: this.broker.nodeID } },
					],
				},
				scopeSpans: [{ scope: { name: "moleculer" }, spans: list }],
			})),
		};
	}

	private toOtlp(span: MoleculerSpan): OtlpSpan {
		const attributes: OtlpAttribute[] = Object.entries(this.flattenTags(span.tags, true) ?? {}).map(([key, v]) => ({ key, value: { stringValue: v } }));
		attributes.push({ key: "moleculer.node", value: { stringValue: this.broker.nodeID } });
		if (span.type) attributes.push({ key: "moleculer.span_type", value: { stringValue: span.type } });
		const out: OtlpSpan = {
			traceId: zipkinTraceId(String(span.traceID)),
			spanId: spanIdOf(span.id),
			name: span.name,
			kind: kindOf(span),
			startTimeUnixNano: nanos(span.startTime),
			endTimeUnixNano: nanos(span.finishTime ?? span.startTime),
			attributes,
			status: span.error ? { code: 2, message: `${span.error.name ?? "Error"}: ${span.error.message ?? ""}` } : { code: 0 },
		};
		if (span.parentID) out.parentSpanId = spanIdOf(span.parentID);
		return out;
	}

	flush(): Promise<void> {
		if (this.queue.length === 0) return Promise.resolve();
		const spans = this.queue;
		this.queue = [];
		const sent = fetch(this.options.url, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify(this.payload(spans)),
			signal: AbortSignal.timeout(5000),
		})
			.then(res => {
				if (!res.ok) this.warn(`the collector answered ${res.status}`);
				return res.body?.cancel();
			})
			.catch((err: Error) => this.warn(err.message))
			.finally(() => this.inFlight.delete(sent));
		this.inFlight.add(sent);
		return sent;
	}

	private warn(why: string): void {
		if (Date.now() - this.lastWarning < 60_000) return;
		this.lastWarning = Date.now();
		this.logger.warn(`Spans not exported to ${this.options.url}: ${why}`);
	}
}
