/**
 * Gives a service its own database: one moleculer-db adapter per collection.
 *
 * Embedded (MONGO_URL unset): SQLite files under DATA_DIR/<service>/<collection>.sqlite
 * (EMBEDDED_STORE=nedb: NeDB files, <collection>.db).
 * Cluster (MONGO_URL set): MongoDB database `shop_<service>` through mongoose.
 *
 * The first collection is moleculer-db's own `this.adapter` (connected by moleculer-db, which
 * retries every second until the database answers); the others are connected the same way,
 * each retried until it answers. The generated CRUD actions are switched off: every action a
 * service offers is written out.
 * Other mixins add collections through `settings.$collections` (settings merge deeply).
 */
import DbService from "moleculer-db";
import type { Service, ServiceSchema } from "moleculer";
import { defineMixin } from "../lib/broker/service.js";
import { config } from "../lib/config.js";
import { recordStoreWrite } from "../lib/observability/metrics.js";
import { Collection, createAdapter, storageKind, type StorageSettings, type CollectionSpec, type Doc, type OutboxPort } from "../lib/store/index.js";

export interface DbMixinSettings {
	$collections: Record<string, CollectionSpec>;
}

export interface DbMethods {
	collection<T extends Doc>(name: string): Collection<T>;
}

type DbThis = Service & {
	settings: DbMixinSettings;
	adapter: unknown;
	$collections: Map<string, Collection<Doc>>;
	/** Set by the events mixin when the service has one: how its collections' writes carry events. */
	$outbox?: OutboxPort;
} & DbMethods;

const generatedActionsOff = { find: false, count: false, list: false, create: false, insert: false, get: false, update: false, remove: false } as const;

export function DbMixin(collections: Record<string, CollectionSpec>): Partial<ServiceSchema> {
	const primary = Object.keys(collections)[0];
	if (!primary) throw new Error("DbMixin needs at least one collection");
	return defineMixin<DbThis>({
		// moleculer-db is a schema at run time; its declarations make it a Service class.
		mixins: [DbService as unknown as Partial<ServiceSchema>],
		settings: { idField: "_id", $collections: collections, $primaryCollection: primary },
		actions: generatedActionsOff,
		// `merged` runs for every service instance: the adapter is made per broker, never shared.
		merged(schema: ServiceSchema & { adapter?: unknown }) {
			const { adapter } = createAdapter(storage(), schema.name, primary, collections[primary] ?? {});
			schema.adapter = adapter;
		},
		created() {
			const storageSettings = storage();
			this.$collections = new Map();
			const kind = storageKind(storageSettings);
			for (const [name, spec] of Object.entries(this.settings.$collections)) {
				const adapter = name === primary ? this.adapter : createAdapter(storageSettings, this.name, name, spec).adapter;
				const wrote = () => recordStoreWrite(this.broker, this.name, name);
				this.$collections.set(name, new Collection(name, adapter as never, kind, () => this.$outbox, wrote));
			}
		},
		async started() {
			// moleculer-db's started() has connected the primary collection by now.
			for (const c of this.$collections.values()) {
				if (c.adapter === this.adapter) continue;
				c.adapter.init(this.broker, this);
				await connectWithRetry(() => c.adapter.connect(), this.logger, `${this.name}.${c.name}`);
			}
		},
		async stopped() {
			for (const c of this.$collections.values()) {
				if (c.adapter !== this.adapter) await c.adapter.disconnect().catch(() => undefined);
			}
		},
		methods: {
			/** Readiness: the database answers a query. */
			async readiness(this: DbThis): Promise<{ ok: boolean; detail?: string }> {
				const [first] = this.$collections.values();
				await first?.count({ _id: "__readiness__" });
				return { ok: true };
			},
			collection<T extends Doc>(this: DbThis, name: string): Collection<T> {
				const c = this.$collections.get(name);
				if (!c) throw new Error(`Service ${this.name} has no collection '${name}'`);
				return c as Collection<T>; // the caller names the type of the collection's documents
			},
		},
	});
}

/** Like moleculer-db's own connect: try again every second until the database answers (the service starts only then). */
async function connectWithRetry(connect: () => Promise<void>, logger: { warn(msg: string): void }, what: string): Promise<void> {
	for (;;) {
		try {
			return await connect();
		} catch (err) {
			logger.warn(`Cannot connect collection ${what} (${(err as Error).message}); trying again in 1 s`);
			await new Promise(r => setTimeout(r, 1000));
		}
	}
}

function storage(): StorageSettings {
	return { mongoUrl: config.mongoUrl, dataDir: config.dataDir === ":memory:" ? null : config.dataDir, embedded: config.embeddedStore };
}
