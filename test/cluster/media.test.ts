/**
 * Product images in the cluster: two `media` nodes sharing GridFS (database `<prefix>media` on
 * FerretDB), two `products` nodes, NATS and Kafka. An image uploaded through the gateway (its
 * bytes streamed over NATS to whichever media node) is served by either media node, shows up as
 * `thumbnail` in both products nodes' search, and deleting the product removes its GridFS files.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Readable } from "node:stream";
import mongoose from "mongoose";
import sharp from "sharp";
import { INFRA, skipWithoutInfra } from "./infra.js";
import { poll, startCluster, type NodeSpec, type TestCluster } from "../helpers/cluster.js";
import { admin, type Account } from "../helpers/shop.js";
import { makeImage, uploadImage } from "../helpers/images.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"]);

const LAYOUT: NodeSpec[] = [
	{ name: "users", services: ["users"] },
	{ name: "products-1", services: ["products"] },
	{ name: "products-2", services: ["products"] },
	{ name: "media-1", services: ["media"] },
	{ name: "media-2", services: ["media"] },
	{ name: "api", services: ["api"] },
];
const V1 = "/api/v1";

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
});
