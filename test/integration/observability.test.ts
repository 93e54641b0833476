/**
 * Observability of the one-process shop: X-Request-ID, the request id on every line a request
 * causes (through the gateway, the services and the event consumers), no secrets in the logs
 * even at debug level, the shop_* series on the Prometheus endpoint, traces that follow a
 * request through an event, and readiness that fails on an outbox backlog.
 */
import { randomUUID } from "node:crypto";
import type { Service } from "moleculer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogRecord } from "../../lib/observability/logging.js";
import { spanIdOf } from "../../lib/observability/trace-context.js";
import { captureLogs, type LogCapture } from "../helpers/logs.js";
import { DbMixin } from "../../mixins/db.mixin.js";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin.js";
import { MetricsMixin } from "../../mixins/metrics.mixin.js";
import { defineService } from "../../lib/broker/service.js";
import type { Collection } from "../../lib/store/index.js";
import { ALL_SERVICES } from "../../services/index.js";
import { ADMIN_ENV, admin, customer, eventually, freePort, login, startShop, type Account, type TestShop } from "../helpers/shop.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CARD = "4242424242424242";
const CARD_SPACED = "4242 4242 4242 4242";

interface Sample {
	name: string;
	labels: Record<string, string>;
	value: number;
}

function parsePrometheus(text: string): Sample[] {
	const out: Sample[] = [];
	for (const line of text.split("\n")) {
		const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
		if (!m) continue;
		const labels: Record<string, string> = {};
		for (const l of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
		out.push({ name: m[1]!, labels, value: Number(m[4]) });
	}
	return out;
}

/** The sum of a series over the samples whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
	return samples.filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

interface FinishedSpan {
	id: string;
	traceID: string;
	parentID?: string | null;
	name: string;
}

describe("the shop, observed", () => {
	let shop: TestShop;
	let metricsPort: number;
	let capture: LogCapture;
	const spans: FinishedSpan[] = [];
	/** Every secret value the tests send or receive; none may appear in any log line. */
	const secrets = new Set<string>();
	let user: Account;

	beforeAll(async () => {
		capture = captureLogs();
		metricsPort = await freePort();
		shop = await startShop({
			env: { ...ADMIN_ENV, METRICS_ENABLED: "true", METRICS_PORT: String(metricsPort), LOG_LEVEL: "debug", TRACING_EXPORTER: "console" },
		});
		// Collect finished spans next to the console exporter.
		(shop.broker.tracer as unknown as { exporter: unknown[] }).exporter.push({
			spanStarted() {},
			spanFinished: (s: FinishedSpan) => spans.push(s),
			stop: async () => {},
		});
		user = await customer(shop, "Observed");
		secrets.add(user.password).add(user.accessToken).add(user.refreshToken);
	});
	afterAll(async () => {
		await shop?.stop();
		capture?.stop();
	});

	const records = (): LogRecord[] => capture.records();
	async function scrape(): Promise<Sample[]> {
		const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
		expect(res.status).toBe(200);
		return parsePrometheus(await res.text());
	}

	describe("X-Request-ID", () => {
		it("is echoed when given and sane, generated otherwise, on success and on errors", async () => {
			expect((await shop.http.get("/api/health", { "x-request-id": "obs-echo-1" })).headers.get("x-request-id")).toBe("obs-echo-1");
			expect((await shop.http.get("/api/health")).headers.get("x-request-id")).toMatch(UUID);
			const unauthorized = await shop.http.get("/api/v1/me", { "x-request-id": "obs-echo-2" });
			expect(unauthorized.status).toBe(401);
			expect(unauthorized.headers.get("x-request-id")).toBe("obs-echo-2");
			const unknown = await shop.http.get("/api/v1/no-such-route", { "x-request-id": "obs-echo-3" });
			expect(unknown.status).toBe(404);
			expect(unknown.headers.get("x-request-id")).toBe("obs-echo-3");
			// Not a sane id (spaces, too long): replaced, never reflected.
			const insane = await shop.http.get("/api/health", { "x-request-id": "a b" });
			expect(insane.headers.get("x-request-id")).toMatch(UUID);
			expect((await shop.http.get("/api/health", { "x-request-id": "x".repeat(200) })).headers.get("x-request-id")).toMatch(UUID);
		});
	});

	describe("logs", () => {
		it("put the request id on the gateway's and the services' lines of a request", async () => {
			const requestId = `obs-log-${randomUUID()}`;
			// A second session of the user: replaying its refresh token ends that session only.
			const other = await login(shop, user.email, user.password);
			secrets.add(other.accessToken).add(other.refreshToken);
			const first = await shop.http.post("/api/v1/auth/refresh", { refreshToken: other.refreshToken }, { "x-request-id": `${requestId}-ok` });
			expect(first.status).toBe(200);
			secrets.add(first.body.accessToken).add(first.body.refreshToken);
			// Presenting the used token again: the users service logs a warning, the gateway answers 401.
			const replay = await shop.http.post("/api/v1/auth/refresh", { refreshToken: other.refreshToken }, { "x-request-id": requestId });
			expect(replay.status).toBe(401);

			const ok = records().filter(r => r.requestId === `${requestId}-ok`);
			expect(ok.find(r => r.mod === "api" && r.msg === "=> POST /api/v1/auth/refresh")).toBeDefined();
			expect(ok.find(r => r.mod === "api" && /^<= 200 POST \/api\/v1\/auth\/refresh/.test(r.msg ?? ""))).toBeDefined();
			const mine = records().filter(r => r.requestId === requestId);
			expect(mine.find(r => r.mod === "api" && r.msg === "=> POST /api/v1/auth/refresh")).toBeDefined();
			const warning = mine.find(r => r.svc === "users" && r.level === "warn");
			expect(warning?.msg).toMatch(/Security event: refresh_token_reuse/);
			expect(warning?.nodeID).toBe(shop.broker.nodeID);
			// Every request and response line of every request carries an id.
			const httpLines = records().filter(r => r.mod === "api" && /^(=>|<=) /.test(r.msg ?? ""));
			expect(httpLines.length).toBeGreaterThan(4);
			for (const r of httpLines) expect(r.requestId, r.msg).toBeTruthy();
		});

		it("follow a request into the consumers of the events it caused", async () => {
			const requestId = `obs-event-${randomUUID()}`;
			const res = await user.http.post(
				"/api/v1/tickets",
				{ type: "inquiry", subject: `Charged twice on ${CARD_SPACED}`, message: `My card ${CARD} was charged twice` },
				{ "x-request-id": requestId },
			);
			expect(res.status).toBe(201);
			// The notifications service consumes ticket.created and queues an email.
			await eventually(
				async () =>
					records().find(
						r => r.svc === "notifications" && /^Email \S+ \(ticket\.created\) to .* queued$/.test(r.msg ?? "") && r.requestId === requestId,
					),
				10_000,
				"the notification email line",
			);
		});

		it("never contain a password, a token or a card number, even at debug level", async () => {
			const wrong = "definitely-wrong-password-1";
			secrets.add(wrong);
			expect((await shop.http.post("/api/v1/auth/login", { email: user.email, password: wrong })).status).toBe(401);
			const fresh = await login(shop, user.email, user.password);
			secrets.add(fresh.accessToken).add(fresh.refreshToken);
			const newPassword = "a-brand-new-password-2";
			secrets.add(newPassword);
			expect((await fresh.http.post("/api/v1/me/password", { currentPassword: user.password, newPassword })).status).toBe(204);
			const again = await login(shop, user.email, newPassword);
			secrets.add(again.accessToken).add(again.refreshToken);
			// The password change ended the user's other sessions: later tests go on with this one.
			user = again;
			expect((await again.http.get("/api/v1/me")).status).toBe(200);
			// A card number where the gateway logs the URL.
			await shop.http.get(`/api/v1/products/${CARD}`);
			// A bad Authorization header and a malformed body with a password in it.
			await shop.http.get("/api/v1/me", { authorization: `Bearer ${fresh.accessToken}x` });
			await shop.http.post("/api/v1/auth/login", { email: user.email, password: 12345, extra: { password: wrong } });

			const lines = capture.lines;
			expect(lines.some(l => l.includes('"level":"debug"'))).toBe(true);
			expect(lines.some(l => l.includes("/api/v1/me/password"))).toBe(true);
			for (const line of lines) {
				for (const secret of [...secrets, CARD, CARD_SPACED]) {
					if (line.includes(secret)) throw new Error(`A secret reached the log: ${line.slice(0, 300)}`);
				}
			}
		});
	});

	describe("metrics", () => {
		it("serve Moleculer's series and the shop_* series on METRICS_PORT after traffic", async () => {
			await eventually(
				async () =>
					total(await scrape(), "shop_events_consumed_total", { type: "ticket.created", group: "notifications", result: "ok" }) >= 1
						? true
						: undefined,
				10_000,
				"ticket.created consumed",
			);
			const samples = await scrape();
			expect(total(samples, "shop_http_requests_total", { method: "POST", route: "/api/v1/auth/login", status: "401" })).toBeGreaterThanOrEqual(1);
			expect(total(samples, "shop_http_requests_total", { method: "POST", route: "/api/v1/tickets", status: "201" })).toBeGreaterThanOrEqual(1);
			expect(total(samples, "shop_login_failures_total", { reason: "invalid_credentials" })).toBeGreaterThanOrEqual(1);
			expect(total(samples, "shop_events_published_total", { topic: "shop.tickets", type: "ticket.created", result: "ok" })).toBeGreaterThanOrEqual(1);
			expect(total(samples, "shop_tickets_created_total", { type: "inquiry" })).toBeGreaterThanOrEqual(1);
			expect(total(samples, "shop_events_consume_delay_seconds_count", { group: "notifications" })).toBeGreaterThanOrEqual(1);
			expect(samples.find(s => s.name === "shop_outbox_backlog" && s.labels.service === "tickets")?.value).toBe(0);
			expect(total(samples, "moleculer_request_total", { action: "users.login" })).toBeGreaterThanOrEqual(1);
			// The per-call series operators read (lib/observability/action-metrics.ts), without quantile reservoirs.
			const logins = total(samples, "moleculer_request_total", { action: "users.login", type: "local" });
			expect(total(samples, "moleculer_request_time_count", { action: "users.login", type: "local" })).toBe(logins);
			expect(total(samples, "moleculer_request_time_bucket", { action: "users.login", type: "local", le: "+Inf" })).toBe(logins);
			expect(total(samples, "moleculer_request_error_total", { action: "users.login" })).toBeGreaterThanOrEqual(1); // the 401s
			expect(samples.find(s => s.name === "moleculer_request_active" && s.labels.action === "users.login")?.value).toBe(0);
			expect(samples.some(s => s.name === "moleculer_request_time" && "quantile" in s.labels)).toBe(false);
			expect(total(samples, "moleculer_event_emit_total", {})).toBeGreaterThanOrEqual(0);
			// Every sample carries the node it comes from.
			for (const s of samples) expect(s.labels.nodeID).toBe(shop.broker.nodeID);
		});

		it("count gauges from a service's database with the metrics mixin", async () => {
			type Counted = Service & { collection<T extends { _id: string }>(name: string): Collection<T>; refreshGauges(): Promise<void> };
			shop.broker.createService(
				defineService<Service>({
					name: "gaugeprobe",
					mixins: [
						DbMixin({ things: {} }),
						MetricsMixin({
							gauges: [{ metric: "shop_probe_things_open", collection: "things", query: { status: "open" }, labels: { kind: "probe" } }],
						}),
					],
				}),
			);
			await shop.broker.waitForServices(["gaugeprobe"]);
			const probe = shop.broker.getLocalService("gaugeprobe") as Counted;
			for (const status of ["open", "open", "closed"])
				await probe.collection<{ _id: string; status: string }>("things").insert({ _id: randomUUID(), status });
			await probe.refreshGauges();
			expect(total(await scrape(), "shop_probe_things_open", { kind: "probe" })).toBe(2);
			await shop.broker.destroyService(probe);
		});

		it("answer readiness next to the metrics and through $node.ready", async () => {
			const res = await fetch(`http://127.0.0.1:${metricsPort}/ready`);
			expect(res.status).toBe(200);
			expect(await res.json()).toMatchObject({ ready: true, nodeID: shop.broker.nodeID, checks: { "outbox:tickets": { ok: true } } });
			expect(await shop.broker.call("$node.ready")).toMatchObject({ ready: true });
			expect((await fetch(`http://127.0.0.1:${metricsPort}/nope`)).status).toBe(404);
		});
	});

	describe("traces", () => {
		it("use the request id as trace id and make the consumer's span a child of the producer's publish span", async () => {
			const requestId = randomUUID();
			expect(
				(
					await user.http.post(
						"/api/v1/tickets",
						{ type: "feedback", subject: "Traced", message: "Nice shop", rating: 5 },
						{ "x-request-id": requestId },
					)
				).status,
			).toBe(201);
			const consumer = await eventually(
				async () => spans.find(s => s.traceID === requestId && s.name === "event 'ticket.created' in 'notifications'"),
				10_000,
				"the consumer span",
			);
			const producer = spans.find(s => s.traceID === requestId && s.name === "action 'tickets.create'");
			expect(producer).toBeDefined();
			// Between them the relay's publish span (the bus hop), linked by W3C trace context ids (16 hex digits).
			const publish = spans.find(s => s.traceID === requestId && s.name.startsWith("publish ticket.created to "));
			expect(publish?.parentID).toBe(spanIdOf(producer!.id));
			expect(consumer.parentID).toBe(spanIdOf(publish!.id));
			// The consumer's own calls are in the same trace.
			await eventually(async () => spans.find(s => s.traceID === requestId && s.parentID === consumer.id), 10_000, "a call made by the consumer");
		});
	});

	describe.runIf("orders" in ALL_SERVICES && "products" in ALL_SERVICES)("checkout", () => {
		it("counts orders by status, payments by result and the checkout settle time", async () => {
			const adm = await admin(shop);
			const product = await adm.http.post("/api/v1/products", {
				sku: `OBS-${Date.now()}`,
				name: "Observed widget",
				price: 1000,
				currency: "EUR",
				stock: 10,
			});
			expect(product.status).toBe(201);
			const buyer = await customer(shop, "Buyer");
			expect((await buyer.http.post("/api/v1/cart/items", { productId: product.body.id, quantity: 1 })).status).toBeLessThan(300);
			const payment = { method: "card", cardNumber: CARD, expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" };
			const address = { name: "Ann", line1: "1 Main St", city: "Springfield", postalCode: "12345", country: "US" };
			const order = await buyer.http.post("/api/v1/orders", { shippingAddress: address, payment }, { "idempotency-key": randomUUID() });
			expect(order.status).toBe(202);
			await eventually(
				async () => ((await buyer.http.get(`/api/v1/orders/${order.body.id}`)).body.status === "paid" ? true : undefined),
				15_000,
				"the order paid",
			);
			const samples = await eventually(
				async () => {
					const s = await scrape();
					return total(s, "shop_checkout_settle_seconds_count", { result: "paid" }) >= 1 ? s : undefined;
				},
				10_000,
				"the settle time observed",
			);
			expect(total(samples, "shop_orders_total", { status: "pending" })).toBeGreaterThanOrEqual(1);
			expect(total(samples, "shop_orders_total", { status: "paid" })).toBeGreaterThanOrEqual(1);
			expect(total(samples, "shop_payments_total", { result: "captured" })).toBeGreaterThanOrEqual(1);
			for (const line of capture.lines) expect(line.includes(CARD), line.slice(0, 200)).toBe(false);
		});
	});
});

