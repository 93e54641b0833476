/**
 * The SQLite store (lib/store/sqlite.ts) means by a query and an update what NeDB means: the same
 * documents, queries and updates answer the same on both. It narrows candidates through key
 * tables (never losing a match), enforces unique keys in the same transaction as the write,
 * keeps its documents in its file, and copies a collection's NeDB file in at its first start.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
	Collection,
	DuplicateKeyError,
	createNedbAdapter,
	createSqliteAdapter,
	type CollectionSpec,
	type DbAdapter,
	type Query,
	type Update,
} from "../../lib/store/index.js";

interface Item {
	_id: string;
	sku?: string;
	status: string;
	userId: string;
	n: number;
	active: boolean;
	tags: string[];
	variants: { sku: string; stock: number }[];
	createdAt: string;
	at?: Date;
	outbox?: { id: string }[];
}

const SPEC: CollectionSpec = {
	indexes: [
		{ fields: { sku: 1 }, unique: true, sparse: true },
		{ fields: { status: 1, createdAt: 1 } },
		{ fields: { userId: 1 } },
		{ fields: { tags: 1 } },
		{ fields: { "variants.sku": 1 }, sparse: true },
		{ fields: { active: 1 } },
		{ fields: { n: 1 } },
		{ fields: { at: 1 } },
	],
};

function items(): Item[] {
	const statuses = ["pending", "paid", "cancelled"];
	return Array.from({ length: 60 }, (_, i) => ({
		_id: `item-${String(i).padStart(3, "0")}`,
		...(i % 7 === 0 ? {} : { sku: `SKU-${i}` }),
		status: statuses[i % 3]!,
		userId: `user-${i % 5}`,
		n: (i * 37) % 50,
		active: i % 4 !== 0,
		tags: i % 2 ? ["red", `size-${i % 3}`] : ["blue"],
		variants:
			i % 3
				? [
						{ sku: `V-${i}-a`, stock: i % 4 },
						{ sku: `V-${i}-b`, stock: 0 },
					]
				: [],
		createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
		...(i % 5 === 0 ? { at: new Date(Date.UTC(2026, 5, 1 + (i % 20))) } : {}),
		...(i % 6 === 0 ? { outbox: [{ id: `e${i}` }] } : {}),
	}));
}

const QUERIES: Query[] = [
	{},
	{ status: "paid" },
	{ status: "paid", userId: "user-2" },
	{ sku: "SKU-8" },
	{ sku: "SKU-7" },
	{ tags: "red" },
	{ tags: { $in: ["size-1", "blue"] } },
	{ "variants.sku": "V-4-b" },
	{ "variants.stock": { $gte: 2 } },
	{ active: true },
	{ active: false, status: { $in: ["pending", "cancelled"] } },
	{ n: { $gte: 10, $lte: 20 } },
	{ n: { $gt: 45 } },
	{ createdAt: { $gte: "2026-01-01T00:30:00.000Z" } },
	{ at: { $lt: new Date(Date.UTC(2026, 5, 10)) } },
	{ at: { $exists: true } },
	{ sku: { $exists: false } },
	{ "outbox.0": { $exists: true } },
	{ _id: "item-010" },
	{ _id: { $in: ["item-001", "item-002", "nope"] } },
	{ _id: { $gt: "item-050" } },
	{ $or: [{ status: "paid" }, { tags: "blue" }] },
	{ userId: "user-1", n: { $lt: 30 } },
];

/** Sorts and pages: newest first by an indexed field (read in key order), with ties, missing values, dates, and pages past the end. */
const PAGES: [string[], number, number][] = [
	[["-n", "createdAt"], 2, 5],
	[["-createdAt", "-_id"], 0, 10],
	[["-createdAt", "-_id"], 55, 10],
	[["-n", "-_id"], 0, 60],
	[["-userId", "n"], 7, 9],
	[["-sku", "_id"], 0, 20],
	[["-sku", "_id"], 45, 20],
	[["-at", "_id"], 0, 5],
	[["-active", "_id"], 3, 5],
	[["n", "_id"], 10, 10],
];

const UPDATES: [Query, Update][] = [
	[
		{ status: "pending", userId: "user-1" },
		{ $set: { status: "paid" }, $push: { outbox: { $each: [{ id: "x" }] } } },
	],
	[{ tags: "red" }, { $inc: { n: 1 }, $pull: { tags: "red" } }],
	[{ _id: "item-003" }, { $unset: { sku: true } }],
	[{ "variants.sku": "V-5-a" }, { $set: { "variants.0.stock": 9 } }],
	[{ n: { $gte: 40 } }, { $set: { at: new Date(Date.UTC(2027, 0, 1)) } }],
	[{ _id: "item-001" }, { $set: { tags: [] }, $push: { variants: { sku: "V-1-c", stock: 1 } } }],
];

