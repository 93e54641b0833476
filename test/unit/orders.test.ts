import { describe, expect, it } from "vitest";
import {
	CANCELLABLE,
	ORDER_STATUSES,
	OrderTransitionError,
	canTransition,
	isTerminal,
	mergeQuantities,
	orderSummary,
	planReturnRefund,
	publicOrder,
	totals,
	transition,
	type OrderRecord,
	type OrderStatus,
} from "../../lib/domain/orders.js";
import type { PaymentRecord } from "../../lib/payments/payment.js";
import { cartProblems, idempotencyKeyProblem, priceCart, requestFingerprint, snapshotItems } from "../../lib/domain/checkout.js";

const AT = "2026-01-01T00:00:00.000Z";

function payment(over: Partial<PaymentRecord> = {}): PaymentRecord {
	return {
		provider: "simulated",
		brand: "visa",
		last4: "4242",
		status: "captured",
		amount: 5000,
		currency: "EUR",
		authorizationId: "auth",
		paymentId: "pay",
		captured: 5000,
		refunded: 0,
		...over,
	};
}

function order(over: Partial<OrderRecord> = {}): OrderRecord {
	return {
		_id: "o1",
		userId: "u1",
		status: "delivered",
		items: [
			{ productId: "a", sku: "A", name: "Apple", unitPrice: 1000, quantity: 3, lineTotal: 3000 },
			{ productId: "b", sku: "B", name: "Book", unitPrice: 2000, quantity: 1, lineTotal: 2000 },
		],
		subtotal: 5000,
		total: 5000,
		currency: "EUR",
		shippingAddress: { name: "Ann", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" },
		payment: payment(),
		refunds: [],
		statusHistory: [{ status: "pending", at: AT }],
		cancelReason: null,
		returned: {},
		returns: {},
		pendingRefund: null,
		createdAt: AT,
		updatedAt: AT,
		...over,
	};
}

describe("order state machine", () => {
	const allowed: [OrderStatus, OrderStatus][] = [
		["pending", "paid"],
		["pending", "cancelled"],
		["paid", "shipped"],
		["paid", "cancelled"],
		["paid", "refunded"],
		["shipped", "delivered"],
		["shipped", "refunded"],
		["delivered", "refunded"],
		["cancelled", "refunded"],
	];

	it("allows exactly the contract's transitions", () => {
		for (const from of ORDER_STATUSES) {
			for (const to of ORDER_STATUSES) {
				const expected = allowed.some(([f, t]) => f === from && t === to);
				expect(canTransition(from, to), `${from} → ${to}`).toBe(expected);
			}
		}
	});

	it("never goes back and never skips a step", () => {
		expect(canTransition("paid", "pending")).toBe(false);
		expect(canTransition("pending", "shipped")).toBe(false);
		expect(canTransition("pending", "delivered")).toBe(false);
		expect(canTransition("shipped", "cancelled")).toBe(false);
		expect(canTransition("delivered", "shipped")).toBe(false);
		expect(canTransition("cancelled", "paid")).toBe(false);
	});

	it("records a history entry, with the reason when there is one", () => {
		expect(transition("pending", "cancelled", AT, "out_of_stock")).toEqual({ status: "cancelled", at: AT, reason: "out_of_stock" });
		expect(transition("paid", "shipped", AT)).toEqual({ status: "shipped", at: AT });
	});

	it("throws a typed error on a forbidden step", () => {
		expect(() => transition("delivered", "cancelled", AT)).toThrow(OrderTransitionError);
		try {
			transition("shipped", "paid", AT);
		} catch (err) {
			expect(err).toMatchObject({ from: "shipped", to: "paid" });
		}
	});

	it("cancels only before shipping, and only refunded is final", () => {
		expect(CANCELLABLE).toEqual(["pending", "paid"]);
		expect(ORDER_STATUSES.filter(isTerminal)).toEqual(["refunded"]);
	});
});

describe("order views", () => {
	it("never shows payment ids, the authorizing node or internal bookkeeping", () => {
		const view = publicOrder(order({ returns: { r1: "re_1" }, returned: { a: 1 }, pendingRefund: { key: "k", amount: 1, reason: "x" } }));
		expect(view.payment).toEqual({ brand: "visa", last4: "4242", status: "captured" });
		expect(view.id).toBe("o1");
		const json = JSON.stringify(view);
		for (const secret of ["_id", "authorizationId", "paymentId", "pendingRefund", "returned", "returns"]) expect(json).not.toContain(secret);
	});

	it("summarizes an order for the support service", () => {
		expect(orderSummary(order())).toEqual({
			id: "o1",
			userId: "u1",
			status: "delivered",
			total: 5000,
			currency: "EUR",
			createdAt: AT,
			items: [
				{ productId: "a", sku: "A", name: "Apple", quantity: 3, unitPrice: 1000 },
				{ productId: "b", sku: "B", name: "Book", quantity: 1, unitPrice: 2000 },
			],
		});
	});

	it("adds up the totals of the lines", () => {
		expect(totals(order().items)).toEqual({ subtotal: 5000, total: 5000 });
	});
});

describe("return refunds", () => {
	it("refunds returned lines at the price paid", () => {
		expect(planReturnRefund(order(), [{ productId: "a", quantity: 2 }])).toEqual({ items: [{ productId: "a", quantity: 2 }], amount: 2000, full: false });
	});

	it("merges repeated lines and ignores products that were not ordered", () => {
		const plan = planReturnRefund(order(), [
			{ productId: "a", quantity: 1 },
			{ productId: "zzz", quantity: 5 },
			{ productId: "a", quantity: 1 },
		]);
		expect(plan).toEqual({ items: [{ productId: "a", quantity: 2 }], amount: 2000, full: false });
	});

	it("never returns more of a product than was ordered and not yet returned", () => {
		const plan = planReturnRefund(order({ returned: { a: 2 } }), [{ productId: "a", quantity: 3 }]);
		expect(plan.items).toEqual([{ productId: "a", quantity: 1 }]);
		expect(plan.amount).toBe(1000);
	});

	it("never refunds more than is left of the capture, and says when it is all of it", () => {
		const everything = planReturnRefund(order(), [
			{ productId: "a", quantity: 3 },
			{ productId: "b", quantity: 1 },
		]);
		expect(everything).toMatchObject({ amount: 5000, full: true });
		const capped = planReturnRefund(order({ payment: payment({ refunded: 4500, status: "partially_refunded" }) }), [{ productId: "b", quantity: 1 }]);
		expect(capped).toMatchObject({ amount: 500, full: true });
		const nothingLeft = planReturnRefund(order({ payment: payment({ refunded: 5000, status: "refunded" }) }), [{ productId: "b", quantity: 1 }]);
		expect(nothingLeft).toMatchObject({ amount: 0, full: false });
	});

	it("merges quantities by product", () => {
		expect(
			mergeQuantities([
				{ productId: "x", quantity: 1 },
				{ productId: "y", quantity: 2 },
				{ productId: "x", quantity: 4 },
			]),
		).toEqual([
			{ productId: "x", quantity: 5 },
			{ productId: "y", quantity: 2 },
		]);
	});
});

describe("checkout rules", () => {
	const catalog = [
		{ id: "a", sku: "A", name: "Apple", price: 150, currency: "EUR", active: true, available: 10 },
		{ id: "b", sku: "B", name: "Book", price: 2000, currency: "EUR", active: true, available: 10 },
		{ id: "u", sku: "U", name: "Dollar thing", price: 100, currency: "USD", active: true, available: 10 },
		{ id: "x", sku: "X", name: "Gone", price: 100, currency: "EUR", active: false, available: 10 },
	];

	it("prices a cart with current prices, oldest line first", () => {
		const cart = priceCart({ b: { quantity: 1, addedAt: "2" }, a: { quantity: 3, addedAt: "1" } }, catalog);
		expect(cart.items).toEqual([
			{ productId: "a", name: "Apple", unitPrice: 150, quantity: 3, lineTotal: 450 },
			{ productId: "b", name: "Book", unitPrice: 2000, quantity: 1, lineTotal: 2000 },
		]);
		expect(cart.subtotal).toBe(2450);
		expect(cart.currency).toBe("EUR");
		expect(cartProblems(cart)).toEqual([]);
		expect(snapshotItems(cart)[0]).toEqual({ productId: "a", sku: "A", name: "Apple", unitPrice: 150, quantity: 3, lineTotal: 450 });
	});

	it("refuses an empty cart, vanished products and mixed currencies", () => {
		expect(cartProblems(priceCart({}, catalog))).toEqual([expect.objectContaining({ field: "cart", type: "empty" })]);
		const gone = priceCart({ a: { quantity: 1, addedAt: "1" }, x: { quantity: 1, addedAt: "2" }, zz: { quantity: 1, addedAt: "3" } }, catalog);
		expect(gone.unavailable).toEqual(["x", "zz"]);
		expect(cartProblems(gone)).toEqual([expect.objectContaining({ type: "unavailable" })]);
		const mixed = priceCart({ a: { quantity: 1, addedAt: "1" }, u: { quantity: 1, addedAt: "2" } }, catalog);
		expect(cartProblems(mixed)).toEqual([expect.objectContaining({ type: "currency" })]);
	});

	it("fingerprints a checkout by everything but the secret card data", () => {
		const body = {
			shippingAddress: { name: "Ann", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" },
			payment: { method: "card" as const, cardNumber: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123" },
		};
		const same = requestFingerprint({ ...body, shippingAddress: { country: "DE", postalCode: "10115", city: "Berlin", line1: "Main St 1", name: "Ann" } });
		expect(requestFingerprint(body)).toBe(same);
		expect(requestFingerprint({ ...body, payment: { ...body.payment, cardNumber: "4242 4242 4242 4242" } })).toBe(same);
		expect(requestFingerprint({ ...body, shippingAddress: { ...body.shippingAddress, city: "Hamburg" } })).not.toBe(same);
		expect(requestFingerprint({ ...body, payment: { ...body.payment, cardNumber: "4000000000000002" } })).not.toBe(same);
		expect(same).toMatch(/^[0-9a-f]{64}$/);
	});

	it("wants a printable Idempotency-Key", () => {
		expect(idempotencyKeyProblem(undefined)).toMatch(/required/);
		expect(idempotencyKeyProblem("")).toMatch(/required/);
		expect(idempotencyKeyProblem("has space")).toMatch(/printable/);
		expect(idempotencyKeyProblem("x".repeat(256))).toMatch(/printable/);
		expect(idempotencyKeyProblem("order-2026-01-01_abc")).toBeNull();
	});
});
