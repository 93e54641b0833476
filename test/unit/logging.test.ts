/**
 * Logging, redaction and tracing helpers on their own, and the logger on a real broker:
 * the request id follows a request across awaits and calls, secrets never reach a line.
 */
import { ServiceBroker, type Context } from "moleculer";
import { afterEach, describe, expect, it } from "vitest";
import { formatLine, loggerOptions, normalizeArgs, TrustedFields } from "../../lib/observability/logging.js";
import { captureLogs, type LogCapture } from "../helpers/logs.js";
import { ObservabilityMiddleware } from "../../lib/observability/middleware.js";
import { REDACTED, sanitize, scrubText } from "../../lib/observability/redact.js";
import {
	consumerContextOptions,
	isZipkinEndpoint,
	otlpTracesUrl,
	producerTrace,
	ShopZipkinExporter,
	tracingOptions,
	zipkinTraceId,
} from "../../lib/observability/tracing.js";
import { formatTraceparent, parseTraceparent, spanIdOf } from "../../lib/observability/trace-context.js";
import { OtlpHttpExporter } from "../../lib/observability/otlp-exporter.js";
import { backlogCheck } from "../../lib/observability/outbox.js";
import { loadConfig, reloadConfig } from "../../lib/config.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEiLCJyb2xlcyI6WyJjdXN0b21lciJdfQ.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu";
const CARD = "4242424242424242";

describe("scrubText", () => {
	it("masks tokens, authorization credentials, URL passwords and card numbers", () => {
		expect(scrubText(`token ${JWT} here`)).toBe("token [jwt] here");
		expect(scrubText("Authorization: Bearer abc.def-ghi")).toBe(`Authorization: Bearer ${REDACTED}`);
		expect(scrubText("basic dXNlcjpwYXNz")).toBe(`basic ${REDACTED}`);
		expect(scrubText("nats://shop:s3cret@nats:4222")).toBe(`nats://shop:${REDACTED}@nats:4222`);
		expect(scrubText(`card ${CARD} declined`)).toBe("card [card] declined");
		expect(scrubText("card 4242 4242 4242 4242 and 4000-0000-0000-0002")).toBe("card [card] and [card]");
	});

	it("leaves numbers that are not card numbers alone", () => {
		// Fails the Luhn check, too short, too long.
		expect(scrubText("order 4242424242424241")).toBe("order 4242424242424241");
		expect(scrubText("id 424242424242")).toBe("id 424242424242");
		expect(scrubText("n 42424242424242424242")).toBe("n 42424242424242424242");
		expect(scrubText("2026-11-27T21:30:45.271Z took 15 ms")).toBe("2026-11-27T21:30:45.271Z took 15 ms");
	});
});

describe("sanitize", () => {
	it("redacts secret fields at any depth and scrubs strings", () => {
		const out = sanitize({
			email: "a@b.co",
			password: "pw-1",
			nested: { deeper: [{ refreshToken: "rt", accessToken: "at", note: `Bearer ${JWT}` }] },
			headers: { authorization: "Bearer x", "content-type": "application/json" },
			payment: { method: "card", cardNumber: CARD, cvc: "123", expMonth: 12 },
			passwordHash: "$2b$12$hash",
			newPassword: "n",
			currentPassword: "c",
			privateKeyPem: "-----BEGIN",
			cookie: "sid=1",
		});
		expect(out).toEqual({
			email: "a@b.co",
			password: REDACTED,
			nested: { deeper: [{ refreshToken: REDACTED, accessToken: REDACTED, note: "Bearer [jwt]" }] },
			headers: { authorization: REDACTED, "content-type": "application/json" },
			payment: { method: "card", cardNumber: REDACTED, cvc: REDACTED, expMonth: 12 },
			passwordHash: REDACTED,
			newPassword: REDACTED,
			currentPassword: REDACTED,
			privateKeyPem: REDACTED,
			cookie: REDACTED,
		});
	});

	it("hides the offending value of a validation error on a secret field", () => {
		expect(
			sanitize([
				{ type: "stringMin", field: "password", actual: "abc" },
				{ type: "email", field: "email", actual: "x" },
			]),
		).toEqual([
			{ type: "stringMin", field: "password", actual: REDACTED },
			{ type: "email", field: "email", actual: "x" },
		]);
	});

	it("survives cycles, errors and class instances", () => {
		const a: Record<string, unknown> = { name: "a" };
		a.self = a;
		expect(sanitize(a)).toEqual({ name: "a", self: "[Circular]" });
		const err = Object.assign(new Error(`bad card ${CARD}`), { code: 422, data: { cardNumber: CARD } });
		const e = sanitize({ err }) as { err: Record<string, unknown> };
		expect(e.err).toMatchObject({ type: "Error", message: "bad card [card]", code: 422, data: { cardNumber: REDACTED } });
		expect(JSON.stringify(e)).not.toContain(CARD);
		expect(sanitize({ when: new Date(0), socket: { inner: new (class Socket {})() } })).toEqual({
			when: "1970-01-01T00:00:00.000Z",
			socket: { inner: "[Socket]" },
		});
	});
});

