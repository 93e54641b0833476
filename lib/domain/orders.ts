/**
 * Orders: the record, what of it leaves the service, and the order state machine with what each
 * transition changes and which events it emits (the aggregate's rules, as eShop's `Order` has them).
 *
 *   pending ──► paid ──► shipped ──► delivered        (paid ──► partially_shipped ──► shipped: in parcels, lib/domain/fulfilment.ts)
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
import type { Static } from "typebox";
import { domainEvent } from "../contracts/events.js";
import type { Order, PricedLine } from "../http/schemas.js";
import type { CancelReason, DomainEvent, EventPayloads, EventType, ItemQuantity, OrderCharges } from "../contracts/events.js";
import type { OrderSummary } from "../contracts/calls.js";
import type { ShippingAddress } from "../contracts/http/orders.js";
import { ORDER_STATUSES } from "../contracts/http/orders.js";
import type { MinorUnits } from "./money.js";
import { mergeQuantities } from "./items.js";
import type { Fulfilment } from "./fulfilment.js";
import { afterCapture, paymentSummary, refundable, type PaymentRecord } from "../payments/payment.js";

export { ORDER_STATUSES, mergeQuantities };
export type { OrderSummary };
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
	pending: ["paid", "cancelled"],
	paid: ["partially_shipped", "shipped", "cancelled", "refunded"],
	partially_shipped: ["shipped", "refunded"],
	shipped: ["delivered", "refunded"],
	delivered: ["refunded"],
	// Only an order that was paid before it was cancelled has money to return.
	cancelled: ["refunded"],
	refunded: [],
};

/** The statuses an order can be cancelled from: not yet shipped. */
export const CANCELLABLE: readonly OrderStatus[] = ["pending", "paid"];
/** The statuses whose payment has been captured and not (all) given back. */
export const REFUNDABLE: readonly OrderStatus[] = ["paid", "partially_shipped", "shipped", "delivered", "refunded"];

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
export type PublicOrderItem = Static<typeof PricedLine>;

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
	/** Refunds an admin asked for: the request's key → refund id (what makes a repeated request a no-op). */
	manualRefunds?: Record<string, string>;
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
	fulfilments?: Fulfilment[];
	createdAt: string;
	updatedAt: string;
}

/** What a client sees of an order (lib/http/schemas.ts): `id` for `_id`, the payment's summary, the charges, none of the refund and return bookkeeping. */
export type PublicOrder = Static<typeof Order>;

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
		shippingTax: o.shippingTax ?? 0,
		total: o.total,
		currency: o.currency,
		shippingAddress: o.shippingAddress,
		payment: paymentSummary(o.payment),
		refunds: o.refunds.map(r => ({ id: r.id, amount: r.amount, reason: r.reason, at: r.at })),
		statusHistory: o.statusHistory,
		fulfilments: o.fulfilments ?? [],
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
	fulfilment?: Fulfilment;
	/** More than one refund at once (a provider's report of refunds made elsewhere). */
	refunds?: OrderRefund[];
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

export function delivered(order: OrderRecord, at: string): OrderChange {
	return { ...move(order, "delivered", at), events: [event("order.delivered", { orderId: order._id, userId: order.userId })] };
}

/** A cancelled order's card authorization was let go. */
export function authorizationVoided(order: OrderRecord, at: string): OrderChange {
	return { expect: { status: "cancelled", "payment.status": "authorized" }, set: { "payment.status": "voided", updatedAt: at }, events: [] };
}
