import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
	decideFulfilment,
	FulfilmentInputError,
	FulfilmentStatusError,
	remainingByItem,
	trackingUrlFor,
	type FulfillableOrder,
	type Fulfilment,
} from "../../lib/domain/fulfilment.js";
import type { OrderRecord } from "../../lib/domain/orders.js";
import { fulfilled, shipped } from "../../lib/domain/order-fulfilment.js";
import { notificationFor, trackingLines } from "../../lib/domain/notifications.js";
import type { AnyEnvelope } from "../../lib/contracts/events.js";

const AT = "2026-01-01T00:00:00.000Z";
const order = (over: Partial<FulfillableOrder> = {}): FulfillableOrder => ({
	_id: "o1",
	userId: "u1",
	status: "paid",
	items: [
		{ itemId: "a", productId: "a", variantId: null, quantity: 3 },
		{ itemId: "v1", productId: "b", variantId: "v1", quantity: 1 },
	],
	fulfilments: [],
	...over,
});
const parcelOfOneA: Fulfilment = { id: "f0", items: [{ itemId: "a", quantity: 1 }], carrier: null, trackingNumber: null, trackingUrl: null, shippedAt: AT };
const dhl = { carrier: "dhl" as const, trackingNumber: "JD014600006281230704" };

/** Apply decisions one after the other, as the store would. */
function ship(o: FulfillableOrder, ...requests: Parameters<typeof decideFulfilment>[1][]): FulfillableOrder {
	let current = o;
	requests.forEach((r, i) => {
		const d = decideFulfilment(current, r, `f${i}`, AT);
		current = { ...current, status: d.status, fulfilments: [...(current.fulfilments ?? []), d.fulfilment] };
	});
	return current;
}

function problemsOf(fn: () => unknown): string[] {
	try {
		fn();
	} catch (err) {
		if (err instanceof FulfilmentInputError) return err.problems.map(p => p.field);
		throw err;
	}
	return [];
}

