/**
 * Outgoing webhooks end to end, in-process: real shop events (products, checkouts, shipping) go to
 * real receivers, HTTP servers on 127.0.0.1 in this test (WEBHOOKS_ALLOW_PRIVATE_TARGETS=true), on
 * a short retry schedule and timeout. Signatures are checked with the Standard Webhooks library.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { ADMIN_ENV, admin, customer, eventually, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf, newProduct, settledOrder } from "../helpers/commerce.js";
import { TEST_CARDS } from "../../lib/payments/simulated.js";
import { currentBus } from "../../lib/events/registry.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";

const V1 = "/api/v1";

interface Received {
	headers: http.IncomingHttpHeaders;
	body: string;
	event: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
	answered: number;
}

/** A receiver that records every request and answers what `answer` says (null: never answers). */
class Receiver {
	readonly received: Received[] = [];
	answer: (event: Received["event"], nth: number) => number | null = () => 204;
	private readonly server = http.createServer((req, res) => {
		let body = "";
		req.on("data", (c: Buffer) => (body += c.toString()));
		req.on("end", () => {
			const event = JSON.parse(body) as Received["event"];
			const nth = this.received.filter(r => r.headers["webhook-id"] === req.headers["webhook-id"]).length;
			const status = this.answer(event, nth);
			this.received.push({ headers: req.headers, body, event, answered: status ?? 0 });
			if (status !== null) res.writeHead(status).end();
		});
	});
	private readonly sockets = new Set<Socket>();
	port = 0;

	async start(): Promise<this> {
		this.server.on("connection", s => {
			this.sockets.add(s);
			s.on("close", () => this.sockets.delete(s));
		});
		await new Promise<void>(resolve => this.server.listen(0, "127.0.0.1", resolve));
		this.port = (this.server.address() as AddressInfo).port;
		return this;
	}
	get url(): string {
		return `http://127.0.0.1:${this.port}/hooks`;
	}
	about(key: string, value: string): Received[] {
		return this.received.filter(r => r.event.data[key] === value);
	}
	close(): Promise<void> {
		for (const s of this.sockets) s.destroy();
		return new Promise(resolve => this.server.close(() => resolve()));
	}
}

let shop: TestShop;
let boss: Account;
const receivers: Receiver[] = [];
const busEvents: EventEnvelope[] = [];

async function receiver(): Promise<Receiver> {
	const r = await new Receiver().start();
	receivers.push(r);
	return r;
}

async function endpoint(r: Receiver, events: string[]): Promise<{ id: string; secret: string }> {
	const res = await boss.http.post(`${V1}/webhooks`, { url: r.url, events, description: "test receiver" });
	expect(res.status, JSON.stringify(res.body)).toBe(201);
	return res.body;
}

async function deliveries(endpointId: string): Promise<any[]> {
	const res = await boss.http.get(`${V1}/webhooks/${endpointId}/deliveries?pageSize=100`);
	expect(res.status).toBe(200);
	return res.body.rows;
}

const headersOf = (r: Received) => ({
	"webhook-id": String(r.headers["webhook-id"]),
	"webhook-timestamp": String(r.headers["webhook-timestamp"]),
	"webhook-signature": String(r.headers["webhook-signature"]),
});

beforeAll(async () => {
	shop = await startShop({
		services: ["users", "api", "products", "orders", "pricing", "webhooks"],
		env: {
			...ADMIN_ENV,
			WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true",
			WEBHOOK_RETRY_SCHEDULE: "0.2,0.2,0.2,0.2,0.2",
			WEBHOOK_TIMEOUT_MS: "800",
			WEBHOOK_POLL_MS: "100",
			WEBHOOK_DISABLE_AFTER_SECONDS: "1.5",
		},
	});
	boss = await admin(shop);
	await currentBus(shop.broker)!.subscribe("webhooks-test-observer", ["webhook.disabled"], async e => void busEvents.push(e));
});
afterAll(async () => {
	await shop?.stop();
	await Promise.all(receivers.map(r => r.close()));
});

describe("webhook endpoints (admin API)", () => {
	it("answer the secret once at creation, never in lists; refuse bad input with 422 naming the field; admins only", async () => {
		const r = await receiver();
		const created = await endpoint(r, ["product.created"]);
		expect(created.secret).toMatch(/^whsec_/);
		const list = await boss.http.get(`${V1}/webhooks`);
		expect(list.status).toBe(200);
		expect(list.body.rows.some((e: { id: string }) => e.id === created.id)).toBe(true);
		expect(JSON.stringify(list.body)).not.toContain(created.secret.slice(6));

		const bad = [
			{ url: "ftp://example.com/x", events: ["*"] },
			{ url: r.url, events: ["user.password_changed"] },
			{ url: r.url, events: ["*", "order.paid"] },
			{ url: r.url, events: [] },
		];
		for (const body of bad) {
			const res = await boss.http.post(`${V1}/webhooks`, body);
			expect(res.status, JSON.stringify(body)).toBe(422);
			expect(fieldsOf(res.body).length, JSON.stringify(res.body)).toBeGreaterThan(0);
		}
		const shopper = await customer(shop);
		expect((await shopper.http.post(`${V1}/webhooks`, { url: r.url, events: ["*"] })).status).toBe(403);
		expect((await shopper.http.get(`${V1}/webhooks`)).status).toBe(403);
	});
});

