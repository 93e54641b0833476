import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import type { AnyEnvelope } from "../../lib/contracts/events.js";
import {
	afterAttempt,
	DEFAULT_RETRY_SCHEDULE_SECONDS,
	formatSecret,
	headsOfLanes,
	laneOf,
	parseRetrySchedule,
	publicEventOf,
	resourceOf,
	retryDelayMs,
	rotatedSecrets,
	shouldDisable,
	signingSecrets,
	subscribes,
	subscriptionProblem,
	type Attempt,
} from "../../lib/domain/webhooks.js";

const envelope = (type: string, payload: object, key = "o1"): AnyEnvelope =>
	({
		id: "e1",
		type,
		key,
		source: "orders",
		occurredAt: "2026-01-01T00:00:00.000Z",
		requestId: "req-1",
		spanId: "span-1",
		payload,
	}) as AnyEnvelope;

const failed = (at: string): Attempt => ({ at, status: 500, durationMs: 3, error: null });

describe("webhook retry schedule", () => {
	it("defaults to the Standard Webhooks schedule and reads WEBHOOK_RETRY_SCHEDULE", () => {
		expect(parseRetrySchedule(undefined)).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
		expect(parseRetrySchedule(" 0.05, 1,2 ")).toEqual([0.05, 1, 2]);
		for (const bad of ["5,,10", "a", "0", "-1", "5;10"]) expect(() => parseRetrySchedule(bad), bad).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
	});

	it("retries for more than 24 hours by default", () => {
		const total = DEFAULT_RETRY_SCHEDULE_SECONDS.reduce((a, b) => a + b, 0);
		expect(total).toBeGreaterThan(24 * 3600);
	});

	it("waits each step of the schedule within ±10 % jitter, then gives up", () => {
		fc.assert(
			fc.property(fc.integer({ min: 1, max: 7 }), fc.double({ min: 0, max: 0.9999, noNaN: true }), (failures, r) => {
				const base = DEFAULT_RETRY_SCHEDULE_SECONDS[failures - 1]! * 1000;
				const delay = retryDelayMs(failures, DEFAULT_RETRY_SCHEDULE_SECONDS, () => r)!;
				expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.9));
				expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.1));
			}),
		);
		expect(retryDelayMs(8, DEFAULT_RETRY_SCHEDULE_SECONDS, () => 0.5)).toBeNull();
		expect(retryDelayMs(1, [5], () => 0)).toBe(4500);
		expect(retryDelayMs(1, [5], () => 1)).toBe(5500);
	});

	it("a delivery is delivered on a 2xx, pending with the next time on a failure, failed once the schedule is used up", () => {
		const at = "2026-01-01T00:00:00.000Z";
		expect(afterAttempt({ attempts: [], roundStart: 0 }, { at, status: 204, durationMs: 1, error: null }, [5], () => 0.5)).toEqual({
			state: "delivered",
			nextAttemptAt: null,
		});
		expect(afterAttempt({ attempts: [], roundStart: 0 }, failed(at), [5, 300], () => 0.5)).toEqual({
			state: "pending",
			nextAttemptAt: "2026-01-01T00:00:05.000Z",
		});
		// A redirect is not followed: it is a failure like any non-2xx.
		expect(afterAttempt({ attempts: [], roundStart: 0 }, { at, status: 302, durationMs: 1, error: null }, [5], () => 0.5).state).toBe("pending");
		expect(afterAttempt({ attempts: [failed(at)], roundStart: 0 }, failed(at), [5], () => 0.5)).toEqual({ state: "failed", nextAttemptAt: null });
		// A manual retry starts the schedule again: the attempts before it do not count.
		expect(afterAttempt({ attempts: [failed(at), failed(at)], roundStart: 2 }, failed(at), [5], () => 0.5).state).toBe("pending");
	});

	it("disables an endpoint only after it failed for the whole period", () => {
		const day = 24 * 3600 * 1000;
		const since = "2026-01-01T00:00:00.000Z";
		expect(shouldDisable(undefined, new Date("2026-02-01T00:00:00Z"), 3 * day)).toBe(false);
		expect(shouldDisable(since, new Date("2026-01-03T23:59:59Z"), 3 * day)).toBe(false);
		expect(shouldDisable(since, new Date("2026-01-04T00:00:00Z"), 3 * day)).toBe(true);
	});
});