async function both(): Promise<{ nedb: Collection<Item>; sqlite: Collection<Item> }> {
	const open = async (adapter: DbAdapter, kind: "nedb" | "sqlite") => {
		await adapter.connect();
		const c = new Collection<Item>("items", adapter, kind);
		for (const item of items()) await c.insert(item);
		return c;
	};
	return {
		nedb: await open(createNedbAdapter(null, "t", "items", SPEC), "nedb"),
		sqlite: await open(createSqliteAdapter(null, "t", "items", SPEC), "sqlite"),
	};
}

const ids = (docs: Item[]) => docs.map(d => d._id);

describe("SQLite store, against NeDB", () => {
	it("finds and counts the same documents for every query, with the same sorts and pages", async () => {
		const { nedb, sqlite } = await both();
		for (const query of QUERIES) {
			const expected = ids(await nedb.find({ query })).sort();
			expect(ids(await sqlite.find({ query })).sort(), JSON.stringify(query)).toEqual(expected);
			expect(await sqlite.count(query), JSON.stringify(query)).toBe(expected.length);
			for (const [sort, offset, limit] of PAGES) {
				const page = { query, sort, offset, limit };
				expect(ids(await sqlite.find(page)), JSON.stringify(page)).toEqual(ids(await nedb.find(page)));
			}
		}
	});

	it("pages many candidates newest first in key order, as NeDB pages them", async () => {
		const { nedb, sqlite } = await both();
		// Many more candidates than a page needs: the index's candidates are read in the sort's key order. (Documents
		// equal under the whole sort come in _id order here; NeDB gives them in insertion order, the same for these ids.)
		for (let i = 60; i < 900; i++) {
			const doc = { ...items()[i % 60]!, _id: `item-${String(i).padStart(3, "0")}`, sku: `SKU-${i}`, n: i % 7 };
			await nedb.insert(doc);
			await sqlite.insert(doc);
		}
		for (const query of [{ status: "paid" }, { active: true }, { tags: "red", n: { $gte: 3 } }, { userId: "user-2" }])
			for (const [sort, offset, limit] of [...PAGES, [["-n", "-createdAt"], 100, 25] as [string[], number, number]]) {
				const page = { query, sort, offset, limit };
				expect(ids(await sqlite.find(page)), JSON.stringify(page)).toEqual(ids(await nedb.find(page)));
			}
	});

	it("writes the same documents for every update, and answers the same counts", async () => {
		const { nedb, sqlite } = await both();
		for (const [query, update] of UPDATES) {
			expect(await sqlite.updateWhere(query, update), JSON.stringify(query)).toBe(await nedb.updateWhere(query, update));
		}
		expect(await sqlite.updateEach(["item-010", "item-011", "nope"], { $inc: { n: 100 } })).toBe(
			await nedb.updateEach(["item-010", "item-011", "nope"], { $inc: { n: 100 } }),
		);
		expect(await sqlite.removeWhere({ status: "cancelled", active: false })).toBe(await nedb.removeWhere({ status: "cancelled", active: false }));
		const all = async (c: Collection<Item>) => (await c.find({ sort: ["_id"] })).map(d => JSON.parse(JSON.stringify(d)));
		expect(await all(sqlite)).toEqual(await all(nedb));
		// The key tables follow the writes: what the updates changed is found by its new values only.
		for (const query of QUERIES) expect(ids(await sqlite.find({ query })).sort(), JSON.stringify(query)).toEqual(ids(await nedb.find({ query })).sort());
		// A document changed by one update and then by another, a moment later: both changes stored.
		await sqlite.updateWhere({ _id: "item-012" }, { $push: { tags: "one" } });
		await sqlite.updateWhere({ _id: "item-012", tags: "one" }, { $push: { tags: "two" } });
		const changed = await sqlite.findById("item-012");
		expect(changed?.tags.slice(-2)).toEqual(["one", "two"]);
		changed!.tags.push("not stored");
		expect((await sqlite.findById("item-012"))?.tags.slice(-2)).toEqual(["one", "two"]);
		const stored = await sqlite.findById("item-040");
		expect(stored?.at).toBeInstanceOf(Date);
	});

	it("refuses a duplicate unique key on insert and on update, writing nothing", async () => {
		const { sqlite } = await both();
		await expect(sqlite.insert({ ...items()[1]!, _id: "other", sku: "SKU-8" })).rejects.toEqual(new DuplicateKeyError("sku"));
		expect(await sqlite.findById("other")).toBeNull();
		expect(await sqlite.count({ userId: "user-1" })).toBe(12);
		await expect(sqlite.updateWhere({ _id: "item-002" }, { $set: { sku: "SKU-8", n: 999 } })).rejects.toEqual(new DuplicateKeyError("sku"));
		expect(await sqlite.findById("item-002")).toMatchObject({ sku: "SKU-2", n: 24 });
		expect(await sqlite.count({ n: 999 })).toBe(0);
		// The next updates start from the document as stored, not from the refused write.
		expect(await sqlite.updateWhere({ _id: "item-002" }, { $inc: { n: 1 } })).toBe(1);
		expect(await sqlite.updateWhere({ _id: "item-002", n: 25 }, { $inc: { n: 1 } })).toBe(1);
		expect(await sqlite.findById("item-002")).toMatchObject({ sku: "SKU-2", n: 26 });
		await expect(sqlite.insert(items()[5]!)).rejects.toEqual(new DuplicateKeyError("_id"));
		// A missing value is not a key: many documents may lack the sparse unique field.
		await sqlite.insert({ ...items()[0]!, _id: "no-sku-2" });
		expect(await sqlite.count({ sku: { $exists: false } })).toBe(10);
	});

	it("compare-and-set: of 20 racing writers expecting the same version, exactly one writes", async () => {
		const { sqlite } = await both();
		const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => sqlite.updateWhere({ _id: "item-004", n: 48 }, { $set: { n: 1000 + i } })));
		expect(outcomes.filter(n => n === 1)).toHaveLength(1);
		expect((await sqlite.findById("item-004"))?.n).toBeGreaterThanOrEqual(1000);
	});
});

