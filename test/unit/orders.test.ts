import { describe, expect, it } from "vitest";
import {
	CANCELLABLE,
	ORDER_STATUSES,
	OrderTransitionError,
	canTransition,
	mergeQuantities,
	orderSummary,
	publicOrder,
	transition,
	type OrderRecord,
	type OrderStatus,
} from "../../lib/domain/orders.js";
import { planReturnRefund } from "../../lib/domain/order-refunds.js";
import type { PaymentRecord } from "../../lib/payments/payment.js";
import { cartProblems, idempotencyKeyProblem, itemProblem, priceCart, pricingLines, requestFingerprint, snapshotItems } from "../../lib/domain/cart-lines.js";
import { priceOrder } from "../../lib/domain/pricing.js";

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
		["paid", "partially_shipped"],
		["partially_shipped", "shipped"],
		["partially_shipped", "refunded"],
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
		expect(ORDER_STATUSES.filter(from => !ORDER_STATUSES.some(to => canTransition(from, to)))).toEqual(["refunded"]);
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
				{ itemId: "a", productId: "a", variantId: null, options: null, sku: "A", name: "Apple", quantity: 3, unitPrice: 1000 },
				{ itemId: "b", productId: "b", variantId: null, options: null, sku: "B", name: "Book", quantity: 1, unitPrice: 2000 },
			],
		});
	});

	it("shows an order placed before variants and pricing with every field of the additions", () => {
		const shown = publicOrder(order());
		expect(shown).toMatchObject({ subtotal: 5000, discountTotal: 0, shippingTotal: 0, taxTotal: 0, promotion: null, shippingMethod: null, total: 5000 });
		expect(shown.items[0]).toEqual({
			itemId: "a",
			productId: "a",
			variantId: null,
			options: null,
			sku: "A",
			name: "Apple",
			unitPrice: 1000,
			quantity: 3,
			lineTotal: 3000,
			discount: 0,
			tax: 0,
		});
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

	it("refunds a returned variant after its share of the discount, the last unit taking the rounding cent", () => {
		const priced = order({
			items: [
				{
					itemId: "v1",
					productId: "a",
					variantId: "v1",
					options: { size: "M" },
					sku: "A-M",
					name: "Apple M",
					unitPrice: 1000,
					quantity: 3,
					lineTotal: 3000,
					discount: 301,
					tax: 0,
				},
				{
					itemId: "b",
					productId: "b",
					variantId: null,
					options: null,
					sku: "B",
					name: "Book",
					unitPrice: 2000,
					quantity: 1,
					lineTotal: 2000,
					discount: 199,
					tax: 0,
				},
			],
			discountTotal: 500,
			total: 4500,
			payment: payment({ amount: 4500, captured: 4500 }),
		});
		const first = planReturnRefund(priced, [{ productId: "a", variantId: "v1", quantity: 1 }]);
		expect(first).toEqual({ items: [{ productId: "a", variantId: "v1", quantity: 1 }], amount: 899, full: false });
		// The product id alone is not the variant's line.
		expect(planReturnRefund(priced, [{ productId: "a", quantity: 1 }]).items).toEqual([]);
		const rest = planReturnRefund({ ...priced, returned: { v1: 1 } }, [{ productId: "a", variantId: "v1", quantity: 5 }]);
		expect(rest).toMatchObject({ items: [{ productId: "a", variantId: "v1", quantity: 2 }], amount: 1800 });
		expect(first.amount + rest.amount).toBe(3000 - 301);
	});

	it("merges quantities by item", () => {
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
		const line = { variantId: null, options: null };
		expect(cart.items).toEqual([
			{ itemId: "a", productId: "a", ...line, sku: "A", name: "Apple", unitPrice: 150, quantity: 3, lineTotal: 450 },
			{ itemId: "b", productId: "b", ...line, sku: "B", name: "Book", unitPrice: 2000, quantity: 1, lineTotal: 2000 },
		]);
		expect(cart.subtotal).toBe(2450);
		expect(cart.currency).toBe("EUR");
		expect(cartProblems(cart)).toEqual([]);
		const priced = priceOrder({
			lines: pricingLines(cart),
			currency: "EUR",
			promotion: null,
			shippingMethod: null,
			taxRateBp: 1900,
			pricesIncludeTax: true,
		});
		expect(snapshotItems(cart, priced)[0]).toEqual({
			itemId: "a",
			productId: "a",
			...line,
			sku: "A",
			name: "Apple",
			unitPrice: 150,
			quantity: 3,
			lineTotal: 450,
			discount: 0,
			tax: 72,
		});
	});

	it("prices a variant line with its variant, and refuses a product in variants without one", () => {
		const shirt = {
			id: "t",
			sku: "T",
			name: "T-shirt",
			price: 1500,
			currency: "EUR",
			active: true,
			available: 3,
			variants: [
				{ id: "tm", sku: "T-M", options: { size: "M" }, price: 1700, available: 2, active: true },
				{ id: "tl", sku: "T-L", options: { size: "L" }, price: 1500, available: 1, active: false },
			],
		};
		const cart = priceCart(
			{
				tm: { productId: "t", variantId: "tm", quantity: 2, addedAt: "1" },
				tl: { productId: "t", variantId: "tl", quantity: 1, addedAt: "2" },
				t: { quantity: 1, addedAt: "3" },
			},
			[shirt],
		);
		expect(cart.items).toEqual([
			{
				itemId: "tm",
				productId: "t",
				variantId: "tm",
				options: { size: "M" },
				sku: "T-M",
				name: "T-shirt",
				unitPrice: 1700,
				quantity: 2,
				lineTotal: 3400,
			},
		]);
		// An inactive variant, and a line for the product itself (from before it had variants), are not for sale.
		expect(cart.unavailable).toEqual(["tl", "t"]);
		expect(itemProblem(shirt, undefined)?.field).toBe("variantId");
		expect(itemProblem(shirt, "tl")?.type).toBe("unknownVariant");
		expect(itemProblem(shirt, "tm")).toBeNull();
		expect(itemProblem(catalog[0]!, "tm")?.type).toBe("unknownVariant");
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
