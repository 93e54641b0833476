import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PaymentRecord, PaymentStatus } from "../../lib/payments/payment.js";
import { fromStripeAmount, observationsOf, observe, observeAll, refundKey, toStripeAmount, type SessionObservation } from "../../lib/payments/session.js";
import type { PaymentSession } from "../../lib/payments/provider.js";
import type { OrderRecord } from "../../lib/domain/orders.js";
import { paymentExpired, paymentObserved, sessionReleased, stockHeld } from "../../lib/domain/order-sessions.js";

const payment = (status: PaymentStatus, over: Partial<PaymentRecord> = {}): PaymentRecord => ({
	provider: "simulated",
	brand: "unknown",
	last4: "",
	status,
	amount: 1000,
	currency: "EUR",
	authorizationId: null,
	paymentId: null,
	captured: 0,
	refunded: 0,
	session: {
		sessionId: "sim_pi_1",
		clientSecret: "s",
		expiresAt: "2030-01-01T00:00:00.000Z",
		confirmUrl: null,
		publishableKey: null,
		declineReason: null,
		stockReserved: false,
		refundIds: {},
	},
	...over,
});

const authorized: SessionObservation = { kind: "authorized", amount: 1000, brand: "visa", last4: "4242" };
const captured: SessionObservation = { kind: "captured", paymentId: "sim_pi_1", amount: 1000 };
const declined: SessionObservation = { kind: "declined", reason: "card_declined" };
const canceled: SessionObservation = { kind: "canceled" };
const refunded = (...refunds: [string, number][]): SessionObservation => ({
	kind: "refunded",
	refunds: refunds.map(([refundId, amount]) => ({ refundId, amount })),
});

/** The payment after observations, one at a time (as separate webhooks would be applied). */
function applyInTurn(p: PaymentRecord, observations: SessionObservation[]): PaymentRecord {
	let current = p;
	for (const o of observations) {
		const u = observe(current, o);
		if (!u) continue;
		current = {
			...current,
			status: u.status ?? current.status,
			captured: u.captured ?? current.captured,
			refunded: u.refunded ?? current.refunded,
			session: {
				...current.session!,
				declineReason: u.declineReason === undefined ? current.session!.declineReason : u.declineReason,
				refundIds: { ...current.session!.refundIds, ...Object.fromEntries((u.newRefunds ?? []).map(r => [r.key, r.amount])) },
			},
		};
	}
	return current;
}

describe("payment session status machine", () => {
	it("moves requires_confirmation → authorized → captured, and a repeat changes nothing", () => {
		const p = applyInTurn(payment("requires_confirmation"), [authorized]);
		expect(p.status).toBe("authorized");
		expect(observe(p, authorized)).toBeNull();
		const c = applyInTurn(p, [captured]);
		expect(c).toMatchObject({ status: "captured", captured: 1000 });
		expect(observe(c, captured)).toBeNull();
		expect(observe(c, authorized)).toBeNull();
	});

	it("keeps a declined session open with its reason; a later authorization clears it", () => {
		const d = applyInTurn(payment("requires_confirmation"), [declined]);
		expect(d.status).toBe("requires_confirmation");
		expect(d.session!.declineReason).toBe("card_declined");
		expect(observe(d, declined)).toBeNull();
		const a = applyInTurn(d, [authorized]);
		expect(a).toMatchObject({ status: "authorized", session: { declineReason: null } });
	});

	it("ends captured when the capture is seen before the authorization (events out of order)", () => {
		expect(applyInTurn(payment("requires_confirmation"), [captured, authorized, declined]).status).toBe("captured");
	});

	it("voids an open session that was cancelled, never a captured one", () => {
		expect(applyInTurn(payment("authorized"), [canceled]).status).toBe("voided");
		expect(applyInTurn(payment("requires_confirmation"), [canceled]).status).toBe("voided");
		expect(observe(payment("captured", { captured: 1000 }), canceled)).toBeNull();
		expect(observe(payment("expired"), authorized)).toBeNull();
	});

	it("counts each refund once by its id, partially then fully, and never beyond the capture", () => {
		const c = payment("captured", { captured: 1000 });
		const partial = applyInTurn(c, [refunded(["re_1", 300])]);
		expect(partial).toMatchObject({ status: "partially_refunded", refunded: 300 });
		expect(observe(partial, refunded(["re_1", 300]))).toBeNull();
		const full = applyInTurn(partial, [refunded(["re_1", 300], ["re_2", 700])]);
		expect(full).toMatchObject({ status: "refunded", refunded: 1000 });
		expect(observe(c, refunded(["re_x", 1001]))).toBeNull();
		expect(observe(payment("authorized"), refunded(["re_1", 1]))).toBeNull();
	});

	it("reaches the same state whatever the order of the same events (property)", () => {
		const all = [authorized, captured, declined, refunded(["re_1", 400]), refunded(["re_1", 400], ["re_2", 100])];
		fc.assert(
			fc.property(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), fc.array(fc.nat(4), { maxLength: 5 }), (order, repeats) => {
				const events = [...order, ...repeats.map(i => all[i]!)];
				// Refunds seen before the capture are told again by later webhooks (a session's refunds come with every event after it).
				const p = applyInTurn(payment("requires_confirmation"), [...events, refunded(["re_1", 400], ["re_2", 100])]);
				expect(p).toMatchObject({ status: "partially_refunded", captured: 1000, refunded: 500 });
			}),
		);
	});

	it("reads a retrieved session: a capture with its refunds, a decline, nothing yet", () => {
		const session: PaymentSession = {
			sessionId: "sim_pi_1",
			orderId: "o",
			status: "captured",
			amount: 1000,
			currency: "EUR",
			clientSecret: "s",
			amountRefunded: 200,
			refunds: [{ refundId: "re_1", amount: 200 }],
			declineReason: null,
			brand: "visa",
			last4: "4242",
		};
		expect(observationsOf(session)).toEqual([captured, refunded(["re_1", 200])]);
		expect(observeAll(payment("authorized"), observationsOf(session))).toMatchObject({ status: "partially_refunded", captured: 1000, refunded: 200 });
		expect(observationsOf({ ...session, status: "requires_confirmation", refunds: [], declineReason: "insufficient_funds" })).toEqual([
			{ kind: "declined", reason: "insufficient_funds" },
		]);
		expect(observationsOf({ ...session, status: "processing", refunds: [] })).toEqual([]);
	});

	it("keeps refund ids usable as stored keys", () => {
		expect(refundKey("re_3MtwBwLkdIwHu7ix28a3tqPa")).toBe("re_3MtwBwLkdIwHu7ix28a3tqPa");
		expect(refundKey("a.b$c")).toMatch(/^h_[0-9a-f]{32}$/);
	});

	it("sends amounts to Stripe in its smallest unit: cents, yen as they are, ISK in hundredths", () => {
		expect(toStripeAmount(1999, "EUR")).toBe(1999);
		expect(toStripeAmount(500, "JPY")).toBe(500);
		expect(toStripeAmount(500, "ISK")).toBe(50_000);
		expect(fromStripeAmount(50_000, "isk")).toBe(500);
	});
});

