/**
 * The webhook endpoint and what happens when webhooks are late, lost, repeated, out of order or
 * forged. The simulated service here delivers nothing by itself (SIMULATED_WEBHOOK_DROP): each
 * test sends the webhooks it needs, signed as the service signs them, or relies on the
 * reconciliation (PAYMENT_RECONCILE_AFTER_SECONDS=2) and the expiry (PAYMENT_SESSION_TTL_SECONDS=5).
 */
import type { Service } from "moleculer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { stockOf } from "../helpers/commerce.js";
import { SIM_SECRET, confirmCard, eventId, postWebhook, sessionCheckout, signedEvent, type SimulatedEvent } from "../helpers/payments.js";
import { TEST_CARDS, type LedgerEntry } from "../../lib/payments/simulated.js";
import type { SandboxSession, SimulatedSessions } from "../../lib/payments/simulated-sessions.js";
import type { ProcessedPaymentEvent } from "../../services/orders/payment-sessions.js";
import type { StoredOrder } from "../../services/orders/order-store.js";
import type { Collection } from "../../lib/store/index.js";
import { defineService } from "../../lib/broker/service.js";
import { EventsMixin } from "../../mixins/events.mixin.js";
import { DbMixin } from "../../mixins/db.mixin.js";

const V1 = "/api/v1";
const RECONCILE_AFTER_S = 2;
let shop: TestShop;
let adm: Account;
const seen = new Map<string, string[]>();

type OrdersService = Service & {
	collection<T extends { _id: string }>(n: string): Collection<T>;
	simulated: SimulatedSessions;
	sweep: { run(): Promise<void> };
};
const orders = () => shop.broker.getLocalService("orders") as OrdersService;
const ledger = async (sessionId: string) =>
	(
		await orders()
			.collection<LedgerEntry>("sandbox_ledger")
			.find({ query: { id: sessionId } })
	).length;
const eventsOf = (orderId: string) => seen.get(orderId) ?? [];
const count = (orderId: string, type: string) => eventsOf(orderId).filter(t => t === type).length;

beforeAll(async () => {
	shop = await startShop({
		services: ["users", "api", "products", "orders", "pricing"],
		env: {
			...ADMIN_ENV,
			SIMULATED_WEBHOOK_SECRET: SIM_SECRET,
			SIMULATED_WEBHOOK_DROP: "true",
			PAYMENT_RECONCILE_AFTER_SECONDS: String(RECONCILE_AFTER_S),
			PAYMENT_SESSION_TTL_SECONDS: "5",
		},
	});
	shop.broker.createService(
		defineService<Service>({
			name: "paymentprobe",
			mixins: [DbMixin({ seen: {} }), EventsMixin()],
			integrationEvents: Object.fromEntries(
				["order.paid", "payment.captured", "order.cancelled"].map(type => [
					type,
					async (event: { payload: { orderId: string } }) => void seen.set(event.payload.orderId, [...eventsOf(event.payload.orderId), type]),
				]),
			),
		}),
	);
	await shop.broker.waitForServices(["paymentprobe"]);
	adm = await admin(shop);
});
afterAll(async () => {
	await shop?.stop();
});

const orderOf = (acc: Account, id: string) => acc.http.get(`${V1}/orders/${id}`).then(r => r.body);
const storedOrder = (id: string) => orders().collection<StoredOrder>("orders").findById(id);
const until = (acc: Account, id: string, check: (o: any) => boolean, what: string, ms = 15_000) =>
	eventually(
		async () => {
			const o = await orderOf(acc, id);
			return check(o) ? o : undefined;
		},
		ms,
		what,
	);

/** The session's event as the simulated service would send it. */
async function sessionEvent(sessionId: string, type: string, id = eventId()) {
	const object = await orders().simulated.retrieveSession(sessionId);
	return { id, type, created: Math.floor(Date.now() / 1000), data: { object: object as unknown as Record<string, unknown> } };
}

/** An order whose card is authorized at the provider and whose stock is held; no webhook sent. */
async function authorizedOrder(acc: Account) {
	const { order, product } = await sessionCheckout(acc, adm);
	await eventually(async () => ((await storedOrder(order.id))?.payment.session?.stockReserved ? true : undefined), 5000, "stock held");
	expect((await confirmCard(order.payment.confirmUrl, TEST_CARDS.approved)).body.status).toBe("authorized");
	return { order, product };
}

