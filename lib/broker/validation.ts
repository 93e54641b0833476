/**
 * Moleculer's fastest-validator, with three rules changed so that the server accepts exactly
 * what the OpenAPI document (generated from the same schemas, lib/http/json-schema.ts) says:
 *
 * - `null` is a value, not "absent". By default an optional field given `null` passes and the
 *   handler stores the null (`PATCH /me { "name": null }`). Here an optional field refuses null
 *   (422 naming the field) unless its rule says `nullable: true`, which is how a field that may
 *   really be cleared (a category's parentId, a ticket's assignee) is declared.
 * - String lengths are counted in Unicode code points, as JSON Schema counts them, not in
 *   UTF-16 units (an emoji is one character, not two).
 * - `trimmed: true` drops surrounding white space after the checks (lib/contracts/params.ts).
 */
import { Validators } from "moleculer";

type Rule = Record<string, unknown>;
type Schema = Record<string, unknown>;
type CheckErrors = { type: string; expected?: unknown; actual?: unknown }[];

function isRule(v: unknown): v is Rule {
	return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof RegExp);
}

function codePoints(value: string): number {
	let n = 0;
	for (const _ of value) n++;
	return n;
}

/** `min`/`max` of a string rule become a check on code points (with the validator's own error types); `trimmed` trims after. */
function lengthInCodePoints(rule: Rule): Rule {
	const { min, max, trimmed, ...rest } = rule;
	if (min === undefined && max === undefined && !trimmed) return rule;
	const previous = rest.custom as ((value: unknown, errors: CheckErrors, ...more: unknown[]) => unknown) | undefined;
	return {
		...rest,
		custom(value: unknown, errors: CheckErrors, ...more: unknown[]) {
			if (typeof value === "string") {
				const n = codePoints(value);
				if (typeof min === "number" && n < min) errors.push({ type: "stringMin", expected: min, actual: n });
				if (typeof max === "number" && n > max) errors.push({ type: "stringMax", expected: max, actual: n });
			}
			const checked = previous ? previous(value, errors, ...more) : value;
			return trimmed && typeof checked === "string" ? checked.trim() : checked;
		},
	};
}

function strictRule(rule: unknown): unknown {
	if (Array.isArray(rule)) return rule.map(strictRule); // multiple alternative rules
	// Shorthand ("string|min:10"): the same flag in shorthand form.
	if (typeof rule === "string") return /(^|\|)nullable\b/.test(rule) ? rule : `${rule}|nullable:false`;
	if (!isRule(rule)) return rule;
	let out: Rule = { ...rule };
	// With considerNullAsAValue, fastest-validator lets null through any rule not marked
	// `nullable: false`, required or optional: mark every rule that does not allow null.
	if (out.nullable !== true) out.nullable = false;
	if (isRule(out.props)) out.props = strictSchema(out.props);
	if (out.items !== undefined) out.items = strictRule(out.items);
	if (out.value !== undefined && out.type === "record") out.value = strictRule(out.value);
	if (out.type === "string") out = lengthInCodePoints(out);
	return out;
}

/** Every rule of a params schema, with optional-but-not-nullable made explicit. */
export function strictSchema(schema: Rule): Rule {
	const out: Rule = {};
	for (const [key, rule] of Object.entries(schema)) {
		if (key === "$$allOf") continue; // for the document only (lib/contracts/params.ts)
		out[key] = key.startsWith("$$") ? rule : strictRule(rule);
	}
	return out;
}

export class NullIsAValueValidator extends Validators.Fastest {
	constructor() {
		super({ considerNullAsAValue: true });
	}
	override compile(schema: Schema) {
		return super.compile(strictSchema(schema));
	}
	override validate(params: Record<string, unknown>, schema: Schema) {
		return super.validate(params, strictSchema(schema));
	}
}
