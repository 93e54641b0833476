/**
 * Orders: the record, what of it leaves the service, and the order state machine with what each
 * transition changes and which events it emits (the aggregate's rules, as eShop's `Order` has them).
 *
 *   pending ──► paid ──► shipped ──► delivered
 *      │          │         │            │
 *      ▼          ▼         └────────────┴──► refunded   (a return refunded the whole order)
 *   cancelled ◄───┘
 *      │   (cancelled after payment: the money goes back)
 *      ▼
 *   refunded
 *
 * Pure: each transition function takes the order as read and answers an `OrderChange`: the
 * status it expects (the compare-and-set condition), the fields it sets, what it appends, and the
 * events it emits. The orders service writes the change in one conditional update, with the
 * events in the order's outbox (services/orders/order-store.ts); if the order moved meanwhile,
 * nothing is written and the service reads it again.
 */
import { domainEvent } from "../contracts/events.js";
import type { CancelReason, DomainEvent, EventPayloads, EventType, ItemQuantity, OrderCharges } from "../contracts/events.js";
import type { OrderSummary } from "../contracts/calls.js";
import type { ShippingAddress } from "../contracts/http/orders.js";
import { ORDER_STATUSES } from "../contracts/http/orders.js";
import { capAt, type MinorUnits } from "./money.js";
import { mergeQuantities } from "./items.js";
import { refundForReturn, type PricedLine } from "./pricing.js";
import { itemIdOf } from "./variants.js";
import { afterCapture, afterRefund, paymentSummary, refundable, type PaymentRecord, type PaymentSummary } from "../payments/payment.js";

export { ORDER_STATUSES, mergeQuantities };
export type { OrderSummary };
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
	pending: ["paid", "cancelled"],
	paid: ["shipped", "cancelled", "refunded"],
	shipped: ["delivered", "refunded"],
	delivered: ["refunded"],
	// Only an order that was paid before it was cancelled has money to return.
	cancelled: ["refunded"],
	refunded: [],
};

/** The statuses an order can be cancelled from: not yet shipped. */
export const CANCELLABLE: readonly OrderStatus[] = ["pending", "paid"];
/** The statuses whose payment has been captured and not (all) given back. */
export const REFUNDABLE: readonly OrderStatus[] = ["paid", "shipped", "delivered", "refunded"];

export interface StatusChange {
	status: OrderStatus;
	at: string;
	reason?: string;
}

export class OrderTransitionError extends Error {
	constructor(
		readonly from: OrderStatus,
		readonly to: OrderStatus,
	) {
		super(`An order that is ${from} cannot become ${to}`);
		this.name = "OrderTransitionError";
	}
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
	return TRANSITIONS[from].includes(to);
}

/** The history entry of a status change; throws if the state machine does not allow it. */
export function transition(from: OrderStatus, to: OrderStatus, at: string, reason?: string): StatusChange {
	if (!canTransition(from, to)) throw new OrderTransitionError(from, to);
	return reason === undefined ? { status: to, at } : { status: to, at, reason };
}

export function isTerminal(status: OrderStatus): boolean {
	return TRANSITIONS[status].length === 0;
}

export interface OrderItem {
	/** The variant's id, or the product's for a product sold as itself. Absent on orders from before variants (= productId). */
	itemId?: string;
	productId: string;
	variantId?: string | null;
	options?: Record<string, string> | null;
	sku: string;
	name: string;
	unitPrice: MinorUnits;
	quantity: number;
	lineTotal: MinorUnits;
	/** This line's share of the order's discount, and its tax (lib/domain/pricing.ts). Absent on orders from before pricing: 0. */
	discount?: MinorUnits;
	tax?: MinorUnits;
}

/** An item as a client sees it: every field there, whenever the order was placed. */
export type PublicOrderItem = Required<OrderItem>;

