/**
 * The Stripe adapter against stripe-mock (Stripe's own API mock, 127.0.0.1:12111, started by
 * `bash scripts/infra/up.sh stripe-mock`): every call the provider makes is validated against
 * Stripe's OpenAPI by stripe-mock, with its own idempotency key. stripe-mock keeps no state, so
 * the state machine is tested with the simulated service; errors stripe-mock cannot produce (a
 * card error, a 5xx, a timeout) come from a local server answering in Stripe's error shape.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INFRA, skipWithoutInfra } from "./infra.js";
import { StripePaymentProvider } from "../../lib/payments/stripe.js";
import { PaymentProviderRefusedError, PaymentProviderUnavailableError, WebhookSignatureError } from "../../lib/payments/provider.js";

const skip = await skipWithoutInfra(["stripe"]);
const WEBHOOK_SECRET = "whsec_test_secret_for_the_adapter";
const KEY = "sk_test_123";

function provider(apiBase = INFRA.stripe) {
	const p = new StripePaymentProvider({ secretKey: KEY, webhookSecret: WEBHOOK_SECRET, apiBase });
	const requests: { method: string; path: string; idempotencyKey: string | null }[] = [];
	p.onRequest(r => requests.push(r));
	return { p, requests };
}

/** A server answering every request with `status` and Stripe's error body (or never, for a timeout). */
let failing: http.Server;
let failingBase = "";
let answer: { status: number; body: unknown } | "hang" = { status: 500, body: {} };
beforeAll(async () => {
	failing = http.createServer((req, res) => {
		req.resume();
		if (answer === "hang") return;
		res.writeHead(answer.status, { "content-type": "application/json" });
		res.end(JSON.stringify(answer.body));
	});
	await new Promise<void>(r => failing.listen(0, "127.0.0.1", r));
	failingBase = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
});
afterAll(async () => {
	failing.closeAllConnections();
	await new Promise(r => failing.close(r));
});

describe.skipIf(skip)("Stripe adapter against stripe-mock", () => {
	it("creates a manual-capture PaymentIntent with the order id and the session's idempotency key", async () => {
		const { p, requests } = provider();
		const session = await p.createSession({ idempotencyKey: "order-1:session", orderId: "order-1", amount: 1999, currency: "EUR" });
		expect(session.sessionId).toMatch(/^pi_/);
		expect(session.clientSecret).toContain("_secret_");
		expect(session).toMatchObject({ amount: 1999, currency: "EUR" });
		expect(requests).toEqual([{ method: "POST", path: "/v1/payment_intents", idempotencyKey: "order-1:session" }]);
	});

	it("retrieves, captures, cancels and refunds (partially), each call with its own idempotency key", async () => {
		const { p, requests } = provider();
		const retrieved = await p.retrieveSession("pi_123");
		expect(retrieved.sessionId).toBe("pi_123");
		expect(await p.captureSession({ idempotencyKey: "order-1:capture", sessionId: "pi_123", amount: 1999, currency: "EUR" })).toMatchObject({
			status: "captured",
			paymentId: "pi_123",
		});
		expect(await p.cancelSession({ idempotencyKey: "order-1:cancel", sessionId: "pi_123" })).toEqual({ status: "voided" });
		const refund = await p.refund({ idempotencyKey: "order-1:refund:a", paymentId: "pi_123", amount: 500, currency: "EUR" });
		expect(refund).toMatchObject({ status: "refunded", amount: 500 });
		expect((refund as { refundId: string }).refundId).toMatch(/^re_/);
		const writes = requests.filter(r => r.method === "POST");
		expect(writes.map(r => [r.path, r.idempotencyKey])).toEqual([
			["/v1/payment_intents/pi_123/capture", "order-1:capture"],
			["/v1/payment_intents/pi_123/cancel", "order-1:cancel"],
			["/v1/refunds", "order-1:refund:a"],
		]);
	});

	it("sends a zero-decimal currency's amount as it is (JPY)", async () => {
		const { p } = provider();
		expect(await p.createSession({ idempotencyKey: "order-2:session", orderId: "order-2", amount: 5000, currency: "JPY" })).toMatchObject({
			amount: 5000,
			currency: "JPY",
		});
	});

	it("maps an invalid request (stripe-mock refuses a bad key) to a refusal, not a retry", async () => {
		const p = new StripePaymentProvider({ secretKey: "not-a-key", webhookSecret: WEBHOOK_SECRET, apiBase: INFRA.stripe });
		const err = await p.retrieveSession("pi_123").catch(e => e);
		expect(err).toBeInstanceOf(PaymentProviderRefusedError);
		expect(String(err.message)).not.toContain("not-a-key");
	});

	it("maps a card error to a decline, a 5xx and a timeout to a retry", async () => {
		answer = { status: 402, body: { error: { type: "card_error", code: "card_declined", decline_code: "insufficient_funds", message: "declined" } } };
		const { p } = provider(failingBase);
		expect(await p.captureSession({ idempotencyKey: "k1", sessionId: "pi_1", amount: 100, currency: "EUR" })).toEqual({
			status: "declined",
			reason: "insufficient_funds",
		});
		answer = { status: 500, body: { error: { type: "api_error", message: "boom" } } };
		await expect(p.captureSession({ idempotencyKey: "k2", sessionId: "pi_1", amount: 100, currency: "EUR" })).rejects.toBeInstanceOf(
			PaymentProviderUnavailableError,
		);
		answer = "hang";
		const slow = new StripePaymentProvider({ secretKey: KEY, webhookSecret: WEBHOOK_SECRET, apiBase: failingBase, timeoutMs: 300, retries: 0 });
		await expect(slow.retrieveSession("pi_1")).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
	});

	it("verifies webhooks with the SDK over the raw body: good, forged, old, changed", () => {
		const { p } = provider();
		const stripe = new Stripe(KEY);
		const payload = JSON.stringify({
			id: "evt_1",
			object: "event",
			type: "payment_intent.amount_capturable_updated",
			data: {
				object: {
					id: "pi_9",
					object: "payment_intent",
					status: "requires_capture",
					amount: 1999,
					currency: "eur",
					metadata: { orderId: "o9" },
					client_secret: "s",
				},
			},
		});
		const header = (over: { secret?: string; timestamp?: number } = {}) =>
			stripe.webhooks.generateTestHeaderString({ payload, secret: over.secret ?? WEBHOOK_SECRET, timestamp: over.timestamp });
		const event = p.verifyWebhook(Buffer.from(payload), { "stripe-signature": header() });
		expect(event).toMatchObject({
			eventId: "evt_1",
			kind: "authorized",
			orderId: "o9",
			sessionId: "pi_9",
			session: { status: "authorized", amount: 1999 },
		});
		expect(() => p.verifyWebhook(Buffer.from(payload), { "stripe-signature": header({ secret: "whsec_forged" }) })).toThrow(WebhookSignatureError);
		const old = Math.floor(Date.now() / 1000) - 301;
		expect(() => p.verifyWebhook(Buffer.from(payload), { "stripe-signature": header({ timestamp: old }) })).toThrow(WebhookSignatureError);
		expect(() => p.verifyWebhook(Buffer.from(payload.replace("1999", "1")), { "stripe-signature": header() })).toThrow(WebhookSignatureError);
		expect(() => p.verifyWebhook(Buffer.from(payload), {})).toThrow(WebhookSignatureError);
	});
});
