/**
 * One collection of a service's own database, behind the moleculer-db adapter API.
 *
 * The same `Collection` runs on moleculer-db's NeDB adapter (embedded, files under DATA_DIR)
 * and on the mongoose adapter (MONGO_URL). Services only ever see `Collection`, so they never
 * know which one they run on. Queries and updates use the MongoDB operator subset that both
 * implement: $set, $unset, $inc, $push (with $each), $pull, $exists, $in, $gte/$lte, $or.
 */
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";
import DbService from "moleculer-db";
import MongooseDbAdapter from "moleculer-db-adapter-mongoose";
import mongoose from "mongoose";
import type { ServiceBroker, Service } from "moleculer";
import { config } from "./config.js";
import { assertSafeQuery, assertSafeUpdate, assertSafeValue } from "./store/field-paths.js";

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
interface DbAdapter {
	init(broker: ServiceBroker, service: Service): void;
	connect(): Promise<void>;
	disconnect(): Promise<void>;
	find(filters: FindOptions): Promise<unknown[]>;
	findOne(query: Query): Promise<unknown>;
	findById(id: string): Promise<unknown>;
	count(filters: FindOptions): Promise<number>;
	insert(entity: object): Promise<unknown>;
	updateMany(query: Query, update: Update): Promise<number>;
	updateById(id: string, update: Update): Promise<unknown>;
	removeMany(query: Query): Promise<number>;
	removeById(id: string): Promise<unknown>;
	entityToObject(entity: unknown): unknown;
}

export class Collection<T extends Doc> {
	constructor(
		readonly name: string,
		readonly adapter: DbAdapter,
		private readonly kind: "nedb" | "mongo",
	) {}

	private async plain(raw: unknown): Promise<T | null> {
		if (raw === null || raw === undefined) return null;
		const obj = (this.kind === "mongo" ? await this.adapter.entityToObject(raw) : raw) as T;
		return obj;
	}

