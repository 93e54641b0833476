/**
 * The shop's id format, stated once: every id the shop makes is a UUID (`randomUUID()`, or a
 * name-based one derived from other ids, see `derivedId`), in lowercase hex.
 *
 * Ids become more than values: `lines.<productId>`, `holds.<orderId>`, `returns.<returnId>` are
 * field paths of stored documents. Anything else in that place (`__proto__`, `a.b`, `$where`)
 * would be an attack on the store, so an id is checked against this format before it goes
 * anywhere: by the validator for ids in bodies and queries (422 naming the field), and by the
 * gateway for ids in paths (404: nothing can have that id).
 */
import { createHash } from "node:crypto";

export const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ID_MESSAGE = "The '{field}' field is not a valid id.";

export function isId(value: unknown): value is string {
	return typeof value === "string" && ID_PATTERN.test(value);
}

/** The validator rule of an id field (fastest-validator). */
export const idRule = { type: "string", pattern: ID_PATTERN, messages: { stringPattern: ID_MESSAGE } } as const;

/**
 * A stable id derived from other values (same inputs, same id), in the UUID format: the first
 * 128 bits of a SHA-256 with the version nibble set to 8 ("custom", RFC 9562) and the variant bits set.
 */
export function derivedId(...parts: string[]): string {
	const h = createHash("sha256").update(parts.join("\u0000")).digest();
	h[6] = (h[6]! & 0x0f) | 0x80;
	h[8] = (h[8]! & 0x3f) | 0x80;
	const hex = h.subarray(0, 16).toString("hex");
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
