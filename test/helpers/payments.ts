/** Payment-session steps for in-process tests: a session checkout, the simulated confirmation page, signed webhooks. */
import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { Webhook } from "standardwebhooks";
import type { Account, TestShop } from "./shop.js";
import { newProduct } from "./commerce.js";

const V1 = "/api/v1";
let keys = 0;

export const ADDRESS = { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };
export const YEAR = new Date().getUTCFullYear() + 3;
/** A fixed Standard Webhooks secret, so a test can sign (and forge) the simulated provider's webhooks. */
export const SIM_SECRET = `whsec_${Buffer.from("simulated-provider-test-secret-0123").toString("base64")}`;

export async function sessionCheckout(acc: Account, adm: Account, over: { price?: number; stock?: number; quantity?: number } = {}) {
	const product = await newProduct(adm, { price: over.price ?? 1500, stock: over.stock ?? 10 });
	const added = await acc.http.post(`${V1}/cart/items`, { productId: product.id, quantity: over.quantity ?? 1 });
	expect(added.status, JSON.stringify(added.body)).toBe(200);
	const res = await acc.http.post(
		`${V1}/orders`,
		{ shippingAddress: ADDRESS, payment: { method: "session" } },
		{ "idempotency-key": `session-${process.pid}-${++keys}` },
	);
	expect(res.status, JSON.stringify(res.body)).toBe(202);
	return { order: res.body, product };
}

/** The customer types a card on the simulated provider's page (JSON POST to confirmUrl). */
export async function confirmCard(confirmUrl: string, cardNumber: string) {
	const url = new URL(confirmUrl);
	const res = await fetch(`${url.origin}${url.pathname}`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ client_secret: url.searchParams.get("client_secret"), cardNumber, expMonth: 12, expYear: YEAR, cvc: "123" }),
	});
	return { status: res.status, body: (await res.json()) as { status: string; declineReason?: string | null } };
}

export interface SimulatedEvent {
	id: string;
	type: string;
	created: number;
	data: { object: Record<string, unknown> };
}

/** A simulated-provider event as its service would send it, signed with `secret` at `at`. */
export function signedEvent(event: SimulatedEvent, secret = SIM_SECRET, at = new Date()) {
	const body = JSON.stringify(event);
	const id = event.id;
	const headers = {
		"webhook-id": id,
		"webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
		"webhook-signature": new Webhook(secret).sign(id, at, body),
	};
	return { body, headers };
}

export function postWebhook(shop: TestShop, provider: string, body: string, headers: Record<string, string>) {
	return fetch(`${shop.baseUrl}${V1}/payments/webhooks/${provider}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

export const eventId = () => `evt_test_${randomBytes(8).toString("hex")}`;
