/**
 * The integration events of the shop (what one service tells the others, through the outbox and
 * the event bus): names, topics, keys and payloads, in one place.
 *
 * Every event travels inside an `EventEnvelope`. The topic is the event's family; the key is the
 * id of the aggregate it is about, so one order's (or ticket's) events stay in order on one
 * partition. The payloads are stated once, as the schemas of lib/contracts/event-schemas.ts that
 * the AsyncAPI document is generated from; their types here are derived from them.
 */
import { randomUUID } from "node:crypto";
import type { Static } from "typebox";
import type {
	CANCEL_REASONS,
	PAYLOAD_SCHEMAS,
	ItemQuantity as ItemQuantitySchema,
	MediaGalleryChange as MediaGalleryChangeSchema,
	OrderCharges as OrderChargesSchema,
	ParcelTracking as ParcelTrackingSchema,
} from "./event-schemas.js";

export type ItemQuantity = Static<typeof ItemQuantitySchema>;
export type OrderCharges = Static<typeof OrderChargesSchema>;
export type ParcelTracking = Static<typeof ParcelTrackingSchema>;
/** A product's images as the media service has them after one change (see "media.*"). */
export type MediaGalleryChange = Static<typeof MediaGalleryChangeSchema>;
export type CancelReason = (typeof CANCEL_REASONS)[number];

/** Each event's payload, as lib/contracts/event-schemas.ts states it. */
export type EventPayloads = { [K in keyof typeof PAYLOAD_SCHEMAS]: Static<(typeof PAYLOAD_SCHEMAS)[K]> };

export type EventType = keyof EventPayloads;

