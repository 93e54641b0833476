/**
 * The Collection layer (lib/store.ts) on its mongoose path, against the real MongoDB-compatible
 * server (FerretDB v1 in development and CI): each service's own database, indexes made at
 * start, unique index → DuplicateKeyError, conditional updates that count and stay atomic under
 * concurrency, the update/query operators the services use ($set, $unset, $inc, $push/$each,
 * $pull with a condition, $exists, "outbox.0", dotted marker paths, $in, $or, $regex, $gte),
 * and sort/limit/offset. Everything here is standard MongoDB, so it holds on MongoDB as well.
 */
import { randomUUID } from "node:crypto";
import mongoose from "mongoose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	Collection,
	ContentionError,
	createMongoAdapter,
	domainEvent,
	DuplicateKeyError,
	type CollectionSpec,
	type Doc,
	type OutboxPort,
} from "../../lib/store/index.js";
import { INFRA, skipWithoutInfra } from "./infra.js";

const skip = await skipWithoutInfra(["mongo"]);

interface Product extends Doc {
	sku?: string;
	name: string;
	price: number;
	stock: number;
	available: number;
	status?: string;
	tags?: string[];
	holds?: Record<string, number>;
	createdAt: string;
	outbox?: { id: string; type: string }[];
}

const PREFIX = `t${randomUUID().replace(/-/g, "").slice(0, 10)}_`;
const SPEC: CollectionSpec = {
	indexes: [{ fields: { sku: 1 }, unique: true, sparse: true }, { fields: { price: 1, _id: 1 } }],
};

