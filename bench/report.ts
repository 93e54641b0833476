/** The run's figures: rows, the table, the JSON file, and the last-run section of bench/README.md. */
import { execSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./processes.js";

export interface Row {
	scenario: string;
	/** "baseline", "one process", "cluster (NATS)", "cluster (NATS + Kafka)". */
	mode: string;
	/** "sqlite", "nedb", "ferretdb", or "-" for the baseline. */
	store: string;
	/** What `rps` counts: requests/s, orders/s, rows/s (an import), deliveries/s (webhooks). */
	unit: "req/s" | "orders/s" | "rows/s" | "deliveries/s";
	rps: number;
	p50: number;
	p99: number;
	errors: number;
	note?: string;
}

/** The row of a scenario that gave no figure, so that the table and the chart show the gap. */
export function missingRow(scenario: string, mode: string, store: string, unit: Row["unit"], reason: string): Row {
	return { scenario, mode, store, unit, rps: NaN, p50: NaN, p99: NaN, errors: NaN, note: `not measured: ${reason}` };
}

export interface RatedRow extends Row {
	rpsRatio: number;
	p50Ratio: number;
	p99Ratio: number;
}

export function rate(rows: Row[], base: Row): RatedRow[] {
	return rows.map(r => ({ ...r, rpsRatio: r.rps / base.rps, p50Ratio: r.p50 / base.p50, p99Ratio: r.p99 / base.p99 }));
}

export function fmt(n: number, digits = 1): string {
	if (!Number.isFinite(n)) return "-";
	return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A throughput ratio: three significant digits, however small. */
export function fmtRatio(n: number): string {
	if (!Number.isFinite(n)) return "-";
	if (n >= 0.1) return n.toFixed(3);
	return n.toPrecision(2);
}

const STORE_NAMES: Record<string, string> = { sqlite: "SQLite", nedb: "NeDB", ferretdb: "FerretDB", "-": "-" };
export const storeName = (s: string): string => STORE_NAMES[s] ?? s;

/** The markdown table of the rows, with each figure's ratio to the baseline. */
export function table(rows: RatedRow[]): string {
	const head = ["scenario", "mode", "store", "rate", "× base", "p50 ms", "× base", "p99 ms", "× base", "errors"];
	const body = rows.map(r => [
		r.scenario,
		r.mode,
		storeName(r.store),
		`${fmt(r.rps, r.rps >= 100 ? 0 : 1)} ${r.unit}`,
		fmtRatio(r.rpsRatio),
		fmt(r.p50, 2),
		fmt(r.p50Ratio, 1),
		fmt(r.p99, 2),
		fmt(r.p99Ratio, 1),
		Number.isFinite(r.errors) ? String(r.errors) : "-",
	]);
	const left = 3;
	const widths = head.map((h, i) => Math.max(h.length, ...body.map(b => b[i]!.length)));
	const line = (cells: string[]) => `| ${cells.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
	return [line(head), `|${widths.map((w, i) => (i < left ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...body.map(line)].join("\n");
}

export function gitCommit(): string | undefined {
	try {
		const sha = execSync("git rev-parse --short HEAD", { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] })
			.toString()
			.trim();
		const dirty = execSync("git status --porcelain --untracked-files=no -- lib services mixins", { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] })
			.toString()
			.trim();
		return dirty ? `${sha} + uncommitted changes` : sha;
	} catch {
		return undefined;
	}
}

export function writeJson(result: object, startedAt: Date): string {
	const dir = path.join(ROOT, "bench", "results");
	fs.mkdirSync(dir, { recursive: true });
	const file = path.join(dir, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
	fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
	return file;
}

const START = "<!-- bench:last-run:start (written by npm run bench) -->";
const END = "<!-- bench:last-run:end -->";

/** Replaces the last-run section of bench/README.md (between its two markers). */
export function writeReadmeSection(markdown: string): void {
	const file = path.join(ROOT, "bench", "README.md");
	const text = fs.readFileSync(file, "utf8");
	const from = text.indexOf(START);
	const to = text.indexOf(END);
	if (from < 0 || to < from) throw new Error(`bench/README.md has no ${START} ... ${END} section to write the last run into`);
	fs.writeFileSync(file, `${text.slice(0, from + START.length)}\n${markdown.trim()}\n${text.slice(to)}`);
}
