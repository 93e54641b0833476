/**
 * Moleculer's fastest-validator, with one rule changed: `null` is a value, not "absent".
 *
 * By default an optional field given `null` passes validation and the handler stores the null
 * (`PATCH /me { "name": null }`). Here an optional field refuses null (422 naming the field)
 * unless its rule says `nullable: true`, which is how a field that may really be cleared
 * (a category's parentId, a ticket's assignee) is declared.
 */
import { Validators } from "moleculer";

type Rule = Record<string, unknown>;

function isRule(v: unknown): v is Rule {
	return typeof v === "object" && v !== null && !Array.isArray(v);
}

function strictRule(rule: unknown): unknown {
	if (Array.isArray(rule)) return rule.map(strictRule); // multiple alternative rules
	// Shorthand ("string|min:10"): the same flag in shorthand form.
	if (typeof rule === "string") return /(^|\|)nullable\b/.test(rule) ? rule : `${rule}|nullable:false`;
	if (!isRule(rule)) return rule;
	const out: Rule = { ...rule };
	// With considerNullAsAValue, fastest-validator lets null through any rule not marked
	// `nullable: false`, required or optional: mark every rule that does not allow null.
	if (out.nullable !== true) out.nullable = false;
	if (isRule(out.props)) out.props = strictSchema(out.props);
	if (out.items !== undefined) out.items = strictRule(out.items);
	return out;
}

/** Every rule of a params schema, with optional-but-not-nullable made explicit. */
export function strictSchema(schema: Rule): Rule {
	const out: Rule = {};
	for (const [key, rule] of Object.entries(schema)) out[key] = key.startsWith("$$") ? rule : strictRule(rule);
	return out;
}

export class NullIsAValueValidator extends Validators.Fastest {
	constructor() {
		super({ considerNullAsAValue: true });
	}
	override compile(schema: Record<string, unknown>) {
		return super.compile(strictSchema(schema));
	}
	override validate(params: Record<string, unknown>, schema: Record<string, unknown>) {
		return super.validate(params, strictSchema(schema));
	}
}