describe("normalizeArgs", () => {
	it("puts trusted fields (the access line's) on the line as they are, top-level", () => {
		expect(normalizeArgs(["GET /api/v1/me 200 1.2 ms", new TrustedFields({ method: "GET", status: 200, userId: null })])).toEqual([
			{ method: "GET", status: 200, userId: null },
			"GET /api/v1/me 200 1.2 ms",
		]);
		// Anything else next to them goes the usual way.
		expect(normalizeArgs(["x", new TrustedFields({ a: 1 }), { password: "pw" }])[0]).not.toHaveProperty("a", 1);
	});

	it("turns console-style arguments into pino's object and message", () => {
		const err = new Error("boom");
		const [merge, msg] = normalizeArgs(["Login failed for", "a@b.co", { password: "pw", attempt: 2 }, err, 3]);
		expect(msg).toBe("Login failed for a@b.co 3");
		expect(merge.data).toEqual({ password: REDACTED, attempt: 2 });
		expect(merge.err).toMatchObject({ type: "Error", message: "boom" });
		expect(normalizeArgs([new Error("only")])[1]).toBe("only");
	});
});

describe("formatLine (LOG_FORMAT=text)", () => {
	it("prints time, level, node/module, request id, message and data", () => {
		const line = formatLine(
			JSON.stringify({
				level: "info",
				time: "2026-01-01T00:00:00.000Z",
				nodeID: "n1",
				ns: "shop",
				mod: "users",
				svc: "users",
				requestId: "r-1",
				data: { a: 1 },
				msg: "hello",
			}),
		);
		// eslint-disable-next-line no-control-regex -- control characters are exactly what this pattern is about
		expect(line).toMatch(/^\[2026-01-01T00:00:00.000Z\] (\x1b\[\d+m)?INFO (\x1b\[0m)? n1\/USERS: \[r-1\] hello \{"a":1\}\n$/);
	});
});

describe("tracing helpers", () => {
	it("uses the request id as the Zipkin trace id, hashing ids that are not hex", () => {
		expect(zipkinTraceId("3f1c2b9e-6a0d-4b7e-9c55-1f2e3d4c5b6a")).toBe("3f1c2b9e6a0d4b7e9c551f2e3d4c5b6a");
		const hashed = zipkinTraceId("my-client-request-1");
		expect(hashed).toMatch(/^[0-9a-f]{32}$/);
		expect(zipkinTraceId("my-client-request-1")).toBe(hashed);
	});

	it("chooses the exporter from TRACING_EXPORTER and never tags spans with secrets", () => {
		expect(tracingOptions({ tracingExporter: "none" }).enabled).toBe(false);
		expect(() => tracingOptions({ tracingExporter: "jaegerr" })).toThrow(/TRACING_EXPORTER/);
		const zipkin = tracingOptions({ tracingExporter: "zipkin", zipkinUrl: "http://zipkin:9411" });
		expect(zipkin.enabled).toBe(true);
		const tags = (zipkin.tags!.action as (ctx: unknown) => Record<string, unknown>)({
			params: { email: "a@b.co", password: "pw", payment: { cardNumber: CARD } },
		});
		expect(tags).toEqual({ params: { email: "a@b.co", password: REDACTED, payment: { cardNumber: REDACTED } } });
	});

	it("carries the producing span in the envelope and makes it the consumer's parent", () => {
		const ctx = { requestID: "req-9", span: { id: "span-1" } } as unknown as Context;
		expect(producerTrace(ctx)).toEqual({ requestId: "req-9", spanId: "span-1", traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/) });
		expect(producerTrace(null)).toEqual({ requestId: null });
		const event = { id: "e1", requestId: "req-9", spanId: "span-1" } as EventEnvelope;
		expect(consumerContextOptions(event)).toEqual({ requestID: "req-9", parentSpan: { id: "span-1", traceID: "req-9", sampled: null } });
		expect(consumerContextOptions({ id: "e2", requestId: null } as EventEnvelope)).toEqual({ requestID: "e2" });
	});

	it("writes and reads W3C traceparents whose ids are the ones Jaeger and the logs show", () => {
		const requestId = "3f1c2b9e-6a0d-4b7e-9c55-1f2e3d4c5b6a";
		const spanId = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
		const header = formatTraceparent(requestId, spanId, true);
		expect(header).toBe("00-3f1c2b9e6a0d4b7e9c551f2e3d4c5b6a-0a1b2c3d4e5f4a6b-01");
		expect(parseTraceparent(header)).toEqual({ traceId: zipkinTraceId(requestId), parentId: spanIdOf(spanId), sampled: true });
		expect(parseTraceparent(formatTraceparent(requestId, spanId, false))?.sampled).toBe(false);
		for (const bad of [
			"",
			"00-xyz",
			`01-${"a".repeat(32)}-${"b".repeat(16)}-01`,
			`00-${"0".repeat(32)}-${"b".repeat(16)}-01`,
			`00-${"a".repeat(32)}-${"0".repeat(16)}-01`,
		])
			expect(parseTraceparent(bad), bad).toBeNull();
		// A consumer's parent is the span the traceparent names (the relay's publish span on Kafka), in the request's trace.
		const event = { id: "e3", requestId, spanId: "producer-span", traceparent: header } as EventEnvelope;
		expect(consumerContextOptions(event)).toEqual({ requestID: requestId, parentSpan: { id: "0a1b2c3d4e5f4a6b", traceID: requestId, sampled: true } });
	});

	it("sends spans to OTLP/HTTP endpoints as OTLP and to Zipkin ones as Zipkin", () => {
		expect(isZipkinEndpoint("http://127.0.0.1:9411")).toBe(true);
		expect(isZipkinEndpoint("http://jaeger:14268/api/v2/spans")).toBe(true);
		expect(isZipkinEndpoint("http://127.0.0.1:4318")).toBe(false);
		expect(otlpTracesUrl("http://127.0.0.1:4318/")).toBe("http://127.0.0.1:4318/v1/traces");
		expect(otlpTracesUrl("http://collector/v1/traces")).toBe("http://collector/v1/traces");
		const otlp = tracingOptions({ tracingExporter: "none", tracingExporterUrl: "http://127.0.0.1:4318", tracingSampleRate: 0.5 });
		expect(otlp.enabled).toBe(true);
		expect((otlp.sampling as { rate: number }).rate).toBe(0.5);
		expect((otlp.exporter as unknown[])[0]).toBeInstanceOf(OtlpHttpExporter);
		expect((tracingOptions({ tracingExporter: "none", tracingExporterUrl: "http://127.0.0.1:9411" }).exporter as unknown[])[0]).toBeInstanceOf(
			ShopZipkinExporter,
		);
	});

	it("turns Moleculer spans into OTLP spans of one resource per service, with parent links", () => {
		const exporter = new OtlpHttpExporter({ url: "http://127.0.0.1:1/v1/traces" });
		Object.assign(exporter, { broker: { nodeID: "n1" }, tracer: { opts: { errorFields: ["name", "message"] } }, opts: {} });
		const requestId = "3f1c2b9e-6a0d-4b7e-9c55-1f2e3d4c5b6a";
		const root = {
			id: "11111111-2222-4333-8444-555555555555",
			traceID: requestId,
			parentID: null,
			name: "action 'orders.checkout'",
			startTime: 1000,
			finishTime: 1010.5,
			tags: { action: { name: "orders.checkout" } },
			service: { fullName: "orders" },
		};
		const child = {
			...root,
			id: "66666666-7777-4888-9999-000000000000",
			parentID: root.id,
			name: "publish order.placed to shop.orders",
			tags: { "messaging.system": "kafka", "messaging.operation": "publish" },
			error: { name: "Error", message: "boom" },
		};
		const body = exporter.payload([root, child] as never) as {
			resourceSpans: {
				resource: { attributes: { key: string; value: { stringValue: string } }[] };
				scopeSpans: { spans: Record<string, unknown>[] }[];
			}[];
		};
		expect(body.resourceSpans).toHaveLength(1);
		expect(body.resourceSpans[0]!.resource.attributes[0]).toEqual({ key: "service.name", value: { stringValue: "orders" } });
		const [a, b] = body.resourceSpans[0]!.scopeSpans[0]!.spans;
		expect(a).toMatchObject({
			traceId: "3f1c2b9e6a0d4b7e9c551f2e3d4c5b6a",
			spanId: "1111111122224333",
			kind: 2,
			startTimeUnixNano: "1000000000",
			endTimeUnixNano: "1010500000",
			status: { code: 0 },
		});
		expect(a!.parentSpanId).toBeUndefined();
		expect(b).toMatchObject({ parentSpanId: "1111111122224333", spanId: "6666666677774888", kind: 4, status: { code: 2, message: "Error: boom" } });
	});
});

describe("outbox backlog readiness", () => {
	afterEach(() => {
		delete process.env.OUTBOX_BACKLOG_MAX;
		reloadConfig();
	});
	it("is ready up to OUTBOX_BACKLOG_MAX waiting documents, not beyond", () => {
		expect(loadConfig().outboxBacklogMax).toBe(1000);
		process.env.OUTBOX_BACKLOG_MAX = "2";
		reloadConfig();
		expect(backlogCheck(2).ok).toBe(true);
		expect(backlogCheck(3)).toEqual({ ok: false, detail: expect.stringContaining("OUTBOX_BACKLOG_MAX=2") });
		process.env.OUTBOX_BACKLOG_MAX = "-1";
		expect(() => loadConfig()).toThrow(/non-negative integer/);
	});
});

describe("the logger on a broker", () => {
	let broker: ServiceBroker | undefined;
	let capture: LogCapture | undefined;
	afterEach(async () => {
		await broker?.stop();
		capture?.stop();
		broker = undefined;
	});

	it("puts the request id on every line of a request, across awaits, calls and events, and nothing secret", async () => {
		capture = captureLogs();
		broker = new ServiceBroker({
			nodeID: "unit-node",
			logger: loggerOptions({ logLevel: "debug", logFormat: "json" }),
			logLevel: "debug",
			middlewares: [ObservabilityMiddleware()],
			metrics: false,
		});
		broker.createService({
			name: "probe",
			actions: {
				async login(ctx: Context<{ email: string; password: string }>) {
					this.logger.info("login attempt", ctx.params);
					await new Promise(r => setTimeout(r, 5));
					this.logger.warn(`after a timer, token ${JWT}`);
					await ctx.call("probe.inner", { cardNumber: CARD });
					ctx.emit("probe.done", { ok: true });
					return "ok";
				},
				inner(ctx: Context<{ cardNumber: string }>) {
					this.logger.info("inner call with card", ctx.params.cardNumber, ctx.params);
					return null;
				},
			},
			events: {
				"probe.done"() {
					this.logger.info("event handled");
				},
			},
		});
		await broker.start();
		broker.logger.info("outside any request");
		await broker.call("probe.login", { email: "a@b.co", password: "hunter2-secret" }, { requestID: "unit-req-1" });
		await new Promise(r => setTimeout(r, 20));

		const records = capture.records();
		// Lines the probe service wrote while serving the call (not its start-up lines).
		const probe = records.filter(r => r.svc === "probe" && !r.msg?.startsWith("Service 'probe'"));
		expect(probe.map(r => r.msg)).toEqual(["login attempt", "after a timer, token [jwt]", "inner call with card [card]", "event handled"]);
		for (const r of probe) {
			expect(r.requestId).toBe("unit-req-1");
			expect(r.nodeID).toBe("unit-node");
			expect(typeof r.time).toBe("string");
		}
		expect(probe[0]!.data).toEqual({ email: "a@b.co", password: REDACTED });
		expect(records.find(r => r.msg === "outside any request")?.requestId).toBeUndefined();
		const all = capture.lines.join("\n");
		for (const secret of ["hunter2-secret", CARD, JWT]) expect(all).not.toContain(secret);
	});
});
