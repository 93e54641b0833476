/**
 * Orders: the record, what of it leaves the service, and the order state machine.
 *
 *   pending ──► paid ──► shipped ──► delivered
 *      │          │         │            │
 *      ▼          ▼         └────────────┴──► refunded   (a return refunded the whole order)
 *   cancelled ◄───┘
 *      │   (cancelled after payment: the money goes back)
 *      ▼
 *   refunded
 *
 * Pure: the orders service loads a record, asks these functions what may happen, and writes
 * the change with a compare-and-set on the status it read.
 */
import type { CancelReason, ItemQuantity } from "../events/catalog.js";
import { capAt, lineTotal, sum, type MinorUnits } from "./money.js";
import { paymentSummary, refundable, type PaymentRecord, type PaymentSummary } from "../payments/payment.js";
import type { ShippingAddress } from "./checkout.js";

export const ORDER_STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "refunded"] as const;
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
	productId: string;
	sku: string;
	name: string;
	unitPrice: MinorUnits;
	quantity: number;
	lineTotal: MinorUnits;
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
	/** Quantities already refunded by returns, by product id. */
	returned: Record<string, number>;
	/** Returns already refunded: returnId → refund id (what makes a re-delivered return a no-op). */
	returns: Record<string, string>;
	pendingRefund: PendingRefund | null;
	createdAt: string;
	updatedAt: string;
}

export interface PublicOrder {
	id: string;
	userId: string;
	status: OrderStatus;
	items: OrderItem[];
	subtotal: MinorUnits;
	total: MinorUnits;
	currency: string;
	shippingAddress: ShippingAddress;
	payment: PaymentSummary;
	refunds: OrderRefund[];
	statusHistory: StatusChange[];
	createdAt: string;
	updatedAt: string;
}

export function publicOrder(o: OrderRecord): PublicOrder {
	return {
		id: o._id,
		userId: o.userId,
		status: o.status,
		items: o.items,
		subtotal: o.subtotal,
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

/** What the support service sees of an order (`orders.summaryForUser`). */
export interface OrderSummary {
	id: string;
	userId: string;
	status: OrderStatus;
	total: MinorUnits;
	currency: string;
	createdAt: string;
	items: { productId: string; sku: string; name: string; quantity: number; unitPrice: MinorUnits }[];
}

export function orderSummary(o: OrderRecord): OrderSummary {
	return {
		id: o._id,
		userId: o.userId,
		status: o.status,
		total: o.total,
		currency: o.currency,
		createdAt: o.createdAt,
		items: o.items.map(i => ({ productId: i.productId, sku: i.sku, name: i.name, quantity: i.quantity, unitPrice: i.unitPrice })),
	};
}

export function itemQuantities(items: readonly OrderItem[]): ItemQuantity[] {
	return items.map(i => ({ productId: i.productId, quantity: i.quantity }));
}

/** Adds up the quantities of repeated product ids, keeping first-seen order. */
export function mergeQuantities(items: readonly ItemQuantity[]): ItemQuantity[] {
	const merged = new Map<string, number>();
	for (const i of items) merged.set(i.productId, (merged.get(i.productId) ?? 0) + i.quantity);
	return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
}

export interface ReturnRefundPlan {
	/** The lines that are refunded, with what is still returnable of each. */
	items: ItemQuantity[];
	amount: MinorUnits;
	/** The whole captured amount is refunded after this one. */
	full: boolean;
}

/**
 * What an approved return refunds: each returned line at the price paid, never more of a
 * product than was ordered and not yet returned, never more money than is left to refund.
 */
export function planReturnRefund(order: Pick<OrderRecord, "items" | "returned" | "payment">, requested: readonly ItemQuantity[]): ReturnRefundPlan {
	const items: ItemQuantity[] = [];
	const amounts: MinorUnits[] = [];
	for (const r of mergeQuantities(requested)) {
		const line = order.items.find(i => i.productId === r.productId);
		if (!line || r.quantity <= 0) continue;
		const left = line.quantity - (order.returned[r.productId] ?? 0);
		const quantity = Math.min(r.quantity, Math.max(0, left));
		if (quantity === 0) continue;
		items.push({ productId: r.productId, quantity });
		amounts.push(lineTotal(line.unitPrice, quantity));
	}
	const left = refundable(order.payment);
	const amount = capAt(sum(amounts), left);
	return { items, amount, full: left > 0 && amount === left };
}

/** The order's total from its lines. */
export function totals(items: readonly OrderItem[]): { subtotal: MinorUnits; total: MinorUnits } {
	const subtotal = sum(items.map(i => i.lineTotal));
	// No shipping fees or taxes in this shop yet: the total is the subtotal.
	return { subtotal, total: subtotal };
}