describe("webhook deliveries", () => {
	it("are signed per Standard Webhooks and carry the public event only", async () => {
		const r = await receiver();
		const hook = await endpoint(r, ["product.created"]);
		const product = await newProduct(boss);
		const [got] = await eventually(async () => (r.about("productId", product.id).length > 0 ? r.about("productId", product.id) : undefined));
		const verified = new Webhook(hook.secret).verify(got!.body, headersOf(got!)) as Received["event"];
		expect(verified).toEqual({ id: expect.any(String), type: "product.created", timestamp: expect.any(String), data: { productId: product.id } });
		expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`).verify(got!.body, headersOf(got!))).toThrow();
		const log = await eventually(async () => {
			const rows = (await deliveries(hook.id)).filter(d => d.eventId === verified.id);
			return rows[0]?.state === "delivered" ? rows : undefined;
		});
		expect(log).toHaveLength(1);
		expect(log[0]).toMatchObject({ webhookId: got!.headers["webhook-id"], eventType: "product.created", state: "delivered" });
		expect(log[0].attempts).toEqual([{ at: expect.any(String), status: 204, durationMs: expect.any(Number), error: null }]);
	});

	it("reach a receiver that answered 500 three times on the fourth try, with the same webhook-id; a manual retry sends it again", async () => {
		const r = await receiver();
		r.answer = (_event, nth) => (nth < 3 ? 500 : 200);
		const hook = await endpoint(r, ["product.created"]);
		const product = await newProduct(boss);
		const tries = await eventually(async () =>
			r.about("productId", product.id).some(x => x.answered === 200) ? r.about("productId", product.id) : undefined,
		);
		expect(tries.map(t => t.answered)).toEqual([500, 500, 500, 200]);
		expect(new Set(tries.map(t => t.headers["webhook-id"])).size).toBe(1);
		for (const t of tries) expect(() => new Webhook(hook.secret).verify(t.body, headersOf(t))).not.toThrow();
		const [delivery] = await eventually(async () => {
			const rows = await deliveries(hook.id);
			return rows[0]?.state === "delivered" ? rows : undefined;
		});
		expect(delivery.attempts.map((a: { status: number }) => a.status)).toEqual([500, 500, 500, 200]);

		const retried = await boss.http.post(`${V1}/webhooks/${hook.id}/deliveries/${delivery.id}/retry`);
		expect(retried.status, JSON.stringify(retried.body)).toBe(200);
		await eventually(async () => (r.about("productId", product.id).length === 5 ? true : undefined));
		expect(r.about("productId", product.id)[4]!.headers["webhook-id"]).toBe(delivery.webhookId);
		expect((await boss.http.post(`${V1}/webhooks/${hook.id}/deliveries/00000000-0000-4000-8000-000000000000/retry`)).status).toBe(404);
	});

	it("time out a receiver that hangs, and try again", async () => {
		const r = await receiver();
		r.answer = (_event, nth) => (nth === 0 ? null : 200);
		const hook = await endpoint(r, ["product.created"]);
		const product = await newProduct(boss);
		const [delivery] = await eventually(async () => {
			const rows = await deliveries(hook.id);
			return rows[0]?.state === "delivered" ? rows : undefined;
		});
		expect(delivery.attempts).toHaveLength(2);
		expect(delivery.attempts[0]).toMatchObject({ status: null, error: "timed out after 800 ms" });
		expect(delivery.attempts[1]).toMatchObject({ status: 200, error: null });
		expect(r.about("productId", product.id)).toHaveLength(2);
	});

	it("keep their order per order: a retried order.placed is never overtaken by that order's later events", async () => {
		const r = await receiver();
		// Every order.placed fails twice: its order.paid and order.shipped come while it waits for its retry.
		r.answer = (event, nth) => (event.type === "order.placed" && nth < 2 ? 503 : 200);
		await endpoint(r, ["order.placed", "order.paid", "order.shipped"]);
		const product = await newProduct(boss, { stock: 50 });
		const shopper = await customer(shop);
		const orderIds: string[] = [];
		for (let i = 0; i < 3; i++) {
			expect((await shopper.http.post(`${V1}/cart/items`, { productId: product.id, quantity: 1 })).status).toBe(200);
			const placed = await shopper.http.post(
				`${V1}/orders`,
				{
					shippingAddress: { name: "Ann", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" },
					payment: { method: "card", cardNumber: TEST_CARDS.approved, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" },
				},
				{ "idempotency-key": `webhook-order-${i}-${Date.now()}` },
			);
			expect(placed.status, JSON.stringify(placed.body)).toBe(202);
			orderIds.push(placed.body.id);
		}
		for (const id of orderIds) {
			expect((await settledOrder(shopper, id)).status).toBe("paid");
			expect((await boss.http.post(`${V1}/orders/${id}/ship`)).status).toBe(200);
		}
		for (const id of orderIds) {
			const got = await eventually(
				async () => {
					const about = r.about("orderId", id);
					return about.filter(x => x.answered === 200).length === 3 ? about : undefined;
				},
				15_000,
				`order ${id}'s three events`,
			);
			expect(got.map(x => `${x.event.type} ${x.answered}`)).toEqual([
				"order.placed 503",
				"order.placed 503",
				"order.placed 200",
				"order.paid 200",
				"order.shipped 200",
			]);
		}
	});

	it("after a secret rotation are signed with the new and the old secret", async () => {
		const r = await receiver();
		const hook = await endpoint(r, ["product.updated"]);
		const rotated = await boss.http.post(`${V1}/webhooks/${hook.id}/rotate-secret`);
		expect(rotated.status).toBe(200);
		expect(rotated.body.secret).toMatch(/^whsec_/);
		expect(rotated.body.secret).not.toBe(hook.secret);
		const product = await newProduct(boss);
		expect((await boss.http.patch(`${V1}/products/${product.id}`, { name: "Renamed" })).status).toBe(200);
		const [got] = await eventually(async () => (r.about("productId", product.id).length > 0 ? r.about("productId", product.id) : undefined));
		expect(String(got!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
		expect(() => new Webhook(rotated.body.secret).verify(got!.body, headersOf(got!))).not.toThrow();
		expect(() => new Webhook(hook.secret).verify(got!.body, headersOf(got!))).not.toThrow();
	});

	it("never reach a disabled endpoint", async () => {
		const off = await receiver();
		const on = await receiver();
		const hook = await endpoint(off, ["product.created"]);
		await endpoint(on, ["product.created"]);
		const patched = await boss.http.patch(`${V1}/webhooks/${hook.id}`, { enabled: false });
		expect(patched.status).toBe(200);
		expect(patched.body.enabled).toBe(false);
		const product = await newProduct(boss);
		await eventually(async () => (on.about("productId", product.id).length > 0 ? true : undefined));
		// Given the time the enabled one needed and a few poll periods more, the disabled one still has nothing.
		await new Promise(resolve => setTimeout(resolve, 500));
		expect(off.received).toEqual([]);
	});

	it("switch an endpoint off after it failed for the whole period (WEBHOOK_DISABLE_AFTER_SECONDS), with a webhook.disabled event", async () => {
		const r = await receiver();
		r.answer = () => 500;
		const hook = await endpoint(r, ["product.deleted"]);
		const sent = await boss.http.post(`${V1}/webhooks/${hook.id}/test`);
		expect(sent.status, JSON.stringify(sent.body)).toBe(202);
		expect(sent.body).toMatchObject({ eventType: "webhook.test", state: "pending" });
		const endpointNow = await eventually(
			async () => {
				await boss.http.post(`${V1}/webhooks/${hook.id}/test`);
				const rows = (await boss.http.get(`${V1}/webhooks?pageSize=100`)).body.rows as { id: string; enabled: boolean; disabledReason: string }[];
				const me = rows.find(e => e.id === hook.id)!;
				return me.enabled ? undefined : me;
			},
			15_000,
			"the endpoint to be disabled",
			300,
		);
		expect(endpointNow.disabledReason).toMatch(/failed since/);
		await eventually(async () => (busEvents.some(e => (e.payload as { endpointId: string }).endpointId === hook.id) ? true : undefined));
		expect(r.received.every(x => x.event.type === "webhook.test")).toBe(true);
		const count = r.received.length;
		await boss.http.post(`${V1}/webhooks/${hook.id}/test`);
		await new Promise(resolve => setTimeout(resolve, 500));
		expect(r.received.length).toBe(count);
	});
});

