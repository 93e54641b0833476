/**
 * The store's one compare-and-set loop (`Collection.change`) and its one write path for events
 * (`insertWithEvents`, `changeWithEvents`), on both embedded adapters (SQLite and NeDB).
 */
import { describe, expect, it } from "vitest";
import { Collection, ContentionError, DuplicateKeyError, createNedbAdapter, createSqliteAdapter, domainEvent, type OutboxPort } from "../../lib/store/index.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";

interface Counter {
	_id: string;
	n: number;
	notes?: string[];
	outbox?: EventEnvelope[];
}

/** A port like the events mixin's: envelopes numbered in order, and the relay nudges it was given. */
function recordingPort() {
	const nudges: { collection: string; ids: readonly string[] }[] = [];
	let seq = 0;
	const port: OutboxPort = {
		envelope: (type, payload) => ({ id: `e${++seq}`, type, key: "k", source: "test", occurredAt: "2026-01-01T00:00:00.000Z", requestId: null, payload }),
		written: (collection, ids) => void nudges.push({ collection, ids }),
	};
	return { port, nudges };
}

type Engine = "sqlite" | "nedb";
async function countersOn(engine: Engine, withPort = true) {
	const adapter = (engine === "sqlite" ? createSqliteAdapter : createNedbAdapter)(null, "test", "counters", {});
	await adapter.connect();
	const { port, nudges } = recordingPort();
	const coll = new Collection<Counter>("counters", adapter, engine, () => (withPort ? port : undefined));
	await coll.insert({ _id: "c1", n: 0 });
	return { coll, nudges };
}

const stockChanged = (productId: string) => domainEvent("stock.changed", { productId, variantId: null });

