import { describe, expect, it } from "vitest";
import { cardBrand, cardDigits, cardProblems, isExpired, passesLuhn } from "../../lib/payments/card.js";
import {
	PAYMENT_STATUSES,
	PaymentRuleError,
	afterCapture,
	afterRefund,
	canMovePayment,
	paymentSummary,
	refundable,
	type PaymentRecord,
} from "../../lib/payments/payment.js";
import { SimulatedPaymentProvider, TEST_CARDS, type SandboxCollections } from "../../lib/payments/simulated.js";
import { SimulatedSessions, type SandboxSession } from "../../lib/payments/simulated-sessions.js";
import { PaymentProviderUnavailableError } from "../../lib/payments/provider.js";
import { Collection, createNedbAdapter } from "../../lib/store/index.js";
import { PAYMENT_EVENTS_MIN_RETENTION_DAYS, loadConfig } from "../../lib/config.js";

const NOW = new Date("2026-06-15T12:00:00Z");
const card = (number: string, over: Partial<{ expMonth: number; expYear: number; cvc: string }> = {}) => ({
	number,
	expMonth: 12,
	expYear: 2030,
	cvc: "123",
	...over,
});

describe("card checks", () => {
	it("applies the Luhn check", () => {
		expect(passesLuhn(TEST_CARDS.approved)).toBe(true);
		expect(passesLuhn(TEST_CARDS.declined)).toBe(true);
		expect(passesLuhn(TEST_CARDS.processingError)).toBe(true);
		expect(passesLuhn("4242424242424241")).toBe(false);
		expect(passesLuhn("1234567812345678")).toBe(false);
		expect(passesLuhn("79927398713")).toBe(true);
	});

	it("takes digits with spaces or dashes, nothing else", () => {
		expect(cardDigits("4242 4242-4242 4242")).toBe(TEST_CARDS.approved);
		expect(cardDigits("4242x424242424242")).toBeNull();
		expect(cardDigits("42424242")).toBeNull();
	});

	it("recognizes brands", () => {
		expect(cardBrand("4242424242424242")).toBe("visa");
		expect(cardBrand("5555555555554444")).toBe("mastercard");
		expect(cardBrand("2223003122003222")).toBe("mastercard");
		expect(cardBrand("378282246310005")).toBe("amex");
		expect(cardBrand("6011111111111117")).toBe("discover");
		expect(cardBrand("9999999999999995")).toBe("unknown");
	});

	it("reports each problem on its field", () => {
		expect(cardProblems(card(TEST_CARDS.approved), NOW)).toEqual([]);
		expect(cardProblems(card("4242424242424241"), NOW)).toEqual([expect.objectContaining({ field: "cardNumber", type: "luhn" })]);
		expect(cardProblems(card("12ab"), NOW)).toEqual([expect.objectContaining({ field: "cardNumber" })]);
		expect(cardProblems(card(TEST_CARDS.approved, { expMonth: 5, expYear: 2026 }), NOW)).toEqual([
			expect.objectContaining({ field: "expYear", type: "expired" }),
		]);
		expect(cardProblems(card(TEST_CARDS.approved, { expMonth: 13 }), NOW)).toEqual([expect.objectContaining({ field: "expMonth" })]);
		expect(cardProblems(card(TEST_CARDS.approved, { cvc: "12a" }), NOW)).toEqual([expect.objectContaining({ field: "cvc" })]);
		expect(cardProblems(card("378282246310005", { cvc: "123" }), NOW)).toEqual([expect.objectContaining({ field: "cvc" })]);
		expect(cardProblems(card("378282246310005", { cvc: "1234" }), NOW)).toEqual([]);
	});

	it("keeps a card valid through its expiry month", () => {
		expect(isExpired(6, 2026, NOW)).toBe(false);
		expect(isExpired(5, 2026, NOW)).toBe(true);
		expect(isExpired(1, 2027, NOW)).toBe(false);
		expect(isExpired(12, 2025, NOW)).toBe(true);
	});
});

