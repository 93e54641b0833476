/**
 * Fulfilment: an order leaves the warehouse in one or more parcels, each with what it holds (lines
 * and quantities), a carrier and a tracking number. Pure: the orders service writes the change.
 *
 * Rules:
 * - A paid or partially shipped order takes a fulfilment; another status is a 409 (pending,
 *   cancelled, refunded, delivered). A shipped order has nothing left: a fulfilment of it is a 422.
 * - Without items a fulfilment ships everything not yet shipped. With items, each names a line of
 *   the order (`itemId`) and a quantity; a line named twice counts twice; never more of a line than
 *   ordered minus already shipped (422 naming `items[i].quantity`, or `items[i].itemId` for a line
 *   the order does not have).
 * - The order is `partially_shipped` while some unit is not shipped, then `shipped` (with the
 *   `order.shipped` event); every fulfilment emits `order.fulfilment-created`.
 * - Carriers are lower-case codes with a tracking-URL template; `other` needs an explicit
 *   `trackingUrl`. An explicit URL wins over the template. The v1 ship step is a fulfilment of
 *   everything left without carrier or tracking (all null).
 * - The change expects the order's status and its number of fulfilments: two fulfilments decided
 *   on the same reading cannot both be written (one compare-and-set on the order).
 */
import type { FieldProblem } from "../errors.js";
import type { DomainEvent } from "../contracts/events.js";
import { domainEvent } from "../contracts/events.js";

export const CARRIERS = ["dhl", "ups", "fedex", "gls", "correos", "other"] as const;
export type Carrier = (typeof CARRIERS)[number];

/** `{n}` is the tracking number, URL-encoded. */
export const TRACKING_URL_TEMPLATES: Record<Exclude<Carrier, "other">, string> = {
	dhl: "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id={n}",
	ups: "https://www.ups.com/track?tracknum={n}",
	fedex: "https://www.fedex.com/fedextrack/?trknbr={n}",
	gls: "https://gls-group.com/track/{n}",
	correos: "https://www.correos.es/es/es/herramientas/localizador/envios/detalle?tracking-number={n}",
};

export interface FulfilmentLine {
	itemId: string;
	quantity: number;
}

export interface Fulfilment {
	id: string;
	items: FulfilmentLine[];
	carrier: Carrier | null;
	trackingNumber: string | null;
	trackingUrl: string | null;
	shippedAt: string;
}

export interface FulfilmentRequest {
	items?: FulfilmentLine[];
	carrier: Carrier | null;
	trackingNumber: string | null;
	trackingUrl?: string | null;
}

/** The order as far as fulfilment needs it. */
export interface FulfillableOrder {
	_id: string;
	userId: string;
	status: string;
	items: { itemId?: string; productId: string; variantId?: string | null; quantity: number }[];
	fulfilments?: Fulfilment[];
}

export const FULFILLABLE_STATUSES = ["paid", "partially_shipped"] as const;

export function trackingUrlFor(carrier: Carrier, trackingNumber: string, explicit?: string | null): string | null {
	if (explicit) return explicit;
	if (carrier === "other") return null;
	return TRACKING_URL_TEMPLATES[carrier].replace("{n}", encodeURIComponent(trackingNumber));
}

/** Units shipped so far, by line. Orders shipped before fulfilments existed (shipped, no fulfilments) count as all shipped. */
export function shippedByItem(order: FulfillableOrder): Map<string, number> {
	const shipped = new Map<string, number>();
	const legacyShipped = (order.fulfilments ?? []).length === 0 && ["shipped", "delivered"].includes(order.status);
	for (const line of order.items) if (legacyShipped) shipped.set(line.itemId ?? line.productId, line.quantity);
	for (const f of order.fulfilments ?? []) for (const l of f.items) shipped.set(l.itemId, (shipped.get(l.itemId) ?? 0) + l.quantity);
	return shipped;
}

/** What is left to ship, by line, in the order's line order (lines with nothing left are left out). */
export function remainingByItem(order: FulfillableOrder): FulfilmentLine[] {
	const shipped = shippedByItem(order);
	const left: FulfilmentLine[] = [];
	for (const line of order.items) {
		const itemId = line.itemId ?? line.productId;
		const quantity = line.quantity - (shipped.get(itemId) ?? 0);
		if (quantity > 0) left.push({ itemId, quantity });
	}
	return left;
}

export class FulfilmentStatusError extends Error {
	constructor(readonly status: string) {
		super(`An order that is ${status} cannot be shipped`);
		this.name = "FulfilmentStatusError";
	}
}

