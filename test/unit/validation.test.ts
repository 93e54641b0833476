import { describe, expect, it } from "vitest";
import { NullIsAValueValidator, strictSchema } from "../../lib/broker/validation.js";

describe("null is a value", () => {
	const v = new NullIsAValueValidator();
	const check = v.compile({
		name: { type: "string", optional: true },
		parentId: { type: "string", optional: true, nullable: true },
		email: "string",
		prefs: { type: "object", optional: true, props: { inApp: { type: "boolean", optional: true } } },
		tags: { type: "array", optional: true, items: "string" },
	});
	const ok = (p: Record<string, unknown>) => check(p) === true;

	it("refuses null in optional and required fields, at any depth", () => {
		expect(ok({ email: "a@b.co" })).toBe(true);
		expect(ok({ email: null })).toBe(false);
		expect(ok({ email: "a@b.co", name: null })).toBe(false);
		expect(ok({ email: "a@b.co", prefs: null })).toBe(false);
		expect(ok({ email: "a@b.co", prefs: { inApp: null } })).toBe(false);
		expect(ok({ email: "a@b.co", tags: ["x", null] })).toBe(false);
	});

	it("lets null through where a rule says nullable", () => {
		expect(ok({ email: "a@b.co", parentId: null })).toBe(true);
	});

	it("leaves $$ options alone and keeps shorthand rules working", () => {
		expect(strictSchema({ $$strict: true, id: "string|max:3" })).toEqual({ $$strict: true, id: "string|max:3|nullable:false" });
		expect(strictSchema({ id: "string|nullable:true" })).toEqual({ id: "string|nullable:true" });
	});
});