describe("payment record rules", () => {
	const authorized: PaymentRecord = {
		provider: "simulated",
		brand: "visa",
		last4: "4242",
		status: "authorized",
		amount: 1000,
		currency: "EUR",
		authorizationId: "a",
		paymentId: null,
		captured: 0,
		refunded: 0,
	};
	const captured: PaymentRecord = { ...authorized, status: "captured", paymentId: "p", captured: 1000 };

	it("only moves forward", () => {
		const order = ["authorized", "captured", "partially_refunded", "refunded"] as const;
		for (let i = 0; i < order.length; i++)
			for (let j = 0; j < i; j++) expect(canMovePayment(order[i]!, order[j]!), `${order[i]} → ${order[j]}`).toBe(false);
		for (const end of ["declined", "voided", "refunded"] as const) for (const to of PAYMENT_STATUSES) expect(canMovePayment(end, to)).toBe(false);
	});

	it("captures at most what was authorized, once", () => {
		expect(afterCapture(authorized, "p", 1000)).toEqual({ status: "captured", paymentId: "p", captured: 1000 });
		expect(() => afterCapture(authorized, "p", 1001)).toThrow(PaymentRuleError);
		expect(() => afterCapture(captured, "p", 1000)).toThrow(PaymentRuleError);
	});

	it("refunds in parts, never beyond the capture", () => {
		const part = afterRefund(captured, 300);
		expect(part).toEqual({ status: "partially_refunded", refunded: 300 });
		const rest = afterRefund({ ...captured, ...part }, 700);
		expect(rest).toEqual({ status: "refunded", refunded: 1000 });
		expect(() => afterRefund({ ...captured, ...part }, 701)).toThrow(PaymentRuleError);
		expect(() => afterRefund(captured, 0)).toThrow(PaymentRuleError);
		expect(() => afterRefund(captured, -5)).toThrow(PaymentRuleError);
		expect(() => afterRefund(authorized, 100)).toThrow(PaymentRuleError);
		expect(refundable({ captured: 1000, refunded: 300 })).toBe(700);
	});

	it("summarizes without ids", () => {
		expect(paymentSummary(captured)).toEqual({ brand: "visa", last4: "4242", status: "captured" });
	});
});

/** The sandbox on real (in-memory) NeDB collections, as the orders service keeps it in its database. */
const memoryCollection = async <T extends { _id: string }>(name: string) => {
	const adapter = createNedbAdapter(null, "orders", name, {});
	await adapter.connect();
	return new Collection<T>(name, adapter, "nedb");
};
const sandboxCollections = async (): Promise<SandboxCollections> => ({
	authorizations: await memoryCollection("sandbox_authorizations"),
	payments: await memoryCollection("sandbox_payments"),
	ledger: await memoryCollection("sandbox_ledger"),
});
async function sandboxProvider(): Promise<SimulatedPaymentProvider> {
	return new SimulatedPaymentProvider(await sandboxCollections());
}

