/**
 * Webhooks in the real cluster (NATS, FerretDB, Kafka): a slow receiver on 127.0.0.1 in this test
 * process gets one `product.created` per product made through the gateway. The webhooks node is
 * killed with SIGKILL while deliveries are in flight, products keep coming while it is down, and
 * it is started again. Afterwards every product's event was acknowledged by the receiver, and
 * every copy of one delivery (sent again after the kill) carries the same `webhook-id`.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { skipWithoutInfra } from "./infra.js";
import { poll, sleep, startCluster, type NodeSpec, type TestCluster } from "../helpers/cluster.js";
import { admin, type TestShop } from "../helpers/shop.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"]);

const LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "products", services: ["products"] },
	{ name: "webhooks", services: ["webhooks"] },
	{ name: "api", services: ["api"] },
];
const V1 = "/api/v1";
const PRODUCTS = 40;
/** The receiver takes this long to answer: deliveries are in flight when the node dies. */
const ANSWER_AFTER_MS = 150;

interface Hit {
	webhookId: string;
	productId: string;
	answered: boolean;
	valid: boolean;
}

describe.skipIf(skip)("webhooks: the webhooks node killed mid-delivery", () => {
	let cluster: TestCluster;
	let shop: TestShop;
	let server: http.Server;
	const sockets = new Set<Socket>();
	const hits: Hit[] = [];
	let secret = "";

	beforeAll(async () => {
		server = http.createServer((req, res) => {
			let body = "";
			req.on("data", (c: Buffer) => (body += c.toString()));
			req.on("end", () => {
				const headers = {
					"webhook-id": String(req.headers["webhook-id"]),
					"webhook-timestamp": String(req.headers["webhook-timestamp"]),
					"webhook-signature": String(req.headers["webhook-signature"]),
				};
				let valid = true;
				try {
					new Webhook(secret).verify(body, headers);
				} catch {
					valid = false;
				}
				const hit: Hit = { webhookId: headers["webhook-id"], productId: String(JSON.parse(body).data?.productId), answered: false, valid };
				hits.push(hit);
				setTimeout(() => {
					if (res.destroyed) return;
					res.writeHead(204).end();
					hit.answered = true;
				}, ANSWER_AFTER_MS);
			});
		});
		server.on("connection", s => {
			sockets.add(s);
			s.on("close", () => sockets.delete(s));
		});
		await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
		cluster = await startCluster({
			name: "webhooks",
			nodes: LAYOUT,
			env: {
				WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true",
				WEBHOOK_TIMEOUT_MS: "2000",
				WEBHOOK_RETRY_SCHEDULE: "0.5,1,1,1,1,1,1,1",
				WEBHOOK_POLL_MS: "200",
				WEBHOOK_CONCURRENCY: "2",
			},
		});
		shop = cluster.asShop();
	}, 180_000);

	afterAll(async () => {
		await cluster?.stop();
		for (const s of sockets) s.destroy();
		await new Promise(resolve => server?.close(resolve));
	}, 60_000);

	it("delivers every event after the node comes back, duplicates with the same webhook-id", async () => {
		const boss = await admin(shop);
		const port = (server.address() as AddressInfo).port;
		const created = await boss.http.post(`${V1}/webhooks`, { url: `http://127.0.0.1:${port}/hooks`, events: ["product.created"] });
		expect(created.status, JSON.stringify(created.body)).toBe(201);
		secret = created.body.secret;

		const tag = randomUUID().slice(0, 6).toUpperCase();
		const productIds: string[] = [];
		const makeProduct = async (i: number) => {
			const res = await boss.http.post(`${V1}/products`, { sku: `WH-${tag}-${i}`, name: `Hooked ${i}`, price: 1000, currency: "EUR", stock: 1 });
			expect(res.status, JSON.stringify(res.body)).toBe(201);
			productIds.push(res.body.id);
		};
		for (let i = 0; i < PRODUCTS / 2; i++) await makeProduct(i);
		// Some deliveries are in flight (the receiver holds each for a while): kill the node now.
		await poll(async () => (hits.some(h => !h.answered) ? true : undefined), 30_000, "a delivery in flight", 20);
		const inFlightAtKill = hits.filter(h => !h.answered).length;
		await cluster.kill("webhooks");
		for (let i = PRODUCTS / 2; i < PRODUCTS; i++) await makeProduct(i);
		await sleep(1000);
		cluster.spawn("webhooks");
		await cluster.waitNodeReady("webhooks");

		const t0 = Date.now();
		await poll(
			async () => {
				const acked = new Set(hits.filter(h => h.answered).map(h => h.productId));
				return productIds.every(id => acked.has(id)) ? true : undefined;
			},
			90_000,
			"every product's event acknowledged",
			250,
		);
		const byProduct = new Map<string, Set<string>>();
		for (const h of hits) byProduct.set(h.productId, (byProduct.get(h.productId) ?? new Set()).add(h.webhookId));
		for (const id of productIds) expect(byProduct.get(id)?.size, `webhook-ids of product ${id}`).toBe(1);
		expect(hits.every(h => h.valid)).toBe(true);
		const duplicates = hits.length - new Set(hits.map(h => h.webhookId)).size;
		console.log(
			`webhooks cluster: ${PRODUCTS} events, ${hits.length} requests, ${duplicates} sent again after the kill (${inFlightAtKill} in flight at the kill), all acknowledged ${Date.now() - t0} ms after the restart was ready`,
		);
	}, 240_000);
});