describe("SQLite store, on disk", () => {
	const dirs: string[] = [];
	const tempDir = () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-sqlite-"));
		dirs.push(dir);
		return dir;
	};
	afterEach(() => {
		for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
	});

	it("keeps every write across a restart, in a file only its owner can read", async () => {
		const dir = tempDir();
		const first = createSqliteAdapter(dir, "svc", "items", SPEC);
		await first.connect();
		const c = new Collection<Item>("items", first, "sqlite");
		for (const item of items()) await c.insert(item);
		await c.updateWhere({ status: "paid" }, { $set: { status: "refunded" } });
		await c.removeById("item-000");
		await first.disconnect();

		const again = createSqliteAdapter(dir, "svc", "items", SPEC);
		await again.connect();
		const reopened = new Collection<Item>("items", again, "sqlite");
		expect(await reopened.count({})).toBe(59);
		expect(await reopened.count({ status: "refunded" })).toBe(20);
		expect(await reopened.count({ status: "paid" })).toBe(0);
		expect(await reopened.findById("item-000")).toBeNull();
		expect(fs.statSync(path.join(dir, "svc", "items.sqlite")).mode & 0o077).toBe(0);
		await again.disconnect();
	});

	it("copies a collection's NeDB file in at its first start (later lines win, removals applied) and renames the file", async () => {
		const dir = tempDir();
		const old = createNedbAdapter(dir, "svc", "items", SPEC);
		await old.connect();
		const n = new Collection<Item>("items", old, "nedb");
		for (const item of items()) await n.insert(item);
		await n.updateWhere({ userId: "user-3" }, { $set: { status: "shipped" } });
		await n.removeById("item-001");
		const expected = JSON.parse(JSON.stringify(await n.find({ sort: ["_id"] })));
		// Stopped without compacting: the file is NeDB's log, with the updates and the removal as later lines.
		const file = path.join(dir, "svc", "items.db");
		expect(fs.readFileSync(file, "utf8").split("\n").filter(Boolean).length).toBeGreaterThan(61);

		const adapter = createSqliteAdapter(dir, "svc", "items", SPEC);
		await adapter.connect();
		const migrated = new Collection<Item>("items", adapter, "sqlite");
		expect(JSON.parse(JSON.stringify(await migrated.find({ sort: ["_id"] })))).toEqual(expected);
		expect(await migrated.count({ status: "shipped" })).toBe(12);
		expect((await migrated.findById("item-005"))?.at).toBeInstanceOf(Date);
		expect(fs.existsSync(file)).toBe(false);
		expect(fs.existsSync(`${file}.migrated`)).toBe(true);
		await adapter.disconnect();
	});
});