describe("webhook delivery log", () => {
	it("forgets finished deliveries past the retention, never pending ones", async () => {
		const r = await receiver();
		r.answer = event => (event.type === "webhook.test" ? 500 : 204);
		const hook = await endpoint(r, ["product.created"]);
		const product = await newProduct(boss);
		await eventually(async () => ((await deliveries(hook.id)).some(d => d.state === "delivered") ? true : undefined));
		expect((await boss.http.post(`${V1}/webhooks/${hook.id}/test`)).status).toBe(202);
		await eventually(async () => ((await deliveries(hook.id)).some(d => d.eventType === "webhook.test" && d.attempts.length > 0) ? true : undefined));
		const service = shop.broker.getLocalService("webhooks") as unknown as { deliveries: { forgetFinishedBefore(cutoff: string): Promise<number> } };
		// A cutoff in the past keeps everything; one in the future removes what is finished, and keeps what is still being retried.
		expect(await service.deliveries.forgetFinishedBefore("2000-01-01T00:00:00.000Z")).toBe(0);
		expect(await service.deliveries.forgetFinishedBefore(new Date(Date.now() + 60_000).toISOString())).toBeGreaterThanOrEqual(1);
		const left = await deliveries(hook.id);
		expect(left.map(d => [d.eventType, d.state])).toEqual([["webhook.test", "pending"]]);
		expect(r.about("productId", product.id)).toHaveLength(1);
	});
});
