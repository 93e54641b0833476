/**
 * What NeDB means by a document, a query, an update, an index key and a sort, for the SQLite
 * store (lib/store/sqlite.ts), which keeps NeDB's semantics exactly: NeDB's own model module (as
 * moleculer-db loads it), the keys an index takes from a document, and the one-time read of a
 * collection's NeDB file.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import type { FindOptions, Query, Update } from "./collection.js";

export type PlainDoc = Record<string, unknown> & { _id: string };

// NeDB as moleculer-db loads it: its query matcher, modifiers and serialization are the store's semantics.
const nedbRequire = createRequire(createRequire(import.meta.url).resolve("moleculer-db"));
export const nedb = nedbRequire("@seald-io/nedb/lib/model.js") as {
	serialize(doc: unknown): string;
	deserialize(text: string): PlainDoc;
	deepCopy<T>(doc: T): T;
	modify(doc: PlainDoc, update: Update): PlainDoc;
	match(doc: unknown, query: Query): boolean;
	getDotValue(doc: unknown, field: string): unknown;
	compareThings(a: unknown, b: unknown): number;
};
/** NeDB's deserialize revives dates with a reviver called for every value; most documents have none. */
export const parse = (text: string): PlainDoc => (text.includes('"$$date"') ? nedb.deserialize(text) : (JSON.parse(text) as PlainDoc));
export const nedbUid = (nedbRequire("@seald-io/nedb/lib/customUtils.js") as { uid(len: number): string }).uid;

/** A value as a key table holds it: strings and numbers as they are, booleans as 0/1, dates as milliseconds. */
export type Key = string | number;
export function keyOf(value: unknown): Key | undefined {
	if (typeof value === "string") return value;
	if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
	if (typeof value === "boolean") return value ? 1 : 0;
	if (value instanceof Date) return value.getTime();
	return undefined;
}

/** The keys a document has for `field`, as NeDB's index takes them (each element of an array, once). */
export function keysOf(doc: unknown, field: string): Key[] {
	const value = nedb.getDotValue(doc, field);
	const values = Array.isArray(value) ? value : [value];
	const keys = new Set<Key>();
	for (const v of values) {
		const k = keyOf(v);
		if (k !== undefined) keys.add(k);
	}
	return [...keys];
}

export const sameKeys = (a: Key[], b: Key[]) => a.length === b.length && a.every((k, i) => k === b[i]);

/** Strings past U+FFFF order differently in SQLite (UTF-8 bytes) and JavaScript (UTF-16 units): a range on them is not narrowed. */
export const orderedAlike = (v: unknown) => typeof v !== "string" || !/[\ud800-\udfff]/.test(v);

export function operators(value: unknown): Record<string, unknown> | null {
	if (!value || typeof value !== "object" || Array.isArray(value) || value instanceof Date) return null;
	const keys = Object.keys(value);
	return keys.length > 0 && keys.every(k => k.startsWith("$")) ? (value as Record<string, unknown>) : null;
}

/** moleculer-db's sort: `["-createdAt", "name"]` or `"-createdAt name"`, as [field, direction] pairs. */
export function sortFields(sort: FindOptions["sort"] | string | undefined): [string, 1 | -1][] {
	const list = typeof sort === "string" ? sort.split(/\s+/) : (sort ?? []);
	return list.filter(Boolean).map(s => (s.startsWith("-") ? [s.slice(1), -1] : [s, 1]));
}

/**
 * A collection's NeDB file, read once as NeDB reads it (a log: a later line of a document replaces
 * the earlier ones, `$$deleted` removes it, index lines are skipped) and handed to `copy`; then renamed `<file>.migrated`, kept for the owner to
 * delete. Documents already in SQLite are left as they are.
 */
export function migrateNedbFile(file: string, copy: (docs: PlainDoc[]) => void): void {
	if (!fs.existsSync(file)) return;
	// Synchronous on purpose: the collection is not in use until connect() answers.
	const lines = fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
	const docs = new Map<string, PlainDoc>();
	for (const line of lines) {
		const doc = nedb.deserialize(line) as PlainDoc & { $$deleted?: boolean; $$indexCreated?: unknown; $$indexRemoved?: unknown };
		if (doc.$$indexCreated || doc.$$indexRemoved) continue;
		if (doc.$$deleted === true) docs.delete(doc._id);
		else docs.set(doc._id, doc);
	}
	copy([...docs.values()]);
	fs.renameSync(file, `${file}.migrated`);
}