export function publicItem(i: OrderItem): PublicOrderItem {
	return {
		itemId: i.itemId ?? i.productId,
		productId: i.productId,
		variantId: i.variantId ?? null,
		options: i.options ?? null,
		sku: i.sku,
		name: i.name,
		unitPrice: i.unitPrice,
		quantity: i.quantity,
		lineTotal: i.lineTotal,
		discount: i.discount ?? 0,
		tax: i.tax ?? 0,
	};
}

export interface OrderRefund {
	id: string;
	amount: MinorUnits;
	reason: string;
	at: string;
}

/** A refund that was decided but whose money has not moved yet (cancel of a paid order). */
export interface PendingRefund {
	key: string;
	amount: MinorUnits;
	reason: string;
}

export interface OrderRecord {
	_id: string;
	userId: string;
	status: OrderStatus;
	items: OrderItem[];
	subtotal: MinorUnits;
	total: MinorUnits;
	currency: string;
	shippingAddress: ShippingAddress;
	payment: PaymentRecord;
	refunds: OrderRefund[];
	statusHistory: StatusChange[];
	cancelReason: CancelReason | null;
	/** Quantities already refunded by returns, by item id (the variant, or the product sold without variants). */
	returned: Record<string, number>;
	/** Returns already refunded: returnId → refund id (what makes a re-delivered return a no-op). */
	returns: Record<string, string>;
	pendingRefund: PendingRefund | null;
	/** What was charged besides the goods (absent on orders from before pricing: nothing). */
	discountTotal?: MinorUnits;
	shippingTotal?: MinorUnits;
	/** The tax on the shipping charge, part of `taxTotal`. */
	shippingTax?: MinorUnits;
	taxTotal?: MinorUnits;
	/** The destination's rate the tax was computed with, and whether the prices contained it. */
	taxRateBp?: number;
	pricesIncludeTax?: boolean;
	promotion?: { code: string; discount: MinorUnits } | null;
	shippingMethod?: { id: string; name: string; price: MinorUnits } | null;
	createdAt: string;
	updatedAt: string;
}

/** What a client sees of an order: `id` for `_id`, the payment's summary, the charges, none of the refund and return bookkeeping. */
export type PublicOrder = Omit<
	OrderRecord,
	| "_id"
	| "payment"
	| "cancelReason"
	| "returned"
	| "returns"
	| "pendingRefund"
	| "items"
	| "shippingTax"
	| "taxRateBp"
	| "pricesIncludeTax"
	| keyof OrderCharges
> &
	OrderCharges & {
		id: string;
		items: PublicOrderItem[];
		payment: PaymentSummary;
	};

/** What the order charged: on the order a client sees and on `order.placed`/`order.paid`. */
export function orderCharges(o: Pick<OrderRecord, "subtotal" | "discountTotal" | "shippingTotal" | "taxTotal" | "promotion" | "shippingMethod">): OrderCharges {
	return {
		subtotal: o.subtotal,
		discountTotal: o.discountTotal ?? 0,
		shippingTotal: o.shippingTotal ?? 0,
		taxTotal: o.taxTotal ?? 0,
		promotion: o.promotion ?? null,
		shippingMethod: o.shippingMethod ?? null,
	};
}

export function publicOrder(o: OrderRecord): PublicOrder {
	return {
		id: o._id,
		userId: o.userId,
		status: o.status,
		items: o.items.map(publicItem),
		...orderCharges(o),
		total: o.total,
		currency: o.currency,
		shippingAddress: o.shippingAddress,
		payment: paymentSummary(o.payment),
		refunds: o.refunds.map(r => ({ id: r.id, amount: r.amount, reason: r.reason, at: r.at })),
		statusHistory: o.statusHistory,
		createdAt: o.createdAt,
		updatedAt: o.updatedAt,
	};
}