describe("simulated provider", () => {
	const authorize = (p: SimulatedPaymentProvider, key: string, number: string = TEST_CARDS.approved, amount = 1000) =>
		p.authorize({ idempotencyKey: key, amount, currency: "EUR", card: card(number) });

	it("authorizes, then captures once per idempotency key", async () => {
		const p = await sandboxProvider();
		const auth = await authorize(p, "o1");
		expect(auth).toMatchObject({ status: "authorized", brand: "visa", last4: "4242" });
		expect(await authorize(p, "o1")).toEqual(auth);
		if (auth.status !== "authorized") throw new Error("not authorized");
		const req = { idempotencyKey: "o1:capture", authorizationId: auth.authorizationId, amount: 1000, currency: "EUR" };
		const first = await p.capture(req);
		expect(first).toMatchObject({ status: "captured", amount: 1000 });
		expect(await p.capture(req)).toEqual(first);
		expect((await p.ledger()).filter(e => e.kind === "capture")).toHaveLength(1);
	});

	it("declines the decline card at capture and never captures twice under another key", async () => {
		const p = await sandboxProvider();
		const auth = await authorize(p, "o2", TEST_CARDS.declined);
		expect(auth.status).toBe("authorized");
		if (auth.status !== "authorized") return;
		expect(await p.capture({ idempotencyKey: "c", authorizationId: auth.authorizationId, amount: 1000, currency: "EUR" })).toEqual({
			status: "declined",
			reason: "card_declined",
		});
		expect(await p.capture({ idempotencyKey: "c2", authorizationId: auth.authorizationId, amount: 1000, currency: "EUR" })).toMatchObject({
			status: "declined",
		});
		expect(await p.ledger()).toHaveLength(0);
	});

	it("approves other Luhn-valid numbers and keeps only the last 4", async () => {
		const p = await sandboxProvider();
		const auth = await authorize(p, "o3", "5555555555554444");
		expect(auth).toMatchObject({ status: "authorized", brand: "mastercard", last4: "4444" });
		expect(JSON.stringify(auth)).not.toContain("5555555555554444");
	});

	it("fails the processing-error card with a transient error, every time", async () => {
		const p = await sandboxProvider();
		const auth = await authorize(p, "o4", TEST_CARDS.processingError);
		if (auth.status !== "authorized") throw new Error("not authorized");
		const req = { idempotencyKey: "o4:capture", authorizationId: auth.authorizationId, amount: 1000, currency: "EUR" };
		await expect(p.capture(req)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
		await expect(p.capture(req)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
	});

	it("declines a capture it has no authorization for, or that was voided", async () => {
		const p = await sandboxProvider();
		expect(await p.capture({ idempotencyKey: "x", authorizationId: "sim_auth_gone", amount: 1, currency: "EUR" })).toEqual({
			status: "declined",
			reason: "authorization_not_found",
		});
		const auth = await authorize(p, "o5");
		if (auth.status !== "authorized") throw new Error("not authorized");
		expect(await p.void({ idempotencyKey: "v", authorizationId: auth.authorizationId })).toEqual({ status: "voided" });
		expect(await p.capture({ idempotencyKey: "o5:capture", authorizationId: auth.authorizationId, amount: 1000, currency: "EUR" })).toMatchObject({
			status: "declined",
			reason: "authorization_voided",
		});
	});

	it("refuses to void a captured authorization", async () => {
		const p = await sandboxProvider();
		const auth = await authorize(p, "o6");
		if (auth.status !== "authorized") throw new Error("not authorized");
		await p.capture({ idempotencyKey: "o6:capture", authorizationId: auth.authorizationId, amount: 1000, currency: "EUR" });
		expect(await p.void({ idempotencyKey: "o6:void", authorizationId: auth.authorizationId })).toEqual({ status: "failed", reason: "already_captured" });
	});

	it("refunds once per key and never beyond the capture", async () => {
		const p = await sandboxProvider();
		const auth = await authorize(p, "o7");
		if (auth.status !== "authorized") throw new Error("not authorized");
		const cap = await p.capture({ idempotencyKey: "o7:capture", authorizationId: auth.authorizationId, amount: 1000, currency: "EUR" });
		if (cap.status !== "captured") throw new Error("not captured");
		const r1 = await p.refund({ idempotencyKey: "r1", paymentId: cap.paymentId, amount: 600, currency: "EUR" });
		expect(r1).toMatchObject({ status: "refunded", amount: 600 });
		expect(await p.refund({ idempotencyKey: "r1", paymentId: cap.paymentId, amount: 600, currency: "EUR" })).toEqual(r1);
		expect(await p.refund({ idempotencyKey: "r2", paymentId: cap.paymentId, amount: 500, currency: "EUR" })).toEqual({
			status: "failed",
			reason: "exceeds_captured",
		});
		expect(await p.refund({ idempotencyKey: "r2", paymentId: cap.paymentId, amount: 400, currency: "EUR" })).toMatchObject({
			status: "refunded",
			amount: 400,
		});
		expect((await p.ledger()).filter(e => e.kind === "refund").reduce((s, e) => s + e.amount, 0)).toBe(1000);
	});
});

describe("simulated payment service (sessions)", () => {
	async function service() {
		const sandbox = await sandboxCollections();
		const sessions = await memoryCollection<SandboxSession>("sandbox_sessions");
		const sent: string[] = [];
		const sim = new SimulatedSessions(sessions, sandbox, new SimulatedPaymentProvider(sandbox), {
			webhookSecret: `whsec_${Buffer.from("unit-test-simulated-secret-0123456").toString("base64")}`,
			confirmUrl: id => `http://shop.test/confirm/${id}`,
			send: (_id, event) => sent.push(event.type),
		});
		return { sim, sandbox, sessions, sent };
	}
	const captures = async (sandbox: SandboxCollections) => (await sandbox.ledger.find({ query: { kind: "capture" } })).length;

	it("captures a session once, whatever key asks again", async () => {
		const { sim, sandbox } = await service();
		const s = await sim.createSession({ idempotencyKey: "o1:session", orderId: "o1", amount: 1000, currency: "EUR" });
		expect(await sim.confirm(s.sessionId, s.clientSecret, card(TEST_CARDS.approved))).toMatchObject({ status: "authorized" });
		const first = await sim.captureSession({ idempotencyKey: "o1:capture", sessionId: s.sessionId, amount: 1000, currency: "EUR" });
		expect(first).toEqual({ status: "captured", paymentId: s.sessionId, amount: 1000 });
		expect(await sim.captureSession({ idempotencyKey: "o1:capture", sessionId: s.sessionId, amount: 1000, currency: "EUR" })).toEqual(first);
		expect(await captures(sandbox)).toBe(1);
		// The customer submits the page again after the capture (a reload, a lost answer): still told the card was accepted.
		expect(await sim.confirm(s.sessionId, s.clientSecret, card(TEST_CARDS.approved))).toMatchObject({ status: "authorized" });
		expect(await captures(sandbox)).toBe(1);
	});

	it("a capture cut short before its payment was recorded (the node died) is recorded when the session is next retrieved or refunded", async () => {
		const { sim, sandbox, sessions } = await service();
		const s = await sim.createSession({ idempotencyKey: "o2:session", orderId: "o2", amount: 1000, currency: "EUR" });
		await sim.confirm(s.sessionId, s.clientSecret, card(TEST_CARDS.approved));
		// What captureSession's compare-and-set leaves when the process dies right after it.
		await sessions.change(s.sessionId, () => ({ expect: { status: "authorized" }, update: { $set: { status: "captured", captureKey: "o2:capture" } } }));
		expect(await captures(sandbox)).toBe(0);
		expect(await sim.retrieveSession(s.sessionId)).toMatchObject({ status: "captured", amount: 1000 });
		expect(await captures(sandbox)).toBe(1);

		const t = await sim.createSession({ idempotencyKey: "o3:session", orderId: "o3", amount: 800, currency: "EUR" });
		await sim.confirm(t.sessionId, t.clientSecret, card(TEST_CARDS.approved));
		await sessions.change(t.sessionId, () => ({ expect: { status: "authorized" }, update: { $set: { status: "captured", captureKey: "o3:capture" } } }));
		expect(await sim.refund({ idempotencyKey: "o3:r1", paymentId: t.sessionId, amount: 300, currency: "EUR" })).toMatchObject({
			status: "refunded",
			amount: 300,
		});
		expect(await captures(sandbox)).toBe(2);
		expect(await sim.retrieveSession(t.sessionId)).toMatchObject({ amountRefunded: 300 });
		expect(await captures(sandbox)).toBe(2);
	});
});

describe("PAYMENT_EVENTS_RETENTION_DAYS", () => {
	const withRetention = (value: string | undefined) => {
		const saved = process.env.PAYMENT_EVENTS_RETENTION_DAYS;
		if (value === undefined) delete process.env.PAYMENT_EVENTS_RETENTION_DAYS;
		else process.env.PAYMENT_EVENTS_RETENTION_DAYS = value;
		try {
			return loadConfig().payments.eventsRetentionDays;
		} finally {
			if (saved === undefined) delete process.env.PAYMENT_EVENTS_RETENTION_DAYS;
			else process.env.PAYMENT_EVENTS_RETENTION_DAYS = saved;
		}
	};

	it("keeps applied event ids 30 days unless configured, and never less than a provider retries a webhook (Stripe: 3 days)", () => {
		expect(withRetention(undefined)).toBe(30);
		expect(withRetention("90")).toBe(90);
		expect(withRetention(String(PAYMENT_EVENTS_MIN_RETENTION_DAYS))).toBe(4);
		expect(() => withRetention("3")).toThrow(/PAYMENT_EVENTS_RETENTION_DAYS must be at least 4/);
		expect(() => withRetention("-1")).toThrow(/PAYMENT_EVENTS_RETENTION_DAYS/);
	});
});
