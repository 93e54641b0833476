/**
 * Secrets never leave the process through a log line or a trace tag.
 *
 * Two layers, because a secret can hide in a field or in a string:
 * - `sanitize` copies a value for logging, replacing every field whose name says it is secret
 *   (password, token, authorization, cookie, card number, cvc, secret, private key) at any depth;
 * - `scrubText` masks what looks like a secret inside free text: JSON Web Tokens, the credential
 *   of an `Authorization` value, and card numbers (13 to 19 digits that pass the Luhn check).
 */

export const REDACTED = "[redacted]";

const SECRET_KEY = /passw(or)?d|passphrase|token|secret|authorization|cookie|card_?number|^pan$|^cvc$|^cvv2?$|private_?key|api_?key|credential/i;

export function isSecretKey(key: string): boolean {
	return SECRET_KEY.test(key);
}

const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
// 13..19 digits, optionally grouped by single spaces or dashes.
const CARD_CANDIDATE = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;
// Credentials in a URL: scheme://user:password@host
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi;

function luhn(digits: string): boolean {
	let sum = 0;
	let double = false;
	for (let i = digits.length - 1; i >= 0; i--) {
		let d = digits.charCodeAt(i) - 48;
		if (double) {
			d *= 2;
			if (d > 9) d -= 9;
		}
		sum += d;
		double = !double;
	}
	return sum % 10 === 0;
}

/** Free text with tokens, credentials and card numbers masked. */
export function scrubText(text: string): string {
	if (text.length < 13) return text;
	let out = text;
	if (out.includes("eyJ")) out = out.replace(JWT, "[jwt]");
	if (/bearer|basic/i.test(out)) out = out.replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`);
	if (out.includes("://")) out = out.replace(URL_CREDENTIALS, `$1:${REDACTED}@`);
	if (/\d{4}/.test(out))
		out = out.replace(CARD_CANDIDATE, m => {
			const digits = m.replace(/[ -]/g, "");
			return digits.length >= 13 && digits.length <= 19 && luhn(digits) ? "[card]" : m;
		});
	return out;
}

const MAX_DEPTH = 8;
const MAX_KEYS = 100;

function isPlainObject(v: object): boolean {
	const proto = Object.getPrototypeOf(v);
	return proto === Object.prototype || proto === null;
}

/** An Error as a plain object, with its message, stack and data sanitized. */
export function sanitizeError(err: Error, seen = new WeakSet<object>(), depth = 0): Record<string, unknown> {
	const out: Record<string, unknown> = { type: err.name, message: scrubText(err.message ?? "") };
	if (err.stack) out.stack = scrubText(err.stack);
	for (const [k, v] of Object.entries(err)) {
		if (k === "message" || k === "stack") continue;
		out[k] = isSecretKey(k) ? REDACTED : sanitize(v, seen, depth + 1);
	}
	if (err.cause !== undefined) out.cause = sanitize(err.cause, seen, depth + 1);
	return out;
}

/**
 * A copy of `value` that is safe to log: secret fields replaced, strings scrubbed, cycles and
 * depth bounded, class instances reduced to their own enumerable fields (or their toJSON()).
 */
export function sanitize(value: unknown, seen = new WeakSet<object>(), depth = 0): unknown {
	if (value === null || value === undefined) return value;
	switch (typeof value) {
		case "string":
			return scrubText(value);
		case "number":
		case "boolean":
			return value;
		case "bigint":
			return value.toString();
		case "function":
			return `[Function ${value.name || "anonymous"}]`;
		case "symbol":
			return value.toString();
	}
	const obj = value as object;
	if (seen.has(obj)) return "[Circular]";
	if (depth >= MAX_DEPTH) return "[Object]";
	seen.add(obj);
	try {
		if (obj instanceof Error) return sanitizeError(obj, seen, depth);
		if (obj instanceof Date) return obj.toISOString();
		if (Buffer.isBuffer(obj)) return `[Buffer ${obj.length} bytes]`;
		if (Array.isArray(obj)) return obj.slice(0, MAX_KEYS).map(v => sanitize(v, seen, depth + 1));
		if (obj instanceof Map) return sanitize(Object.fromEntries(obj), seen, depth);
		if (obj instanceof Set) return sanitize([...obj], seen, depth);
		if (!isPlainObject(obj)) {
			const toJSON = (obj as { toJSON?: () => unknown }).toJSON;
			if (typeof toJSON === "function") return sanitize(toJSON.call(obj), seen, depth);
			// Sockets, requests, brokers: their name says enough and their insides may be huge.
			const name = obj.constructor?.name ?? "Object";
			if (depth > 0) return `[${name}]`;
		}
		const out: Record<string, unknown> = {};
		let n = 0;
		for (const [k, v] of Object.entries(obj)) {
			if (n++ >= MAX_KEYS) {
				out["…"] = "truncated";
				break;
			}
			// Validation errors carry the offending value as `actual` next to the field name.
			out[k] =
				isSecretKey(k) || (k === "actual" && typeof (obj as { field?: unknown }).field === "string" && isSecretKey((obj as { field: string }).field))
					? REDACTED
					: sanitize(v, seen, depth + 1);
		}
		return out;
	} finally {
		seen.delete(obj);
	}
}
