/**
 * The shop as a real cluster: one process per service (two `products` nodes), on NATS, Kafka and
 * MongoDB (FerretDB). Through the gateway, the whole contract: identity, catalog, cart, checkout
 * to `paid` and a declined card to `cancelled`, a ticket with its order, a return approved and
 * refunded, notifications, a variant sold with a promotion code, shipping and tax. Then, from the
 * outside: the order's events (with its charges, and the code's use) are really on Kafka (kcat),
 * and both `products` nodes serve requests and consume partitions.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mongoose from "mongoose";
import { INFRA, skipWithoutInfra } from "./infra.js";
import { groupAssignments, kcat, poll, startCluster, type NodeSpec, type TestCluster } from "../helpers/cluster.js";
import { admin, customer, login, withRoles, type Account, type TestShop } from "../helpers/shop.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"], ["kcat"]);

const LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "products-1", services: ["products"] },
	{ name: "products-2", services: ["products"] },
	{ name: "orders", services: ["orders", "pricing"] },
	{ name: "tickets", services: ["tickets"] },
	{ name: "notifications", services: ["notifications"] },
	{ name: "api", services: ["api"] },
];

const V1 = "/api/v1";
const APPROVED = "4242424242424242";
const DECLINED = "4000000000000002";
const ADDRESS = { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };
const payment = (cardNumber: string) => ({ method: "card", cardNumber, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" });

describe.skipIf(skip)("the shop as a cluster of processes", () => {
	let cluster: TestCluster;
	let shop: TestShop;
	let boss: Account;
	let ann: Account;
	const tag = randomUUID().slice(0, 6).toUpperCase();
	const products: Record<string, { id: string; price: number; stock: number }> = {};
	let paidOrderId = "";
	const checkoutRequestId = `req-cluster-${randomUUID()}`;

	beforeAll(async () => {
		cluster = await startCluster({ name: "flow", nodes: LAYOUT });
		shop = cluster.asShop();
	}, 180_000);

	afterAll(async () => {
		await cluster?.stop();
	}, 60_000);

	async function orderIn(acc: Account, id: string, wanted: string[], timeoutMs = 30_000) {
		return poll(
			async () => {
				const o = await acc.http.get(`${V1}/orders/${id}`);
				return wanted.includes(o.body?.status) ? o.body : undefined;
			},
			timeoutMs,
			`order ${id} to be ${wanted.join(" or ")}`,
		);
	}

	async function checkout(acc: Account, lines: [string, number][], cardNumber: string, headers: Record<string, string> = {}) {
		for (const [productId, quantity] of lines) {
			const added = await acc.http.post(`${V1}/cart/items`, { productId, quantity });
			expect(added.status, JSON.stringify(added.body)).toBe(200);
		}
		const res = await acc.http.post(
			`${V1}/orders`,
			{ shippingAddress: ADDRESS, payment: payment(cardNumber) },
			{ "idempotency-key": randomUUID(), ...headers },
		);
		expect(res.status, JSON.stringify(res.body)).toBe(202);
		expect(res.body.status).toBe("pending");
		return res.body as { id: string; total: number };
	}

	it("identity and the gateway, across processes", async () => {
		expect((await shop.http.get("/api/health")).status).toBe(200);
		const ready = await shop.http.get("/api/ready");
		expect(ready.status).toBe(200);
		expect(ready.body).toEqual({ status: "ready", failing: [] });
		// The detailed report is the operator's, on the node's metrics port.
		const detail = (await (await fetch(`http://127.0.0.1:${cluster.node("api").metricsPort}/ready`)).json()) as { checks: Record<string, unknown> };
		expect(detail.checks.transporter).toEqual({ ok: true });
		expect(detail.checks["service:orders"]).toEqual({ ok: true });

		boss = await admin(shop);
		ann = await customer(shop, "Ann");
		const me = await ann.http.get(`${V1}/me`, { "x-request-id": "req-me-1" });
		expect(me.status).toBe(200);
		expect(me.headers.get("x-request-id")).toBe("req-me-1");
		expect(me.body).toMatchObject({ id: ann.id, email: ann.email, name: "Ann", roles: ["customer"] });
		expect(JSON.stringify(me.body)).not.toMatch(/password|hash/i);

		const taken = await shop.http.post(`${V1}/auth/register`, { email: ann.email, password: "another-long-password", name: "Ann Again" });
		expect(taken.status).toBe(409);
		const wrong = await shop.http.post(`${V1}/auth/login`, { email: ann.email, password: "not-the-password" });
		expect(wrong.status).toBe(401);
		expect((await shop.http.get(`${V1}/me`)).status).toBe(401);
		expect((await shop.http.get(`${V1}/auth/jwks`)).body.keys.length).toBeGreaterThan(0);

		// Refresh rotates; the old refresh token stops working.
		const refreshed = await shop.http.post(`${V1}/auth/refresh`, { refreshToken: ann.refreshToken });
		expect(refreshed.status).toBe(200);
		expect((await shop.http.post(`${V1}/auth/refresh`, { refreshToken: ann.refreshToken })).status).toBe(401);
		ann = await login(shop, ann.email, ann.password);

		expect((await ann.http.get(`${V1}/users`)).status).toBe(403);
		const users = await boss.http.get(`${V1}/users?pageSize=100`);
		expect(users.status).toBe(200);
		expect(users.body.rows.some((u: { id: string }) => u.id === ann.id)).toBe(true);
		expect((await shop.http.get("/api/v1/nope")).status).toBe(404);
		expect((await shop.http.get("/api/openapi.json")).status).toBe(200);
	}, 60_000);

	it("the catalog: admins manage it, anyone browses and searches", async () => {
		const parent = await boss.http.post(`${V1}/categories`, { slug: `home-${tag.toLowerCase()}`, name: "Home" });
		expect(parent.status, JSON.stringify(parent.body)).toBe(201);
		const child = await boss.http.post(`${V1}/categories`, { slug: `lamps-${tag.toLowerCase()}`, name: "Lamps", parentId: parent.body.id });
		expect(child.status).toBe(201);
		const defs = [
			{ key: "lamp", name: "Desk Lamp", price: 2500, stock: 20, categories: [child.body.slug] },
			{ key: "mug", name: "Coffee Mug", price: 900, stock: 50, categories: [parent.body.slug] },
			{ key: "chair", name: "Office Chair", price: 12900, stock: 5, categories: [parent.body.slug] },
		];
		for (const d of defs) {
			const res = await boss.http.post(`${V1}/products`, {
				sku: `${tag}-${d.key}`,
				name: d.name,
				description: `A ${d.name.toLowerCase()} (${tag})`,
				price: d.price,
				currency: "EUR",
				stock: d.stock,
				categories: d.categories,
			});
			expect(res.status, JSON.stringify(res.body)).toBe(201);
			products[d.key] = { id: res.body.id, price: d.price, stock: d.stock };
		}
		expect((await boss.http.post(`${V1}/products`, { sku: `${tag}-mug`, name: "Dup", price: 1, currency: "EUR" })).status).toBe(409);
		expect((await ann.http.post(`${V1}/products`, { sku: `${tag}-x`, name: "No", price: 1, currency: "EUR" })).status).toBe(403);

		const one = await shop.http.get(`${V1}/products/${products.lamp!.id}`);
		expect(one.status).toBe(200);
		expect(one.body).toMatchObject({ id: products.lamp!.id, sku: `${tag}-lamp`, price: 2500, currency: "EUR", stock: 20, available: 20, active: true });
		const tree = await shop.http.get(`${V1}/categories`);
		expect(JSON.stringify(tree.body)).toContain(child.body.slug);

		// Search is each products node's read model, following the catalog's events from Kafka: it
		// shows new products a moment after they are written (bounded here), not in the same instant.
		const inHome = await poll(
			async () => {
				const res = await shop.http.get(`${V1}/products?category=${parent.body.slug}&sort=price&pageSize=2`);
				return res.status === 200 && res.body.total === 3 ? res : undefined;
			},
			15_000,
			"both products nodes' search to show the new products",
		);
		expect(inHome.status).toBe(200);
		expect(inHome.body).toMatchObject({ total: 3, page: 1, pageSize: 2, totalPages: 2 });
		expect(inHome.body.rows.map((p: { name: string }) => p.name)).toEqual(["Coffee Mug", "Desk Lamp"]);
		const settled = (url: string, ok: (body: { rows: { name: string }[]; total: number }) => boolean) =>
			poll(
				async () => {
					const r = await shop.http.get(url);
					return r.status === 200 && ok(r.body) ? r : undefined;
				},
				15_000,
				`${url} on both products nodes`,
			);
		const page2 = await settled(`${V1}/products?category=${parent.body.slug}&sort=price&pageSize=2&page=2`, b => b.total === 3);
		expect(page2.body.rows.map((p: { name: string }) => p.name)).toEqual(["Office Chair"]);
		const cheap = await settled(`${V1}/products?category=${parent.body.slug}&maxPrice=1000`, b => b.total === 1);
		expect(cheap.body.rows.map((p: { name: string }) => p.name)).toEqual(["Coffee Mug"]);
	}, 60_000);

	it("text search answers on the cluster's database", async () => {
		// Relevance (the default sort with q) and an explicit sort.
		for (const url of [`${V1}/products?q=${tag}`, `${V1}/products?q=${tag}&sort=price`]) {
			// Both products nodes answer searches (NATS picks one): each must have followed the events.
			const res = await poll(
				async () => {
					const r = await shop.http.get(url);
					return r.status !== 200 || r.body.total === 3 ? r : undefined;
				},
				15_000,
				`${url} to find the three products`,
			);
			expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(200);
			expect(res.body.total).toBe(3);
		}
	}, 30_000);

	it("cart and checkout: a good card ends `paid` and takes the stock, a declined one ends `cancelled`", async () => {
		const { lamp, mug } = products as Record<string, { id: string; price: number }>;
		const cart = await (async () => {
			await ann.http.post(`${V1}/cart/items`, { productId: lamp!.id, quantity: 1 });
			await ann.http.post(`${V1}/cart/items`, { productId: lamp!.id, quantity: 1 });
			await ann.http.post(`${V1}/cart/items`, { productId: mug!.id, quantity: 3 });
			return ann.http.get(`${V1}/cart`);
		})();
		expect(cart.status).toBe(200);
		expect(cart.body).toMatchObject({ subtotal: 2 * 2500 + 3 * 900, currency: "EUR" });
		expect(cart.body.items).toHaveLength(2);
		expect((await ann.http.post(`${V1}/cart/items`, { productId: randomUUID(), quantity: 1 })).status).toBe(404);

		const res = await ann.http.post(
			`${V1}/orders`,
			{ shippingAddress: ADDRESS, payment: payment(APPROVED) },
			{ "idempotency-key": `k-${tag}-1`, "x-request-id": checkoutRequestId },
		);
		expect(res.status, JSON.stringify(res.body)).toBe(202);
		expect(res.body).toMatchObject({ status: "pending", total: 7700, currency: "EUR" });
		// The same key and body answers the same order.
		const again = await ann.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment: payment(APPROVED) }, { "idempotency-key": `k-${tag}-1` });
		expect(again.body.id).toBe(res.body.id);
		expect((await ann.http.get(`${V1}/cart`)).body.items).toEqual([]);

		const paid = await orderIn(ann, res.body.id, ["paid", "cancelled"]);
		expect(paid.status, JSON.stringify(paid.statusHistory)).toBe("paid");
		expect(paid.payment).toMatchObject({ brand: "visa", last4: "4242", status: "captured" });
		expect(JSON.stringify(paid)).not.toContain(APPROVED);
		expect(paid.statusHistory.map((h: { status: string }) => h.status)).toEqual(["pending", "paid"]);
		paidOrderId = paid.id;

		await poll(
			async () => {
				const p = (await shop.http.get(`${V1}/products/${lamp!.id}`)).body;
				return p.stock === 18 && p.available === 18 ? true : undefined;
			},
			20_000,
			"the lamp's stock to be taken",
		);

		const declined = await checkout(ann, [[mug!.id, 1]], DECLINED);
		const cancelled = await orderIn(ann, declined.id, ["paid", "cancelled"]);
		expect(cancelled.status).toBe("cancelled");
		expect(cancelled.statusHistory.at(-1)).toMatchObject({ status: "cancelled", reason: "payment_declined" });
		// Its held mug goes back.
		await poll(
			async () => {
				const p = (await shop.http.get(`${V1}/products/${mug!.id}`)).body;
				return p.stock === 47 && p.available === 47 ? true : undefined;
			},
			20_000,
			"the mug's stock (3 sold, the declined one released)",
		);
		const history = await ann.http.get(`${V1}/orders`);
		expect(history.body.rows.map((o: { id: string }) => o.id)).toEqual([declined.id, paidOrderId]);
	}, 90_000);

	it("the order's events are on Kafka: keyed by the order, in order, with id, type and request id headers", async () => {
		const [orders, inventory, payments] = await Promise.all(["orders", "inventory", "payments"].map(f => kcat(cluster.kafkaBrokers, cluster.topic(f))));
		const mine = (records: typeof orders) => records.filter(r => r.key === paidOrderId);
		const types = [...mine(orders), ...mine(inventory), ...mine(payments)].map(r => r.value.type);
		expect(new Set(types)).toEqual(new Set(["order.placed", "stock.reserved", "payment.captured", "order.paid"]));
		for (const r of [...mine(orders), ...mine(inventory), ...mine(payments)]) {
			expect(r.headers["event-id"]).toBe(r.value.id);
			expect(r.headers["event-type"]).toBe(r.value.type);
			// The checkout's X-Request-ID follows the saga from service to service.
			expect(r.headers["request-id"]).toBe(checkoutRequestId);
			expect(r.value.payload.orderId).toBe(paidOrderId);
		}
		const o = mine(orders);
		expect(new Set(o.map(r => r.partition)).size).toBe(1);
		const placed = o.find(r => r.value.type === "order.placed")!;
		const paid = o.find(r => r.value.type === "order.paid")!;
		expect(placed.offset).toBeLessThan(paid.offset);
		expect(mine(payments).filter(r => r.value.type === "payment.captured")).toHaveLength(1);
		// Nothing was parked on the dead-letter topic.
		expect(await kcat(cluster.kafkaBrokers, cluster.topic("dead-letter"))).toEqual([]);
		// One publisher per outbox row: the two products nodes' relays never both publish an event.
		const all = [...orders, ...inventory, ...payments];
		expect(all.length).toBeGreaterThan(4);
		expect(all.length - new Set(all.map(r => r.value.id)).size, "copies of one event on Kafka").toBe(0);
	}, 60_000);

	it("support: a ticket with its order, a return approved, refunded and restocked, and the notifications", async () => {
		const agent = await withRoles(shop, ["customer", "agent"], "Agent");
		for (const step of ["ship", "deliver"]) {
			const res = await boss.http.post(`${V1}/orders/${paidOrderId}/${step}`, {});
			expect(res.status, JSON.stringify(res.body)).toBe(200);
		}
		const inquiry = await ann.http.post(`${V1}/tickets`, { type: "inquiry", subject: "Where is my lamp?", message: "Hello", orderId: paidOrderId });
		expect(inquiry.status, JSON.stringify(inquiry.body)).toBe(201);
		const seen = await agent.http.get(`${V1}/tickets/${inquiry.body.id}`);
		expect(seen.status).toBe(200);
		expect(seen.body.customer).toEqual({ id: ann.id, name: "Ann", email: ann.email });
		expect(seen.body.order).toEqual({ id: paidOrderId, status: "delivered", total: 7700, currency: "EUR", createdAt: expect.any(String) });
		expect((await agent.http.post(`${V1}/tickets/${inquiry.body.id}/messages`, { message: "On its way" })).status).toBe(201);

		const { lamp } = products;
		const ret = await ann.http.post(`${V1}/tickets`, {
			type: "return",
			subject: "Return",
			message: "One lamp back",
			orderId: paidOrderId,
			items: [{ productId: lamp!.id, quantity: 1 }],
		});
		expect(ret.status, JSON.stringify(ret.body)).toBe(201);
		const approved = await agent.http.post(`${V1}/tickets/${ret.body.id}/return/approve`, {});
		expect(approved.status, JSON.stringify(approved.body)).toBe(200);

		const refunded = await poll(
			async () => {
				const o = (await ann.http.get(`${V1}/orders/${paidOrderId}`)).body;
				return o.refunds?.length === 1 ? o : undefined;
			},
			30_000,
			"the return's refund",
		);
		expect(refunded.refunds[0]).toMatchObject({ amount: 2500 });
		await poll(
			async () => {
				const p = (await shop.http.get(`${V1}/products/${lamp!.id}`)).body;
				return p.stock === 19 && p.available === 19 ? true : undefined;
			},
			30_000,
			"the returned lamp back in stock",
		);

		const wanted = [
			"order.paid",
			"order.cancelled",
			"order.shipped",
			"order.delivered",
			"ticket.created",
			"ticket.replied",
			"return.approved",
			"order.refunded",
		];
		const notes = await poll(
			async () => {
				const res = await ann.http.get(`${V1}/me/notifications?pageSize=100`);
				const types = new Set((res.body.rows ?? []).map((n: { type: string }) => n.type));
				return wanted.every(t => types.has(t)) ? res.body.rows : undefined;
			},
			30_000,
			`notifications ${wanted.join(", ")}`,
		);
		const first = notes[0] as { id: string; read: boolean; ref: { kind: string; id: string } };
		expect(first.read).toBe(false);
		expect((await ann.http.post(`${V1}/me/notifications/${first.id}/read`, {})).status).toBe(204);
		expect((await ann.http.get(`${V1}/me/notifications?pageSize=100`)).body.rows.find((n: { id: string }) => n.id === first.id).read).toBe(true);
	}, 120_000);

	it("a variant with a code, shipping and tax across processes: exact totals, the code's use and the charges on Kafka", async () => {
		const tee = await boss.http.post(`${V1}/products`, {
			sku: `TEE-${tag}`,
			name: `Cluster tee ${tag}`,
			price: 2000,
			currency: "EUR",
			stock: 0,
			options: [{ name: "size", values: ["S", "M", "L"] }],
		});
		expect(tee.status, JSON.stringify(tee.body)).toBe(201);
		const m = await boss.http.post(`${V1}/products/${tee.body.id}/variants`, { sku: `TEE-${tag}-M`, options: { size: "M" }, price: 2500, stock: 3 });
		expect(m.status, JSON.stringify(m.body)).toBe(201);
		const code = `CLUSTER${tag}`;
		expect((await boss.http.post(`${V1}/promotions`, { code, type: "percent", value: 20, maxRedemptions: 1 })).status).toBe(201);
		const ship = await boss.http.post(`${V1}/shipping-methods`, {
			name: `Post ${tag}`,
			countries: ["DE"],
			price: 450,
			currency: "EUR",
			minDays: 2,
			maxDays: 3,
		});
		expect(ship.status).toBe(201);
		expect((await boss.http.put(`${V1}/tax-rates/DE`, { rate: 1900 })).status).toBe(200);

		const bea = await customer(shop, "Bea");
		expect((await bea.http.post(`${V1}/cart/items`, { productId: tee.body.id, variantId: m.body.id, quantity: 2 })).status).toBe(200);
		expect((await bea.http.put(`${V1}/cart/promotion`, { code: code.toLowerCase() })).status).toBe(200);
		const cart = (await bea.http.get(`${V1}/cart?country=DE`)).body;
		expect(cart).toMatchObject({ subtotal: 5000, discount: 1000, total: 5000 - 1000 + cart.shipping });
		const res = await bea.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment: payment(APPROVED) }, { "idempotency-key": randomUUID() });
		expect(res.status, JSON.stringify(res.body)).toBe(202);
		const paid = await orderIn(bea, res.body.id, ["paid"]);
		expect(paid).toMatchObject({ subtotal: 5000, discountTotal: 1000, shippingTotal: cart.shipping, total: cart.total, taxTotal: cart.tax });
		expect(paid.items).toEqual([
			expect.objectContaining({ variantId: m.body.id, sku: `TEE-${tag}-M`, options: { size: "M" }, quantity: 2, discount: 1000 }),
		]);
		const variant = (await poll(
			async () => {
				const p = (await shop.http.get(`${V1}/products/${tee.body.id}`)).body;
				return p.variants?.[0]?.stock === 1 ? p.variants[0] : undefined;
			},
			15_000,
			"the variant's stock to follow the sale",
		)) as { stock: number; available: number };
		expect(variant).toMatchObject({ stock: 1, available: 1 });

		// The code had one use: the next customer is refused it, with the reason.
		const cy = await customer(shop, "Cy");
		expect((await cy.http.post(`${V1}/cart/items`, { productId: tee.body.id, variantId: m.body.id, quantity: 1 })).status).toBe(200);
		const refused = await cy.http.put(`${V1}/cart/promotion`, { code });
		expect(refused.status).toBe(422);

		// Kafka has the use of the code and the charges on order.placed and order.paid.
		const onKafka = await poll(
			async () => {
				const [orders, promotions] = await Promise.all(["orders", "promotions"].map(f => kcat(cluster.kafkaBrokers, cluster.topic(f))));
				const redeemed = promotions.filter(r => r.value.type === "promotion.redeemed" && r.value.payload.orderId === paid.id);
				const charged = orders.filter(r => r.key === paid.id && ["order.placed", "order.paid"].includes(r.value.type));
				return redeemed.length === 1 && charged.length === 2 ? { redeemed, charged } : undefined;
			},
			20_000,
			"promotion.redeemed, order.placed and order.paid on Kafka",
		);
		expect(onKafka.redeemed[0]!.value.payload).toMatchObject({ code, discount: 1000, currency: "EUR" });
		for (const r of onKafka.charged) {
			expect(r.value.payload.total).toBe(cart.total);
			expect(r.value.payload.charges).toMatchObject({
				subtotal: 5000,
				discountTotal: 1000,
				shippingTotal: cart.shipping,
				taxTotal: cart.tax,
				promotion: { code, discount: 1000 },
				shippingMethod: { id: ship.body.id },
			});
		}
	});

	it("each service keeps its own database, with its indexes made at start", async () => {
		const conn = await mongoose.createConnection(INFRA.mongo, { serverSelectionTimeoutMS: 5000 }).asPromise();
		try {
			const names = (await conn.db!.admin().listDatabases()).databases.map(d => d.name).filter(n => n.startsWith(cluster.dbPrefix));
			expect(names.sort()).toEqual(["notifications", "orders", "pricing", "products", "tickets", "users"].map(s => `${cluster.dbPrefix}${s}`));
			const keys = async (db: string, coll: string) =>
				(await conn.useDb(`${cluster.dbPrefix}${db}`).db!.collection(coll).indexes()).map(i => ({ key: JSON.stringify(i.key), unique: !!i.unique }));
			expect(await keys("users", "users")).toContainEqual({ key: JSON.stringify({ email: 1 }), unique: true });
			expect(await keys("products", "products")).toContainEqual({ key: JSON.stringify({ sku: 1 }), unique: true });
			expect(await keys("orders", "orders")).toContainEqual({ key: JSON.stringify({ userId: 1, createdAt: -1 }), unique: false });
			// A service's data lives in its database only.
			expect(await conn.useDb(`${cluster.dbPrefix}users`).db!.collection("orders").countDocuments()).toBe(0);
			expect(await conn.useDb(`${cluster.dbPrefix}orders`).db!.collection("orders").countDocuments()).toBeGreaterThan(0);
		} finally {
			await conn.close();
		}
	}, 30_000);

	it("scaling: both products nodes serve requests and both consume partitions", async () => {
		const before = await Promise.all(
			["products-1", "products-2"].map(n => cluster.metricValue(n, "moleculer_request_total", { action: "products.get", type: "local" })),
		);
		// A cookie makes the gateway bypass its catalog cache, so every read reaches a products node.
		for (let i = 0; i < 40; i++) expect((await shop.http.get(`${V1}/products/${products.mug!.id}`, { cookie: "probe=1" })).status).toBe(200);
		const after = await Promise.all(
			["products-1", "products-2"].map(n => cluster.metricValue(n, "moleculer_request_total", { action: "products.get", type: "local" })),
		);
		const served = after.map((v, i) => v - before[i]!);
		expect(served[0]! + served[1]!).toBe(40);
		// Round-robin: each node takes a fair share.
		for (const n of served) expect(n).toBeGreaterThanOrEqual(10);

		// Both members of the `products` consumer group hold partitions (asked from Kafka itself).
		let members: Awaited<ReturnType<typeof groupAssignments>> = [];
		const owns = (nodeId: string) => Object.values(members.find(m => m.clientId === nodeId)?.partitions ?? {}).flat().length;
		await poll(
			async () => {
				members = await groupAssignments(cluster.kafkaBrokers, cluster.group("products"));
				return cluster.nodesOf("products").every(n => owns(n.nodeId) > 0) ? true : undefined;
			},
			30_000,
			"both products nodes to hold partitions",
			1000,
		).catch(err => {
			throw new Error(`${(err as Error).message}: ${JSON.stringify(members)}`);
		});
		const byNode = new Map(members.map(m => [m.clientId, Object.values(m.partitions).flat().length]));
		console.info(
			`[cluster] products.get served per node: ${served.join(" / ")}; partitions per products consumer: ${[...byNode].map(([k, v]) => `${k.split("-t-")[0]}=${v}`).join(", ")}`,
		);
	}, 60_000);
});
