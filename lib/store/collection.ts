/**
 * One collection of a service's own database, behind the moleculer-db adapter API.
 *
 * The same `Collection` runs on moleculer-db's NeDB adapter (embedded, files under DATA_DIR,
 * lib/store/nedb.ts) and on the mongoose adapter (MONGO_URL, lib/store/mongo.ts). Services only
 * ever see `Collection`, so they never know which one they run on. Queries and updates use the
 * MongoDB operator subset that both implement: $set, $unset, $inc, $push (with $each), $pull,
 * $exists, $in, $gte/$lte, $or. Every query and update passes the store's floor first
 * (lib/store/field-paths.ts).
 */
import type { Context, ServiceBroker, Service } from "moleculer";
import { assertSafeQuery, assertSafeUpdate, assertSafeValue } from "./field-paths.js";
import { ferretDbDuplicateField } from "./ferretdb-v1.js";
import { ContentionError, envelopes, type OutboxPort } from "./outbox.js";
import type { DomainEvent } from "../contracts/events.js";

export type Query = Record<string, unknown>;
export type Update = Record<string, unknown>;
export interface Doc {
	_id: string;
}
export interface FindOptions {
	query?: Query;
	sort?: string[];
	limit?: number;
	offset?: number;
}
export interface IndexSpec {
	fields: Record<string, 1 | -1 | "text">;
	unique?: boolean;
	sparse?: boolean;
	/** Index weights for a text index (MongoDB only). */
	weights?: Record<string, number>;
}
export interface CollectionSpec {
	indexes?: IndexSpec[];
}

/** A unique index refused a write. `field` names the index's first field. */
export class DuplicateKeyError extends Error {
	constructor(readonly field: string) {
		super(`Duplicate value for '${field}'`);
		this.name = "DuplicateKeyError";
	}
}

/** The part of the moleculer-db adapter contract this project uses. */
export interface DbAdapter {
	init(broker: ServiceBroker, service: Service): void;
	connect(): Promise<void>;
	disconnect(): Promise<void>;
	find(filters: FindOptions): Promise<unknown[]>;
	findOne(query: Query): Promise<unknown>;
	findById(id: string): Promise<unknown>;
	findByIds(ids: string[]): Promise<unknown[]>;
	count(filters: FindOptions): Promise<number>;
	insert(entity: object): Promise<unknown>;
	updateMany(query: Query, update: Update): Promise<number>;
	updateById(id: string, update: Update): Promise<unknown>;
	removeMany(query: Query): Promise<number>;
	removeById(id: string): Promise<unknown>;
	entityToObject(entity: unknown): unknown;
	/** Update the first document matching `query` and answer it as written (null: none matched); absent: an update, then a read. */
	updateOne?(query: Query, update: Update): Promise<unknown>;
	/** The same update of each of these documents, in as few round trips as the store does it well (absent: one `_id: { $in }` update). */
	updateEach?(ids: string[], update: Update): Promise<number>;
	/** Every matching document in one pass, as plain objects, in no particular order (lib/store/mongo.ts; absent on NeDB). */
	scan?(query: Query, batchSize: number): AsyncIterable<unknown>;
}

/**
 * One change `Collection.change` writes: `update` applies only if the document still matches
 * `expect` (the fields the decision read, or a version it read); `events` go into the
 * document's outbox in the same write.
 */
export interface Change {
	expect: Query;
	update: Update;
	events?: readonly DomainEvent[];
}

/**
 * Decides the change to make to the document as read (attempt counts from 0). Answers null when
 * there is nothing (left) to do; throws to refuse (the error reaches the caller, nothing is written).
 */
export type Decide<T> = (doc: T, attempt: number) => Change | null | Promise<Change | null>;

export interface ChangeOptions<T extends Doc = Doc> {
	/** Reads and writes before giving up (default 5). */
	attempts?: number;
	/** The request or event that caused the change: its id (and trace) go into the events' envelopes. */
	cause?: Context | null;
	/** The error to throw when every attempt lost (default: a ContentionError). */
	contended?: () => Error;
	/**
	 * When no document has the id: insert this one instead (answered as written, `decide` is not
	 * called). When another writer inserts it first, the loop reads that one and decides on it.
	 */
	insert?: () => T;
}

/** What `Collection.change` did: `doc` is the document after the write, or as last read when nothing was written (null: no such document). */
export type ChangeOutcome<T> = { written: true; doc: T } | { written: false; doc: T | null };

export class Collection<T extends Doc> {
	constructor(
		readonly name: string,
		readonly adapter: DbAdapter,
		private readonly kind: "sqlite" | "nedb" | "mongo",
		/** The events mixin's port, for a collection whose documents carry an outbox (looked up at each write). */
		private readonly outbox: () => OutboxPort | undefined = () => undefined,
		/** Called once per write the store is asked to make (insert, update, remove): the shop_store_writes_total counter. */
		private readonly wrote: () => void = () => undefined,
	) {}