export const TOPICS = {
	orders: "shop.orders",
	inventory: "shop.inventory",
	payments: "shop.payments",
	tickets: "shop.tickets",
	catalog: "shop.catalog",
	promotions: "shop.promotions",
	webhooks: "shop.webhooks",
	media: "shop.media",
	accounts: "shop.accounts",
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

interface EventDefinition {
	topic: Topic;
	/** The payload field whose value is the partition key. */
	key: string;
	summary: string;
	producer: string;
}

export const EVENTS: { [K in EventType]: EventDefinition } = {
	"order.placed": { topic: TOPICS.orders, key: "orderId", producer: "orders", summary: "A customer checked out; the order is pending." },
	"order.paid": { topic: TOPICS.orders, key: "orderId", producer: "orders", summary: "Stock was reserved and the payment captured." },
	"order.cancelled": { topic: TOPICS.orders, key: "orderId", producer: "orders", summary: "The order was cancelled; held stock must be released." },
	"order.shipped": { topic: TOPICS.orders, key: "orderId", producer: "orders", summary: "The order left the warehouse (its last parcel)." },
	"order.fulfilment-created": {
		topic: TOPICS.orders,
		key: "orderId",
		producer: "orders",
		summary: "A parcel of the order was shipped, with its carrier and tracking.",
	},
	"order.delivered": { topic: TOPICS.orders, key: "orderId", producer: "orders", summary: "The order reached the customer." },
	"order.refunded": { topic: TOPICS.orders, key: "orderId", producer: "orders", summary: "Money was returned for some or all of the order." },
	"stock.reserved": { topic: TOPICS.inventory, key: "orderId", producer: "products", summary: "Every line of the order is held." },
	"stock.rejected": { topic: TOPICS.inventory, key: "orderId", producer: "products", summary: "Some line could not be held; nothing is held." },
	"stock.changed": {
		topic: TOPICS.catalog,
		key: "productId",
		producer: "products",
		summary: "What can be bought of a product or a variant changed: an adjustment, or it ran out or came back.",
	},
	"product.created": { topic: TOPICS.catalog, key: "productId", producer: "products", summary: "A product was added to the catalog." },
	"product.updated": { topic: TOPICS.catalog, key: "productId", producer: "products", summary: "A product, its options or its variants changed." },
	"product.deleted": { topic: TOPICS.catalog, key: "productId", producer: "products", summary: "A product left the catalog." },
	"media.image-added": {
		topic: TOPICS.media,
		key: "productId",
		producer: "media",
		summary: "An image was uploaded for a product; the event carries the product's images.",
	},
	"media.image-updated": {
		topic: TOPICS.media,
		key: "productId",
		producer: "media",
		summary: "An image's alt text, position or variant changed; the event carries the product's images.",
	},
	"media.image-removed": {
		topic: TOPICS.media,
		key: "productId",
		producer: "media",
		summary: "An image (or every image of a deleted product) was removed; the event carries the product's images.",
	},
	"promotion.redeemed": { topic: TOPICS.promotions, key: "promotionId", producer: "pricing", summary: "An order used a promotion code." },
	"promotion.released": {
		topic: TOPICS.promotions,
		key: "promotionId",
		producer: "pricing",
		summary: "An order cancelled before payment gave its promotion back.",
	},
	"payment.captured": { topic: TOPICS.payments, key: "orderId", producer: "orders", summary: "The payment provider captured the order's total." },
	"payment.declined": { topic: TOPICS.payments, key: "orderId", producer: "orders", summary: "The payment provider declined the card." },
	"payment.refunded": { topic: TOPICS.payments, key: "orderId", producer: "orders", summary: "The payment provider refunded an amount." },
	"ticket.created": { topic: TOPICS.tickets, key: "ticketId", producer: "tickets", summary: "A customer opened a support ticket." },
	"ticket.replied": { topic: TOPICS.tickets, key: "ticketId", producer: "tickets", summary: "A message was added to a ticket." },
	"ticket.status_changed": { topic: TOPICS.tickets, key: "ticketId", producer: "tickets", summary: "A ticket's status changed." },
	"return.approved": { topic: TOPICS.tickets, key: "ticketId", producer: "tickets", summary: "An agent approved a return: refund and restock the items." },
	"return.rejected": { topic: TOPICS.tickets, key: "ticketId", producer: "tickets", summary: "An agent rejected a return." },
	"webhook.disabled": {
		topic: TOPICS.webhooks,
		key: "endpointId",
		producer: "webhooks",
		summary: "A webhook endpoint failed for too long and was disabled.",
	},
	"user.erasure-requested": {
		topic: TOPICS.accounts,
		key: "userId",
		producer: "users",
		summary: "An account is to be erased: each service erases or pseudonymises its data of the user, then acknowledges.",
	},
	"user.erasure-acknowledged": {
		topic: TOPICS.accounts,
		key: "userId",
		producer: "orders, tickets, notifications, pricing",
		summary: "A service erased what it held of a user.",
	},
};

export const EVENT_TYPES = Object.keys(EVENTS) as EventType[];

export function topicOf(type: EventType): Topic {
	return EVENTS[type].topic;
}

/** The envelope every event travels in, on any transport. */
export interface EventEnvelope<T extends EventType = EventType> {
	/** Unique id; consumers record it to apply each event once. */
	id: string;
	type: T;
	/** Partition key: the aggregate id. */
	key: string;
	/** The service that produced it. */
	source: string;
	occurredAt: string;
	/** The X-Request-ID of the request that caused it, when there was one. It is also the trace id. */
	requestId: string | null;
	/** The tracing span that produced it (optional), so the consumer's span joins that trace as its child. */
	spanId?: string | null;
	/** The W3C trace context of the span that produced it (optional; on Kafka also a message header). */
	traceparent?: string | null;
	/** The node that wrote it, which relays it from the outbox (lib/events/relay-owner.ts). */
	node?: string;
	payload: EventPayloads[T];
}

export type AnyEnvelope = { [K in EventType]: EventEnvelope<K> }[EventType];

/** A new event in its envelope: a fresh id, the key from its payload, the trace of its cause if any. */
export function newEnvelope<T extends EventType>(
	source: string,
	type: T,
	payload: EventPayloads[T],
	trace: { requestId: string | null; spanId?: string; traceparent?: string } = { requestId: null },
	/** The node that writes it: its relay publishes it (lib/events/relay-owner.ts). */
	node?: string,
): EventEnvelope<T> {
	const keyField = EVENTS[type].key as keyof EventPayloads[T];
	return {
		id: randomUUID(),
		type,
		key: String(payload[keyField]),
		source,
		occurredAt: new Date().toISOString(),
		...(node ? { node } : {}),
		...trace,
		payload,
	};
}

/** An event a write causes, before it has an envelope (the store puts it in one, in the document's outbox). */
export type DomainEvent = { [K in EventType]: { type: K; payload: EventPayloads[K] } }[EventType];

/** Typed shorthand for a `DomainEvent`. */
export function domainEvent<K extends EventType>(type: K, payload: EventPayloads[K]): DomainEvent {
	return { type, payload } as DomainEvent;
}
