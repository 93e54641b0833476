/**
 * Request shapes, stated once. Each action's parameters are a fastest-validator schema (what
 * Moleculer validates), written as a typed constant; from the same constant come
 *   - the TypeScript type of `ctx.params` (`ParamsOf<typeof schema>`), and
 *   - the OpenAPI request schema (lib/http/json-schema.ts),
 * so the three cannot drift apart.
 *
 * Only the subset of fastest-validator whose meaning JSON Schema can state exactly is used:
 * strings by length (counted in code points, see lib/broker/validation.ts) and pattern, integers and
 * numbers by range, booleans, enums, constants, arrays, strict objects and records. There is no
 * fastest-validator `trim` (it trims before checking, so a string the document calls too long
 * would pass); `trimmed` trims after the checks instead. Patterns use explicit character classes
 * (`\s`, `\d`, `\w` mean other things in other regex engines).
 */

interface RuleBase {
	optional?: boolean;
	nullable?: boolean;
	default?: unknown;
	/** For the OpenAPI document. */
	description?: string;
	messages?: Readonly<Record<string, string>>;
}
export interface StringRule extends RuleBase {
	type: "string";
	min?: number;
	max?: number;
	pattern?: RegExp;
	/** Surrounding white space is dropped once the value passed its checks (which apply to it as sent). */
	trimmed?: true;
}
export interface NumberRule extends RuleBase {
	type: "number";
	integer?: boolean;
	min?: number;
	max?: number;
	/** Query strings only: "12" is 12. */
	convert?: boolean;
}
export interface BooleanRule extends RuleBase {
	type: "boolean";
	/** Query strings only: "true"/"false". */
	convert?: boolean;
}
export interface EnumRule extends RuleBase {
	type: "enum";
	values: readonly string[];
}
export interface EqualRule extends RuleBase {
	type: "equal";
	value: string | number | boolean;
	strict: true;
}
export interface ArrayRule extends RuleBase {
	type: "array";
	items: Rule;
	min?: number;
	max?: number;
	unique?: boolean;
	/** Query strings only: a single value is a list of one. */
	convert?: boolean;
}
export interface ObjectRule extends RuleBase {
	type: "object";
	props: Readonly<Record<string, Rule>>;
	strict: true;
	/** At least this many properties (an empty PATCH body says nothing). */
	minProps?: number;
}
export interface RecordRule extends RuleBase {
	type: "record";
	key: StringRule;
	value: Rule;
}
export type Rule = StringRule | NumberRule | BooleanRule | EnumRule | EqualRule | ArrayRule | ObjectRule | RecordRule;

/**
 * The params of one action: `$$strict` refuses unknown fields (422 naming them). `$$allOf` states
 * rules across fields (JSON Schema `if`/`then`, `oneOf`) for the document; the handler enforces
 * them (a unit test holds the two together), since fastest-validator has no such rules.
 */
export type ParamsSchema = { readonly $$strict?: true; readonly $$allOf?: readonly Readonly<Record<string, unknown>>[] } & {
	readonly [field: string]: Rule | true | undefined | readonly Readonly<Record<string, unknown>>[];
};

type Base<R> = R extends { type: "string" }
	? string
	: R extends { type: "number" }
		? number
		: R extends { type: "boolean" }
			? boolean
			: R extends { type: "enum"; values: readonly (infer V)[] }
				? V
				: R extends { type: "equal"; value: infer V }
					? V
					: R extends { type: "array"; items: infer I }
						? ValueOf<I>[]
						: R extends { type: "object"; props: infer P }
							? ParamsOf<P>
							: R extends { type: "record"; value: infer V }
								? Record<string, ValueOf<V>>
								: never;
type ValueOf<R> = R extends { nullable: true } ? Base<R> | null : Base<R>;
/** Optional without a default: the handler may not get it. */
type MayBeAbsent<R> = R extends { optional: true } ? (R extends { default: unknown } ? false : true) : false;
type Fields<S> = { [K in keyof S as K extends `$$${string}` ? never : K]: S[K] };
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The TypeScript type of what a handler receives for a params schema. */
export type ParamsOf<S> = Simplify<
	{ -readonly [K in keyof Fields<S> as MayBeAbsent<Fields<S>[K]> extends true ? never : K]: ValueOf<Fields<S>[K]> } & {
		-readonly [K in keyof Fields<S> as MayBeAbsent<Fields<S>[K]> extends true ? K : never]?: ValueOf<Fields<S>[K]>;
	}
>;

/** The same rule, optional. */
export function optional<R extends Rule>(rule: R): R & { optional: true } {
	return { ...rule, optional: true };
}

/** Every field optional: a PATCH body (an empty one changes nothing). */
export function patchOf<P extends Readonly<Record<string, Rule>>>(props: P): { [K in keyof P]: P[K] & { optional: true } } {
	return Object.fromEntries(Object.entries(props).map(([k, r]) => [k, { ...r, optional: true }])) as { [K in keyof P]: P[K] & { optional: true } };
}

/** The fields a PATCH body gave (a field left out changes nothing). */
export function definedOnly<T extends object>(patch: T): Partial<T> {
	return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * A character that is white space in no regex engine: "not blank" as a pattern that means the
 * same to the server (JavaScript) and to any client or test generator reading the document.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this pattern is about
export const NOT_BLANK = /[^\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u001c-\u001f]/;

/** A human-written text of 1..max characters that is not only white space. */
export function text(max: number, extra: Partial<StringRule> = {}): StringRule & { type: "string" } {
	return { type: "string", min: 1, max, pattern: NOT_BLANK, trimmed: true, messages: { stringPattern: "The '{field}' field must not be blank." }, ...extra };
}
