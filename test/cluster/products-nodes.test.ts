/**
 * Two products nodes on NATS, Kafka and FerretDB.
 *
 * Access on the action: an admin action called over the transporter, past the gateway, as a
 * customer or with no user, is refused by the node that would run it (lib/broker/access-middleware.ts).
 *
 * The demo catalog seeded on a cluster: the two nodes start together on an empty database with
 * SEED_DEMO on. Whichever seeds, the products come in through the
 * catalog's write path (SKU claims, product.created events on Kafka), so the node that built its
 * search index before the seed ended still finds every demo product: both nodes' search shows the
 * whole demo catalog, each product once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutInfra } from "./infra.js";
import { poll, startCluster, type TestCluster } from "../helpers/cluster.js";
import { DEMO_PRODUCTS } from "../../services/products/demo-catalog.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"]);

describe.skipIf(skip)("two products nodes", () => {
	let cluster: TestCluster;

	beforeAll(async () => {
		cluster = await startCluster({
			name: "demo",
			nodes: [
				{ name: "products-1", services: ["products"] },
				{ name: "products-2", services: ["products"] },
			],
			env: { SEED_DEMO: "true" },
		});
	}, 180_000);

	afterAll(async () => {
		await cluster?.stop();
	}, 60_000);

	it("refuse an admin action called over the transporter as a customer (403) or without a user (401)", async () => {
		const probe = cluster.asShop().broker;
		const product = { sku: "OVER-NATS-1", name: "Desk Lamp", price: 2500, currency: "EUR", stock: 3 };
		const refusal = (call: Promise<unknown>) =>
			call.then(
				() => null,
				(err: { code?: number }) => err.code,
			);
		for (const node of cluster.nodesOf("products")) {
			// Once the probe has discovered the node's services (a public action answers).
			await poll(() => probe.call("products.search", {}, { nodeID: node.nodeId }).catch(() => undefined), 15_000, `${node.nodeId} to be discovered`);
			const options = (user?: { id: string; roles: string[] }) => ({ nodeID: node.nodeId, ...(user ? { meta: { user } } : {}) });
			expect(await refusal(probe.call("products.create", product, options({ id: "mallory", roles: ["customer"] })))).toBe(403);
			expect(await refusal(probe.call("products.create", product, options()))).toBe(401);
		}
		const search = (await probe.call("products.search", { q: "OVER-NATS" })) as { total: number };
		expect(search.total).toBe(0);
	}, 30_000);

	it("both show the whole demo catalog in their search, every product once", async () => {
		const skus = DEMO_PRODUCTS.map(p => p.sku).sort();
		for (const node of cluster.nodesOf("products")) {
			const found = await poll(
				async () => {
					const res = (await cluster.asShop().broker.call("products.search", { pageSize: 100 }, { nodeID: node.nodeId })) as {
						rows: { sku: string }[];
						total: number;
					};
					return res.total === skus.length ? res : undefined;
				},
				30_000,
				`${node.nodeId}'s search to show the ${skus.length} demo products`,
			);
			expect(found.rows.map(p => p.sku).sort()).toEqual(skus);
		}
		// Seeded once, whichever node did it.
		const again = (await cluster.asShop().broker.call("products.search", { pageSize: 100, q: "t-shirt" })) as { rows: { sku: string }[] };
		expect(again.rows.filter(p => p.sku === "APP-TEE")).toHaveLength(1);
	}, 60_000);
});
