/**
 * The store: one `Collection` per collection of a service's own database, on NeDB (embedded) or
 * MongoDB (MONGO_URL), made by one `createAdapter`.
 *
 *   collection.ts    the Collection services use, and the adapter contract
 *   nedb.ts          the embedded store
 *   mongo.ts         MongoDB, one database per service
 *   ferretdb-v1.ts   the compare-and-set workaround for FerretDB v1 (the local MongoDB stand-in)
 *   field-paths.ts   what the store refuses whoever asks (`__proto__`, `$` segments)
 *   outbox.ts        events written with a change, and the port to the events mixin
 */
import type { CollectionSpec, DbAdapter } from "./collection.js";
import { createNedbAdapter } from "./nedb.js";
import { createMongoAdapter } from "./mongo.js";

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

export interface StorageSettings {
	mongoUrl?: string;
	/** null: in memory only (tests). */
	dataDir: string | null;
}

export function createAdapter(
	storage: StorageSettings,
	service: string,
	collection: string,
	spec: CollectionSpec,
): { adapter: DbAdapter; kind: "nedb" | "mongo" } {
	return storage.mongoUrl
		? { adapter: createMongoAdapter(storage.mongoUrl, service, collection, spec), kind: "mongo" }
		: { adapter: createNedbAdapter(storage.dataDir, service, collection, spec), kind: "nedb" };
}