describe.each(["sqlite", "nedb"] as const)("on %s", engine => {
	const counters = (withPort = true) => countersOn(engine, withPort);

	describe("Collection.change", () => {
		it("writes the decided change with its events in the outbox, then wakes the relay for the document", async () => {
			const { coll, nudges } = await counters();
			const outcome = await coll.change("c1", c => ({ expect: { n: c.n }, update: { $inc: { n: 1 } }, events: [stockChanged("p1")] }));
			expect(outcome).toMatchObject({ written: true, doc: { _id: "c1", n: 1 } });
			const stored = await coll.findById("c1");
			expect(stored?.outbox?.map(e => [e.type, e.payload])).toEqual([["stock.changed", { productId: "p1", variantId: null }]]);
			expect(nudges).toEqual([{ collection: "counters", ids: ["c1"] }]);
		});

		it("reads again and decides again when another writer came between the read and the write", async () => {
			const { coll, nudges } = await counters();
			const seen: number[] = [];
			const outcome = await coll.change("c1", async (c, attempt) => {
				seen.push(c.n);
				if (attempt === 0) await coll.updateWhere({ _id: "c1" }, { $inc: { n: 10 } }); // the other writer
				return { expect: { n: c.n }, update: { $set: { n: c.n + 1 } }, events: [stockChanged("p1")] };
			});
			expect(seen).toEqual([0, 10]);
			expect(outcome).toMatchObject({ written: true, doc: { n: 11 } });
			// The lost attempt wrote nothing: one event, one nudge.
			expect((await coll.findById("c1"))?.outbox).toHaveLength(1);
			expect(nudges).toHaveLength(1);
		});

		it("loses no update among concurrent changes: every change that answers is counted, the others fail with a ContentionError", async () => {
			const { coll } = await counters();
			const results = await Promise.allSettled(
				Array.from({ length: 8 }, () => coll.change("c1", c => ({ expect: { n: c.n }, update: { $set: { n: c.n + 1 } } }), { attempts: 3 })),
			);
			const done = results.filter(r => r.status === "fulfilled").length;
			const failed = results.flatMap(r => (r.status === "rejected" ? [r.reason] : []));
			expect(done).toBeGreaterThan(0);
			expect(failed.every(e => e instanceof ContentionError)).toBe(true);
			expect((await coll.findById("c1"))?.n).toBe(done);
		});

		it("passes a refusal thrown by decide to the caller, writing nothing and trying once", async () => {
			const { coll, nudges } = await counters();
			let calls = 0;
			const refusal = new Error("not enough units");
			await expect(
				coll.change("c1", () => {
					calls++;
					throw refusal;
				}),
			).rejects.toBe(refusal);
			expect(calls).toBe(1);
			expect(await coll.findById("c1")).toEqual({ _id: "c1", n: 0 });
			expect(nudges).toEqual([]);
		});

		it("writes nothing when decide answers null, and answers the document as read", async () => {
			const { coll } = await counters();
			expect(await coll.change("c1", () => null)).toEqual({ written: false, doc: { _id: "c1", n: 0 } });
		});

		it("does not call decide for a document that does not exist", async () => {
			const { coll } = await counters();
			let called = false;
			const outcome = await coll.change("nope", () => {
				called = true;
				return { expect: {}, update: { $set: { n: 1 } } };
			});
			expect(outcome).toEqual({ written: false, doc: null });
			expect(called).toBe(false);
		});

		it("inserts the given document when none has the id, and decides on the one another writer inserted first", async () => {
			const { coll } = await counters();
			const inc = (c: Counter) => ({ expect: { n: c.n }, update: { $set: { n: c.n + 1 } } });
			expect(await coll.change("c3", inc, { insert: () => ({ _id: "c3", n: 100 }) })).toEqual({ written: true, doc: { _id: "c3", n: 100 } });
			// c1 exists: decided on, not inserted over.
			expect(await coll.change("c1", inc, { insert: () => ({ _id: "c1", n: 100 }) })).toMatchObject({ written: true, doc: { n: 1 } });
			const racing = await Promise.all(Array.from({ length: 4 }, () => coll.change("c4", inc, { insert: () => ({ _id: "c4", n: 0 }), attempts: 10 })));
			expect(racing.every(r => r.written)).toBe(true);
			expect((await coll.findById("c4"))?.n).toBe(3); // one insert, three increments on it
		});

		it("gives up with a ContentionError naming the document after the given attempts, or with the caller's error", async () => {
			const { coll, nudges } = await counters();
			let calls = 0;
			const alwaysMoved = async (c: Counter) => {
				calls++;
				await coll.updateWhere({ _id: "c1" }, { $inc: { n: 1 } });
				return { expect: { n: c.n }, update: { $set: { n: -1 } }, events: [stockChanged("p1")] };
			};
			const err = await coll.change("c1", alwaysMoved, { attempts: 3 }).catch((e: unknown) => e);
			expect(err).toBeInstanceOf(ContentionError);
			expect(err).toMatchObject({ collection: "counters", id: "c1", attempts: 3 });
			expect((err as Error).message).toMatch(/counters c1 kept changing/);
			expect(calls).toBe(3);
			expect((await coll.findById("c1"))?.n).toBe(3);
			expect(nudges).toEqual([]);

			const mine = new Error("The cart changed; try again");
			await expect(coll.change("c1", alwaysMoved, { attempts: 2, contended: () => mine })).rejects.toBe(mine);
		});
	});

	describe("Collection.insertDecided", () => {
		it("decides again when another writer took the unique key first, and gives up after the given attempts", async () => {
			const { coll, nudges } = await counters();
			const tried: string[] = [];
			const slot = async (attempt: number) => {
				const taken = await coll.count({});
				tried.push(`slot${taken}`);
				if (attempt === 0) await coll.insert({ _id: `slot${taken}`, n: -1 }); // another writer takes it meanwhile
				return { doc: { _id: `slot${taken}`, n: attempt }, events: [stockChanged("p1")] };
			};
			const inserted = await coll.insertDecided(slot);
			expect(tried).toEqual(["slot1", "slot2"]);
			expect(inserted).toMatchObject({ _id: "slot2", n: 1 });
			expect((await coll.findById("slot2"))?.outbox).toHaveLength(1);
			expect(nudges).toEqual([{ collection: "counters", ids: ["slot2"] }]);

			const busy = new Error("busy");
			await expect(coll.insertDecided(async () => ({ doc: { _id: "c1", n: 9 } }), { attempts: 2, contended: () => busy })).rejects.toBe(busy);
			expect((await coll.findById("c1"))?.n).toBe(0);
		});
	});

	describe("Collection.insertWithEvents / changeWithEvents", () => {
		it("inserts a document with its events in its outbox and wakes the relay; a duplicate writes nothing and wakes nothing", async () => {
			const { coll, nudges } = await counters();
			await coll.insertWithEvents({ _id: "c2", n: 5 }, [stockChanged("p2")]);
			expect((await coll.findById("c2"))?.outbox?.map(e => e.type)).toEqual(["stock.changed"]);
			expect(nudges).toEqual([{ collection: "counters", ids: ["c2"] }]);
			await expect(coll.insertWithEvents({ _id: "c2", n: 6 }, [stockChanged("p2")])).rejects.toBeInstanceOf(DuplicateKeyError);
			expect(nudges).toHaveLength(1);
			expect((await coll.findById("c2"))?.n).toBe(5);
		});

		it("adds the events to the update's own $push, and wakes the relay only when the condition held", async () => {
			const { coll, nudges } = await counters();
			expect(await coll.changeWithEvents({ _id: "c1", n: 1 }, { $push: { notes: "x" } }, [stockChanged("p1")])).toBe(0);
			expect(nudges).toEqual([]);
			expect(await coll.changeWithEvents({ _id: "c1", n: 0 }, { $push: { notes: "x" }, $inc: { n: 1 } }, [stockChanged("p1")])).toBe(1);
			const stored = await coll.findById("c1");
			expect(stored).toMatchObject({ n: 1, notes: ["x"] });
			expect(stored?.outbox).toHaveLength(1);
			expect(nudges).toEqual([{ collection: "counters", ids: ["c1"] }]);
		});

		it("refuses outbox rows built by hand, and events on a collection without an outbox", async () => {
			const { coll } = await counters();
			await expect(coll.changeWithEvents({ _id: "c1" }, { $push: { outbox: { $each: [] } } }, [stockChanged("p1")])).rejects.toThrow(/events/);
			const bare = (await counters(false)).coll;
			await expect(bare.changeWithEvents({ _id: "c1" }, { $inc: { n: 1 } }, [stockChanged("p1")])).rejects.toThrow(/has no outbox/);
			expect((await bare.findById("c1"))?.n).toBe(0);
		});
	});
});
