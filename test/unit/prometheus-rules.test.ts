/**
 * The alert rules (ops/prometheus/alerts.yml) are valid and each one is unit-tested with
 * `promtool test rules` (ops/prometheus/alerts.test.yml): it fires on the series that should page
 * and stays quiet on healthy ones. promtool comes with Debian's `prometheus` package (npm run
 * infra:up installs it); without it these tests skip, and fail under REQUIRE_INFRA=1.
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { missingTools } from "../cluster/infra.js";

const DIR = path.resolve("ops/prometheus");
const RULES = path.join(DIR, "alerts.yml");
const TESTS = path.join(DIR, "alerts.test.yml");

const absent = missingTools(["promtool"]).length > 0;
if (absent && process.env.REQUIRE_INFRA === "1")
	throw new Error("REQUIRE_INFRA=1 and promtool is not on PATH (Debian package 'prometheus'; npm run infra:up installs it)");
if (absent) console.warn("SKIPPED promtool tests: promtool is not on PATH (npm run infra:up installs Debian's 'prometheus')");

const alertsIn = (file: string, pattern: RegExp) => new Set([...fs.readFileSync(file, "utf8").matchAll(pattern)].map(m => m[1]!));

describe("Prometheus alert rules", () => {
	it("name the alerts an operator is paged for, each with a unit test", () => {
		const alerts = alertsIn(RULES, /^\s*- alert: (\w+)/gm);
		expect([...alerts].sort()).toEqual(
			[
				"CheckoutSettleSlow",
				"ConsumerLagHigh",
				"DeadLettersGrowing",
				"KafkaDisconnected",
				"NatsDisconnected",
				"NodeDown",
				"NodeNotReady",
				"OutboxBacklogOld",
				"RouteErrorRateHigh",
			].sort(),
		);
		const tested = alertsIn(TESTS, /^\s*alertname: (\w+)/gm);
		expect([...alerts].filter(a => !tested.has(a))).toEqual([]);
		// Every alert is tested both ways: quiet (exp_alerts: []) and firing.
		const text = fs.readFileSync(TESTS, "utf8");
		for (const alert of alerts) {
			const cases = [...text.matchAll(new RegExp(`alertname: ${alert}\\n\\s*exp_alerts:( \\[\\])?`, "g"))];
			expect(
				cases.some(c => c[1]),
				`${alert} has a quiet case`,
			).toBe(true);
			expect(
				cases.some(c => !c[1]),
				`${alert} has a firing case`,
			).toBe(true);
		}
	});

	it.skipIf(absent)("are valid rules (promtool check rules)", () => {
		const out = execFileSync("promtool", ["check", "rules", RULES], { encoding: "utf8" });
		expect(out).toMatch(/SUCCESS: 9 rules found/);
	});

	it.skipIf(absent)("pass their unit tests (promtool test rules)", () => {
		const run = spawnSync("promtool", ["test", "rules", TESTS], { encoding: "utf8", timeout: 60_000 });
		expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
		expect(run.stdout).toMatch(/SUCCESS/);
	});
});
