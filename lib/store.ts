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
import DbService from "moleculer-db";
import MongooseDbAdapter from "moleculer-db-adapter-mongoose";
import mongoose from "mongoose";
import type { ServiceBroker, Service } from "moleculer";

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
		throw err;
	}
	private uniqueFieldFromNedb(e: { message?: string }): string {
		const m = /field '?([\w.]+)'?/i.exec(e.message ?? "") ?? /key (?:.*?)for field (\w+)/i.exec(e.message ?? "");
		return m?.[1] ?? "_id";
	}

	async insert(doc: T): Promise<T> {
		try {
			return (await this.plain(await this.adapter.insert(doc))) as T;
		} catch (err) {
			this.duplicate(err);
		}
	}
	async findById(id: string): Promise<T | null> {
		return this.plain(await this.adapter.findById(id));
	}
	async findOne(query: Query): Promise<T | null> {
		return this.plain(await this.adapter.findOne(query));
	}
	async find(opts: FindOptions = {}): Promise<T[]> {
		const rows = await this.adapter.find({ query: opts.query ?? {}, sort: opts.sort, limit: opts.limit, offset: opts.offset });
		return (await Promise.all(rows.map(r => this.plain(r)))) as T[];
	}
	count(query: Query = {}): Promise<number> {
		return this.adapter.count({ query });
	}
	/**
	 * Atomic conditional update: changes every document that matches `query` and says how many.
	 * With `_id` in the query this is a compare-and-set on one document.
	 */
	async updateWhere(query: Query, update: Update): Promise<number> {
		try {
			return await this.adapter.updateMany(query, update);
		} catch (err) {
			this.duplicate(err);
		}
	}
	async updateById(id: string, update: Update): Promise<T | null> {
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
		return this.adapter.removeMany(query);
	}
}

// ---------------------------------------------------------------------------------------------
// Adapters

/** The NeDB adapter's persisted Datastore, with the indexes the spec asks for (text indexes excepted). */
export function createNedbAdapter(dataDir: string | null, service: string, collection: string, spec: CollectionSpec): DbAdapter {
	const opts: Record<string, unknown> = {};
	if (dataDir) {
		const dir = path.join(dataDir, service);
		fs.mkdirSync(dir, { recursive: true });
		opts.filename = path.join(dir, `${collection}.db`);
		opts.autoload = false;
	}
	const adapter = new DbService.MemoryAdapter(opts) as unknown as DbAdapter & { db: { ensureIndex(o: object): Promise<void>; setAutocompactionInterval?(ms: number): void } };
	const connect = adapter.connect.bind(adapter);
	adapter.connect = async () => {
		await connect();
		for (const idx of spec.indexes ?? []) {
			const fields = Object.entries(idx.fields).filter(([, dir]) => dir !== "text");
			// NeDB indexes one field at a time; a compound index only speeds up its first field.
			if (fields.length === 0) continue;
			const [fieldName] = fields[0];
			if (fields.length > 1 && idx.unique) throw new Error(`NeDB cannot enforce a compound unique index on ${collection}`);
			await adapter.db.ensureIndex({ fieldName, unique: !!idx.unique, sparse: !!idx.sparse });
		}
		// Keep the append-only file from growing without bound.
		if (dataDir) adapter.db.setAutocompactionInterval?.(10 * 60_000);
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
const MongooseAdapterBase = MongooseDbAdapter as unknown as new (uri: string) => { broker?: ServiceBroker; service?: Service };

class ServiceDatabaseMongooseAdapter extends MongooseAdapterBase {
	model!: mongoose.Model<unknown>;
	conn!: mongoose.Connection;
	db: unknown;
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
			{ strict: false, strictQuery: false, versionKey: false, collection: this.collectionName, autoIndex: false, id: false },
		);
		for (const idx of this.spec.indexes ?? []) {
			schema.index(idx.fields, { unique: !!idx.unique, sparse: !!idx.sparse, ...(idx.weights ? { weights: idx.weights } : {}) });
		}
		this.model = (this.conn.models[this.collectionName] as mongoose.Model<unknown>) ?? this.conn.model(this.collectionName, schema);
		await this.model.createIndexes();
		this.db = this.conn.db;
	}
	async disconnect(): Promise<void> {
		// The connection is shared by the service's collections; closing it once is enough.
		if (this.conn.readyState === 1 || this.conn.readyState === 2) await this.conn.close();
	}
	entityToObject(entity: unknown): unknown {
		return (entity as mongoose.Document).toObject({ flattenMaps: false, versionKey: false });
	}
}

export function createMongoAdapter(url: string, service: string, collection: string, spec: CollectionSpec): DbAdapter {
	return new ServiceDatabaseMongooseAdapter(url, `shop_${service}`, collection, spec) as unknown as DbAdapter;
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
