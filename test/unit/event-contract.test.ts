/**
 * The AsyncAPI document must say exactly what the typed event module sends. One sample payload
 * per event, typed as that event's payload (so the type checker rejects a sample that lacks a
 * field or has one too many), is validated against the published JSON Schema (which rejects a
 * field it does not know or misses one it requires). The payload types are derived from the same
 * schemas (lib/contracts/event-schemas.ts), so this checks that what the document publishes and
 * what the type checker enforces are one shape.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES, EVENTS, TOPICS, type EventEnvelope, type EventPayloads, type EventType } from "../../lib/contracts/events.js";
import { buildAsyncApi } from "../../lib/events/asyncapi.js";

const items = [
	{ productId: "p1", quantity: 2 },
	{ productId: "p2", variantId: "v1", quantity: 1 },
];
const charges = {
	subtotal: 1100,
	discountTotal: 110,
	shippingTotal: 490,
	taxTotal: 236,
	promotion: { code: "WELCOME10", discount: 110 },
	shippingMethod: { id: "s1", name: "Standard", price: 490 },
};
const SAMPLES: { [K in EventType]: EventPayloads[K] } = {
	"order.placed": { orderId: "o1", userId: "u1", items, total: 1480, currency: "EUR", charges },
	"order.paid": { orderId: "o1", userId: "u1", items, total: 1480, currency: "EUR", placedAt: "2026-01-01T00:00:00.000Z", charges },
	"order.cancelled": { orderId: "o1", userId: "u1", items, reason: "payment_declined", refunded: false, placedAt: "2026-01-01T00:00:00.000Z" },
	"order.shipped": {
		orderId: "o1",
		userId: "u1",
		tracking: [{ carrier: "dhl", trackingNumber: "JD0001", trackingUrl: "https://www.dhl.com/x?tracking-id=JD0001" }],
	},
	"order.fulfilment-created": {
		orderId: "o1",
		userId: "u1",
		fulfilmentId: "f1",
		items: [{ itemId: "v1", productId: "p2", variantId: "v1", quantity: 1 }],
		carrier: "other",
		trackingNumber: "X1",
		trackingUrl: "https://track.example/X1",
		shippedAt: "2026-01-01T00:00:00.000Z",
		orderStatus: "partially_shipped",
	},
	"order.delivered": { orderId: "o1", userId: "u1" },
	"order.refunded": { orderId: "o1", userId: "u1", refundId: "r1", amount: 500, currency: "EUR", reason: "return", items, full: false },
	"stock.reserved": { orderId: "o1", items },
	"stock.rejected": { orderId: "o1", reason: "out_of_stock", unavailable: [{ productId: "p1", variantId: "v1", requested: 2, available: 1 }] },
	"stock.changed": { productId: "p1", variantId: "v1" },
	"product.created": { productId: "p1" },
	"product.updated": { productId: "p1" },
	"product.deleted": { productId: "p1" },
	"media.image-added": {
		productId: "p1",
		imageId: "i1",
		revision: 1,
		images: [{ id: "i1", variantId: null, alt: { en: "A mug" }, position: 0, width: 800, height: 600, hash: "ab12" }],
	},
	"media.image-updated": {
		productId: "p1",
		imageId: "i1",
		revision: 2,
		images: [{ id: "i1", variantId: "v1", alt: {}, position: 0, width: 800, height: 600, hash: "ab12" }],
	},
	"media.image-removed": { productId: "p1", imageId: "i1", revision: 3, images: [] },
	"promotion.redeemed": { promotionId: "pr1", code: "WELCOME10", orderId: "o1", userId: "u1", discount: 110, currency: "EUR" },
	"promotion.released": { promotionId: "pr1", code: "WELCOME10", orderId: "o1", userId: "u1" },
	"payment.captured": { orderId: "o1", userId: "u1", paymentId: "pay1", amount: 1000, currency: "EUR", brand: "visa", last4: "4242" },
	"payment.declined": { orderId: "o1", userId: "u1", reason: "card_declined" },
	"payment.refunded": { orderId: "o1", userId: "u1", refundId: "r1", amount: 500, currency: "EUR" },
	"ticket.created": { ticketId: "t1", userId: "u1", type: "inquiry", subject: "Hello", orderId: null },
	"ticket.replied": { ticketId: "t1", userId: "u1", messageId: "m1", authorId: "a1", authorRole: "agent" },
	"ticket.status_changed": { ticketId: "t1", userId: "u1", status: "resolved" },
	"return.approved": { ticketId: "t1", returnId: "ret1", userId: "u1", orderId: "o1", items },
	"return.rejected": { ticketId: "t1", userId: "u1", orderId: "o1", reason: "too late" },
	"webhook.disabled": { endpointId: "w1", url: "https://erp.example.com/hooks", failingSince: "2026-01-01T00:00:00.000Z", reason: "failing for 3 days" },
	"user.erasure-requested": { userId: "u1" },
	"user.erasure-acknowledged": { userId: "u1", service: "orders" },
};

const doc = buildAsyncApi() as {
	asyncapi: string;
	channels: Record<string, { address: string; messages: Record<string, unknown> }>;
	components: { messages: Record<string, { payload: object; headers: object }> };
};
const ajv = new Ajv2020({ strict: false, allErrors: true });
// ajv-formats is CommonJS with its function on `default`.
(formats as unknown as { default: (a: Ajv2020) => void }).default(ajv);

describe("AsyncAPI document", () => {
	it("is AsyncAPI 3 with one channel per topic and every event in its topic's channel", () => {
		expect(doc.asyncapi).toBe("3.0.0");
		expect(Object.keys(doc.channels).sort()).toEqual(Object.values(TOPICS).sort());
		for (const t of EVENT_TYPES) expect(Object.keys(doc.channels[EVENTS[t].topic]!.messages)).toContain(t);
		expect(Object.keys(doc.components.messages).sort()).toEqual([...EVENT_TYPES].sort());
	});

	it.each(EVENT_TYPES)("%s: the envelope of a typed sample validates against the published schema", type => {
		const payload = SAMPLES[type];
		const envelope: EventEnvelope = {
			id: "e1",
			type,
			key: String((payload as Record<string, unknown>)[EVENTS[type].key]),
			source: EVENTS[type].producer,
			occurredAt: "2026-01-01T00:00:00.000Z",
			requestId: "r1",
			spanId: null,
			payload,
		} as EventEnvelope;
		const validate = ajv.compile(doc.components.messages[type]!.payload);
		expect(validate(envelope), JSON.stringify(validate.errors)).toBe(true);
	});

	it.each(EVENT_TYPES)("%s: the schema refuses a payload missing a field or carrying an unknown one", type => {
		const validate = ajv.compile(doc.components.messages[type]!.payload);
		const base = { id: "e1", type, key: "k", source: EVENTS[type].producer, occurredAt: "2026-01-01T00:00:00.000Z", requestId: null };
		const extra = { ...SAMPLES[type], unexpected: 1 };
		expect(validate({ ...base, payload: extra })).toBe(false);
		const [first] = Object.keys(SAMPLES[type]);
		const missing: Record<string, unknown> = { ...SAMPLES[type] };
		delete missing[first!];
		expect(validate({ ...base, payload: missing })).toBe(false);
	});
});
