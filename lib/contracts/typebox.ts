/**
 * Small TypeBox helpers shared by the contract's schemas (lib/http/schemas.ts for the API's
 * answers, lib/contracts/event-schemas.ts for the events): each states a JSON Schema in the form
 * the published documents use and gives it its TypeScript type.
 */
import { Type, type TSchema } from "typebox";

/** A closed object: a field the schema does not name is a contract change. */
export const closed = <P extends Record<string, TSchema>>(properties: P) => Type.Object(properties, { additionalProperties: false });
export const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** A string or null, stated as one type (`type: ["string", "null"]`). */
export const stringOrNull = (options: { description?: string } = {}) => Type.Unsafe<string | null>({ type: ["string", "null"], ...options });
/** One of a list of strings (`type: "string", enum`), typed as their union. */
export const oneOf = <const V extends readonly string[]>(values: V) => Type.Unsafe<V[number]>({ type: "string", enum: [...values] });
/** Text by key (option name → value, language → alt text). */
export const stringMap = (options: { description?: string } = {}) =>
	Type.Unsafe<Record<string, string>>({ type: "object", additionalProperties: { type: "string" }, ...options });
