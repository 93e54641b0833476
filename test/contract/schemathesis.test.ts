/**
 * The OpenAPI document against the server that serves it: schemathesis (PyPI) generates requests
 * from /api/openapi.json (valid ones and invalid ones, following the document's links so that
 * stateful sequences reach real ids) against the one-process shop, as an admin and as a
 * customer, with every check it has, and the run must report no failure: no 5xx, no answer
 * that breaks the document (status, headers, content type, body schema), no invalid request
 * accepted, and no valid request refused by the request validator (test/contract/schemathesis_hooks.py
 * says how that check refines schemathesis's `positive_data_acceptance`).
 *
 * schemathesis is installed by scripts/install-schemathesis.sh (CI runs it). Without it this file
 * is skipped with a message; with REQUIRE_INFRA=1 that is a failure. SCHEMATHESIS_EXAMPLES sets
 * the cases per operation and run (default 70: about 6,000 cases in all), SCHEMATHESIS_SEED the seed.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, startShop, type TestShop } from "../helpers/shop.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CACHE = process.env.SHOP_CACHE ?? path.join(os.homedir(), ".cache", "shop");
const ST = process.env.SCHEMATHESIS_BIN ?? path.join(CACHE, "schemathesis-4.32.5", "bin", "st");
const EXAMPLES = Number(process.env.SCHEMATHESIS_EXAMPLES ?? 70);
const SEED = process.env.SCHEMATHESIS_SEED ?? "20261201";
const MIN_CASES = 5000;

const available = fs.existsSync(ST);
if (!available) {
	const msg = `schemathesis not found at ${ST}; install it with scripts/install-schemathesis.sh`;
	if (process.env.REQUIRE_INFRA === "1") throw new Error(`REQUIRE_INFRA=1 and ${msg}`);
	console.warn(`SKIPPED contract fuzzing: ${msg}`);
}

interface Report {
	test_cases: { generated: number; with_failures: number; unique_failures: number; errored: number };
	failures: unknown[];
	errors: unknown[];
	exit_code: number;
	seed: string | number;
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
	return new Promise(resolve => {
		execFile(ST, args, { cwd: ROOT, env: { ...process.env, ...env }, timeout: 15 * 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
			resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: `${stdout}\n${stderr}` });
		});
	});
}

describe.skipIf(!available)("the OpenAPI document, fuzzed against the server (schemathesis)", () => {
	let shop: TestShop;
	const tokens: Record<string, string> = {};
	const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-schemathesis-"));
	const totals = { cases: 0, failures: 0 };

	beforeAll(async () => {
		// The demo catalog gives the fuzzer products to find; a high lock threshold keeps it from locking the accounts it uses.
		shop = await startShop({ env: { ...ADMIN_ENV, SEED_DEMO: "true", LOGIN_MAX_FAILURES: "1000000" } });
		tokens.admin = (await admin(shop)).accessToken;
		tokens.customer = (await customer(shop, "Fuzzy")).accessToken;
	});
	afterAll(async () => {
		await shop?.stop();
		console.log(
			`schemathesis: ${totals.cases} cases generated in all, ${totals.failures} failures (seed ${SEED}, ${EXAMPLES} per operation and run); reports in ${reportDir}`,
		);
	});

	for (const who of ["admin", "customer"] as const) {
		it(`finds no failure as ${who === "admin" ? "an admin" : "a customer"}`, { timeout: 15 * 60_000 }, async () => {
			const reportPath = path.join(reportDir, `${who}.json`);
			const { code, output } = await run(
				[
					"run",
					`${shop.baseUrl}/api/openapi.json`,
					"--checks",
					"all",
					"--exclude-checks",
					"positive_data_acceptance",
					"--max-examples",
					String(EXAMPLES),
					"--seed",
					SEED,
					// One worker: CPython 3.11's ast module is not thread-safe ("AST constructor recursion depth mismatch").
					"--workers",
					"1",
					"--header",
					`Authorization: Bearer ${tokens[who]}`,
					"--request-timeout",
					"10",
					"--no-color",
					"--report",
					"json",
					"--report-json-path",
					reportPath,
				],
				{ SCHEMATHESIS_HOOKS: "test.contract.schemathesis_hooks", PYTHONPATH: ROOT },
			);
			const report = JSON.parse(fs.readFileSync(reportPath, "utf8")) as Report;
			totals.cases += report.test_cases.generated;
			totals.failures += report.test_cases.unique_failures;
			const summary = output
				.split("\n")
				.filter(l => /FAILURES|___ |ST\d{3}|\[\d{3}\]|curl |Error|failures?,/.test(l))
				.slice(0, 200)
				.join("\n");
			expect(report.test_cases.unique_failures, summary).toBe(0);
			expect(report.errors, summary).toEqual([]);
			expect(code, summary).toBe(0);
			expect(report.test_cases.generated).toBeGreaterThan(MIN_CASES / 2);
		});
	}

	it(`generated at least ${MIN_CASES} cases in all`, () => {
		expect(totals.cases).toBeGreaterThanOrEqual(MIN_CASES);
	});
});
