/**
 * The web shop's API types are generated from the OpenAPI document (scripts/generate-web-types.ts):
 * a response schema changed without regenerating them fails here, before the web build does.
 */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { WEB_TYPES_FILE, webTypesSource } from "../../scripts/generate-web-types.js";

it("web/src/api/openapi.d.ts is what the OpenAPI document makes (else: npm run generate:types)", async () => {
	const committed = readFileSync(WEB_TYPES_FILE, "utf8");
	expect(committed === (await webTypesSource()), "web/src/api/openapi.d.ts is stale: run `npm run generate:types` and commit it").toBe(true);
});
