/**
 * A workaround for FerretDB v1, the MongoDB-wire server the local cluster and CI run on in place
 * of MongoDB (no MongoDB package here). It is switched on only when the server says it is
 * FerretDB v1 (`buildInfo.ferretdbVersion`); on MongoDB the native, atomic update runs.
 *
 * FerretDB v1 runs an update as read, modify in Go, write back by `_id`, with nothing isolating
 * the read from the write: two concurrent conditional updates of one document can both "win"
 * (a lost update: two holds on the last unit, a status moved twice), and its `$pull` ignores
 * conditions (`$pull: { outbox: { id: { $in: [...] } } }` pulls nothing). Here updates are
 * therefore applied as an optimistic compare-and-set:
 *   read the matching document and its revision token `_rev` → apply the operators in JS with
 *   NeDB's implementation (the one the embedded mode runs) → claim the transition out of that
 *   revision by inserting `<collection>/<id>/<rev>/<n>` into `store_revision_claims` (a unique
 *   `_id` insert is atomic in FerretDB: SQLite enforces it) → write the document with a new token.
 * A writer that loses a claim reads again. A claim whose writer died before writing (older than
 * CLAIM_STALE_MS) is passed by claiming `<n+1>`; a writer never writes later than WRITE_WITHIN_MS
 * after its read, far less than that, so a passed claim can no longer write. Claims are swept
 * after CLAIM_KEEP_MS.
 */
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";
import type mongoose from "mongoose";

/** The revision token field: on documents only while this workaround writes them, never read back by services. */
export const REV = "_rev";
const CLAIMS = "store_revision_claims";
const CLAIM_STALE_MS = 10_000;
const WRITE_WITHIN_MS = 3_000;
const CLAIM_KEEP_MS = 10 * 60_000;
const nedbModel = createRequire(createRequire(import.meta.url).resolve("moleculer-db"))("@seald-io/nedb/lib/model.js") as {
	modify(doc: object, update: object): Record<string, unknown>;
};

const detected = new WeakMap<mongoose.Connection, Promise<boolean>>();

/** Is the server behind this connection FerretDB v1? Asked once per connection. */
export function isFerretDbV1(conn: mongoose.Connection): Promise<boolean> {
	let p = detected.get(conn);
	if (!p) {
		p = conn
			.db!.admin()
			.command({ buildInfo: 1 })
			.then(info => /^v?1\./.test(String(info.ferretdbVersion ?? "")));
		detected.set(conn, p);
	}
	return p;
}

/**
 * FerretDB v1 answers an update that breaks a unique index with an internal error naming the
 * SQLite index, `<table>_<hash>_<index name>`, e.g. `products_f50c43ef_sku_1`: the field, or null
 * when the message is not that.
 */
export function ferretDbDuplicateField(message: string): string | null {
	const sqlite = /UNIQUE constraint failed: index '[^']*?_[0-9a-f]{8}_([^']+)'/.exec(message);
	return sqlite ? sqlite[1]!.split(/_(?:-?1|text)(?:_|$)/)[0] || "_id" : null;
}

type RawDoc = Record<string, unknown> & { _id: string };
/** A MongoDB query or update document (lib/store/collection.ts says which operators the shop uses). */
type Query = Record<string, unknown>;
type Update = Record<string, unknown>;

/** Updates of one collection as compare-and-set on a revision token. */
export class FerretDbV1Updates {
	private claimsMade = 0;

	constructor(
		private readonly conn: mongoose.Connection,
		private readonly coll: mongoose.mongo.Collection<RawDoc>,
		private readonly collectionName: string,
	) {}

	/** A new document carries its first revision token. */
	withRevision<T extends object>(entity: T): T {
		return { ...entity, [REV]: randomUUID() };
	}

	async updateMany(query: Query, update: Update): Promise<number> {
		const ids = (await this.coll.find(query, { projection: { _id: 1 } }).toArray()).map(d => d._id);
		let modified = 0;
		for (const id of ids) if ((await this.updateOne({ $and: [query, { _id: id }] }, update)).modified) modified++;
		return modified;
	}

	/** One document's conditional update; see the module comment. */
	async updateOne(filter: Query, update: Update): Promise<{ doc: RawDoc | null; modified: boolean }> {
		// Like mongoose: an update without operators sets the fields it names.
		const ops = Object.keys(update).some(k => k.startsWith("$")) ? update : { $set: update };
		const deadline = Date.now() + 30_000;
		for (let attempt = 0; Date.now() < deadline; attempt++) {
			const readAt = Date.now();
			const current = (await this.coll.findOne(filter)) as RawDoc | null;
			if (!current) return { doc: null, modified: false };
			const { [REV]: rev, ...plain } = current;
			const next = nedbModel.modify(plain, ops) as RawDoc;
			if (isDeepStrictEqual(next, plain)) return { doc: current, modified: false };
			const claim = await this.claim(current._id, String(rev ?? "0"));
			if (claim && Date.now() - readAt < WRITE_WITHIN_MS) {
				const written = { ...next, [REV]: randomUUID() };
				try {
					await this.coll.replaceOne({ _id: current._id }, written);
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
			const now = await this.coll.findOne({ _id: id }, { projection: { [REV]: 1 } });
			if (written !== undefined && now?.[REV] === written) return;
			await this.conn.db!.collection<{ _id: string }>(CLAIMS).deleteOne({ _id: key });
		} catch {
			// Unknown: keep it; it goes stale and is passed.
		}
	}
}