export function orderSummary(o: OrderRecord): OrderSummary {
	return {
		id: o._id,
		userId: o.userId,
		status: o.status,
		total: o.total,
		currency: o.currency,
		createdAt: o.createdAt,
		items: o.items.map(i => {
			const { itemId, productId, variantId, options, sku, name, quantity, unitPrice } = publicItem(i);
			return { itemId, productId, variantId, options, sku, name, quantity, unitPrice };
		}),
	};
}

export function itemQuantities(items: readonly OrderItem[]): ItemQuantity[] {
	return items.map(i => ({ productId: i.productId, ...(i.variantId ? { variantId: i.variantId } : {}), quantity: i.quantity }));
}

// ---------------------------------------------------------------------------------------------
// Transitions: what each one changes and emits

/** An event an order change emits, before it is put in an envelope. */
export type OrderEvent = DomainEvent;

const event = <K extends EventType>(type: K, payload: EventPayloads[K]): OrderEvent => domainEvent(type, payload);

export interface OrderChange {
	/** Compare-and-set: the fields (status first of all) the order must still have for the change to apply. */
	expect: Record<string, unknown>;
	set: Record<string, unknown>;
	inc?: Record<string, number>;
	history?: StatusChange;
	refund?: OrderRefund;
	events: OrderEvent[];
}

function move(order: OrderRecord, to: OrderStatus, at: string, reason?: string): Pick<OrderChange, "expect" | "history"> & { set: Record<string, unknown> } {
	return { expect: { status: order.status }, set: { status: to, updatedAt: at }, history: transition(order.status, to, at, reason) };
}

const cancelledEvent = (o: OrderRecord, reason: CancelReason, refunded: boolean) =>
	event("order.cancelled", { orderId: o._id, userId: o.userId, items: itemQuantities(o.items), reason, refunded, placedAt: o.createdAt });

/** A new order as placed: pending with an authorized payment, or cancelled at once when the card was refused. */
export function placedOrder(
	o: Omit<OrderRecord, "status" | "statusHistory" | "cancelReason">,
	declined: string | null,
): { order: OrderRecord; events: OrderEvent[] } {
	const at = o.createdAt;
	const placed: OrderRecord = { ...o, status: "pending", statusHistory: [{ status: "pending", at }], cancelReason: null };
	if (declined === null) {
		return {
			order: placed,
			events: [
				event("order.placed", {
					orderId: o._id,
					userId: o.userId,
					items: itemQuantities(o.items),
					total: o.total,
					currency: o.currency,
					charges: orderCharges(o),
				}),
			],
		};
	}
	// Refused outright: the order is recorded, cancelled, and never reaches the catalog.
	const order: OrderRecord = {
		...placed,
		status: "cancelled",
		cancelReason: "payment_declined",
		statusHistory: [...placed.statusHistory, transition("pending", "cancelled", at, "payment_declined")],
	};
	return {
		order,
		events: [event("payment.declined", { orderId: o._id, userId: o.userId, reason: declined }), cancelledEvent(order, "payment_declined", false)],
	};
}

/** Stock is held and the card captured: the order is paid. */
export function paid(order: OrderRecord, capture: { paymentId: string; amount: MinorUnits }, at: string): OrderChange {
	const p = afterCapture(order.payment, capture.paymentId, capture.amount);
	const { _id: orderId, userId, currency } = order;
	const m = move(order, "paid", at);
	return {
		...m,
		set: { ...m.set, "payment.status": p.status, "payment.paymentId": p.paymentId, "payment.captured": p.captured },
		events: [
			event("payment.captured", {
				orderId,
				userId,
				paymentId: capture.paymentId,
				amount: capture.amount,
				currency,
				brand: order.payment.brand,
				last4: order.payment.last4,
			}),
			event("order.paid", {
				orderId,
				userId,
				items: itemQuantities(order.items),
				total: order.total,
				currency,
				placedAt: order.createdAt,
				charges: orderCharges(order),
			}),
		],
	};
}