describe("readiness with an outbox backlog", () => {
	interface Thing {
		_id: string;
		outbox?: unknown[];
	}
	type Producer = Service & EventsMethods & { collection<T extends { _id: string }>(name: string): Collection<T> };
	let shop: TestShop;
	let release: () => void = () => undefined;

	beforeAll(async () => {
		shop = await startShop({ services: ["users", "api"], env: { OUTBOX_BACKLOG_MAX: "1" } });
		const gate = new Promise<void>(resolve => (release = resolve));
		// A consumer that holds the first event until released: the relay waits, the outbox fills.
		shop.broker.createService(
			defineService<Service>({
				name: "slowconsumer",
				mixins: [EventsMixin(), DbMixin({ seen: {} })],
				integrationEvents: { "ticket.status_changed": async () => gate },
			}),
		);
		shop.broker.createService(defineService<Service>({ name: "producer", mixins: [EventsMixin({ outbox: ["things"] }), DbMixin({ things: {} })] }));
		await shop.broker.waitForServices(["slowconsumer", "producer"]);
	});
	afterAll(async () => {
		release();
		delete process.env.OUTBOX_BACKLOG_MAX;
		await shop?.stop();
	});

	it("puts the request id on the gateway's error line too, written after the action failed", async () => {
		// The products service goes away after the gateway became ready: the gateway answers 503
		// and logs a warning from its error handler, outside of any action.
		const own = await startShop({ services: ["users", "products", "api"] });
		const capture = captureLogs();
		try {
			await own.broker.destroyService(own.broker.getLocalService("products")!);
			const res = await own.http.get(`/api/v1/products/${randomUUID()}`, { "x-request-id": "obs-503" });
			expect(res.status).toBe(503);
			const line = capture.records().find(r => r.mod === "api" && r.level === "warn" && /dependency unavailable/.test(r.msg ?? ""));
			expect(line?.requestId).toBe("obs-503");
		} finally {
			capture.stop();
			await own.stop();
		}
	});

	it("answers 503 naming the outbox while more than OUTBOX_BACKLOG_MAX events wait, 200 once they are out", async () => {
		const producer = shop.broker.getLocalService("producer") as Producer;
		for (let i = 0; i < 3; i++) {
			const id = randomUUID();
			await producer
				.collection<Thing>("things")
				.insert({ _id: id, outbox: [producer.integrationEvent("ticket.status_changed", { ticketId: id, userId: "u", status: "open" })] });
		}
		void producer.relayOutbox();
		const res = await eventually(
			async () => {
				const r = await shop.http.get("/api/ready");
				return r.status === 503 ? r : undefined;
			},
			10_000,
			"not ready",
		);
		// The public answer names the failing check; the detail is for operators ($node.ready, :METRICS_PORT/ready).
		expect(res.body).toEqual({ status: "not ready", failing: ["outbox:producer"] });
		expect(res.headers.get("retry-after")).toBe("2");
		const report = await shop.broker.call<{ checks: Record<string, { ok: boolean; detail?: string }> }>("$node.ready");
		expect(report.checks["outbox:producer"]).toMatchObject({ ok: false, detail: expect.stringContaining("OUTBOX_BACKLOG_MAX=1") });
		release();
		await eventually(async () => ((await shop.http.get("/api/ready")).status === 200 ? true : undefined), 10_000, "ready again");
	});
});