describe.skipIf(skip)("Collection on MongoDB (mongoose adapter, FerretDB in CI)", () => {
	const opened: Collection<Doc>[] = [];
	let products: Collection<Product>;

	async function open<T extends Doc>(service: string, name: string, spec: CollectionSpec = {}): Promise<Collection<T>> {
		const adapter = createMongoAdapter(INFRA.mongo, service, name, spec, PREFIX);
		adapter.init({} as never, {} as never);
		await adapter.connect();
		const c = new Collection<T>(name, adapter, "mongo");
		opened.push(c as unknown as Collection<Doc>);
		return c;
	}
	const product = (over: Partial<Product> = {}): Product => ({
		_id: randomUUID(),
		name: "Thing",
		price: 100,
		stock: 5,
		available: 5,
		createdAt: new Date().toISOString(),
		...over,
	});

	let ferret = false;
	beforeAll(async () => {
		products = await open<Product>("catalog", "products", SPEC);
		ferret = (products.adapter as unknown as { onFerretDbV1: boolean }).onFerretDbV1;
	});

	afterAll(async () => {
		// Drop every database this file made, then close.
		const admin = await mongoose.createConnection(INFRA.mongo, { serverSelectionTimeoutMS: 5000 }).asPromise();
		const { databases } = await admin.db!.admin().listDatabases();
		for (const d of databases) if (d.name.startsWith(PREFIX)) await admin.useDb(d.name).dropDatabase();
		await admin.close();
		for (const c of opened) await c.adapter.disconnect().catch(() => undefined);
	});

	it("puts each service in its own database, named <prefix><service>", async () => {
		const other = await open<Doc & { v: number }>("billing", "products");
		await other.insert({ _id: "same-id", v: 1 });
		await products.insert(product({ _id: "same-id" }));
		expect((await other.findById("same-id"))?.v).toBe(1);
		expect((await products.findById("same-id"))?.name).toBe("Thing");
		const admin = await mongoose.createConnection(INFRA.mongo, { serverSelectionTimeoutMS: 5000 }).asPromise();
		const names = (await admin.db!.admin().listDatabases()).databases.map(d => d.name);
		await admin.close();
		expect(names).toEqual(expect.arrayContaining([`${PREFIX}catalog`, `${PREFIX}billing`]));
		await products.removeById("same-id");
	});

	it("creates the spec's indexes when it connects", async () => {
		const model = (products.adapter as unknown as { model: mongoose.Model<unknown> }).model;
		const indexes = await model.collection.indexes();
		const sku = indexes.find(i => JSON.stringify(i.key) === JSON.stringify({ sku: 1 }));
		expect(sku).toMatchObject({ unique: true });
		expect(indexes.some(i => JSON.stringify(i.key) === JSON.stringify({ price: 1, _id: 1 }))).toBe(true);
	});

	it("gives back plain objects: string _id, nested maps and arrays intact, no version key", async () => {
		const p = product({ sku: "PLAIN-1", tags: ["a", "b"], holds: { "order-1": 2 } });
		const inserted = await products.insert(p);
		expect(inserted).toEqual(p);
		const found = await products.findById(p._id);
		expect(found).toEqual(p);
		expect(found).not.toHaveProperty("__v");
		expect(Object.getPrototypeOf(found)).toBe(Object.prototype);
		expect(await products.findById(randomUUID())).toBeNull();
		expect(await products.findOne({ sku: "PLAIN-1" })).toEqual(p);
	});

	it("turns a unique index violation into DuplicateKeyError naming the field (insert, update, _id)", async () => {
		await products.insert(product({ sku: "DUP-1" }));
		const err = await products.insert(product({ sku: "DUP-1" })).catch(e => e);
		expect(err).toBeInstanceOf(DuplicateKeyError);
		// MongoDB names the index (keyPattern); FerretDB v1's E11000 does not say which one.
		if (!ferret) expect((err as DuplicateKeyError).field).toBe("sku");

		const second = await products.insert(product({ sku: "DUP-2" }));
		const viaUpdate = await products.updateWhere({ _id: second._id }, { $set: { sku: "DUP-1" } }).catch(e => e);
		expect(viaUpdate).toBeInstanceOf(DuplicateKeyError);
		expect((viaUpdate as DuplicateKeyError).field).toBe("sku");
		const viaUpdateById = await products.updateById(second._id, { $set: { sku: "DUP-1" } }).catch(e => e);
		expect(viaUpdateById).toBeInstanceOf(DuplicateKeyError);

		const sameId = await products.insert(product({ _id: second._id })).catch(e => e);
		expect(sameId).toBeInstanceOf(DuplicateKeyError);
		expect((sameId as DuplicateKeyError).field).toBe("_id");
		expect((await products.findById(second._id))?.sku).toBe("DUP-2");

		// Sparse: any number of documents without the field.
		await products.insert(product());
		await products.insert(product());
	});

	it("updateWhere is a compare-and-set that says how many it changed", async () => {
		const p = await products.insert(product({ status: "pending" }));
		expect(await products.updateWhere({ _id: p._id, status: "pending" }, { $set: { status: "paid" } })).toBe(1);
		expect(await products.updateWhere({ _id: p._id, status: "pending" }, { $set: { status: "cancelled" } })).toBe(0);
		expect((await products.findById(p._id))?.status).toBe("paid");
		// A condition on a field the schema does not declare is applied, never dropped.
		expect(await products.updateWhere({ _id: p._id, undeclared: "x" }, { $set: { status: "refunded" } })).toBe(0);
		expect(await products.updateWhere({ _id: randomUUID() }, { $set: { status: "x" } })).toBe(0);
	});

	it("stays atomic when many writers race for the same condition", async () => {
		const p = await products.insert(product({ status: "pending" }));
		const winners = await Promise.all(
			Array.from({ length: 12 }, (_, i) => products.updateWhere({ _id: p._id, status: "pending" }, { $set: { status: `paid-${i}` } })),
		);
		expect(winners.reduce((a, b) => a + b, 0)).toBe(1);

		// The catalog's hold: decrement only while enough is available, once per order marker.
		const q = await products.insert(product({ available: 7, stock: 7, holds: {} }));
		const orders = Array.from({ length: 20 }, () => randomUUID());
		const held = await Promise.all(
			orders.map(o =>
				products.updateWhere(
					{ _id: q._id, available: { $gte: 1 }, [`holds.${o}`]: { $exists: false } },
					{ $inc: { available: -1 }, $set: { [`holds.${o}`]: 1 } },
				),
			),
		);
		expect(held.reduce((a, b) => a + b, 0)).toBe(7);
		const after = await products.findById(q._id);
		expect(after?.available).toBe(0);
		expect(Object.keys(after?.holds ?? {})).toHaveLength(7);

		// The same order twice holds once.
		const r = await products.insert(product({ available: 5, holds: {} }));
		const order = randomUUID();
		const twice = await Promise.all(
			[0, 1, 2].map(() =>
				products.updateWhere(
					{ _id: r._id, available: { $gte: 2 }, [`holds.${order}`]: { $exists: false } },
					{ $inc: { available: -2 }, $set: { [`holds.${order}`]: 2 } },
				),
			),
		);
		expect(twice.reduce((a, b) => a + b, 0)).toBe(1);
		expect((await products.findById(r._id))?.available).toBe(3);
	});

	it("keeps updating a document whose last writer died between its claim and its write (FerretDB path)", async () => {
		if (!ferret) return;
		const p = await products.insert(product({ status: "pending" }));
		const model = (products.adapter as unknown as { model: mongoose.Model<unknown>; conn: mongoose.Connection }).model;
		const raw = (await model.collection.findOne({ _id: p._id as never })) as unknown as { _rev: string };
		const claims = (products.adapter as unknown as { conn: mongoose.Connection }).conn.db!.collection<{ _id: string; at: Date }>("store_revision_claims");
		// A writer claimed the next revision a minute ago and never wrote it.
		await claims.insertOne({ _id: `products/${p._id}/${raw._rev}/0`, at: new Date(Date.now() - 60_000) });
		const started = Date.now();
		expect(await products.updateWhere({ _id: p._id, status: "pending" }, { $set: { status: "paid" } })).toBe(1);
		expect(Date.now() - started).toBeLessThan(2000);
		expect((await products.findById(p._id))?.status).toBe("paid");
		expect(await products.findById(p._id)).not.toHaveProperty("_rev");
	});

	it("supports the outbox operators: $push $each, 'outbox.0' $exists, $pull by condition", async () => {
		const a = await products.insert(product({ outbox: [] }));
		const b = await products.insert(product({ outbox: [{ id: "e0", type: "x" }] }));
		expect(
			await products.updateWhere(
				{ _id: a._id },
				{
					$set: { status: "paid" },
					$push: {
						outbox: {
							$each: [
								{ id: "e1", type: "order.paid" },
								{ id: "e2", type: "stock.reserved" },
							],
						},
					},
				},
			),
		).toBe(1);
		const pending = await products.find({ query: { "outbox.0": { $exists: true } } });
		expect(pending.map(d => d._id).sort()).toEqual([a._id, b._id].sort());
		expect(await products.count({ "outbox.0": { $exists: true } })).toBe(2);
		expect((await products.findById(a._id))?.outbox?.map(e => e.id)).toEqual(["e1", "e2"]);

		// Pull what was published; an event pushed meanwhile stays.
		await products.updateWhere({ _id: a._id }, { $push: { outbox: { $each: [{ id: "e3", type: "order.shipped" }] } } });
		expect(await products.updateWhere({ _id: a._id }, { $pull: { outbox: { id: { $in: ["e1", "e2"] } } } })).toBe(1);
		expect((await products.findById(a._id))?.outbox?.map(e => e.id)).toEqual(["e3"]);
		await products.updateWhere({ _id: a._id }, { $pull: { outbox: { id: { $in: ["e3"] } } } });
		await products.updateWhere({ _id: b._id }, { $pull: { outbox: { id: { $in: ["e0"] } } } });
		expect(await products.count({ "outbox.0": { $exists: true } })).toBe(0);
		expect((await products.findById(a._id))?.outbox).toEqual([]);
	});

	it("supports $unset and $exists on dotted marker paths, and $inc on several fields", async () => {
		const order = randomUUID();
		const p = await products.insert(product({ stock: 10, available: 8, holds: { [order]: 2 } }));
		expect(await products.count({ _id: p._id, [`holds.${order}`]: { $exists: true } })).toBe(1);
		expect(
			await products.updateWhere(
				{ _id: p._id, [`holds.${order}`]: { $exists: true } },
				{ $inc: { stock: -2 }, $unset: { [`holds.${order}`]: true }, $set: { updatedAt: "now" } },
			),
		).toBe(1);
		// Running the same step again changes nothing.
		expect(
			await products.updateWhere({ _id: p._id, [`holds.${order}`]: { $exists: true } }, { $inc: { stock: -2 }, $unset: { [`holds.${order}`]: true } }),
		).toBe(0);
		const after = await products.findById(p._id);
		expect(after).toMatchObject({ stock: 8, available: 8, holds: {} });
		const updated = await products.updateById(p._id, { $inc: { stock: 1, available: 1 } });
		expect(updated).toMatchObject({ _id: p._id, stock: 9, available: 9 });
	});

	it("finds with $in, $or, $regex, ranges, sort on several keys, limit and offset", async () => {
		const c = await open<Product>("search", "products", SPEC);
		const rows = [
			product({ name: "Alpha lamp", price: 300, createdAt: "2024-01-03T00:00:00.000Z", tags: ["home"] }),
			product({ name: "beta Lamp", price: 100, createdAt: "2024-01-01T00:00:00.000Z", tags: ["home", "light"] }),
			product({ name: "Gamma chair", price: 200, createdAt: "2024-01-02T00:00:00.000Z", tags: ["home"] }),
			product({ name: "Delta desk", price: 200, createdAt: "2024-01-04T00:00:00.000Z", tags: ["office"] }),
			product({ name: "Epsilon pen", price: 50, createdAt: "2024-01-05T00:00:00.000Z", tags: ["office"] }),
		];
		for (const r of rows) await c.insert(r);
		const names = (ds: Product[]) => ds.map(d => d.name);

		expect(names(await c.find({ sort: ["price", "name"] }))).toEqual(["Epsilon pen", "beta Lamp", "Delta desk", "Gamma chair", "Alpha lamp"]);
		expect(names(await c.find({ sort: ["-price", "-name"] }))).toEqual(["Alpha lamp", "Gamma chair", "Delta desk", "beta Lamp", "Epsilon pen"]);
		expect(names(await c.find({ sort: ["-createdAt"], limit: 2 }))).toEqual(["Epsilon pen", "Delta desk"]);
		expect(names(await c.find({ sort: ["-createdAt"], limit: 2, offset: 2 }))).toEqual(["Alpha lamp", "Gamma chair"]);
		expect(names(await c.find({ sort: ["-createdAt"], limit: 2, offset: 4 }))).toEqual(["beta Lamp"]);
		expect(await c.find({ sort: ["-createdAt"], limit: 2, offset: 10 })).toEqual([]);

		expect(names(await c.find({ query: { price: { $gte: 100, $lte: 200 } }, sort: ["price", "name"] }))).toEqual([
			"beta Lamp",
			"Delta desk",
			"Gamma chair",
		]);
		expect(await c.count({ price: { $gte: 100, $lte: 200 } })).toBe(3);
		expect(names(await c.find({ query: { _id: { $in: [rows[0]!._id, rows[4]!._id, randomUUID()] } }, sort: ["name"] }))).toEqual([
			"Alpha lamp",
			"Epsilon pen",
		]);
		expect(names(await c.find({ query: { name: { $regex: /lamp/i } }, sort: ["price"] }))).toEqual(["beta Lamp", "Alpha lamp"]);
		// By ids (on FerretDB v1 one lookup per id, since it scans for $in): the ones that exist, as plain objects.
		const byIds = await c.findByIds([rows[1]!._id, randomUUID(), rows[3]!._id]);
		expect(byIds.map(d => d.name).sort()).toEqual(["Delta desk", "beta Lamp"]);
		expect(byIds.find(d => d.name === "beta Lamp")).toEqual(rows[1]);
		expect(await c.findByIds([])).toEqual([]);
		// A scan (what builds a read model) streams every match once, as plain objects.
		const scanned: Product[] = [];
		for await (const d of c.scan({ price: { $gte: 100 } }, 2)) scanned.push(d);
		expect(scanned.map(d => d.name).sort()).toEqual(["Alpha lamp", "Delta desk", "Gamma chair", "beta Lamp"]);
		expect(scanned.find(d => d.name === "Alpha lamp")).toEqual(rows[0]);
		expect(names(await c.find({ query: { $or: [{ name: { $regex: /desk/i } }, { price: { $lte: 50 } }] }, sort: ["name"] }))).toEqual([
			"Delta desk",
			"Epsilon pen",
		]);
		// An array field matches any of its elements.
		expect(await c.count({ tags: "light" })).toBe(1);
		expect(await c.count({ tags: { $in: ["office"] } })).toBe(2);

		expect(await c.removeWhere({ tags: "office" })).toBe(2);
		await c.removeById(rows[0]!._id);
		expect(await c.count()).toBe(2);
	});

	it("Collection.change: concurrent compare-and-sets lose no update, and each change's events land in the outbox with it", async () => {
		const nudged: string[] = [];
		const port: OutboxPort = {
			envelope: (type, payload) => ({ id: randomUUID(), type, key: "k", source: "test", occurredAt: new Date().toISOString(), requestId: null, payload }),
			written: (_collection, ids) => void nudged.push(...ids),
		};
		const adapter = createMongoAdapter(INFRA.mongo, "casdb", "counters", {}, PREFIX);
		adapter.init({} as never, {} as never);
		await adapter.connect();
		const c = new Collection<Product>("counters", adapter, "mongo", () => port);
		opened.push(c as unknown as Collection<Doc>);
		const p = await c.insert(product({ stock: 0, tags: [] }));
		const results = await Promise.allSettled(
			Array.from({ length: 6 }, (_, i) =>
				c.change(
					p._id,
					doc => ({
						expect: { stock: doc.stock },
						update: { $set: { stock: doc.stock + 1 }, $push: { tags: `t${i}` } },
						events: [domainEvent("stock.changed", { productId: p._id, variantId: null })],
					}),
					{ attempts: 4 },
				),
			),
		);
		const done = results.filter(r => r.status === "fulfilled").length;
		expect(done).toBeGreaterThan(0);
		expect(results.flatMap(r => (r.status === "rejected" ? [r.reason] : [])).every(e => e instanceof ContentionError)).toBe(true);
		const after = (await c.findById(p._id))!;
		// Every written change counted once, with its own tag and its one event; nothing of the lost ones.
		expect(after.stock).toBe(done);
		expect(after.tags).toHaveLength(done);
		expect(after.outbox).toHaveLength(done);
		expect(nudged).toHaveLength(done);
	});
});
