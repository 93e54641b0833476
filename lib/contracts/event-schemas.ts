/** JSON Schemas of the event payloads (lib/contracts/events.ts). A test checks they cover every event and field. */
import type { EventType } from "./events.js";

type Schema = Record<string, unknown>;
const s: Schema = { type: "string" };
const n: Schema = { type: "integer" };
const b: Schema = { type: "boolean" };
const nullableString: Schema = { type: ["string", "null"] };
const nullableId: Schema = { type: ["string", "null"] };
const items: Schema = {
	type: "array",
	items: {
		type: "object",
		properties: { productId: s, variantId: nullableId, quantity: n },
		required: ["productId", "quantity"],
		additionalProperties: false,
	},
};
const obj = (properties: Record<string, Schema>, optional: Record<string, Schema> = {}): Schema => ({
	type: "object",
	properties: { ...properties, ...optional },
	required: Object.keys(properties),
	additionalProperties: false,
});
const tracking = obj({ carrier: nullableString, trackingNumber: nullableString, trackingUrl: nullableString });
const placedAt = { placedAt: { type: "string", format: "date-time" } };
const charges = {
	charges: obj({
		subtotal: n,
		discountTotal: n,
		shippingTotal: n,
		taxTotal: n,
		promotion: { anyOf: [obj({ code: s, discount: n }), { type: "null" }] },
		shippingMethod: { anyOf: [obj({ id: s, name: s, price: n }), { type: "null" }] },
	}),
};

const galleryChange = obj({
	productId: s,
	imageId: s,
	revision: n,
	images: {
		type: "array",
		items: obj({
			id: s,
			variantId: nullableId,
			alt: { type: "object", additionalProperties: s },
			position: n,
			width: n,
			height: n,
			hash: s,
		}),
	},
});

export const PAYLOAD_SCHEMAS: { [K in EventType]: Schema } = {
	"order.placed": obj({ orderId: s, userId: s, items, total: n, currency: s }, charges),
	"order.paid": obj({ orderId: s, userId: s, items, total: n, currency: s }, { ...placedAt, ...charges }),
	"order.cancelled": obj(
		{
			orderId: s,
			userId: s,
			items,
			reason: {
				type: "string",
				enum: ["out_of_stock", "payment_declined", "payment_expired", "reservation_expired", "cancelled_by_customer", "cancelled_by_admin"],
			},
			refunded: b,
		},
		placedAt,
	),
	"order.shipped": obj({ orderId: s, userId: s }, { tracking: { type: "array", items: tracking } }),
	"order.fulfilment-created": obj({
		orderId: s,
		userId: s,
		fulfilmentId: s,
		items: { type: "array", items: obj({ itemId: s, productId: s, variantId: nullableId, quantity: n }) },
		carrier: nullableString,
		trackingNumber: nullableString,
		trackingUrl: nullableString,
		shippedAt: { type: "string", format: "date-time" },
		orderStatus: { type: "string", enum: ["partially_shipped", "shipped"] },
	}),
	"order.delivered": obj({ orderId: s, userId: s }),
	"order.refunded": obj({ orderId: s, userId: s, refundId: s, amount: n, currency: s, reason: s, items, full: b }),
	"stock.reserved": obj({ orderId: s, items }),
	"stock.rejected": obj({
		orderId: s,
		reason: { type: "string", const: "out_of_stock" },
		unavailable: { type: "array", items: obj({ productId: s, requested: n, available: n }, { variantId: nullableId }) },
	}),
	"stock.changed": obj({ productId: s, variantId: nullableId }),
	"product.created": obj({ productId: s }),
	"product.updated": obj({ productId: s }),
	"product.deleted": obj({ productId: s }),
	"media.image-added": galleryChange,
	"media.image-updated": galleryChange,
	"media.image-removed": galleryChange,
	"promotion.redeemed": obj({ promotionId: s, code: s, orderId: s, userId: s, discount: n, currency: s }),
	"promotion.released": obj({ promotionId: s, code: s, orderId: s, userId: s }),
	"payment.captured": obj({ orderId: s, userId: s, paymentId: s, amount: n, currency: s, brand: s, last4: s }),
	"payment.declined": obj({ orderId: s, userId: s, reason: s }),
	"payment.refunded": obj({ orderId: s, userId: s, refundId: s, amount: n, currency: s }),
	"ticket.created": obj({ ticketId: s, userId: s, type: s, subject: s, orderId: nullableString }),
	"ticket.replied": obj({ ticketId: s, userId: s, messageId: s, authorId: s, authorRole: s }),
	"ticket.status_changed": obj({ ticketId: s, userId: s, status: s }),
	"return.approved": obj({ ticketId: s, returnId: s, userId: s, orderId: s, items }),
	"return.rejected": obj({ ticketId: s, userId: s, orderId: s, reason: s }),
	"webhook.disabled": obj({ endpointId: s, url: s, failingSince: { type: "string", format: "date-time" }, reason: s }),
	"user.erasure-requested": obj({ userId: s }),
	"user.erasure-acknowledged": obj({ userId: s, service: s }),
};
