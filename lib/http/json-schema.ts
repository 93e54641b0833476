/**
 * JSON Schema (OpenAPI 3.1) from the fastest-validator rules of lib/contracts/params.ts: the
 * request side of the OpenAPI document is generated from the very schemas the server validates
 * with, so what the document allows and what the server accepts are the same set.
 */
import type { ParamsSchema, Rule } from "../contracts/params.js";

export type JsonSchema = Record<string, unknown>;

function withNull(schema: JsonSchema, nullable: boolean | undefined): JsonSchema {
	if (!nullable) return schema;
	if (typeof schema.type === "string")
		return { ...schema, type: [schema.type, "null"], ...(schema.enum ? { enum: [...(schema.enum as unknown[]), null] } : {}) };
	return { anyOf: [schema, { type: "null" }] };
}

/** One rule as JSON Schema. `inQuery`: the value arrives as a query-string parameter. */
export function ruleToJsonSchema(rule: Rule): JsonSchema {
	let s: JsonSchema;
	switch (rule.type) {
		case "string":
			s = { type: "string" };
			if (rule.min !== undefined) s.minLength = rule.min;
			if (rule.max !== undefined) s.maxLength = rule.max;
			if (rule.pattern) {
				if (rule.pattern.flags.replace(/[gu]/g, "") !== "") throw new Error(`Pattern flags cannot be stated in JSON Schema: ${rule.pattern}`);
				s.pattern = rule.pattern.source;
			}
			break;
		case "number":
			s = { type: rule.integer ? "integer" : "number" };
			if (rule.min !== undefined) s.minimum = rule.min;
			if (rule.max !== undefined) s.maximum = rule.max;
			break;
		case "boolean":
			s = { type: "boolean" };
			break;
		case "enum":
			s = { type: "string", enum: [...rule.values] };
			break;
		case "equal":
			s = { const: rule.value };
			break;
		case "array":
			s = { type: "array", items: ruleToJsonSchema(rule.items) };
			if (rule.min !== undefined) s.minItems = rule.min;
			if (rule.max !== undefined) s.maxItems = rule.max;
			if (rule.unique) s.uniqueItems = true;
			break;
		case "object":
			s = objectSchema(rule.props);
			if (rule.minProps !== undefined) s.minProperties = rule.minProps;
			break;
		case "record":
			s = { type: "object", propertyNames: ruleToJsonSchema(rule.key), additionalProperties: ruleToJsonSchema(rule.value) };
			break;
	}
	if (rule.description) s.description = rule.description;
	if (rule.default !== undefined) s.default = rule.default;
	return withNull(s, rule.nullable);
}

function objectSchema(props: Readonly<Record<string, Rule>>): JsonSchema {
	const properties: Record<string, JsonSchema> = {};
	const required: string[] = [];
	for (const [name, rule] of Object.entries(props)) {
		properties[name] = ruleToJsonSchema(rule);
		if (!rule.optional) required.push(name);
	}
	return { type: "object", properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

function fieldsOf(params: ParamsSchema): [string, Rule][] {
	return Object.entries(params).filter((e): e is [string, Rule] => !e[0].startsWith("$$") && typeof e[1] === "object" && !Array.isArray(e[1]));
}

export interface OpenApiParameter {
	name: string;
	in: "path" | "query";
	required: boolean;
	schema: JsonSchema;
	description?: string;
	style?: string;
	explode?: boolean;
}

/**
 * An action's params split the way the route delivers them: path parameters, then the query
 * (GET and DELETE) or a JSON body (POST, PATCH, PUT). The body is required when it has a
 * required field (a PATCH body may be left out: it changes nothing).
 */
export function requestOf(
	params: ParamsSchema,
	method: string,
	pathParams: readonly string[],
): { parameters: OpenApiParameter[]; body?: { required: boolean; schema: JsonSchema } } {
	const parameters: OpenApiParameter[] = [];
	const bodyProps: Record<string, Rule> = {};
	for (const [name, rule] of fieldsOf(params)) {
		if (pathParams.includes(name)) {
			parameters.push({ name, in: "path", required: true, schema: ruleToJsonSchema(rule) });
		} else if (method === "GET" || method === "DELETE") {
			const schema = ruleToJsonSchema(rule);
			parameters.push({ name, in: "query", required: !rule.optional, schema, ...(rule.type === "array" ? { style: "form", explode: true } : {}) });
		} else {
			bodyProps[name] = rule;
		}
	}
	for (const name of pathParams) if (!parameters.some(p => p.name === name)) throw new Error(`Path parameter '${name}' has no rule in the action's params`);
	if (method === "GET" || method === "DELETE") return { parameters };
	const schema = objectSchema(bodyProps);
	if (params.$$allOf) schema.allOf = params.$$allOf;
	return { parameters, body: { required: Array.isArray(schema.required) && schema.required.length > 0, schema } };
}
