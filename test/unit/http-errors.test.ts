import { describe, expect, it } from "vitest";
import { Errors } from "moleculer";
import { toClientError } from "../../lib/http/errors.js";

describe("toClientError", () => {
	it("hides internal errors behind a plain 500", () => {
		const body = toClientError(new Error("ECONNREFUSED mongodb://secret-host:27017"));
		expect(body).toEqual({ name: "InternalServerError", message: "Internal server error", code: 500, type: "INTERNAL_ERROR" });
	});
	it("turns an unreachable service into 503 without naming the action", () => {
		const body = toClientError(new Errors.ServiceNotFoundError({ action: "orders.checkout" }));
		expect(body.code).toBe(503);
		expect(JSON.stringify(body)).not.toContain("orders.checkout");
		expect(toClientError(new Errors.RequestTimeoutError({ action: "x.y", nodeID: "n1" })).code).toBe(503);
	});
	it("keeps validation fields but never the offending values", () => {
		const err = new Errors.ValidationError("bad", "VALIDATION_ERROR", [
			{ type: "stringMin", field: "password", message: "too short", actual: "hunter2" },
		] as never);
		const body = toClientError(err);
		expect(body.code).toBe(422);
		expect(body.data).toEqual([{ field: "password", message: "too short", type: "stringMin" }]);
		expect(JSON.stringify(body)).not.toContain("hunter2");
	});
	it("names unknown fields of a strict object", () => {
		const err = new Errors.ValidationError("bad", "VALIDATION_ERROR", [
			{ type: "objectStrict", message: "forbidden keys", actual: "roles", field: undefined },
		] as never);
		expect(toClientError(err).data).toEqual([{ field: "roles", message: "Unknown field(s): roles", type: "objectStrict" }]);
	});
	it("maps body-parser errors", () => {
		expect(toClientError(Object.assign(new SyntaxError("x"), { status: 400, type: "entity.parse.failed" })).code).toBe(400);
		expect(toClientError(Object.assign(new Error("x"), { status: 413, type: "entity.too.large" })).code).toBe(413);
	});
});