	private port(): OutboxPort {
		const port = this.outbox();
		if (!port) throw new Error(`Collection ${this.name} has no outbox: list it in its service's EventsMixin`);
		return port;
	}

	private async plain(raw: unknown): Promise<T | null> {
		if (raw === null || raw === undefined) return null;
		const obj = (this.kind === "mongo" ? await this.adapter.entityToObject(raw) : raw) as T;
		return obj;
	}

	private duplicate(err: unknown): never {
		const e = err as { errorType?: string; key?: string; code?: number; keyPattern?: Record<string, unknown>; message?: string };
		if (e && e.errorType === "uniqueViolated") throw new DuplicateKeyError(this.uniqueFieldFromNedb(e));
		if (e && e.code === 11000) throw new DuplicateKeyError(Object.keys(e.keyPattern ?? { _id: 1 })[0] ?? "_id");
		const ferret = ferretDbDuplicateField(e?.message ?? "");
		if (ferret) throw new DuplicateKeyError(ferret);
		throw err;
	}
	private uniqueFieldFromNedb(e: { message?: string }): string {
		const m = /field '?([\w.]+)'?/i.exec(e.message ?? "") ?? /key (?:.*?)for field (\w+)/i.exec(e.message ?? "");
		return m?.[1] ?? "_id";
	}

	async insert(doc: T): Promise<T> {
		assertSafeValue(doc);
		this.wrote();
		try {
			return (await this.plain(await this.adapter.insert(doc))) as T;
		} catch (err) {
			this.duplicate(err);
		}
	}
	/** Insert `doc`, or answer the document that has its `_id` already (another writer made it first). */
	async insertOrGet(doc: T): Promise<T> {
		try {
			return await this.insert(doc);
		} catch (err) {
			const existing = err instanceof DuplicateKeyError ? await this.findById(doc._id) : null;
			if (!existing) throw err;
			return existing;
		}
	}
	/**
	 * Insert `doc` with these events in its outbox, in the one write, then wake the relay.
	 * A DuplicateKeyError (nothing written) reaches the caller.
	 */
	async insertWithEvents(doc: T, events: readonly DomainEvent[], cause?: Context | null): Promise<T> {
		const port = this.port();
		const inserted = await this.insert({ ...doc, outbox: envelopes(port, events, cause) });
		if (events.length > 0) port.written(this.name, [doc._id]);
		return inserted;
	}

	/**
	 * `updateWhere` on one document (`query` names its `_id`) that also puts these events in its
	 * outbox, in the same write; wakes the relay when it was written. Answers how many documents
	 * were written (0 or 1).
	 */
	async changeWithEvents(query: Query & { _id: string }, update: Update, events: readonly DomainEvent[], cause?: Context | null): Promise<number> {
		if (events.length === 0) return this.updateWhere(query, update);
		const written = await this.updateWhere(query, this.withEvents(update, events, cause));
		if (written > 0) this.port().written(this.name, [query._id]);
		return written;
	}

	/** `update` with these events pushed onto the document's outbox. */
	private withEvents(update: Update, events: readonly DomainEvent[], cause?: Context | null): Update {
		const pushed = (update.$push ?? {}) as Record<string, unknown>;
		if ("outbox" in pushed) throw new Error("Events go in `events`, not in the update's $push");
		return { ...update, $push: { ...pushed, outbox: { $each: envelopes(this.port(), events, cause) } } };
	}

	/** `changeWithEvents`, answering the document as written (null: the condition did not hold). */
	private async changeOne(query: Query & { _id: string }, update: Update, events: readonly DomainEvent[], cause?: Context | null): Promise<T | null> {
		if (!this.adapter.updateOne) return (await this.changeWithEvents(query, update, events, cause)) === 1 ? this.findById(query._id) : null;
		const full = events.length > 0 ? this.withEvents(update, events, cause) : update;
		assertSafeQuery(query);
		assertSafeUpdate(full);
		this.wrote();
		let doc: T | null;
		try {
			doc = await this.plain(await this.adapter.updateOne(query, full));
		} catch (err) {
			this.duplicate(err);
		}
		if (doc && events.length > 0) this.port().written(this.name, [query._id]);
		return doc;
	}

	/**
	 * The compare-and-set loop: read the document, let `decide` say what to change, write it if
	 * the document still matches what the decision expects, and read again when another writer
	 * came first, at most `attempts` times (then `contended()`, or a ContentionError).
	 */
	async change(id: string, decide: Decide<T>, opts: ChangeOptions<T> = {}): Promise<ChangeOutcome<T>> {
		const attempts = opts.attempts ?? 5;
		for (let attempt = 0; attempt < attempts; attempt++) {
			const doc = await this.findById(id);
			if (!doc && opts.insert) {
				const inserted = await this.insert(opts.insert()).catch((err: unknown) => {
					if (err instanceof DuplicateKeyError) return null;
					throw err;
				});
				if (inserted) return { written: true, doc: inserted };
				continue;
			}
			if (!doc) return { written: false, doc: null };
			const change = await decide(doc, attempt);
			if (!change) return { written: false, doc };
			const written = await this.changeOne({ ...change.expect, _id: id }, change.update, change.events ?? [], opts.cause);
			if (written) return { written: true, doc: written };
		}
		throw opts.contended?.() ?? new ContentionError(this.name, id, attempts);
	}

