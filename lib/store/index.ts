/**
 * The store: one `Collection` per collection of a service's own database, embedded (SQLite, or
 * NeDB with EMBEDDED_STORE=nedb) or on MongoDB (MONGO_URL), made by one `createAdapter`.
 *
 *   collection.ts    the Collection services use, and the adapter contract
 *   sqlite.ts        the embedded store (node:sqlite), with NeDB's query and update semantics
 *   nedb-semantics.ts  NeDB's model (match, modify, serialization), index keys and file, for sqlite.ts
 *   nedb.ts          the embedded store before it (kept: EMBEDDED_STORE=nedb, and the migration reads its files)
 *   mongo.ts         MongoDB, one database per service
 *   ferretdb-v1.ts   the compare-and-set workaround for FerretDB v1 (the local MongoDB stand-in)
 *   field-paths.ts   what the store refuses whoever asks (`__proto__`, `$` segments)
 *   outbox.ts        events written with a change, and the port to the events mixin
 */
import type { CollectionSpec, DbAdapter } from "./collection.js";
import { createNedbAdapter } from "./nedb.js";
import { createMongoAdapter } from "./mongo.js";
import { createSqliteAdapter } from "./sqlite.js";

export {
	Collection,
	DuplicateKeyError,
	type Change,
	type ChangeOptions,
	type ChangeOutcome,
	type Decide,
	type CollectionSpec,
	type DbAdapter,
	type Doc,
	type FindOptions,
	type IndexSpec,
	type Query,
	type Update,
} from "./collection.js";
export { ContentionError, type MakeEnvelope, type OutboxPort } from "./outbox.js";
export { domainEvent, type DomainEvent } from "../contracts/events.js";
export { createNedbAdapter } from "./nedb.js";
export { createMongoAdapter } from "./mongo.js";
export { createSqliteAdapter } from "./sqlite.js";

export interface StorageSettings {
	mongoUrl?: string;
	/** null: in memory only (tests). */
	dataDir: string | null;
	/** The embedded store (without mongoUrl). */
	embedded: "sqlite" | "nedb";
}

export type StoreKind = "sqlite" | "nedb" | "mongo";

export function createAdapter(storage: StorageSettings, service: string, collection: string, spec: CollectionSpec): { adapter: DbAdapter; kind: StoreKind } {
	if (storage.mongoUrl) return { adapter: createMongoAdapter(storage.mongoUrl, service, collection, spec), kind: "mongo" };
	if (storage.embedded === "nedb") return { adapter: createNedbAdapter(storage.dataDir, service, collection, spec), kind: "nedb" };
	return { adapter: createSqliteAdapter(storage.dataDir, service, collection, spec), kind: "sqlite" };
}

export function storageKind(storage: StorageSettings): StoreKind {
	return storage.mongoUrl ? "mongo" : storage.embedded;
}
