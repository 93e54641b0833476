/**
 * The embedded store: moleculer-db's NeDB adapter (a persisted Datastore per collection under
 * DATA_DIR/<service>/<collection>.db, or in memory), with the indexes a collection asks for, a
 * count that does not copy every match, updates through NeDB's own promise API, and compaction
 * that does not keep the process alive.
 */
import path from "node:path";
import DbService from "moleculer-db";
import type { CollectionSpec, DbAdapter, FindOptions, Query } from "./collection.js";
import { ensurePrivateDir } from "./private-dir.js";
import { appendThroughOpenFile, type NedbPersistence } from "./nedb-append.js";

/**
 * NeDB takes a query's candidates from the index of the LAST field in it that is indexed and asked
 * for a plain value. `{ _id, status: "pending" }` therefore scanned every pending order (the status
 * index) instead of reading one document by its id. The `_id` goes last, so a query that names
 * its document reads it by its primary index; key order changes nothing else.
 */
export function idLast(query: Query): Query;
export function idLast(query: Query | undefined): Query | undefined;
export function idLast(query: Query | undefined): Query | undefined {
	if (!query || typeof query._id !== "string" || Object.keys(query).at(-1) === "_id") return query;
	const { _id, ...rest } = query;
	return { ...rest, _id };
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
	// moleculer-db's declarations differ from what it does (a sort may be a list; updateById answers the document)
	// and leave out the NeDB Datastore it opens at connect: this is its runtime shape.
	const adapter = new DbService.MemoryAdapter(opts) as unknown as DbAdapter & {
		db: {
			persistence: NedbPersistence;
			findOneAsync(query: Query): Promise<unknown>;
			insertAsync(doc: object): Promise<unknown>;
			removeAsync(query: Query, options: object): Promise<number>;
			ensureIndex(o: object): Promise<void>;
			countAsync(query: Query): Promise<number>;
			updateAsync(query: Query, update: object, options: object): Promise<{ numAffected: number; affectedDocuments: unknown }>;
			setAutocompactionInterval?(ms: number): void;
			stopAutocompaction?(): void;
			compactDatafileAsync?(): Promise<void>;
		} | null;
	};
	const connect = adapter.connect.bind(adapter);
	let closeFile = () => undefined as void;
	adapter.connect = async () => {
		await connect();
		closeFile = appendThroughOpenFile(adapter.db!.persistence);
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
	adapter.count = (filters: FindOptions = {}) => adapter.db!.countAsync(idLast(filters.query ?? {}));
	// moleculer-db wraps NeDB's update in util.promisify around a function that returns a promise:
	// Node builds a deprecation warning (DEP0174, with a stack) on every call, about 5 % of a
	// checkout's CPU in a profile. NeDB's updateAsync is the same update without the wrapping.
	adapter.updateMany = async (query: Query, update: object) => (await adapter.db!.updateAsync(idLast(query), update, { multi: true })).numAffected;
	adapter.updateOne = async (query: Query, update: object) => {
		const { numAffected, affectedDocuments } = await adapter.db!.updateAsync(idLast(query), update, { returnUpdatedDocs: true });
		return numAffected === 1 ? affectedDocuments : null;
	};
	adapter.updateById = async (_id: string, update: object) => (await adapter.db!.updateAsync({ _id }, update, { returnUpdatedDocs: true })).affectedDocuments;
	// moleculer-db promisifies NeDB's callback API, which NeDB itself builds with callbackify over its
	// async API: two wrappings per call on the hottest paths. These call the async API directly.
	adapter.findOne = (query: Query) => adapter.db!.findOneAsync(idLast(query));
	adapter.findById = (_id: string) => adapter.db!.findOneAsync({ _id });
	adapter.insert = (entity: object) => adapter.db!.insertAsync(entity);
	adapter.removeMany = (query: Query) => adapter.db!.removeAsync(idLast(query), { multi: true });
	const find = adapter.find.bind(adapter);
	adapter.find = (filters: FindOptions) => find({ ...filters, query: idLast(filters.query) });
	adapter.removeById = (_id: string) => adapter.db!.removeAsync({ _id }, {});
	const disconnect = adapter.disconnect.bind(adapter);
	adapter.disconnect = async () => {
		// The compaction timer would keep the process alive; compact once on a clean stop instead.
		adapter.db?.stopAutocompaction?.();
		if (dataDir) await adapter.db?.compactDatafileAsync?.().catch(() => undefined);
		closeFile();
		await disconnect();
	};
	return adapter;
}