	/**
	 * The compare-and-set of a new document: `decide` reads what it needs and answers the document
	 * (with its events). It is inserted unless another writer took one of its unique keys first;
	 * then it is decided again, at most `attempts` times (then `contended()`, or a ContentionError).
	 */
	async insertDecided(decide: (attempt: number) => Promise<{ doc: T; events?: readonly DomainEvent[] }>, opts: ChangeOptions<T> = {}): Promise<T> {
		const attempts = opts.attempts ?? 5;
		let last = "";
		for (let attempt = 0; attempt < attempts; attempt++) {
			const { doc, events = [] } = await decide(attempt);
			last = doc._id;
			try {
				return events.length > 0 ? await this.insertWithEvents(doc, events, opts.cause) : await this.insert(doc);
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
			}
		}
		throw opts.contended?.() ?? new ContentionError(this.name, last, attempts);
	}

	async findById(id: string): Promise<T | null> {
		if (typeof id !== "string") throw new TypeError("An id must be a string");
		return this.plain(await this.adapter.findById(id));
	}
	/** The documents with these ids that exist, in no particular order. */
	async findByIds(ids: readonly string[]): Promise<T[]> {
		if (!ids.every(id => typeof id === "string")) throw new TypeError("An id must be a string");
		if (ids.length === 0) return [];
		const rows = await this.adapter.findByIds([...ids]);
		return (await Promise.all(rows.map(r => this.plain(r)))).filter((d): d is Awaited<T> => d !== null) as T[];
	}
	async findOne(query: Query): Promise<T | null> {
		assertSafeQuery(query);
		return this.plain(await this.adapter.findOne(query));
	}
	async find(opts: FindOptions = {}): Promise<T[]> {
		assertSafeQuery(opts.query);
		const rows = await this.adapter.find({ query: opts.query ?? {}, sort: opts.sort, limit: opts.limit, offset: opts.offset });
		return (await Promise.all(rows.map(r => this.plain(r)))) as T[];
	}
	/**
	 * Every document matching `query`, a batch at a time, in no particular order: to build a read
	 * model from a whole collection. MongoDB streams one cursor; elsewhere (NeDB) it pages by `_id`,
	 * which is an index range there.
	 */
	async *scan(query: Query, batchSize = 5000): AsyncIterable<T> {
		assertSafeQuery(query);
		if (this.adapter.scan) {
			for await (const doc of this.adapter.scan(query, batchSize)) yield doc as T; // plain objects already
			return;
		}
		let after: string | null = null;
		for (;;) {
			const page: T[] = await this.find({ query: after === null ? query : { ...query, _id: { $gt: after } }, sort: ["_id"], limit: batchSize });
			yield* page;
			if (page.length < batchSize) return;
			after = page[page.length - 1]!._id;
		}
	}
	count(query: Query = {}): Promise<number> {
		assertSafeQuery(query);
		return this.adapter.count({ query });
	}
	/**
	 * Atomic conditional update: changes every document that matches `query` and says how many.
	 * With `_id` in the query this is a compare-and-set on one document.
	 */
	async updateWhere(query: Query, update: Update): Promise<number> {
		assertSafeQuery(query);
		assertSafeUpdate(update);
		this.wrote();
		try {
			return await this.adapter.updateMany(query, update);
		} catch (err) {
			this.duplicate(err);
		}
	}
	/** The same update of each of these documents (not one transaction: each document's update is atomic); answers how many were written. */
	async updateEach(ids: readonly string[], update: Update): Promise<number> {
		if (!ids.every(id => typeof id === "string")) throw new TypeError("An id must be a string");
		if (ids.length === 0) return 0;
		if (ids.length === 1) return this.updateWhere({ _id: ids[0] }, update);
		if (!this.adapter.updateEach) return this.updateWhere({ _id: { $in: [...ids] } }, update);
		assertSafeUpdate(update);
		this.wrote();
		return this.adapter.updateEach([...ids], update);
	}
	async updateById(id: string, update: Update): Promise<T | null> {
		if (typeof id !== "string") throw new TypeError("An id must be a string");
		assertSafeUpdate(update);
		this.wrote();
		try {
			return await this.plain(await this.adapter.updateById(id, update));
		} catch (err) {
			this.duplicate(err);
		}
	}
	async removeById(id: string): Promise<void> {
		this.wrote();
		await this.adapter.removeById(id);
	}
	removeWhere(query: Query): Promise<number> {
		assertSafeQuery(query);
		this.wrote();
		return this.adapter.removeMany(query);
	}
}