/** The provider declined the capture: the order is cancelled. */
export function paymentDeclined(order: OrderRecord, reason: string, at: string): OrderChange {
	const m = move(order, "cancelled", at, "payment_declined");
	return {
		...m,
		set: { ...m.set, cancelReason: "payment_declined", "payment.status": "declined" },
		events: [event("payment.declined", { orderId: order._id, userId: order.userId, reason }), cancelledEvent(order, "payment_declined", false)],
	};
}

/**
 * Cancelled: a pending order's authorization is then voided (`authorizationVoided`); a paid
 * order's money goes back in full, recorded here as a pending refund the service completes
 * (`refundRecorded` with the same key).
 */
export function cancelled(order: OrderRecord, reason: CancelReason, at: string): OrderChange {
	const wasPaid = order.status === "paid";
	const m = move(order, "cancelled", at, reason);
	const set: Record<string, unknown> = { ...m.set, cancelReason: reason };
	if (wasPaid) set.pendingRefund = { key: `${order._id}:cancel`, amount: refundable(order.payment), reason } satisfies PendingRefund;
	return { ...m, set, events: [cancelledEvent(order, reason, wasPaid)] };
}

export function shipped(order: OrderRecord, at: string): OrderChange {
	return { ...move(order, "shipped", at), events: [event("order.shipped", { orderId: order._id, userId: order.userId })] };
}

export function delivered(order: OrderRecord, at: string): OrderChange {
	return { ...move(order, "delivered", at), events: [event("order.delivered", { orderId: order._id, userId: order.userId })] };
}

/** A cancelled order's card authorization was let go. */
export function authorizationVoided(order: OrderRecord, at: string): OrderChange {
	return { expect: { status: "cancelled", "payment.status": "authorized" }, set: { "payment.status": "voided", updatedAt: at }, events: [] };
}

/** Why money goes back: the cancel of a paid order, an approved return, or a capture that landed after a cancel. */
export type RefundCause =
	| { kind: "cancel"; reason: string }
	| { kind: "return"; returnId: string; items: ItemQuantity[] }
	| { kind: "late-capture"; paymentId: string; captured: MinorUnits };

export interface RefundPlan {
	cause: RefundCause;
	/** The provider's idempotency key: one refund per key, however often the step runs. */
	key: string;
	amount: MinorUnits;
}

/** What a refund of this cause is, or null when there is nothing (more) to refund. */
export function planRefund(order: OrderRecord, cause: RefundCause): RefundPlan | null {
	switch (cause.kind) {
		case "cancel": {
			const pending = order.pendingRefund;
			if (order.status !== "cancelled" || !pending) return null;
			return { cause, key: pending.key, amount: pending.amount };
		}
		case "return": {
			if (Object.hasOwn(order.returns, cause.returnId) || !REFUNDABLE.includes(order.status)) return null;
			const plan = planReturnRefund(order, cause.items);
			return { cause: { ...cause, items: plan.items }, key: `return:${cause.returnId}`, amount: plan.amount };
		}
		case "late-capture":
			// Only a cancelled order whose payment never got recorded as captured; a paid one keeps its money.
			if (order.status !== "cancelled" || order.payment.status !== "authorized") return null;
			return { cause, key: `${order._id}:orphan-capture`, amount: cause.captured };
	}
}

/**
 * The money of `plan` went back (`refund` is what the provider answered): the one way a refund is
 * recorded on an order, whatever caused it. A full refund of a paid order, or of a cancelled paid
 * one, makes it `refunded`; a capture that landed after the cancel leaves it `cancelled`.
 */
