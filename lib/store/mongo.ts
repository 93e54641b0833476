/**
 * The cluster's store: moleculer-db's mongoose adapter in `model` mode, but on a connection of the
 * service's own database, `<DB_PREFIX><service>` (default `shop_<service>`). The stock adapter
 * connects the global mongoose connection, so every service of a process would share one
 * database, and its `schema` mode is broken on mongoose 8. On FerretDB v1 (the local stand-in
 * for MongoDB) updates go through lib/store/ferretdb-v1.ts instead of the native path.
 */
import MongooseDbAdapter from "moleculer-db-adapter-mongoose";
import mongoose from "mongoose";
import type { ServiceBroker, Service } from "moleculer";
import { config } from "../config.js";
import type { CollectionSpec, DbAdapter, FindOptions, Query, Update } from "./collection.js";
import { FerretDbV1Updates, isFerretDbV1, REV } from "./ferretdb-v1.js";
import { unavailable } from "../errors.js";

/**
 * How long an operation waits for the database to answer when the driver has lost it, before it
 * fails (with a 503, below). Mongoose's own buffering is off: it would hold operations for 10 s,
 * as long as a call's whole deadline.
 */
const SERVER_SELECTION_TIMEOUT_MS = 3000;

/** The driver's errors that say the database could not be reached, not that it refused the operation. */
const UNREACHABLE = new Set([
	"MongoNetworkError",
	"MongoNetworkTimeoutError",
	"MongoServerSelectionError",
	"MongooseServerSelectionError",
	"MongoPoolClearedError",
	"MongoNotConnectedError",
	"MongoTopologyClosedError",
	"MongoServerClosedError",
]);

export function isDatabaseUnreachable(err: unknown): boolean {
	return err instanceof mongoose.mongo.MongoNetworkError || UNREACHABLE.has((err as { name?: string } | null)?.name ?? "");
}

/** Runs a database operation; "database unreachable" becomes a retryable 503 (a client tries again, a consumer waits). */
async function reaching<T>(operation: () => Promise<T>): Promise<T> {
	try {
		return await operation();
	} catch (err) {
		if (isDatabaseUnreachable(err)) throw unavailable(`The database is unavailable: ${(err as Error).message}`);
		throw err;
	}
}

const connections = new Map<string, mongoose.Connection>();

/** A connection per database, shared by the collections of one service in this process. */
async function connectionFor(url: string, dbName: string): Promise<mongoose.Connection> {
	const key = `${url}|${dbName}`;
	let conn = connections.get(key);
	if (!conn) {
		conn = mongoose.createConnection(url, {
			dbName,
			serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
			bufferCommands: false,
			maxPoolSize: 20,
			// The driver's monitor notices a server that went and came back within seconds, and none of
			// its checks (bounded by connectTimeoutMS) can hang for the default 30 s.
			heartbeatFrequencyMS: 2000,
			connectTimeoutMS: 5000,
			serverMonitoringMode: "poll",
		});
		connections.set(key, conn);
		conn.on("close", () => connections.delete(key));
	}
	await conn.asPromise();
	return conn;
}

interface StockAdapter extends DbAdapter {
	broker?: ServiceBroker;
	service?: Service;
}
// The stock class's typings describe a mongoose Document model it is not used with here (and its
// updateById as a query): this is its runtime shape, the store's DbAdapter.
const MongooseAdapterBase = MongooseDbAdapter as unknown as new (uri: string) => StockAdapter;

class ServiceDatabaseMongooseAdapter extends MongooseAdapterBase implements DbAdapter {
	model!: mongoose.Model<unknown>;
	conn!: mongoose.Connection;
	db: unknown;
	/** Set on FerretDB v1 only. */
	private ferretV1?: FerretDbV1Updates;
	/** Whether updates go through the FerretDB v1 workaround (tests and operators ask). */
	get onFerretDbV1(): boolean {
		return this.ferretV1 !== undefined;
	}

