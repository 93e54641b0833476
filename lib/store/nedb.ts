/**
 * The embedded store: moleculer-db's NeDB adapter (a persisted Datastore per collection under
 * DATA_DIR/<service>/<collection>.db, or in memory), with the indexes a collection asks for, a
 * count that does not copy every match, updates through NeDB's own promise API, and compaction
 * that does not keep the process alive.
 */
import fs from "node:fs";
import path from "node:path";
import DbService from "moleculer-db";
import type { CollectionSpec, DbAdapter, FindOptions, Query } from "./collection.js";

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
	// moleculer-db's declarations differ from what it does (a sort may be a list; updateById answers the document)
	// and leave out the NeDB Datastore it opens at connect: this is its runtime shape.
	const adapter = new DbService.MemoryAdapter(opts) as unknown as DbAdapter & {
		db: {
			ensureIndex(o: object): Promise<void>;
			countAsync(query: Query): Promise<number>;
			updateAsync(query: Query, update: object, options: object): Promise<{ numAffected: number; affectedDocuments: unknown }>;
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
	// moleculer-db wraps NeDB's update in util.promisify around a function that returns a promise:
	// Node builds a deprecation warning (DEP0174, with a stack) on every call, about 5 % of a
	// checkout's CPU in a profile. NeDB's updateAsync is the same update without the wrapping.
	adapter.updateMany = async (query: Query, update: object) => (await adapter.db!.updateAsync(query, update, { multi: true })).numAffected;
	adapter.updateById = async (_id: string, update: object) => (await adapter.db!.updateAsync({ _id }, update, { returnUpdatedDocs: true })).affectedDocuments;
	const disconnect = adapter.disconnect.bind(adapter);
	adapter.disconnect = async () => {
		// The compaction timer would keep the process alive; compact once on a clean stop instead.
		adapter.db?.stopAutocompaction?.();
		if (dataDir) await adapter.db?.compactDatafileAsync?.().catch(() => undefined);
		await disconnect();
	};
	return adapter;
}