export function refundRecorded(order: OrderRecord, plan: RefundPlan, refund: { refundId: string; amount: MinorUnits }, at: string): OrderChange {
	const { _id: orderId, userId, currency } = order;
	const { cause } = plan;
	const record: OrderRefund = {
		id: refund.refundId,
		amount: refund.amount,
		reason: cause.kind === "cancel" ? cause.reason : cause.kind === "return" ? "return" : "order_cancelled",
		at,
	};
	const refundedEvent = event("payment.refunded", { orderId, userId, refundId: refund.refundId, amount: refund.amount, currency });
	if (cause.kind === "late-capture") {
		return {
			expect: { status: "cancelled", "payment.status": "authorized" },
			set: {
				"payment.status": "refunded",
				"payment.paymentId": cause.paymentId,
				"payment.captured": cause.captured,
				"payment.refunded": refund.amount,
				updatedAt: at,
			},
			refund: record,
			events: [
				event("payment.captured", {
					orderId,
					userId,
					paymentId: cause.paymentId,
					amount: cause.captured,
					currency,
					brand: order.payment.brand,
					last4: order.payment.last4,
				}),
				refundedEvent,
			],
		};
	}
	const set: Record<string, unknown> = { updatedAt: at };
	const p = refund.amount > 0 ? afterRefund(order.payment, refund.amount) : null;
	if (p) Object.assign(set, { "payment.status": p.status, "payment.refunded": p.refunded });
	const full = cause.kind === "cancel" || p?.status === "refunded";
	const change: OrderChange = { expect: { status: order.status, "payment.refunded": order.payment.refunded }, set, events: [] };
	if (cause.kind === "cancel") {
		change.expect["pendingRefund.key"] = plan.key;
		set.pendingRefund = null;
		set.status = "refunded";
		change.history = transition("cancelled", "refunded", at, cause.reason);
	} else {
		change.expect[`returns.${cause.returnId}`] = { $exists: false };
		set[`returns.${cause.returnId}`] = refund.refundId;
		change.inc = Object.fromEntries(cause.items.map(i => [`returned.${itemIdOf(i)}`, i.quantity]));
		if (full && order.status !== "refunded") {
			set.status = "refunded";
			change.history = transition(order.status, "refunded", at, "return");
		}
	}
	if (refund.amount > 0 || cause.kind === "cancel") {
		change.refund = record;
		const items = cause.kind === "cancel" ? itemQuantities(order.items) : cause.items;
		change.events = [
			refundedEvent,
			event("order.refunded", { orderId, userId, refundId: refund.refundId, amount: refund.amount, currency, reason: record.reason, items, full }),
		];
	}
	return change;
}

export interface ReturnRefundPlan {
	/** The lines that are refunded, with what is still returnable of each. */
	items: ItemQuantity[];
	amount: MinorUnits;
	/** The whole captured amount is refunded after this one. */
	full: boolean;
}

/**
 * What an approved return refunds: what was paid for the returned units, after their line's
 * share of the discount (and with their tax when it was added on top), never more of an item
 * than was ordered and not yet returned, never more money than is left to refund. Shipping is
 * not refunded for a return (lib/domain/pricing.ts `refundForReturn` has the rules).
 */
export function planReturnRefund(
	order: Pick<OrderRecord, "items" | "returned" | "payment" | "pricesIncludeTax">,
	requested: readonly ItemQuantity[],
): ReturnRefundPlan {
	const lines: PricedLine[] = order.items.map(publicItem).map(i => ({
		itemId: i.itemId,
		unitPrice: i.unitPrice,
		quantity: i.quantity,
		lineTotal: i.lineTotal,
		discount: i.discount,
		tax: i.tax,
	}));
	const returning: Record<string, number> = {};
	for (const r of mergeQuantities(requested)) if (r.quantity > 0) returning[itemIdOf(r)] = r.quantity;
	const refund = refundForReturn(lines, order.returned, returning, order.pricesIncludeTax ?? true);
	const byItem = new Map(order.items.map(i => [i.itemId ?? i.productId, i]));
	const items = refund.lines.map(l => {
		const i = byItem.get(l.itemId)!;
		return { productId: i.productId, ...(i.variantId ? { variantId: i.variantId } : {}), quantity: l.quantity };
	});
	const left = refundable(order.payment);
	const amount = capAt(refund.total, left);
	return { items, amount, full: left > 0 && amount === left };
}
