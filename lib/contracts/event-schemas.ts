/**
 * The event payloads, each stated once as a TypeBox schema: the JSON Schema of the AsyncAPI
 * document (lib/events/asyncapi.ts) and, through `Static<>`, the payload types of
 * lib/contracts/events.ts (`EventPayloads`). A field added here is a type error wherever the event
 * is made until the producer fills it.
 */
import { Type } from "typebox";
import { closed as obj, nullable, oneOf, stringMap, stringOrNull } from "./typebox.js";

const s = Type.String;
const n = Type.Integer;
const b = Type.Boolean;
const opt = Type.Optional;
const list = Type.Array;
const dateTime = () => s({ format: "date-time" });

/** A line of an order as the saga moves it: a product, or one variant of it (`variantId` absent or null otherwise). */
export const ItemQuantity = obj({ productId: s(), variantId: opt(stringOrNull()), quantity: n() });
const items = list(ItemQuantity);

/** What an order charges, on `order.placed` and `order.paid` (absent on events of orders placed before pricing existed). */
export const OrderCharges = obj({
	subtotal: n(),
	discountTotal: n(),
	shippingTotal: n(),
	taxTotal: n(),
	promotion: nullable(obj({ code: s(), discount: n() })),
	shippingMethod: nullable(obj({ id: s(), name: s(), price: n() })),
});

/** A parcel's carrier and tracking, on `order.shipped`. */
export const ParcelTracking = obj({ carrier: stringOrNull(), trackingNumber: stringOrNull(), trackingUrl: stringOrNull() });

export const CANCEL_REASONS = [
	"out_of_stock",
	"payment_declined",
	"payment_expired",
	"reservation_expired",
	"cancelled_by_customer",
	"cancelled_by_admin",
] as const;

/**
 * A product's gallery changed (lib/media/gallery.ts): every media event carries the gallery as it
 * is after the change, and its `revision` (counted up by each change), so a consumer keeps the
 * highest revision it saw and duplicates or late arrivals change nothing.
 */
export const MediaGalleryChange = obj({
	productId: s(),
	imageId: s(),
	revision: n(),
	images: list(
		obj({
			id: s(),
			variantId: stringOrNull(),
			alt: stringMap(),
			position: n(),
			width: n(),
			height: n(),
			hash: s(),
		}),
	),
});

export const PAYLOAD_SCHEMAS = {
	"order.placed": obj({ orderId: s(), userId: s(), items, total: n(), currency: s(), charges: opt(OrderCharges) }),
	/** `placedAt` (optional): when the order was placed, for the checkout settle-time metric. */
	"order.paid": obj({ orderId: s(), userId: s(), items, total: n(), currency: s(), placedAt: opt(dateTime()), charges: opt(OrderCharges) }),
	"order.cancelled": obj({ orderId: s(), userId: s(), items, reason: oneOf(CANCEL_REASONS), refunded: b(), placedAt: opt(dateTime()) }),
	/** `tracking`: the parcels' tracking (absent on events from before fulfilments, empty when shipped without tracking). */
	"order.shipped": obj({ orderId: s(), userId: s(), tracking: opt(list(ParcelTracking)) }),
	/** One parcel of the order left: what it holds and its tracking; `orderStatus` says whether the order is now all shipped. */
	"order.fulfilment-created": obj({
		orderId: s(),
		userId: s(),
		fulfilmentId: s(),
		items: list(obj({ itemId: s(), productId: s(), variantId: stringOrNull(), quantity: n() })),
		carrier: stringOrNull(),
		trackingNumber: stringOrNull(),
		trackingUrl: stringOrNull(),
		shippedAt: dateTime(),
		orderStatus: oneOf(["partially_shipped", "shipped"]),
	}),
	"order.delivered": obj({ orderId: s(), userId: s() }),
	"order.refunded": obj({ orderId: s(), userId: s(), refundId: s(), amount: n(), currency: s(), reason: s(), items, full: b() }),
	"stock.reserved": obj({ orderId: s(), items }),
	"stock.rejected": obj({
		orderId: s(),
		reason: Type.Literal("out_of_stock"),
		unavailable: list(obj({ productId: s(), requested: n(), available: n(), variantId: opt(stringOrNull()) })),
	}),
	/**
	 * What can be bought of a product (or one of its variants) changed in a way search shows: an
	 * admin's adjustment, or units running out or coming back (a hold, a release, a restock).
	 * The product document has the figures.
	 */
	"stock.changed": obj({ productId: s(), variantId: stringOrNull() }),
	"product.created": obj({ productId: s() }),
	"product.updated": obj({ productId: s() }),
	"product.deleted": obj({ productId: s() }),
	"media.image-added": MediaGalleryChange,
	"media.image-updated": MediaGalleryChange,
	"media.image-removed": MediaGalleryChange,
	"promotion.redeemed": obj({ promotionId: s(), code: s(), orderId: s(), userId: s(), discount: n(), currency: s() }),
	"promotion.released": obj({ promotionId: s(), code: s(), orderId: s(), userId: s() }),
	"payment.captured": obj({ orderId: s(), userId: s(), paymentId: s(), amount: n(), currency: s(), brand: s(), last4: s() }),
	"payment.declined": obj({ orderId: s(), userId: s(), reason: s() }),
	"payment.refunded": obj({ orderId: s(), userId: s(), refundId: s(), amount: n(), currency: s() }),
	"ticket.created": obj({ ticketId: s(), userId: s(), type: s(), subject: s(), orderId: stringOrNull() }),
	"ticket.replied": obj({ ticketId: s(), userId: s(), messageId: s(), authorId: s(), authorRole: s() }),
	"ticket.status_changed": obj({ ticketId: s(), userId: s(), status: s() }),
	"return.approved": obj({ ticketId: s(), returnId: s(), userId: s(), orderId: s(), items }),
	"return.rejected": obj({ ticketId: s(), userId: s(), orderId: s(), reason: s() }),
	/** An outgoing webhook endpoint failed for too long and was switched off (an admin re-enables it). */
	"webhook.disabled": obj({ endpointId: s(), url: s(), failingSince: dateTime(), reason: s() }),
	/** A customer (or an admin for them) asked for their account to be erased: every service erases or pseudonymises what it holds of `userId`. */
	"user.erasure-requested": obj({ userId: s() }),
	/** `service` erased what it held of `userId` (the users service records each, and when all did). */
	"user.erasure-acknowledged": obj({ userId: s(), service: s() }),
};
