/**
 * The embedded store on SQLite (`node:sqlite`, built into Node 22.5+): one database file per
 * collection, DATA_DIR/<service>/<collection>.sqlite, in WAL mode; in memory when there is no
 * data directory (tests).
 *
 * Why: NeDB keeps every document in memory, rewrites a whole document as a line of its log on
 * every change and keeps its indexes as AVL trees in JavaScript: about half of a checkout's CPU.
 * SQLite keeps the documents on disk with a page cache, writes through a write-ahead log and runs
 * its indexes in C; a write here is a statement or two inside one transaction.
 *
 * What it means by a query and an update is NeDB's, exactly: documents are kept as NeDB
 * serializes them, and every candidate row is checked with NeDB's own `match` and changed with
 * its own `modify`. SQLite only narrows the candidates:
 *   - `_id` is the primary key (equality, `$in`, ranges);
 *   - each field an index names gets a key table, `<collection>$<field>` of (value, _id), filled
 *     as NeDB fills an index (every element of an array; nothing for a missing value), so an
 *     equality, an `$in` or a range on it reads only its keys; a unique index is a UNIQUE key;
 *   - documents with outbox events to publish are in a partial index (the `outbox` column), so
 *     the relay's sweep (`{ "outbox.0": { $exists: true } }`) reads only those.
 * A key table may answer more candidates than match (`true` and `1` share a key), never fewer.
 *
 * Every write is one transaction, and runs synchronously: no other operation of this process
 * can come between the read of a compare-and-set and its write.
 *
 * A collection still in NeDB's file (DATA_DIR/<service>/<collection>.db) is copied in at the
 * first start and the file renamed `<collection>.db.migrated` (`migrateNedbFile`).
 */
import path from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { ServiceBroker, Service } from "moleculer";
import { DuplicateKeyError, type CollectionSpec, type DbAdapter, type FindOptions, type Query, type Update } from "./collection.js";
import { ensurePrivateDir } from "./private-dir.js";
import {
	keysOf,
	migrateNedbFile,
	nedb,
	nedbUid,
	operators,
	orderedAlike,
	parse,
	sameKeys,
	sortFields,
	keyOf,
	type Key,
	type PlainDoc,
} from "./nedb-semantics.js";