describe("payment webhooks", () => {
	it("the race: a client's poll, the same webhook 50 times at once and the sweeps → one capture, one order.paid, paid", async () => {
		const ann = await customer(shop, "Ann");
		const { order } = await authorizedOrder(ann);
		const { body, headers } = signedEvent(await sessionEvent(order.payment.sessionId, "payment_intent.amount_capturable_updated"));
		// Everything at the moment the webhook is overdue, so the poll and the sweep ask the provider too.
		const due = Date.parse(order.createdAt) + RECONCILE_AFTER_S * 1000 + 50;
		await new Promise(r => setTimeout(r, Math.max(0, due - Date.now())));
		const answers = await Promise.all([
			...Array.from({ length: 50 }, () => postWebhook(shop, "simulated", body, headers).then(r => r.status)),
			ann.http.get(`${V1}/orders/${order.id}`).then(r => r.status),
			// Every node may sweep: several sweeps at the same moment.
			...Array.from({ length: 5 }, () =>
				orders()
					.sweep.run()
					.then(() => 200),
			),
		]);
		expect(answers.every(s => s === 200)).toBe(true);
		const paid = await until(ann, order.id, o => o.status === "paid", "paid");
		expect(paid.payment.status).toBe("captured");
		expect(await ledger(order.payment.sessionId)).toBe(1);
		await eventually(async () => (count(order.id, "order.paid") > 0 ? true : undefined), 5000, "order.paid");
		await new Promise(r => setTimeout(r, 500));
		expect(count(order.id, "order.paid")).toBe(1);
		expect(count(order.id, "payment.captured")).toBe(1);
		const stored = await orders()
			.collection<ProcessedPaymentEvent>("payment_events")
			.find({ query: { orderId: order.id } });
		expect(stored).toHaveLength(1);
	});

	it("a lost webhook: the order is paid within the reconciliation window anyway", async () => {
		const ann = await customer(shop, "Ann");
		const { order } = await authorizedOrder(ann);
		// No webhook is ever delivered; nobody polls. The sweep asks the provider once the window has passed.
		const paid = await eventually(
			async () => {
				const o = await storedOrder(order.id);
				return o?.status === "paid" ? o : undefined;
			},
			(RECONCILE_AFTER_S + 5) * 1000,
			"paid by reconciliation",
		);
		expect(paid.payment.status).toBe("captured");
		expect(await ledger(order.payment.sessionId)).toBe(1);
	});

	it("a session opened but not recorded on the order (node died between): matched by the order id in its metadata", async () => {
		const ann = await customer(shop, "Ann");
		const { order } = await authorizedOrder(ann);
		await orders()
			.collection<StoredOrder>("orders")
			.updateWhere(
				{ _id: order.id },
				{
					$set: {
						"payment.session.sessionId": null,
						"payment.session.clientSecret": null,
						"payment.session.confirmUrl": null,
						"payment.authorizationId": null,
					},
				},
			);
		const { body, headers } = signedEvent(await sessionEvent(order.payment.sessionId, "payment_intent.amount_capturable_updated"));
		const res = await postWebhook(shop, "simulated", body, headers);
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ received: true, applied: true });
		const paid = await until(ann, order.id, o => o.status === "paid", "paid");
		expect(paid.payment.sessionId).toBe(order.payment.sessionId);
		expect(await ledger(order.payment.sessionId)).toBe(1);
	});

	it("webhooks out of order (the capture before the authorization, then both again) end paid, once", async () => {
		const ann = await customer(shop, "Ann");
		const { order } = await authorizedOrder(ann);
		const authorizedEvent = await sessionEvent(order.payment.sessionId, "payment_intent.amount_capturable_updated");
		const capturedEvent = {
			...authorizedEvent,
			id: eventId(),
			type: "payment_intent.succeeded",
			data: { object: { ...authorizedEvent.data.object, status: "captured" } },
		};
		const deliver = async (e: SimulatedEvent) => {
			const { body, headers } = signedEvent(e);
			expect((await postWebhook(shop, "simulated", body, headers)).status).toBe(200);
		};
		await deliver(capturedEvent);
		// The capture alone settles it (the authorization's event is late); the late one moves nothing back.
		expect(await storedOrder(order.id)).toMatchObject({ status: "paid", payment: { status: "captured" } });
		for (const e of [authorizedEvent, capturedEvent, authorizedEvent]) await deliver(e);
		expect(await storedOrder(order.id)).toMatchObject({ status: "paid", payment: { status: "captured" } });
		const paid = await until(ann, order.id, o => o.status === "paid", "paid");
		expect(paid.payment.status).toBe("captured");
		await eventually(async () => (count(order.id, "order.paid") > 0 ? true : undefined), 5000, "order.paid");
		expect(count(order.id, "order.paid")).toBe(1);
	});

	it("a forged signature, a replayed old event and a body changed after signing are 400 and change nothing", async () => {
		const ann = await customer(shop, "Ann");
		const { order } = await authorizedOrder(ann);
		const event = await sessionEvent(order.payment.sessionId, "payment_intent.amount_capturable_updated");
		const forged = signedEvent(event, `whsec_${Buffer.from("someone-else-entirely-0123456789").toString("base64")}`);
		const old = signedEvent(event, SIM_SECRET, new Date(Date.now() - 10 * 60_000));
		const good = signedEvent(event);
		const tampered = good.body.replace(`"amount":${order.total}`, `"amount":1`);
		expect(tampered).not.toBe(good.body);
		const unsigned = { "webhook-id": event.id, "webhook-timestamp": String(Math.floor(Date.now() / 1000)) };
		for (const [body, headers] of [
			[forged.body, forged.headers],
			[old.body, old.headers],
			[tampered, good.headers],
			[good.body, unsigned],
		] as const) {
			const res = await postWebhook(shop, "simulated", body, headers);
			expect(res.status).toBe(400);
			expect(await res.json()).toMatchObject({ code: 400, type: "INVALID_SIGNATURE" });
		}
		const stored = await storedOrder(order.id);
		expect(stored).toMatchObject({ status: "pending", payment: { status: "requires_confirmation" } });
		expect(
			await orders()
				.collection<ProcessedPaymentEvent>("payment_events")
				.find({ query: { orderId: order.id } }),
		).toHaveLength(0);
		expect(await ledger(order.payment.sessionId)).toBe(0);
		// The genuine one still works afterwards.
		expect((await postWebhook(shop, "simulated", good.body, good.headers)).status).toBe(200);
		await until(ann, order.id, o => o.status === "paid", "paid");
	});

	it("forgets applied event ids older than PAYMENT_EVENTS_RETENTION_DAYS (30) on the sweep; a younger one is kept and still applied once", async () => {
		const ann = await customer(shop, "Ann");
		const { order } = await authorizedOrder(ann);
		const sessionId = order.payment.sessionId as string;
		const applied = orders().collection<ProcessedPaymentEvent>("payment_events");
		const authorization = await sessionEvent(sessionId, "payment_intent.amount_capturable_updated");
		const sent = signedEvent(authorization);
		expect(await (await postWebhook(shop, "simulated", sent.body, sent.headers)).json()).toEqual({ received: true, applied: true });
		await until(ann, order.id, o => o.status === "paid", "paid");
		// Two events of this order applied long ago: 31 days (past the retention) and 29 days (within it).
		const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
		const [old, young] = [eventId(), eventId()];
		await applied.insert({ _id: `simulated:${old}`, orderId: order.id, type: "payment_intent.succeeded", at: daysAgo(31) });
		await applied.insert({ _id: `simulated:${young}`, orderId: order.id, type: "payment_intent.succeeded", at: daysAgo(29) });

		await orders().sweep.run();
		expect(await applied.findById(`simulated:${old}`)).toBeNull();
		expect(await applied.findById(`simulated:${young}`)).not.toBeNull();
		expect(await applied.findById(`simulated:${authorization.id}`)).not.toBeNull();

		// The provider delivers the kept ones again (newly signed, as its retries are): still applied only once.
		const captured = await sessionEvent(sessionId, "payment_intent.succeeded");
		for (const event of [authorization, { ...captured, id: young }]) {
			const again = signedEvent(event);
			expect(await (await postWebhook(shop, "simulated", again.body, again.headers)).json()).toEqual({ received: true, applied: false });
		}
		// The forgotten one, were it ever delivered again, is applied and changes nothing: the payment only moves forward.
		const late = signedEvent({ ...captured, id: old });
		expect(await (await postWebhook(shop, "simulated", late.body, late.headers)).json()).toEqual({ received: true, applied: true });
		const after = await storedOrder(order.id);
		expect(after).toMatchObject({ status: "paid", payment: { status: "captured", captured: order.total } });
		await new Promise(r => setTimeout(r, 300));
		expect(count(order.id, "order.paid")).toBe(1);
		expect(await ledger(sessionId)).toBe(1);
	});

	it("acknowledges (2xx) an event naming no order of this shop, and 404s an unknown provider", async () => {
		const event = {
			id: eventId(),
			type: "payment_intent.succeeded",
			created: Math.floor(Date.now() / 1000),
			data: { object: { sessionId: "sim_pi_elsewhere", orderId: "not-ours", status: "captured", amount: 1, currency: "EUR", refunds: [] } },
		};
		const { body, headers } = signedEvent(event);
		const res = await postWebhook(shop, "simulated", body, headers);
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ received: true, applied: false });
		expect((await postWebhook(shop, "stripe", body, headers)).status).toBe(404);
	});

	it("expiry: not confirmed within the TTL → cancelled payment_expired, holds released, session cancelled", async () => {
		const ann = await customer(shop, "Ann");
		const { order, product } = await sessionCheckout(ann, adm, { stock: 4, quantity: 3 });
		await eventually(async () => ((await stockOf(adm, product.id)).available === 1 ? true : undefined), 5000, "hold");
		const expired = await until(ann, order.id, o => o.status === "cancelled" && o.payment.status === "expired", "expired", 12_000);
		expect(expired.statusHistory.at(-1)).toMatchObject({ status: "cancelled", reason: "payment_expired" });
		await eventually(async () => ((await stockOf(adm, product.id)).available === 4 ? true : undefined), 5000, "released");
		const session = await orders().collection<SandboxSession>("sandbox_sessions").findById(order.payment.sessionId);
		expect(session?.status).toBe("canceled");
		expect((await confirmCard(order.payment.confirmUrl, TEST_CARDS.approved)).body.status).not.toBe("authorized");
		expect(await ledger(order.payment.sessionId)).toBe(0);
	});
});
