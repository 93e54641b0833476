/**
 * The embedded store on its data file (lib/store/nedb-append.ts): writes appended through one kept-open
 * descriptor must land in the file NeDB reads at the next start, across compactions (which replace
 * the file), with the file's private mode; and `updateEach` / the group write (lib/store/group-write.ts)
 * that batch the relay's pulls.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Collection, createNedbAdapter, type Doc } from "../../lib/store/index.js";
import { idLast } from "../../lib/store/nedb.js";
import { GroupWrite } from "../../lib/store/group-write.js";

interface Item extends Doc {
	n: number;
	tags?: string[];
}

const dirs: string[] = [];
afterEach(() => {
	for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function open(dir: string) {
	const adapter = createNedbAdapter(dir, "svc", "items", { indexes: [{ fields: { n: 1 } }] });
	await adapter.connect();
	return { coll: new Collection<Item>("items", adapter, "nedb"), adapter };
}

describe("NeDB data file", () => {
	it("keeps every insert, update and removal across a restart, and across a compaction in between", async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-nedb-"));
		dirs.push(dir);
		const first = await open(dir);
		await first.coll.insert({ _id: "a", n: 1 });
		await first.coll.insert({ _id: "b", n: 2 });
		await first.coll.updateWhere({ _id: "a" }, { $inc: { n: 10 } });
		// A compaction replaces the file; the writes after it must go to the new one.
		await (first.adapter as unknown as { db: { compactDatafileAsync(): Promise<void> } }).db.compactDatafileAsync();
		await first.coll.insert({ _id: "c", n: 3 });
		await first.coll.updateWhere({ _id: "b" }, { $set: { tags: ["x"] } });
		await first.coll.removeById("c");
		await first.coll.insert({ _id: "d", n: 4 });
		await first.adapter.disconnect();

		const file = path.join(dir, "svc", "items.db");
		expect(fs.statSync(file).mode & 0o777).toBe(0o600);
		const again = await open(dir);
		const all = (await again.coll.find({ sort: ["_id"] })).map(({ _id, n, tags }) => ({ _id, n, tags }));
		expect(all).toEqual([
			{ _id: "a", n: 11, tags: undefined },
			{ _id: "b", n: 2, tags: ["x"] },
			{ _id: "d", n: 4, tags: undefined },
		]);
		await again.adapter.disconnect();
	});

	it("keeps the writes of a process that stopped without compacting (each write is in the file when it resolves)", async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-nedb-"));
		dirs.push(dir);
		const first = await open(dir);
		await first.coll.insert({ _id: "a", n: 1 });
		await first.coll.updateWhere({ _id: "a" }, { $inc: { n: 1 } });
		// No disconnect: as after a crash, only what each write put in the file is there.
		const lines = fs
			.readFileSync(path.join(dir, "svc", "items.db"), "utf8")
			.trim()
			.split("\n");
		expect(JSON.parse(lines.at(-1)!)).toMatchObject({ _id: "a", n: 2 });
		const again = await open(dir);
		expect(await again.coll.findById("a")).toMatchObject({ n: 2 });
		await again.adapter.disconnect();
	});
});

describe("Collection.updateEach", () => {
	it("applies one update to each named document and says how many it wrote", async () => {
		const adapter = createNedbAdapter(null, "svc", "items", {});
		await adapter.connect();
		const coll = new Collection<Item>("items", adapter, "nedb");
		for (const _id of ["a", "b", "c"]) await coll.insert({ _id, n: 0, tags: ["keep", `drop-${_id}`] });
		expect(await coll.updateEach(["a", "c", "missing"], { $pull: { tags: { $in: ["drop-a", "drop-c"] } } })).toBe(2);
		expect((await coll.find({ sort: ["_id"] })).map(d => d.tags)).toEqual([["keep"], ["keep", "drop-b"], ["keep"]]);
	});
});

describe("GroupWrite", () => {
	it("writes the first item at once and what comes during a write together in the next one", async () => {
		const writes: number[][] = [];
		let release!: () => void;
		const gate = new Promise<void>(r => (release = r));
		const group = new GroupWrite<number>(async items => {
			writes.push(items);
			if (writes.length === 1) await gate;
		});
		const first = group.add(1);
		const rest = [group.add(2), group.add(3), group.add(4)];
		expect(writes).toEqual([[1]]);
		release();
		await Promise.all([first, ...rest]);
		expect(writes).toEqual([[1], [2, 3, 4]]);
	});

	it("rejects the callers of a write that failed, and goes on with the next", async () => {
		let fail = true;
		const group = new GroupWrite<string>(async () => {
			if (fail) {
				fail = false;
				throw new Error("disk full");
			}
		});
		await expect(group.add("a")).rejects.toThrow("disk full");
		await expect(group.add("b")).resolves.toBeUndefined();
	});
});

describe("idLast", () => {
	it("puts a plain _id last, so NeDB reads the document by its primary index", () => {
		expect(Object.keys(idLast({ _id: "o1", status: "pending" }))).toEqual(["status", "_id"]);
		expect(idLast({ _id: "o1", status: "pending" })).toEqual({ status: "pending", _id: "o1" });
		// Nothing to do: no _id, an _id that is not one id, or last already.
		const asked = { status: "pending", _id: "o1" };
		expect(idLast(asked)).toBe(asked);
		const range = { _id: { $gt: "a" }, status: "x" };
		expect(idLast(range)).toBe(range);
	});

	it("makes a compare-and-set on one document answer the same, by id", async () => {
		const adapter = createNedbAdapter(null, "svc", "orders", { indexes: [{ fields: { status: 1 } }] });
		await adapter.connect();
		const coll = new Collection<Item & { status: string }>("orders", adapter, "nedb");
		for (let i = 0; i < 50; i++) await coll.insert({ _id: `o${i}`, n: i, status: "pending" });
		expect(await coll.updateWhere({ _id: "o7", status: "pending" }, { $set: { status: "paid" } })).toBe(1);
		expect(await coll.updateWhere({ _id: "o7", status: "pending" }, { $set: { status: "paid" } })).toBe(0);
		expect(await coll.count({ status: "pending" })).toBe(49);
		expect((await coll.findOne({ _id: "o7", status: "paid" }))?.n).toBe(7);
		expect((await coll.find({ query: { _id: "o8", status: "pending" } })).map(d => d._id)).toEqual(["o8"]);
	});
});