	private duplicate(err: unknown): never {
		const e = err as { errorType?: string; key?: string; code?: number; keyPattern?: Record<string, unknown>; message?: string };
		if (e && e.errorType === "uniqueViolated") throw new DuplicateKeyError(this.uniqueFieldFromNedb(e));
		if (e && e.code === 11000) throw new DuplicateKeyError(Object.keys(e.keyPattern ?? { _id: 1 })[0] ?? "_id");
		// FerretDB v1 answers an update that breaks a unique index with an internal error naming
		// the SQLite index, `<table>_<hash>_<index name>`, e.g. `products_f50c43ef_sku_1`.
		const sqlite = /UNIQUE constraint failed: index '[^']*?_[0-9a-f]{8}_([^']+)'/.exec(e?.message ?? "");
		if (sqlite) throw new DuplicateKeyError(sqlite[1]!.split(/_(?:-?1|text)(?:_|$)/)[0] || "_id");
		throw err;
	}
	private uniqueFieldFromNedb(e: { message?: string }): string {
		const m = /field '?([\w.]+)'?/i.exec(e.message ?? "") ?? /key (?:.*?)for field (\w+)/i.exec(e.message ?? "");
		return m?.[1] ?? "_id";
	}

	async insert(doc: T): Promise<T> {
		assertSafeValue(doc);
		try {
			return (await this.plain(await this.adapter.insert(doc))) as T;
		} catch (err) {
			this.duplicate(err);
		}
	}
	async findById(id: string): Promise<T | null> {
		if (typeof id !== "string") throw new TypeError("An id must be a string");
		return this.plain(await this.adapter.findById(id));
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
		try {
			return await this.adapter.updateMany(query, update);
		} catch (err) {
			this.duplicate(err);
		}
	}
	async updateById(id: string, update: Update): Promise<T | null> {
		if (typeof id !== "string") throw new TypeError("An id must be a string");
		assertSafeUpdate(update);
		try {
			return await this.plain(await this.adapter.updateById(id, update));
		} catch (err) {
			this.duplicate(err);
		}
	}
	async removeById(id: string): Promise<void> {
		await this.adapter.removeById(id);
	}
	removeWhere(query: Query): Promise<number> {
		assertSafeQuery(query);
		return this.adapter.removeMany(query);
	}
}

// ---------------------------------------------------------------------------------------------
// Adapters

/**
 * The embedded files hold password hashes, refresh-token hashes and the JWT signing key: DATA_DIR
 * and its folders are the owner's alone (0700), and files are created 0600 (the process umask
 * becomes 077 once a data directory is used: NeDB rewrites its files on every compaction, with
 * no say over their mode).
 */
function ensurePrivateDir(dir: string): void {
	process.umask(0o077);
	fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
	fs.chmodSync(dir, 0o700);
}

/** The NeDB adapter's persisted Datastore, with the indexes the spec asks for (text indexes excepted). */
export function createNedbAdapter(dataDir: string | null, service: string, collection: string, spec: CollectionSpec): DbAdapter {
	const opts: Record<string, unknown> = {};
	if (dataDir) {
		const dir = path.join(dataDir, service);
		ensurePrivateDir(dataDir);
		ensurePrivateDir(dir);
		opts.filename = path.join(dir, `${collection}.db`);
		opts.autoload = false;
	}
	const adapter = new DbService.MemoryAdapter(opts) as unknown as DbAdapter & {
		db: {
			ensureIndex(o: object): Promise<void>;
			countAsync(query: Query): Promise<number>;
			setAutocompactionInterval?(ms: number): void;
			stopAutocompaction?(): void;
			compactDatafileAsync?(): Promise<void>;
		} | null;
	};
	const connect = adapter.connect.bind(adapter);
	adapter.connect = async () => {
		await connect();
		for (const idx of spec.indexes ?? []) {
			const fields = Object.entries(idx.fields).filter(([, dir]) => dir !== "text");
			// NeDB indexes one field at a time; a compound index only speeds up its first field.
			if (fields.length === 0) continue;
			const [fieldName] = fields[0];
			if (fields.length > 1 && idx.unique) throw new Error(`NeDB cannot enforce a compound unique index on ${collection}`);
			await adapter.db!.ensureIndex({ fieldName, unique: !!idx.unique, sparse: !!idx.sparse });
		}
		// Keep the append-only file from growing without bound.
		if (dataDir) adapter.db!.setAutocompactionInterval?.(10 * 60_000);
	};
	// moleculer-db's NeDB count fetches (and deep-copies) every matching document to take the
	// length; NeDB counts without copying.
	adapter.count = (filters: FindOptions = {}) => adapter.db!.countAsync(filters.query ?? {});
	const disconnect = adapter.disconnect.bind(adapter);
	adapter.disconnect = async () => {
		// The compaction timer would keep the process alive; compact once on a clean stop instead.
		adapter.db?.stopAutocompaction?.();
		if (dataDir) await adapter.db?.compactDatafileAsync?.().catch(() => undefined);
		await disconnect();
	};
	return adapter;
}

const connections = new Map<string, mongoose.Connection>();

/** A connection per database, shared by the collections of one service in this process. */
async function connectionFor(url: string, dbName: string): Promise<mongoose.Connection> {
	const key = `${url}|${dbName}`;
	let conn = connections.get(key);
	if (!conn) {
		conn = mongoose.createConnection(url, { dbName, serverSelectionTimeoutMS: 10_000, maxPoolSize: 20 });
		connections.set(key, conn);
		conn.on("close", () => connections.delete(key));
	}
	await conn.asPromise();
	return conn;
}

/**
 * The mongoose adapter in `model` mode, but on a connection of its own database.
 * (The stock adapter connects the global mongoose connection, so every service of a process
 * would share one database; its `schema` mode is broken on mongoose 8.)
 */
// The stock class's typings do not describe its protected fields; extend its runtime shape.
const MongooseAdapterBase = MongooseDbAdapter as unknown as new (uri: string) => {
	broker?: ServiceBroker;
	service?: Service;
	insert(entity: object): Promise<unknown>;
	updateMany(query: Query, update: Update): Promise<number>;
	updateById(id: string, update: Update): Promise<unknown>;
};

/**
 * FerretDB v1 runs an update as read, modify in Go, write back by `_id`, with nothing isolating
 * the read from the write: two concurrent conditional updates of one document can both "win"
 * (a lost update: two holds on the last unit, a status moved twice), and its `$pull` ignores
 * conditions (`$pull: { outbox: { id: { $in: [...] } } }` pulls nothing). On FerretDB v1 the
 * adapter therefore applies updates itself, as an optimistic compare-and-set:
 *   read the matching document and its revision token `_rev` → apply the operators in JS with
 *   NeDB's implementation (the one the embedded mode runs) → claim the transition out of that
 *   revision by inserting `<collection>/<id>/<rev>/<n>` into `store_revision_claims` (a unique
 *   `_id` insert is atomic in FerretDB: SQLite enforces it) → write the document with a new token.
 * A writer that loses a claim reads again. A claim whose writer died before writing (older than
 * CLAIM_STALE_MS) is passed by claiming `<n+1>`; a writer never writes later than WRITE_WITHIN_MS
 * after its read, far less than that, so a passed claim can no longer write. Claims are swept
 * after CLAIM_KEEP_MS. MongoDB itself (single-document updates are atomic) takes the native path.
 */
const REV = "_rev";
const CLAIMS = "store_revision_claims";
const CLAIM_STALE_MS = 10_000;
const WRITE_WITHIN_MS = 3_000;
const CLAIM_KEEP_MS = 10 * 60_000;
const nedbModel = createRequire(createRequire(import.meta.url).resolve("moleculer-db"))("@seald-io/nedb/lib/model.js") as {
	modify(doc: object, update: object): Record<string, unknown>;
};
const ferretV1 = new WeakMap<mongoose.Connection, Promise<boolean>>();
function isFerretDbV1(conn: mongoose.Connection): Promise<boolean> {
	let p = ferretV1.get(conn);
	if (!p) {
		p = conn
			.db!.admin()
			.command({ buildInfo: 1 })
			.then(info => /^v?1\./.test(String(info.ferretdbVersion ?? "")));
		ferretV1.set(conn, p);
	}
	return p;
}
type RawDoc = Record<string, unknown> & { _id: string };

class ServiceDatabaseMongooseAdapter extends MongooseAdapterBase {
	model!: mongoose.Model<unknown>;
	conn!: mongoose.Connection;
	db: unknown;
	/** FerretDB v1: updates go through `casUpdate` (see above). */
	emulateUpdates = false;
	private claimsMade = 0;
	constructor(
		private readonly url: string,
		private readonly dbName: string,
		private readonly collectionName: string,
		private readonly spec: CollectionSpec,
	) {
		super(url);
	}
	init(broker: ServiceBroker, service: Service): void {
		this.broker = broker;
		this.service = service;
	}
	async connect(): Promise<void> {
		this.conn = await connectionFor(this.url, this.dbName);
		const schema = new mongoose.Schema(
			{ _id: { type: String, required: true } },
			// strictQuery off: a filter on a field the schema does not declare must reach MongoDB,
			// never be silently dropped (a dropped condition turns a compare-and-set into a blind write).
			// minimize off: an empty object (`holds: {}`) is stored and read back as such, as on NeDB.
			{ strict: false, strictQuery: false, versionKey: false, minimize: false, collection: this.collectionName, autoIndex: false, id: false },
		);
		for (const idx of this.spec.indexes ?? []) {
			schema.index(idx.fields, { unique: !!idx.unique, sparse: !!idx.sparse, ...(idx.weights ? { weights: idx.weights } : {}) });
		}
		this.model = (this.conn.models[this.collectionName] as mongoose.Model<unknown>) ?? this.conn.model(this.collectionName, schema);
		await this.model.createIndexes();
		this.db = this.conn.db;
		this.emulateUpdates = await isFerretDbV1(this.conn);
	}
	override insert(entity: object): Promise<unknown> {
		return super.insert(this.emulateUpdates ? { ...entity, [REV]: randomUUID() } : entity);
	}
	override async updateMany(query: Query, update: Update): Promise<number> {
		if (!this.emulateUpdates) return super.updateMany(query, update);
		const ids = (await this.model.collection.find(query, { projection: { _id: 1 } }).toArray()).map(d => d._id);
		let modified = 0;
		for (const id of ids) if ((await this.casUpdate({ $and: [query, { _id: id }] }, update)).modified) modified++;
		return modified;
	}
	override async updateById(id: string, update: Update): Promise<unknown> {
		if (!this.emulateUpdates) return super.updateById(id, update);
		const { doc } = await this.casUpdate({ _id: id }, update);
		return doc ? this.model.hydrate(doc) : null;
	}

