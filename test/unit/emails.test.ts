/** Emails and the address book: pure rules (content, templates, retries, defaults). */
import { describe, expect, it } from "vitest";
import { accountEmail, emailId, eventEmail, messageIdOf, retryDelayMs, unsubscribeHeaders, unsubscribeLinks } from "../../lib/domain/emails.js";
import { renderEmail } from "../../lib/notify/index.js";
import { MAX_ADDRESSES, AddressBookFull, addAddress, removeAddress, updateAddress, type AddressEntry } from "../../lib/domain/addresses.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";

const shop = { shopName: "Shop & Co", publicUrl: "https://shop.example" };
const paid: EventEnvelope<"order.paid"> = {
	id: "e1",
	type: "order.paid",
	key: "o1",
	source: "orders",
	occurredAt: "2026-01-02T10:00:00.000Z",
	requestId: null,
	payload: {
		orderId: "order-123456789",
		userId: "u1",
		items: [{ productId: "p1", quantity: 2 }],
		total: 4088,
		currency: "EUR",
		charges: {
			subtotal: 3998,
			discountTotal: 400,
			shippingTotal: 490,
			taxTotal: 700,
			promotion: { code: "TEN", discount: 400 },
			shippingMethod: { id: "s", name: "Standard", price: 490 },
		},
	},
};
const summary = {
	id: "order-123456789",
	userId: "u1",
	status: "paid" as const,
	total: 4088,
	currency: "EUR",
	createdAt: "2026-01-02T09:59:00.000Z",
	items: [{ itemId: "p1", productId: "p1", variantId: null, options: null, sku: "S", name: "<img src=x onerror=alert(1)>", quantity: 2, unitPrice: 1999 }],
};

