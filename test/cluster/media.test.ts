/**
 * Product images in the cluster: two `media` nodes sharing GridFS (database `<prefix>media` on
 * FerretDB), two `products` nodes, NATS and Kafka. An image uploaded through the gateway (its
 * bytes streamed over NATS to whichever media node) is served by either media node, shows up as
 * `thumbnail` in both products nodes' search, and deleting the product removes its GridFS files.
 * Two gateways keep renditions (services/api/rendition-cache.ts): a deleted image is gone from both
 * within a second.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Readable } from "node:stream";
import mongoose from "mongoose";
import sharp from "sharp";
import { INFRA, skipWithoutInfra } from "./infra.js";
import { poll, startCluster, type NodeSpec, type TestCluster } from "../helpers/cluster.js";
import { HttpClient, admin, freePort, type Account } from "../helpers/shop.js";
import { makeImage, uploadImage } from "../helpers/images.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"]);

const API_2_PORT = await freePort();
const LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "products-1", services: ["products"] },
	{ name: "products-2", services: ["products"] },
	{ name: "media-1", services: ["media"] },
	{ name: "media-2", services: ["media"] },
	{ name: "api", services: ["api"] },
	{ name: "api-2", services: ["api"], env: { PORT: String(API_2_PORT) } },
];
const V1 = "/api/v1";
/** How soon after a delete every gateway must answer 404 (the bound). */
const GONE_WITHIN_MS = 1000;

async function readAll(stream: Readable): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
	return Buffer.concat(chunks);
}

describe.skipIf(skip)("product images in a cluster", () => {
	let cluster: TestCluster;
	let adm: Account;
	let db: mongoose.Connection;
	const gridFsFiles = (imageId: string) => db.collection("media.files").countDocuments({ filename: { $regex: `^${imageId}/` } });

	beforeAll(async () => {
		cluster = await startCluster({ name: "media", nodes: LAYOUT });
		adm = await admin(cluster.asShop());
		db = await mongoose.createConnection(INFRA.mongo, { dbName: `${cluster.dbPrefix}media`, serverSelectionTimeoutMS: 5000 }).asPromise();
	}, 180_000);
	afterAll(async () => {
		await db?.close();
		await cluster?.stop();
	}, 60_000);

	it("uploads through the gateway, serves from either media node, shows in both products nodes' search, and deletes the files with the product", async () => {
		const name = `Lamp ${crypto.randomUUID().slice(0, 8)}`;
		const created = await adm.http.post(`${V1}/products`, { sku: `L-${crypto.randomUUID().slice(0, 8)}`, name, price: 4900, currency: "EUR", stock: 5 });
		expect(created.status, JSON.stringify(created.body)).toBe(201);
		const productId = created.body.id as string;

		const up = await uploadImage(cluster.baseUrl, productId, await makeImage("jpeg", 1600, 900), { token: adm.accessToken, alt: "A lamp" });
		expect(up.status, JSON.stringify(up.body)).toBe(201);
		const imageId = up.body.id as string;
		expect(await gridFsFiles(imageId)).toBe(1);

		// Each media node answers the same rendition from the shared GridFS.
		const served: Buffer[] = [];
		for (const node of cluster.nodesOf("media")) {
			// Bounded: the probe may not have discovered the second media node yet.
			const data = await poll(
				async () => {
					const stream = await cluster.probe.call<Readable, object>(
						"media.rendition",
						{ imageId, preset: "card", format: "webp" },
						{ nodeID: node.nodeId },
					);
					return readAll(stream);
				},
				30_000,
				`${node.spec.name} to serve the rendition`,
			);
			served.push(data);
		}
		expect(served).toHaveLength(2);
		for (const data of served) expect(await sharp(data).metadata()).toMatchObject({ format: "webp", width: 480, height: 270 });
		expect(served[0]!.equals(served[1]!)).toBe(true);
		expect(await gridFsFiles(imageId)).toBe(2);
		// And through the gateway, cacheable for ever.
		const viaGateway = await fetch(`${cluster.baseUrl}${V1}/media/${imageId}/thumb.jpg`);
		expect(viaGateway.status).toBe(200);
		expect(viaGateway.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");

		// Both products nodes' search shows the thumbnail (the catalog follows media.image-added from Kafka).
		for (const node of cluster.nodesOf("products")) {
			const row = await poll(
				async () => {
					const res = await cluster.probe.call<{ rows: { id: string; thumbnail: string | null }[] }, object>(
						"products.search",
						{ q: name, page: 1, pageSize: 10 },
						{ nodeID: node.nodeId },
					);
					const found = res.rows.find(r => r.id === productId);
					return found?.thumbnail ? found : undefined;
				},
				30_000,
				`${node.spec.name} to show the thumbnail`,
			);
			expect(row.thumbnail).toBe(`${V1}/media/${imageId}/thumb.webp?v=${String(up.body.url).split("v=")[1]}`);
		}

		// Deleting the product (product.deleted over Kafka) removes its images' files from GridFS.
		expect((await adm.http.delete(`${V1}/products/${productId}`)).status).toBe(204);
		await poll(async () => ((await gridFsFiles(imageId)) === 0 ? true : undefined), 30_000, "the image's GridFS files to be removed");
		expect(await db.collection("media.chunks").countDocuments({})).toBe(0);
		expect((await fetch(`${cluster.baseUrl}${V1}/media/${imageId}/large.jpg`)).status).toBe(404);
	}, 120_000);

	it("keeps renditions in both gateways, and a deleted image is 404 on both within a second", async () => {
		const created = await adm.http.post(`${V1}/products`, {
			sku: `L-${crypto.randomUUID().slice(0, 8)}`,
			name: "Kept lamp",
			price: 4900,
			currency: "EUR",
			stock: 5,
		});
		expect(created.status, JSON.stringify(created.body)).toBe(201);
		const productId = created.body.id as string;
		const up = await uploadImage(cluster.baseUrl, productId, await makeImage("jpeg", 800, 600), { token: adm.accessToken });
		expect(up.status, JSON.stringify(up.body)).toBe(201);
		const path = `${V1}/media/${up.body.id as string}/card.webp`;
		const gateways = [new HttpClient(cluster.baseUrl), new HttpClient(`http://127.0.0.1:${API_2_PORT}`)];
		// A gateway keeps renditions once its Kafka consumer follows the events; until then it serves uncached.
		for (const gateway of gateways)
			await poll(async () => ((await gateway.get(path)).headers.get("x-cache") === "HIT" ? true : undefined), 60_000, "a hit on each gateway");

		const deletedAt = Date.now();
		expect((await adm.http.delete(`${V1}/products/${productId}/images/${up.body.id as string}`)).status).toBe(204);
		for (const gateway of gateways) {
			let status = 200;
			while (Date.now() - deletedAt < GONE_WITHIN_MS && status !== 404) status = (await gateway.get(path)).status;
			expect(status, `${gateway === gateways[0] ? "api" : "api-2"} still serves the deleted image ${Date.now() - deletedAt} ms after the delete`).toBe(
				404,
			);
		}
	}, 120_000);
});