	/** One document's conditional update on FerretDB v1; see the comment at REV. */
	private async casUpdate(filter: Query, update: Update): Promise<{ doc: RawDoc | null; modified: boolean }> {
		const coll = this.model.collection as unknown as mongoose.mongo.Collection<RawDoc>;
		// Like mongoose: an update without operators sets the fields it names.
		const ops = Object.keys(update).some(k => k.startsWith("$")) ? update : { $set: update };
		const deadline = Date.now() + 30_000;
		for (let attempt = 0; Date.now() < deadline; attempt++) {
			const readAt = Date.now();
			const current = (await coll.findOne(filter)) as RawDoc | null;
			if (!current) return { doc: null, modified: false };
			const { [REV]: rev, ...plain } = current;
			const next = nedbModel.modify(plain, ops) as RawDoc;
			if (isDeepStrictEqual(next, plain)) return { doc: current, modified: false };
			const claim = await this.claim(current._id, String(rev ?? "0"));
			if (claim && Date.now() - readAt < WRITE_WITHIN_MS) {
				const written = { ...next, [REV]: randomUUID() };
				try {
					await coll.replaceOne({ _id: current._id }, written);
					return { doc: written, modified: true };
				} catch (err) {
					await this.releaseClaim(claim, current._id, written[REV]);
					throw err;
				}
			}
			if (claim) await this.releaseClaim(claim, current._id, undefined);
			await new Promise(r => setTimeout(r, Math.random() * Math.min(50, 1 + attempt * 5)));
		}
		throw new Error(`Update of ${this.collectionName} document gave up after 30 s of contention`);
	}
	/** The claim id when this writer owns the transition out of revision `rev`, else null. */
	private async claim(id: string, rev: string): Promise<string | null> {
		const claims = this.conn.db!.collection<{ _id: string; at: Date }>(CLAIMS);
		for (let n = 0; n < 20; n++) {
			const key = `${this.collectionName}/${id}/${rev}/${n}`;
			try {
				await claims.insertOne({ _id: key, at: new Date() });
				if (++this.claimsMade % 500 === 0) void claims.deleteMany({ at: { $lt: new Date(Date.now() - CLAIM_KEEP_MS) } }).catch(() => undefined);
				return key;
			} catch (err) {
				if ((err as { code?: number }).code !== 11000) throw err;
				const held = await claims.findOne({ _id: key });
				// Held by a writer that may still write: let it. Older: its writer died; pass it.
				if (held && Date.now() - held.at.getTime() < CLAIM_STALE_MS) return null;
			}
		}
		return null;
	}
	/** Give a claim back unless its write landed (then it must stay, or a late reader could win it again). */
	private async releaseClaim(key: string, id: string, written: unknown): Promise<void> {
		try {
			const now = await (this.model.collection as unknown as mongoose.mongo.Collection<RawDoc>).findOne({ _id: id }, { projection: { [REV]: 1 } });
			if (written !== undefined && now?.[REV] === written) return;
			await this.conn.db!.collection<{ _id: string }>(CLAIMS).deleteOne({ _id: key });
		} catch {
			// Unknown: keep it; it goes stale and is passed.
		}
	}
	async disconnect(): Promise<void> {
		// The connection is shared by the service's collections; closing it once is enough.
		if (this.conn.readyState === 1 || this.conn.readyState === 2) await this.conn.close();
	}
	entityToObject(entity: unknown): unknown {
		const obj = (entity as mongoose.Document).toObject({ flattenMaps: false, versionKey: false, minimize: false }) as Record<string, unknown>;
		delete obj[REV];
		return obj;
	}
}

/** The adapter of one collection in the service's own database, `<DB_PREFIX><service>` (default `shop_<service>`). */
export function createMongoAdapter(url: string, service: string, collection: string, spec: CollectionSpec, dbPrefix = config.dbPrefix): DbAdapter {
	return new ServiceDatabaseMongooseAdapter(url, `${dbPrefix}${service}`, collection, spec) as unknown as DbAdapter;
}

export interface StorageSettings {
	mongoUrl?: string;
	/** null: in memory only (tests). */
	dataDir: string | null;
}

export function createAdapter(storage: StorageSettings, service: string, collection: string, spec: CollectionSpec): { adapter: DbAdapter; kind: "nedb" | "mongo" } {
	return storage.mongoUrl
		? { adapter: createMongoAdapter(storage.mongoUrl, service, collection, spec), kind: "mongo" }
		: { adapter: createNedbAdapter(storage.dataDir, service, collection, spec), kind: "nedb" };
}