describe("webhook ordering", () => {
	it("puts an order's deliveries in one lane per endpoint, whatever the event family", () => {
		const paid = envelope("order.paid", { orderId: "o1" });
		const captured = envelope("payment.captured", { orderId: "o1" });
		const product = envelope("product.updated", { productId: "p1" }, "p1");
		expect(resourceOf(paid)).toBe(resourceOf(captured));
		expect(resourceOf(product)).toBe("product:p1");
		expect(laneOf("w1", resourceOf(paid))).not.toBe(laneOf("w2", resourceOf(paid)));
	});

	it("sends only the first pending delivery of each lane, from any prefix in seq order", () => {
		fc.assert(
			fc.property(fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.integer({ min: 1, max: 1000 })), { maxLength: 60 }), fc.nat(60), (raw, cut) => {
				const queued = raw.map(([lane, seq], i) => ({ id: `d${i}`, lane, seq }));
				const sorted = [...queued].sort((x, y) => x.seq - y.seq || (x.id < y.id ? -1 : 1));
				const heads = headsOfLanes(sorted.slice(0, cut));
				for (const head of heads) {
					// No delivery of its lane anywhere in the queue comes before it.
					const earlier = queued.filter(d => d.lane === head.lane && (d.seq < head.seq || (d.seq === head.seq && d.id < head.id)));
					expect(earlier).toEqual([]);
				}
				expect(new Set(heads.map(h => h.lane)).size).toBe(heads.length);
			}),
		);
	});
});

describe("webhook payloads and subscriptions", () => {
	it("are the public event: type, id, time and the listed fields, no envelope internals", () => {
		const paid = envelope("order.paid", { orderId: "o1", userId: "u1", items: [], total: 100, currency: "EUR", placedAt: "2025-12-31T00:00:00Z" });
		expect(publicEventOf(paid)).toEqual({
			id: "e1",
			type: "order.paid",
			timestamp: "2026-01-01T00:00:00.000Z",
			data: { orderId: "o1", userId: "u1", items: [], total: 100, currency: "EUR" },
		});
		const captured = publicEventOf(
			envelope("payment.captured", { orderId: "o1", userId: "u1", paymentId: "pi_secret", amount: 1, currency: "EUR", brand: "visa", last4: "4242" }),
		);
		expect(JSON.stringify(captured)).not.toMatch(/pi_secret|req-1|span-1|"source"/);
		expect(publicEventOf(envelope("stock.reserved", { orderId: "o1", items: [] }))).toBeNull();
	});

	it("subscribe by name or '*', and refuse unknown names", () => {
		expect(subscribes(["*"], "order.paid")).toBe(true);
		expect(subscribes(["order.paid"], "order.shipped")).toBe(false);
		expect(subscriptionProblem(["order.paid", "product.updated"])).toBeNull();
		expect(subscriptionProblem(["*", "order.paid"])).toMatch(/stands alone/);
		expect(subscriptionProblem(["order.paid", "user.password_changed"])).toMatch(/user.password_changed/);
		expect(subscriptionProblem([])).toMatch(/at least one/);
	});
});

describe("webhook signing secrets", () => {
	const a = formatSecret(new Uint8Array(32).fill(1));
	const b = formatSecret(new Uint8Array(32).fill(2));

	it("are whsec_ secrets the Standard Webhooks library takes", () => {
		expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
		expect(() => new Webhook(a)).not.toThrow();
		expect(() => formatSecret(new Uint8Array(8))).toThrow();
	});

	it("after a rotation both sign for the grace period, then only the new one", () => {
		const now = new Date("2026-01-01T00:00:00Z");
		const rotated = rotatedSecrets([{ secret: a, expiresAt: null }], b, now, 24 * 3600 * 1000);
		expect(signingSecrets(rotated, now)).toEqual([b, a]);
		expect(signingSecrets(rotated, new Date("2026-01-01T23:59:59Z"))).toEqual([b, a]);
		expect(signingSecrets(rotated, new Date("2026-01-02T00:00:00Z"))).toEqual([b]);
		// A second rotation keeps the first old secret until its own end and drops expired ones.
		const c = formatSecret(new Uint8Array(32).fill(3));
		const twice = rotatedSecrets(rotated, c, new Date("2026-01-02T01:00:00Z"), 24 * 3600 * 1000);
		expect(twice.map(s => s.secret)).toEqual([c, b]);
	});
});