describe("email content and templates", () => {
	it("a paid order in Spanish: totals in the Spanish way, every person's value escaped in HTML and kept in text", () => {
		const content = eventEmail(paid, { name: "<b>Ana</b>", language: "es-ES" }, summary, shop, "https://shop.example/unsubscribe?token=t")!;
		const { subject, html, text } = renderEmail(content);
		expect(subject).toBe("Pago recibido · Shop & Co");
		expect(html).toContain("&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;");
		expect(html).not.toMatch(/<img|<b>Ana/);
		expect(html).toContain("Shop &amp; Co");
		expect(text).toContain("2 × <img src=x onerror=alert(1)>");
		expect(text).toContain("Descuento (TEN): -4,00\u00a0€");
		expect(text).toContain("Envío (Standard): 4,90\u00a0€");
		expect(text).toContain("Impuestos (incluidos): 7,00\u00a0€");
		expect(text).toContain("Total: 40,88\u00a0€");
		expect(text).toContain("2 de enero de 2026");
		expect(text).toContain("https://shop.example/unsubscribe?token=t");
	});

	it("a shipped order lists each parcel with carrier, tracking number and link, in the recipient's language; only http(s) links become links", () => {
		const shipped: EventEnvelope<"order.shipped"> = {
			...paid,
			id: "e2",
			type: "order.shipped",
			payload: {
				orderId: "order-123456789",
				userId: "u1",
				tracking: [
					{ carrier: "dhl", trackingNumber: "JD01", trackingUrl: "https://dhl.example/t?a=1&id=JD01" },
					{ carrier: "other", trackingNumber: "<X1>", trackingUrl: "javascript:alert(1)" },
				],
			},
		};
		const es = renderEmail(eventEmail(shipped, { name: "Ana", language: "es" }, null, shop, "https://shop.example/unsubscribe?token=t")!);
		expect(es.subject).toBe("Pedido enviado · Shop & Co");
		expect(es.text).toContain("Tus 2 paquetes:\n- DHL JD01: https://dhl.example/t?a=1&id=JD01\n- Otro transportista <X1>\n");
		expect(es.html).toContain('<a href="https://dhl.example/t?a&#x3D;1&amp;id&#x3D;JD01"');
		expect(es.html).toContain("&lt;X1&gt;");
		expect(es.html).not.toMatch(/javascript:|<X1>/);
		expect(es.html).toContain("Seguir el paquete");
		// The sentence does not repeat the tracking the table shows.
		expect(es.text).toContain("El pedido order-12 está en camino.\n");
		expect(es.text).not.toContain("Seguimiento");

		const parcel: EventEnvelope<"order.fulfilment-created"> = {
			...paid,
			id: "e3",
			type: "order.fulfilment-created",
			payload: {
				orderId: "order-123456789",
				userId: "u1",
				fulfilmentId: "f1",
				items: [],
				carrier: "ups",
				trackingNumber: "1Z9",
				trackingUrl: "https://ups.example/1Z9",
				shippedAt: "2026-01-03T10:00:00.000Z",
				orderStatus: "partially_shipped",
			},
		};
		const en = renderEmail(eventEmail(parcel, { name: "Jo", language: "en" }, null, shop, "https://shop.example/unsubscribe?token=t")!);
		expect(en.subject).toBe("Part of your order shipped · Shop & Co");
		expect(en.text).toContain("Your parcel:\n- UPS 1Z9: https://ups.example/1Z9\n");
		// The last parcel sends no email of its own: order.shipped tells of every parcel.
		const last = { ...parcel, payload: { ...parcel.payload, orderStatus: "shipped" as const } };
		expect(eventEmail(last, { name: "Jo", language: "en" }, null, shop, "u")).toBeNull();
		// Shipped without tracking: no parcel table.
		const bare = { ...shipped, payload: { orderId: "o", userId: "u1", tracking: [] } };
		expect(renderEmail(eventEmail(bare, { name: "Jo", language: "en" }, null, shop, "u")!).html).not.toContain("Track parcel");
	});

	it("account emails carry their link and no unsubscribe footer", () => {
		const { text, html } = renderEmail(
			accountEmail("password_reset", { name: "Jo", language: "en" }, "https://shop.example/reset-password?token=abc", shop),
		);
		expect(text).toContain("Choose a new password: https://shop.example/reset-password?token=abc");
		expect(html).not.toContain("Unsubscribe");
	});

	it("ids, Message-ID and unsubscribe headers", () => {
		expect(emailId("e1", "u1")).toBe(emailId("e1", "u1"));
		expect(emailId("e1", "u1")).not.toBe(emailId("e1", "u2"));
		expect(messageIdOf("abc", "https://shop.example:8443")).toBe("<abc@shop.example>");
		const links = unsubscribeLinks("https://shop.example", "a.b");
		expect(unsubscribeHeaders(links.oneClick)).toEqual({
			"List-Unsubscribe": "<https://shop.example/api/v1/email/unsubscribe?token=a.b>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		});
	});

	it("retries follow the schedule, then stop", () => {
		expect([1, 2, 3].map(a => retryDelayMs(a, [5, 15]))).toEqual([5000, 15000, null]);
	});
});

describe("address book rules", () => {
	const at = "2026-01-01T00:00:00.000Z";
	const input = { name: "A", line1: "L", city: "C", postalCode: "1", country: "DE" };
	const defaults = (l: AddressEntry[]) => l.filter(a => a.isDefault).map(a => a.id);

	it("the first is the default; a new default replaces it; removing the default passes it on", () => {
		let list = addAddress([], input, "a", at);
		list = addAddress(list, input, "b", at);
		expect(defaults(list)).toEqual(["a"]);
		list = updateAddress(list, "b", { isDefault: true }, at)!;
		expect(defaults(list)).toEqual(["b"]);
		list = removeAddress(list, "b")!;
		expect(defaults(list)).toEqual(["a"]);
		expect(updateAddress(list, "zz", {}, at)).toBeNull();
		expect(removeAddress(list, "zz")).toBeNull();
	});

	it(`holds at most ${MAX_ADDRESSES}`, () => {
		let list: AddressEntry[] = [];
		for (let i = 0; i < MAX_ADDRESSES; i++) list = addAddress(list, input, `a${i}`, at);
		expect(() => addAddress(list, input, "x", at)).toThrow(AddressBookFull);
	});
});