describe("fulfilment", () => {
	it("ships in parts: partially_shipped until every unit left, then shipped with order.shipped carrying every parcel's tracking", () => {
		const first = decideFulfilment(order(), { ...dhl, items: [{ itemId: "a", quantity: 2 }] }, "f1", AT);
		expect(first.status).toBe("partially_shipped");
		expect(first.fulfilment).toEqual({
			id: "f1",
			items: [{ itemId: "a", quantity: 2 }],
			carrier: "dhl",
			trackingNumber: dhl.trackingNumber,
			trackingUrl: `https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id=${dhl.trackingNumber}`,
			shippedAt: AT,
		});
		expect(first.events.map(e => e.type)).toEqual(["order.fulfilment-created"]);
		const afterFirst = { ...order(), status: "partially_shipped", fulfilments: [first.fulfilment] };
		expect(remainingByItem(afterFirst)).toEqual([
			{ itemId: "a", quantity: 1 },
			{ itemId: "v1", quantity: 1 },
		]);
		const last = decideFulfilment(afterFirst, { carrier: "other", trackingNumber: "X-1", trackingUrl: "https://track.example/X-1" }, "f2", AT);
		expect(last.status).toBe("shipped");
		expect(last.fulfilment.items).toEqual([
			{ itemId: "a", quantity: 1 },
			{ itemId: "v1", quantity: 1 },
		]);
		expect(last.events.map(e => e.type)).toEqual(["order.fulfilment-created", "order.shipped"]);
		expect(last.events[1]!.payload).toMatchObject({
			tracking: [
				{ carrier: "dhl", trackingNumber: dhl.trackingNumber },
				{ carrier: "other", trackingNumber: "X-1", trackingUrl: "https://track.example/X-1" },
			],
		});
	});

	it("never ships more of a line than ordered, whatever the sequence of parcels (property)", () => {
		fc.assert(
			fc.property(fc.array(fc.tuple(fc.constantFrom("a", "v1", "zz"), fc.integer({ min: 1, max: 4 })), { maxLength: 12 }), asks => {
				let current = order();
				for (const [itemId, quantity] of asks) {
					try {
						current = ship(current, { ...dhl, items: [{ itemId, quantity }] });
					} catch (err) {
						if (!(err instanceof FulfilmentInputError)) throw err;
					}
				}
				const shipped = new Map<string, number>();
				for (const f of current.fulfilments ?? []) for (const l of f.items) shipped.set(l.itemId, (shipped.get(l.itemId) ?? 0) + l.quantity);
				expect(shipped.get("a") ?? 0).toBeLessThanOrEqual(3);
				expect(shipped.get("v1") ?? 0).toBeLessThanOrEqual(1);
				expect(shipped.has("zz")).toBe(false);
				const all = (shipped.get("a") ?? 0) === 3 && (shipped.get("v1") ?? 0) === 1;
				expect(current.status).toBe(all ? "shipped" : (current.fulfilments ?? []).length ? "partially_shipped" : "paid");
			}),
		);
	});

	it("refuses with 422 naming the field: too many, a line named twice beyond what is left, an unknown line, other without a URL, nothing left", () => {
		expect(problemsOf(() => decideFulfilment(order(), { ...dhl, items: [{ itemId: "a", quantity: 4 }] }, "f", AT))).toEqual(["items[0].quantity"]);
		expect(
			problemsOf(() =>
				decideFulfilment(
					order(),
					{
						...dhl,
						items: [
							{ itemId: "a", quantity: 2 },
							{ itemId: "a", quantity: 2 },
						],
					},
					"f",
					AT,
				),
			),
		).toEqual(["items[1].quantity"]);
		expect(problemsOf(() => decideFulfilment(order(), { ...dhl, items: [{ itemId: "nope", quantity: 1 }] }, "f", AT))).toEqual(["items[0].itemId"]);
		expect(problemsOf(() => decideFulfilment(order(), { carrier: "other", trackingNumber: "1" }, "f", AT))).toEqual(["trackingUrl"]);
		const all = ship(order(), dhl);
		expect(all.status).toBe("shipped");
		expect(problemsOf(() => decideFulfilment(all, dhl, "f", AT))).toEqual(["items"]);
	});

	it("refuses with 409 an order that is not paid (pending, cancelled, delivered, refunded)", () => {
		for (const status of ["pending", "cancelled", "delivered", "refunded"])
			expect(() => decideFulfilment(order({ status }), dhl, "f", AT), status).toThrow(FulfilmentStatusError);
	});

	it("expects the order's status and parcel count: two parcels decided on one reading cannot both be written", () => {
		const d = decideFulfilment(order({ status: "partially_shipped", fulfilments: [parcelOfOneA] }), dhl, "f", AT);
		expect(d.expect).toEqual({ status: "partially_shipped", "fulfilments.1": { $exists: false } });
	});

	it("builds each carrier's tracking URL with the number encoded; an explicit URL wins", () => {
		expect(trackingUrlFor("ups", "1Z 999")).toBe("https://www.ups.com/track?tracknum=1Z%20999");
		expect(trackingUrlFor("fedex", "123")).toBe("https://www.fedex.com/fedextrack/?trknbr=123");
		expect(trackingUrlFor("gls", "123")).toBe("https://gls-group.com/track/123");
		expect(trackingUrlFor("correos", "PK1")).toContain("tracking-number=PK1");
		expect(trackingUrlFor("dhl", "1", "https://mine.example/1")).toBe("https://mine.example/1");
		expect(trackingUrlFor("other", "1")).toBeNull();
	});

	it("the v1 ship step is one parcel of everything left, without tracking, moving the status once", () => {
		const o = { ...order(), shippingAddress: {}, payment: {}, refunds: [], statusHistory: [] } as unknown as OrderRecord;
		const change = shipped(o, AT, "f1");
		expect(change.set).toEqual({ status: "shipped", updatedAt: AT });
		expect(change.history).toEqual({ status: "shipped", at: AT });
		expect(change.fulfilment).toMatchObject({ carrier: null, trackingNumber: null, trackingUrl: null });
		const partial = decideFulfilment(o, { ...dhl, items: [{ itemId: "a", quantity: 1 }] }, "f2", AT);
		const again = fulfilled({ ...o, status: "partially_shipped" }, { ...partial, status: "partially_shipped" }, AT);
		expect(again.history).toBeUndefined();
		expect(again.set).toEqual({ updatedAt: AT });
	});

	it("notifies a partial parcel with its tracking link, and the last one through order.shipped only", () => {
		const envelope = (type: string, payload: object) =>
			({ id: "e", type, key: "o1", source: "orders", occurredAt: AT, requestId: null, payload }) as AnyEnvelope;
		const partial = decideFulfilment(order(), { ...dhl, items: [{ itemId: "a", quantity: 1 }] }, "f1", AT).events[0]!;
		const note = notificationFor(envelope(partial.type, partial.payload), "en")!;
		expect(note.body).toContain(`https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id=${dhl.trackingNumber}`);
		const last = decideFulfilment(order(), dhl, "f1", AT).events;
		expect(notificationFor(envelope(last[0]!.type, last[0]!.payload), "en")).toBeNull();
		const shippedNote = notificationFor(envelope(last[1]!.type, last[1]!.payload), "es")!;
		expect(shippedNote.body).toContain("Seguimiento: DHL JD014600006281230704: https://www.dhl.com/");
		expect(trackingLines([{ carrier: null, trackingNumber: null, trackingUrl: null }])).toEqual([]);
	});
});
