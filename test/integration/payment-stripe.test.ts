/**
 * A shop configured for Stripe (no Stripe call is needed here: these are refused before one).
 * The adapter's calls themselves are tested against stripe-mock in test/cluster/stripe.test.ts.
 */
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, startShop, type TestShop } from "../helpers/shop.js";
import { newProduct } from "../helpers/commerce.js";
import { ADDRESS, YEAR, postWebhook } from "../helpers/payments.js";
import { TEST_CARDS } from "../../lib/payments/simulated.js";
import { captureLogs } from "../helpers/logs.js";

const V1 = "/api/v1";
const SECRET_KEY = "sk_test_never_in_a_log_51Habc";
const WEBHOOK_SECRET = "whsec_never_in_a_log_0123456789";
let shop: TestShop;
let logs: ReturnType<typeof captureLogs>;

beforeAll(async () => {
	logs = captureLogs();
	shop = await startShop({
		services: ["users", "api", "products", "orders", "pricing"],
		env: {
			...ADMIN_ENV,
			LOG_LEVEL: "debug",
			PAYMENT_PROVIDER: "stripe",
			STRIPE_SECRET_KEY: SECRET_KEY,
			STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
			// Nothing listens here: nothing in this file may reach Stripe.
			STRIPE_API_BASE: "http://127.0.0.1:9",
		},
	});
});
afterAll(async () => {
	await shop?.stop();
	logs?.stop();
});

describe("with PAYMENT_PROVIDER=stripe", () => {
	it("refuses a checkout body with a card number: 422 naming payment", async () => {
		const adm = await admin(shop);
		const ann = await customer(shop, "Ann");
		const product = await newProduct(adm, { stock: 3 });
		await ann.http.post(`${V1}/cart/items`, { productId: product.id, quantity: 1 });
		const payment = { method: "card", cardNumber: TEST_CARDS.approved, expMonth: 12, expYear: YEAR, cvc: "123" };
		const res = await ann.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment }, { "idempotency-key": "stripe-card-1" });
		expect(res.status).toBe(422);
		expect(res.body.data.map((p: { field: string }) => p.field)).toEqual(["payment"]);
		expect((await ann.http.get(`${V1}/orders`)).body.total).toBe(0);
	});

	it("has no simulated confirmation page", async () => {
		expect((await fetch(`${shop.baseUrl}${V1}/payments/simulated/sessions/sim_pi_x?client_secret=y`)).status).toBe(404);
	});

	it("answers 400 to a Stripe webhook with a bad, an old or no signature, 2xx to a good one naming no order", async () => {
		const stripe = new Stripe("sk_test_x");
		const payload = JSON.stringify({
			id: "evt_x",
			object: "event",
			type: "payment_intent.succeeded",
			data: { object: { id: "pi_x", object: "payment_intent", status: "succeeded", amount: 100, currency: "eur", metadata: { orderId: "elsewhere" } } },
		});
		const sign = (secret: string, timestamp?: number) => ({ "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }) });
		expect((await postWebhook(shop, "stripe", payload, sign("whsec_forged"))).status).toBe(400);
		expect((await postWebhook(shop, "stripe", payload, sign(WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 400))).status).toBe(400);
		expect((await postWebhook(shop, "stripe", payload, {})).status).toBe(400);
		expect((await postWebhook(shop, "stripe", payload.replace("100", "1"), sign(WEBHOOK_SECRET))).status).toBe(400);
		const good = await postWebhook(shop, "stripe", payload, sign(WEBHOOK_SECRET));
		expect(good.status).toBe(200);
		expect(await good.json()).toEqual({ received: true, applied: false });
		expect((await postWebhook(shop, "simulated", payload, sign(WEBHOOK_SECRET))).status).toBe(404);
	});

	it("never logs the secret key or the webhook secret", () => {
		expect(logs.lines.length).toBeGreaterThan(0);
		for (const line of logs.lines) {
			expect(line).not.toContain(SECRET_KEY);
			expect(line).not.toContain(WEBHOOK_SECRET);
		}
	});
});