/** How many recently updated documents a collection keeps parsed (`recent` in the adapter). */
const RECENT_DOCS = 256;

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Whether a document has outbox events to publish: the `outbox` column, 1 or NULL (then it is not in the column's partial index). */
const pendingOf = (doc: PlainDoc): 1 | null => (Array.isArray(doc.outbox) && doc.outbox.length > 0 ? 1 : null);

interface KeyTable {
	field: string;
	unique: boolean;
	insert: StatementSync;
	remove: StatementSync;
}

/** Where a query's candidates come from: one SQL statement's rows, or every row. */
interface Plan {
	sql: string;
	params: (string | number | null)[];
}

export function createSqliteAdapter(dataDir: string | null, service: string, collection: string, spec: CollectionSpec): DbAdapter {
	let db: DatabaseSync | null = null;
	const table = quoted(collection);
	const keyTables = new Map<string, KeyTable>();
	const statements = new Map<string, StatementSync>();
	const EVERY_ROW = `SELECT doc FROM ${table} ORDER BY _id`;
	const file = dataDir ? path.join(dataDir, service, `${collection}.sqlite`) : ":memory:";

	const open = (): DatabaseSync => {
		if (!db) throw new Error(`The store of ${service}.${collection} is not connected`);
		return db;
	};
	/** A prepared statement, prepared once per text. */
	const statement = (sql: string): StatementSync => {
		let s = statements.get(sql);
		if (!s) {
			s = open().prepare(sql);
			statements.set(sql, s);
		}
		return s;
	};
	const transaction = <T>(work: () => T): T => {
		statement("BEGIN IMMEDIATE").run();
		try {
			const result = work();
			statement("COMMIT").run();
			return result;
		} catch (err) {
			statement("ROLLBACK").run();
			recent.clear(); // it may hold what was just rolled back
			throw err;
		}
	};

	/**
	 * The documents this process's updates wrote last, as written, by `_id` (at most RECENT_DOCS):
	 * the next update of one of them (an email's delivery states, a report's day, an order's saga
	 * steps) starts from it instead of parsing it again. Only what is never handed out is kept
	 * (NeDB's `modify` copies before it changes anything), and this process is the file's only
	 * writer (one DATA_DIR per shop process).
	 */
	const recent = new Map<string, PlainDoc>();
	const remember = (doc: PlainDoc) => {
		recent.delete(doc._id);
		recent.set(doc._id, doc);
		if (recent.size > RECENT_DOCS) recent.delete(recent.keys().next().value!);
	};

	/** Every field named by an index (all of a compound index's fields: each has its own key table). */
	const indexedFields = (): { field: string; unique: boolean }[] => {
		const fields = new Map<string, boolean>();
		for (const idx of spec.indexes ?? []) {
			const named = Object.entries(idx.fields)
				.filter(([, dir]) => dir !== "text")
				.map(([f]) => f);
			const unique = !!idx.unique && named.length === 1;
			if (idx.unique && named.length > 1) throw new Error(`The embedded store cannot enforce a compound unique index on ${collection}`);
			for (const f of named) fields.set(f, (fields.get(f) ?? false) || unique);
		}
		fields.delete("_id");
		return [...fields].map(([field, unique]) => ({ field, unique }));
	};

	const createSchema = (conn: DatabaseSync) => {
		conn.exec(`CREATE TABLE IF NOT EXISTS ${table} (_id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL, outbox INTEGER)`);
		conn.exec(`CREATE INDEX IF NOT EXISTS ${quoted(`${collection}$outbox`)} ON ${table} (outbox) WHERE outbox IS NOT NULL`);
		for (const { field, unique } of indexedFields()) {
			const name = quoted(`${collection}$${field}`);
			conn.exec(`CREATE TABLE IF NOT EXISTS ${name} (k NOT NULL, _id TEXT NOT NULL, PRIMARY KEY (k, _id)) WITHOUT ROWID`);
			if (unique) conn.exec(`CREATE UNIQUE INDEX IF NOT EXISTS ${quoted(`${collection}$${field}$unique`)} ON ${name} (k)`);
			keyTables.set(field, {
				field,
				unique,
				insert: conn.prepare(`INSERT INTO ${name} (k, _id) VALUES (?, ?)`),
				remove: conn.prepare(`DELETE FROM ${name} WHERE k = ? AND _id = ?`),
			});
		}
	};

	/** Writes a document's keys (after removing its old ones when `before` differs); a unique clash is a DuplicateKeyError. */
	const writeKeys = (doc: PlainDoc, before: PlainDoc | null) => {
		for (const t of keyTables.values()) {
			const keys = keysOf(doc, t.field);
			if (before) {
				const old = keysOf(before, t.field);
				if (sameKeys(keys, old)) continue;
				for (const k of old) t.remove.run(k, before._id);
			}
			try {
				for (const k of keys) t.insert.run(k, doc._id);
			} catch (err) {
				if ((err as { errcode?: number }).errcode === 2067 || /UNIQUE constraint/.test((err as Error).message)) throw new DuplicateKeyError(t.field);
				throw err;
			}
		}
	};

	/** The cheapest source of candidates SQLite can give for `query` (a superset of its matches). */
	const plan = (query: Query): Plan => {
		const id = query._id;
		if (typeof id === "string") return { sql: `SELECT doc FROM ${table} WHERE _id = ?`, params: [id] };
		const idOps = operators(id);
		if (idOps?.$in && Array.isArray(idOps.$in) && idOps.$in.every(v => typeof v === "string"))
			return { sql: `SELECT doc FROM ${table} WHERE _id IN (SELECT value FROM json_each(?)) ORDER BY _id`, params: [JSON.stringify(idOps.$in)] };
		let best: Plan | null = null;
		let bestRank = 0;
		for (const [field, value] of Object.entries(query)) {
			const t = keyTables.get(field);
			if (!t) continue;
			const through = (where: string, params: Plan["params"]): Plan => ({
				sql: `SELECT doc FROM ${table} WHERE _id IN (SELECT _id FROM ${quoted(`${collection}$${field}`)} WHERE ${where}) ORDER BY _id`,
				params,
			});
			const key = keyOf(value);
			const ops = operators(value);
			if (key !== undefined) {
				const rank = t.unique ? 4 : 3;
				if (rank > bestRank) [best, bestRank] = [through("k = ?", [key]), rank];
			} else if (ops && Array.isArray(ops.$in) && ops.$in.length > 0 && bestRank < 2) {
				const keys = ops.$in.map(keyOf);
				if (keys.every(k => k !== undefined)) [best, bestRank] = [through("k IN (SELECT value FROM json_each(?))", [JSON.stringify(keys)]), 2];
			} else if (ops && bestRank < 1) {
				const bounds: string[] = [];
				const params: Plan["params"] = [];
				for (const [op, sql] of [
					["$gt", ">"],
					["$gte", ">="],
					["$lt", "<"],
					["$lte", "<="],
				] as const) {
					const k = keyOf(ops[op]);
					if (k === undefined || !orderedAlike(ops[op])) continue;
					bounds.push(`k ${sql} ?`);
					params.push(k);
				}
				if (bounds.length) [best, bestRank] = [through(bounds.join(" AND "), params), 1];
			}
		}
		if (best) return best;
		if (idOps) {
			const bounds: string[] = [];
			const params: Plan["params"] = [];
			for (const [op, sql] of [
				["$gt", ">"],
				["$gte", ">="],
				["$lt", "<"],
				["$lte", "<="],
			] as const) {
				if (typeof idOps[op] === "string" && orderedAlike(idOps[op])) {
					bounds.push(`_id ${sql} ?`);
					params.push(idOps[op] as string);
				}
			}
			if (bounds.length) return { sql: `SELECT doc FROM ${table} WHERE ${bounds.join(" AND ")} ORDER BY _id`, params };
		}
		const pending = operators(query["outbox.0"]);
		if (pending?.$exists === true) return { sql: `SELECT doc FROM ${table} WHERE outbox = 1 ORDER BY _id`, params: [] };
		return { sql: EVERY_ROW, params: [] };
	};

	/** The documents matching `query`, in `_id` order. */
	const matching = (query: Query): PlainDoc[] => {
		const { sql, params } = plan(query);
		const docs: PlainDoc[] = [];
		const onlyId = Object.keys(query).length === 1 && typeof query._id === "string";
		for (const row of statement(sql).iterate(...params) as Iterable<{ doc: string }>) {
			const doc = parse(row.doc);
			if (onlyId || nedb.match(doc, query)) docs.push(doc);
		}
		return docs;
	};

	const sorted = (docs: PlainDoc[], sort: FindOptions["sort"]): PlainDoc[] => {
		const fields = sortFields(sort);
		if (fields.length === 0) return docs;
		return docs.sort((a, b) => {
			for (const [field, dir] of fields) {
				const c = nedb.compareThings(nedb.getDotValue(a, field), nedb.getDotValue(b, field));
				if (c !== 0) return c * dir;
			}
			return 0;
		});
	};

	/**
	 * A page sorted first by an indexed field, descending (the lists: newest first), read in that
	 * field's key order and stopped once the page is full, instead of reading and sorting every
	 * document. Ties are sorted by the whole sort. Answers null (then the caller reads everything)
	 * where NeDB's order could differ: a value that is not a plain number or string (arrays, dates
	 * and booleans order otherwise), or a short page while some document has no value for the
	 * field (those come last).
	 */
	const newestFirstPage = (query: Query, sort: FindOptions["sort"], offset: number, limit: number): PlainDoc[] | null => {
		const fields = sortFields(sort);
		const first = fields[0];
		const keys = first && first[1] === -1 ? keyTables.get(first[0]) : undefined;
		if (!first || !keys) return null;
		const want = offset + limit;
		const page: PlainDoc[] = [];
		let ties: PlainDoc[] = [];
		let tieKey: Key | undefined;
		const keyTable = quoted(`${collection}$${first[0]}`);
		const rows = statement(`SELECT k.k AS k, d.doc AS doc FROM ${keyTable} k JOIN ${table} d ON d._id = k._id ORDER BY k.k DESC, k._id`);
		for (const row of rows.iterate() as Iterable<{ k: Key; doc: string }>) {
			if (row.k !== tieKey) {
				page.push(...sorted(ties, sort));
				ties = [];
				if (page.length >= want) return page.slice(offset, want);
				tieKey = row.k;
			}
			const doc = parse(row.doc);
			const value = nedb.getDotValue(doc, first[0]);
			if (typeof value !== "number" && !(typeof value === "string" && orderedAlike(value))) return null;
			if (nedb.match(doc, query)) ties.push(doc);
		}
		page.push(...sorted(ties, sort));
		if (page.length >= want) return page.slice(offset, want);
		const unkeyed = statement(`SELECT count(*) AS n FROM ${table} WHERE _id NOT IN (SELECT _id FROM ${keyTable})`).get() as { n: number };
		return unkeyed.n === 0 ? page.slice(offset, want) : null;
	};

	/** Whether the query's candidates (as `plan` narrows them) are many more than a page needs: then reading in key order stops sooner. */
	const manyCandidates = (query: Query, want: number): boolean => {
		const { sql, params } = plan(query);
		if (sql === EVERY_ROW) return true;
		const counted = sql.replace(/^SELECT doc FROM/, "SELECT count(*) AS n FROM").replace(/ ORDER BY _id$/, "");
		return (statement(counted).get(...params) as { n: number }).n > 4 * want + 100;
	};

	const insertOne = (entity: object): PlainDoc => {
		const doc = nedb.deepCopy(entity) as PlainDoc;
		if (doc._id === undefined) doc._id = nedbUid(16);
		if (typeof doc._id !== "string") throw new TypeError("An _id must be a string");
		// Keys were checked by the Collection (field-paths: no `$`, no `.`, no prototype keys).
		try {
			statement(`INSERT INTO ${table} (_id, doc, outbox) VALUES (?, ?, ?)`).run(doc._id, nedb.serialize(doc), pendingOf(doc));
		} catch (err) {
			if (/UNIQUE constraint|PRIMARY KEY/.test((err as Error).message)) throw new DuplicateKeyError("_id");
			throw err;
		}
		writeKeys(doc, null);
		return doc;
	};

	/** Applies `update` to each document matching `query`; answers the documents as written. */
	const updateMatching = (query: Query, update: Update, one: boolean, handedOut: boolean): PlainDoc[] => {
		const written: PlainDoc[] = [];
		const held = typeof query._id === "string" ? recent.get(query._id) : undefined;
		for (const before of held ? (nedb.match(held, query) ? [held] : []) : matching(query)) {
			const after = nedb.modify(before, update);
			if (after._id !== before._id) throw new Error("An update cannot change a document's _id");
			statement(`UPDATE ${table} SET doc = ?, outbox = ? WHERE _id = ?`).run(nedb.serialize(after), pendingOf(after), after._id);
			writeKeys(after, before);
			written.push(after);
			if (handedOut) recent.delete(after._id);
			else remember(after);
			if (one) break;
		}
		return written;
	};

	const removeMatching = (query: Query, one: boolean): number => {
		let n = 0;
		for (const doc of matching(query)) {
			statement(`DELETE FROM ${table} WHERE _id = ?`).run(doc._id);
			recent.delete(doc._id);
			for (const t of keyTables.values()) for (const k of keysOf(doc, t.field)) t.remove.run(k, doc._id);
			n++;
			if (one) break;
		}
		return n;
	};

	return {
		init(_broker: ServiceBroker, _service: Service) {},
		async connect() {
			if (db) return;
			if (dataDir) {
				ensurePrivateDir(dataDir);
				ensurePrivateDir(path.dirname(file));
			}
			const conn = new DatabaseSync(file);
			// WAL: a commit appends to the log, readers never wait; NORMAL: synced at checkpoints, not
			// at every commit (a power cut may lose the last commits, never corrupt the file).
			// secure_delete: what a write replaces or removes is overwritten with zeros, so an erased
			// customer's data is not left in the file's free space.
			conn.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA secure_delete = ON");
			db = conn;
			createSchema(conn);
			if (dataDir)
				migrateNedbFile(path.join(dataDir, service, `${collection}.db`), docs =>
					transaction(() => {
						for (const doc of docs) {
							const existing = statement(`SELECT doc FROM ${table} WHERE _id = ?`).get(doc._id) as { doc: string } | undefined;
							if (existing) continue;
							insertOne(doc);
						}
					}),
				);
		},
		async disconnect() {
			recent.clear();
			statements.clear();
			keyTables.clear();
			db?.close();
			db = null;
		},
		async find(filters: FindOptions) {
			const query = filters.query ?? {};
			const from = filters.offset ?? 0;
			// A page to fill from many candidates: read in the sort's key order when it can.
			const page =
				filters.limit !== undefined && manyCandidates(query, from + filters.limit) ? newestFirstPage(query, filters.sort, from, filters.limit) : null;
			if (page) return page;
			const docs = sorted(matching(query), filters.sort);
			return filters.limit === undefined ? docs.slice(from) : docs.slice(from, from + filters.limit);
		},
		async findOne(query: Query) {
			if (Object.keys(query).length === 1 && typeof query._id === "string") return this.findById(query._id);
			return matching(query)[0] ?? null;
		},
		async findById(id: string) {
			const row = statement(`SELECT doc FROM ${table} WHERE _id = ?`).get(id) as { doc: string } | undefined;
			return row ? parse(row.doc) : null;
		},
		async findByIds(ids: string[]) {
			return matching({ _id: { $in: ids } });
		},
		async count(filters: FindOptions) {
			const query = filters.query ?? {};
			if (Object.keys(query).length === 0) return (statement(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
			return matching(query).length;
		},
		async insert(entity: object) {
			return transaction(() => insertOne(entity));
		},
		async updateMany(query: Query, update: Update) {
			return transaction(() => updateMatching(query, update, false, false).length);
		},
		async updateOne(query: Query, update: Update) {
			return transaction(() => updateMatching(query, update, true, true)[0] ?? null);
		},
		async updateById(id: string, update: Update) {
			return transaction(() => updateMatching({ _id: id }, update, true, true)[0] ?? null);
		},
		async updateEach(ids: string[], update: Update) {
			return transaction(() => ids.reduce((n, id) => n + updateMatching({ _id: id }, update, true, false).length, 0));
		},
		async removeMany(query: Query) {
			return transaction(() => removeMatching(query, false));
		},
		async removeById(id: string) {
			return transaction(() => removeMatching({ _id: id }, true));
		},
		entityToObject(entity: unknown) {
			return entity;
		},
		async *scan(query: Query, batchSize: number) {
			let after = "";
			for (;;) {
				const rows = statement(`SELECT _id, doc FROM ${table} WHERE _id > ? ORDER BY _id LIMIT ?`).all(after, batchSize) as {
					_id: string;
					doc: string;
				}[];
				for (const row of rows) {
					const doc = parse(row.doc);
					if (nedb.match(doc, query)) yield doc;
				}
				if (rows.length < batchSize) return;
				after = rows[rows.length - 1]!._id;
			}
		},
	};
}