export class FulfilmentInputError extends Error {
	constructor(readonly problems: FieldProblem[]) {
		super(problems.map(p => `${p.field}: ${p.message}`).join("; "));
		this.name = "FulfilmentInputError";
	}
}

/** The change a fulfilment makes to the order (for lib/domain/orders.ts to turn into an order change). */
export interface FulfilmentDecision {
	fulfilment: Fulfilment;
	/** The order's status after it. */
	status: "partially_shipped" | "shipped";
	/** Compare-and-set: the order must still be as read. */
	expect: Record<string, unknown>;
	events: DomainEvent[];
}

function requestProblems(request: FulfilmentRequest): FieldProblem[] {
	const problems: FieldProblem[] = [];
	if (request.carrier === "other" && !request.trackingUrl)
		problems.push({ field: "trackingUrl", message: "The 'trackingUrl' field is required when the carrier is 'other'.", type: "required" });
	return problems;
}

/** Decide a fulfilment of `order` as read; throws FulfilmentStatusError (409) or FulfilmentInputError (422). */
export function decideFulfilment(order: FulfillableOrder, request: FulfilmentRequest, id: string, at: string): FulfilmentDecision {
	const inputProblems = requestProblems(request);
	if (inputProblems.length) throw new FulfilmentInputError(inputProblems);
	if (order.status === "shipped")
		throw new FulfilmentInputError([{ field: "items", message: "Every item of this order has been shipped already.", type: "nothingLeft" }]);
	if (!(FULFILLABLE_STATUSES as readonly string[]).includes(order.status)) throw new FulfilmentStatusError(order.status);

	const remaining = new Map(remainingByItem(order).map(l => [l.itemId, l.quantity]));
	const ordered = new Set(order.items.map(l => l.itemId ?? l.productId));
	let lines: FulfilmentLine[];
	if (request.items === undefined) lines = [...remaining].map(([itemId, quantity]) => ({ itemId, quantity }));
	else {
		const problems: FieldProblem[] = [];
		const asked = new Map<string, number>();
		request.items.forEach((l, i) => {
			if (!ordered.has(l.itemId)) return problems.push({ field: `items[${i}].itemId`, message: "This order has no such item.", type: "unknownItem" });
			const total = (asked.get(l.itemId) ?? 0) + l.quantity;
			const left = remaining.get(l.itemId) ?? 0;
			if (total > left)
				return problems.push({
					field: `items[${i}].quantity`,
					message: left === 0 ? "This item has been shipped already." : `Only ${left} of this item ${left === 1 ? "is" : "are"} left to ship.`,
					type: "overShipped",
				});
			asked.set(l.itemId, total);
		});
		if (problems.length) throw new FulfilmentInputError(problems);
		lines = [...asked].map(([itemId, quantity]) => ({ itemId, quantity }));
	}
	if (lines.length === 0) throw new FulfilmentInputError([{ field: "items", message: "Nothing is left to ship.", type: "nothingLeft" }]);

	const fulfilment: Fulfilment = {
		id,
		items: lines,
		carrier: request.carrier,
		trackingNumber: request.trackingNumber,
		trackingUrl: request.carrier && request.trackingNumber ? trackingUrlFor(request.carrier, request.trackingNumber, request.trackingUrl) : null,
		shippedAt: at,
	};
	const fulfilments = [...(order.fulfilments ?? []), fulfilment];
	const everything = remainingByItem({ ...order, fulfilments }).length === 0;
	const status = everything ? "shipped" : "partially_shipped";
	const byItem = new Map(order.items.map(l => [l.itemId ?? l.productId, l]));
	const events: DomainEvent[] = [
		domainEvent("order.fulfilment-created", {
			orderId: order._id,
			userId: order.userId,
			fulfilmentId: id,
			items: lines.map(l => {
				const line = byItem.get(l.itemId)!;
				return { itemId: l.itemId, productId: line.productId, variantId: line.variantId ?? null, quantity: l.quantity };
			}),
			carrier: fulfilment.carrier,
			trackingNumber: fulfilment.trackingNumber,
			trackingUrl: fulfilment.trackingUrl,
			shippedAt: at,
			orderStatus: status,
		}),
	];
	if (everything)
		events.push(
			domainEvent("order.shipped", {
				orderId: order._id,
				userId: order.userId,
				tracking: fulfilments
					.filter(f => f.trackingNumber !== null)
					.map(f => ({ carrier: f.carrier, trackingNumber: f.trackingNumber, trackingUrl: f.trackingUrl })),
			}),
		);
	return {
		fulfilment,
		status,
		expect: { status: order.status, [`fulfilments.${(order.fulfilments ?? []).length}`]: { $exists: false } },
		events,
	};
}