	constructor(
		private readonly url: string,
		private readonly dbName: string,
		private readonly collectionName: string,
		private readonly spec: CollectionSpec,
	) {
		super(url);
	}
	override init(broker: ServiceBroker, service: Service): void {
		this.broker = broker;
		this.service = service;
	}
	override async connect(): Promise<void> {
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
		if (await isFerretDbV1(this.conn))
			this.ferretV1 = new FerretDbV1Updates(
				this.conn,
				this.conn.db!.collection<Record<string, unknown> & { _id: string }>(this.collectionName),
				this.collectionName,
			);
	}
	/**
	 * FerretDB v1 pushes an `_id` equality down to SQLite but scans the whole collection for
	 * `_id: { $in }` (20 ids of 20,000 documents: 660 ms, against 9 ms for one id), so there the
	 * ids are looked up one by one; MongoDB answers `$in` from its index.
	 */
	override async findByIds(ids: string[]): Promise<unknown[]> {
		if (!this.ferretV1) return reaching(() => this.model.find({ _id: { $in: ids } }).exec());
		return reaching(async () => (await Promise.all(ids.map(id => this.model.findById(id).exec()))).filter(d => d !== null));
	}
	/**
	 * One cursor over the matching documents, unsorted: FerretDB v1 sorts in Go after reading the
	 * whole collection, so paging by `_id` with sort and limit would read it once per page (a
	 * 100,000-product index took minutes to build that way).
	 */
	override async *scan(query: Query, batchSize: number): AsyncIterable<unknown> {
		const cursor = this.model.collection.find(query as mongoose.mongo.Filter<mongoose.mongo.Document>, { batchSize });
		try {
			for await (const doc of cursor) {
				delete (doc as Record<string, unknown>)[REV];
				yield doc;
			}
		} finally {
			await cursor.close();
		}
	}
	// Every operation below goes through `reaching`: an unreachable database is a 503.
	override find(filters: FindOptions): Promise<unknown[]> {
		return reaching(() => super.find(filters));
	}
	override findOne(query: Query): Promise<unknown> {
		return reaching(() => super.findOne(query));
	}
	override findById(id: string): Promise<unknown> {
		return reaching(() => super.findById(id));
	}
	override count(filters: FindOptions): Promise<number> {
		return reaching(() => super.count(filters));
	}
	override insert(entity: object): Promise<unknown> {
		return reaching(() => super.insert(this.ferretV1 ? this.ferretV1.withRevision(entity) : entity));
	}
	override updateMany(query: Query, update: Update): Promise<number> {
		return reaching(() => (this.ferretV1 ? this.ferretV1.updateMany(query, update) : super.updateMany(query, update)));
	}
	/** FerretDB v1 reads the whole collection for an `$in`: one update per id there. */
	override async updateEach(ids: string[], update: Update): Promise<number> {
		if (!this.ferretV1) return this.updateMany({ _id: { $in: ids } }, update);
		const written = await Promise.all(ids.map(id => this.updateMany({ _id: id }, update)));
		return written.reduce((a, b) => a + b, 0);
	}
	override updateById(id: string, update: Update): Promise<unknown> {
		return reaching(async () => {
			if (!this.ferretV1) return super.updateById(id, update);
			const { doc } = await this.ferretV1.updateOne({ _id: id }, update);
			return doc ? this.model.hydrate(doc) : null;
		});
	}
	override removeMany(query: Query): Promise<number> {
		return reaching(() => super.removeMany(query));
	}
	override removeById(id: string): Promise<unknown> {
		return reaching(() => super.removeById(id));
	}
	override async disconnect(): Promise<void> {
		// The connection is shared by the service's collections; closing it once is enough.
		if (this.conn.readyState === 1 || this.conn.readyState === 2) await this.conn.close();
	}
	override entityToObject(entity: unknown): unknown {
		const obj = (entity as mongoose.Document).toObject({ flattenMaps: false, versionKey: false, minimize: false }) as Record<string, unknown>;
		delete obj[REV];
		return obj;
	}
}

/** The connection to a service's own database (shared with its collections), for what is not a collection: GridFS. */
export function serviceDatabase(url: string, service: string, dbPrefix = config.dbPrefix): Promise<mongoose.Connection> {
	return connectionFor(url, `${dbPrefix}${service}`);
}

/** The adapter of one collection in the service's own database. */
export function createMongoAdapter(url: string, service: string, collection: string, spec: CollectionSpec, dbPrefix = config.dbPrefix): DbAdapter {
	return new ServiceDatabaseMongooseAdapter(url, `${dbPrefix}${service}`, collection, spec);
}
