/**
 * What the store refuses to write or query, whatever a caller built: a field path with a
 * segment that is `__proto__`, `constructor` or `prototype` (NeDB's modifier walks inherited
 * keys, so `lines.__proto__.quantity` would set `Object.prototype.quantity` in the whole
 * process), or a `$`-prefixed segment anywhere but where an operator belongs (a client key must
 * never turn into `$where` or `$set`). Ids are checked long before they get here
 * (lib/contracts/ids.ts); this is the floor under every other check.
 */
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

/** Query operators the shop's queries use (top level or under a field). */
const QUERY_OPERATORS = new Set([
	"$and",
	"$or",
	"$in",
	"$nin",
	"$exists",
	"$gt",
	"$gte",
	"$lt",
	"$lte",
	"$ne",
	"$eq",
	"$regex",
	"$options",
	"$elemMatch",
	"$size",
]);
/** Update operators, and the modifiers that go inside them. */
const UPDATE_OPERATORS = new Set(["$set", "$unset", "$inc", "$push", "$pull", "$addToSet", "$min", "$max"]);
const UPDATE_MODIFIERS = new Set(["$each", "$slice", "$position", "$in"]);

export class UnsafeFieldPathError extends Error {
	constructor(readonly path: string) {
		super(`Refused an unsafe field path: ${JSON.stringify(path)}`);
		this.name = "UnsafeFieldPathError";
	}
}

function checkPath(path: string): void {
	for (const segment of path.split(".")) {
		if (FORBIDDEN_SEGMENTS.has(segment) || segment.startsWith("$")) throw new UnsafeFieldPathError(path);
	}
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
	if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
	const proto = Object.getPrototypeOf(v);
	return proto === Object.prototype || proto === null;
}

/** A stored value: no key of any nested object may be unsafe. */
export function assertSafeValue(value: unknown, at = ""): void {
	if (Array.isArray(value)) {
		for (const item of value) assertSafeValue(item, at);
		return;
	}
	if (!isPlainObject(value)) return;
	for (const key of Object.keys(value)) {
		if (FORBIDDEN_SEGMENTS.has(key) || key.startsWith("$") || key.includes(".")) throw new UnsafeFieldPathError(at ? `${at}.${key}` : key);
		assertSafeValue(value[key], at ? `${at}.${key}` : key);
	}
}

/** A query: field paths safe, operators only where operators go, values of plain fields safe. */
export function assertSafeQuery(query: unknown): void {
	if (!isPlainObject(query)) return;
	for (const [key, cond] of Object.entries(query)) {
		if (key === "$and" || key === "$or") {
			if (Array.isArray(cond)) for (const q of cond) assertSafeQuery(q);
			continue;
		}
		if (key.startsWith("$")) {
			if (!QUERY_OPERATORS.has(key)) throw new UnsafeFieldPathError(key);
			continue;
		}
		checkPath(key);
		if (isPlainObject(cond)) {
			for (const op of Object.keys(cond)) {
				if (!op.startsWith("$")) {
					// An equality on a subdocument: its keys are stored keys.
					assertSafeValue(cond);
					break;
				}
				if (!QUERY_OPERATORS.has(op)) throw new UnsafeFieldPathError(`${key}.${op}`);
			}
		}
	}
}

/** An update: known operators at the top, safe field paths under them, safe values. */
export function assertSafeUpdate(update: unknown): void {
	if (!isPlainObject(update)) return;
	const keys = Object.keys(update);
	if (!keys.some(k => k.startsWith("$"))) return assertSafeValue(update); // a replacement document
	for (const op of keys) {
		if (!UPDATE_OPERATORS.has(op)) throw new UnsafeFieldPathError(op);
		const fields = update[op];
		if (!isPlainObject(fields)) continue;
		for (const [path, value] of Object.entries(fields)) {
			checkPath(path);
			if (isPlainObject(value) && Object.keys(value).some(k => k.startsWith("$"))) {
				for (const [modifier, inner] of Object.entries(value)) {
					if (!UPDATE_MODIFIERS.has(modifier)) throw new UnsafeFieldPathError(`${path}.${modifier}`);
					if (op === "$pull") assertSafeQuery({ [path]: inner });
					else assertSafeValue(inner, path);
				}
			} else if (op === "$pull") {
				assertSafeQuery(isPlainObject(value) ? value : {});
			} else {
				assertSafeValue(value, path);
			}
		}
	}
}