describe("orders with a payment session", () => {
	const order = (status: OrderRecord["status"], p: PaymentRecord, cancelReason: OrderRecord["cancelReason"] = null): OrderRecord =>
		({
			_id: "o1",
			userId: "u1",
			status,
			items: [{ productId: "p1", sku: "S", name: "N", unitPrice: 1000, quantity: 1, lineTotal: 1000 }],
			subtotal: 1000,
			total: 1000,
			currency: "EUR",
			shippingAddress: { name: "A", line1: "B", city: "C", postalCode: "1", country: "DE" },
			payment: p,
			refunds: [],
			statusHistory: [],
			cancelReason,
			returned: {},
			returns: {},
			pendingRefund: null,
			createdAt: "2026-01-01T00:00:00.000Z",
			updatedAt: "2026-01-01T00:00:00.000Z",
		}) as OrderRecord;
	const at = "2026-01-01T00:01:00.000Z";

	it("pays a pending order once its capture is seen, with order.paid, compare-and-set on pending", () => {
		const o = order("pending", payment("authorized"));
		const change = paymentObserved(o, observe(o.payment, captured)!, at);
		expect(change.expect).toMatchObject({ status: "pending", "payment.status": "authorized" });
		expect(change.set).toMatchObject({ status: "paid", "payment.status": "captured", "payment.captured": 1000 });
		expect(change.events.map(e => e.type)).toEqual(["payment.captured", "order.paid"]);
	});

	it("expires only a pending unconfirmed order, and its session's release says expired", () => {
		expect(paymentExpired(order("pending", payment("authorized")), at)).toBeNull();
		const change = paymentExpired(order("pending", payment("requires_confirmation")), at)!;
		expect(change.set).toMatchObject({ status: "cancelled", cancelReason: "payment_expired" });
		expect(change.events.map(e => e.type)).toEqual(["order.cancelled"]);
		const released = sessionReleased(order("cancelled", payment("requires_confirmation"), "payment_expired"), at)!;
		expect(released.set["payment.status"]).toBe("expired");
		expect(sessionReleased(order("cancelled", payment("authorized"), "out_of_stock"), at)!.set["payment.status"]).toBe("voided");
		expect(sessionReleased(order("cancelled", payment("voided"), "out_of_stock"), at)).toBeNull();
	});

	it("marks the stock held once", () => {
		expect(stockHeld(order("pending", payment("requires_confirmation")), at)!.set).toMatchObject({ "payment.session.stockReserved": true });
		const held = payment("requires_confirmation");
		held.session!.stockReserved = true;
		expect(stockHeld(order("pending", held), at)).toBeNull();
		expect(stockHeld(order("cancelled", payment("requires_confirmation")), at)).toBeNull();
	});
});
