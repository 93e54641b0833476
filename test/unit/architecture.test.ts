/**
 * The layout as rules that fail when broken: no import cycle among the shop's modules (type-only
 * imports included: a cycle of types is a tangle too), nothing in lib/, mixins/ or services/
 * imports scripts/, bench/ or test/, lib/ imports no service, every service file stays a
 * table of contents, no file grows past 500 lines, the outbox and the compare-and-set loop
 * are written once, in lib/store, and the few casts TypeScript cannot check each say why.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const LAYERS = ["lib", "mixins", "services"];

function files(dir: string): string[] {
	return fs
		.readdirSync(path.join(ROOT, dir), { withFileTypes: true })
		.flatMap(e => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
}

/** Relative imports of a module, resolved to repository paths (`.js` specifiers name `.ts` files). */
function importsOf(file: string): string[] {
	const src = fs.readFileSync(path.join(ROOT, file), "utf8");
	const found = [...src.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"/g), ...src.matchAll(/import\("(\.{1,2}\/[^"]+)"\)/g)];
	return found.map(m => path.normalize(path.join(path.dirname(file), m[1]!.replace(/\.js$/, ".ts"))));
}

const modules = LAYERS.flatMap(files);
const graph = new Map(modules.map(m => [m, importsOf(m)]));

describe("the layout", () => {
	it("has no import cycle", () => {
		const cycles: string[][] = [];
		const state = new Map<string, "visiting" | "done">();
		const stack: string[] = [];
		const visit = (m: string) => {
			state.set(m, "visiting");
			stack.push(m);
			for (const next of graph.get(m) ?? []) {
				if (!graph.has(next)) continue;
				if (state.get(next) === "visiting") cycles.push([...stack.slice(stack.indexOf(next)), next]);
				else if (!state.has(next)) visit(next);
			}
			stack.pop();
			state.set(m, "done");
		};
		for (const m of modules) if (!state.has(m)) visit(m);
		expect(cycles.map(c => c.join(" → "))).toEqual([]);
	});

	it("keeps lib/, mixins/ and services/ free of scripts/, bench/ and test/, and lib/ free of services/", () => {
		const wrong = modules.flatMap(m =>
			(graph.get(m) ?? [])
				.filter(t => /^(scripts|bench|test)\//.test(t) || (m.startsWith("lib/") && /^(services|mixins)\//.test(t)))
				.map(t => `${m} → ${t}`),
		);
		expect(wrong).toEqual([]);
	});

	it("keeps each service file a table of contents (at most 250 lines)", () => {
		const long = modules
			.filter(m => m.endsWith(".service.ts"))
			.map(m => [m, fs.readFileSync(path.join(ROOT, m), "utf8").split("\n").length] as const)
			.filter(([, n]) => n > 250);
		expect(long).toEqual([]);
	});

	it("gives a domain module and a service module different names (a name says one thing)", () => {
		const domain = new Set(modules.filter(m => m.startsWith("lib/domain/")).map(m => path.basename(m)));
		const twice = modules.filter(m => m.startsWith("services/") && domain.has(path.basename(m)));
		expect(twice).toEqual([]);
	});

	it("resolves every relative import to a file that exists", () => {
		const missing = modules.flatMap(m => (graph.get(m) ?? []).filter(t => !fs.existsSync(path.join(ROOT, t))).map(t => `${m} → ${t}`));
		expect(missing).toEqual([]);
	});
});

/** Each file of lib/, mixins/ and services/ with its text. */
const sources = modules.map(m => [m, fs.readFileSync(path.join(ROOT, m), "utf8")] as const);

// TODO(payments, identity, notifications and events helpers): these files are theirs and move to
// the store API (Collection.change / changeWithEvents) with their own work:
// services/orders/payments.ts and lib/payments/* (payments), services/users/* (identity),
// services/notifications/* (notifications), lib/events/kafka-bus.ts (events).
const OWNED_ELSEWHERE = ["services/orders/payments.ts", "lib/payments/", "services/users/", "services/notifications/", "lib/events/kafka-bus.ts"];
const ownedElsewhere = (m: string) => OWNED_ELSEWHERE.some(o => (o.endsWith("/") ? m.startsWith(o) : m === o));

/** An outbox row built by hand: pushed (`$push: { outbox: ... }`, `outbox: { $each: ... }`) or inserted (`outbox: [envelope]`). */
const HAND_BUILT_OUTBOX = [
	/\$push\s*[:=]\s*\{[^{}]*\boutbox\s*:/,
	/\$push\.outbox\b/,
	/\boutbox\s*:\s*\{\s*\$each/,
	/\boutbox\s*:\s*\[(?!\s*["\]])/,
	/\boutbox\s*:\s*(?:this\.|envelopes?\b)/,
];
/** A copy of the compare-and-set loop: `for (let attempt = 0; attempt < n; ...)` and the like. */
const RETRY_LOOP = [/for\s*\([^)]*?\b(?:attempt|attempts|tries|retries)\b\s*<[^=]/i, /for\s*\([^)]*?<\s*[\w.]*attempts\b/i];

describe("the write paths", () => {
	it("builds outbox rows only in lib/store (insertWithEvents, changeWithEvents, change)", () => {
		const found = sources.filter(([m, src]) => !m.startsWith("lib/store/") && !ownedElsewhere(m) && HAND_BUILT_OUTBOX.some(r => r.test(src)));
		expect(found.map(([m]) => m)).toEqual([]);
	});

	it("has one compare-and-set loop, Collection.change in lib/store", () => {
		const found = sources.filter(([m, src]) => !m.startsWith("lib/store/") && !ownedElsewhere(m) && RETRY_LOOP.some(r => r.test(src)));
		expect(found.map(([m]) => m)).toEqual([]);
	});

	it("finds what it forbids (the patterns match the forms they were written against)", () => {
		expect(HAND_BUILT_OUTBOX.some(r => r.test("{ $set: { a: 1 }, $push: { outbox: { $each: [event] } } }"))).toBe(true);
		expect(HAND_BUILT_OUTBOX.some(r => r.test("update.$push = { outbox: x }"))).toBe(true);
		expect(HAND_BUILT_OUTBOX.some(r => r.test("insert({ ...p, outbox: [this.event(id)] })"))).toBe(true);
		expect(HAND_BUILT_OUTBOX.some(r => r.test("$push.outbox = { $each: rows }"))).toBe(true);
		expect(HAND_BUILT_OUTBOX.some(r => r.test("insert({ ...order, outbox: this.envelopes(events, cause) })"))).toBe(true);
		expect(HAND_BUILT_OUTBOX.some(r => r.test('EventsMixin({ outbox: ["orders"] })'))).toBe(false);
		expect(RETRY_LOOP.some(r => r.test("for (let attempt = 0; attempt < 5; attempt++) {"))).toBe(true);
		expect(RETRY_LOOP.some(r => r.test("for (let i = 0; i < attempts; i++) {"))).toBe(true);
		expect(RETRY_LOOP.some(r => r.test("return counted.attempts <= maxFailures;"))).toBe(false);
	});
});

/** A file that may be longer: the search index is one data structure. */
const LONG_ALLOWED = ["lib/search/memory-index.ts"];

describe("file sizes", () => {
	it("keeps every file of lib/, mixins/ and services/ at most 500 lines", () => {
		const long = sources
			.filter(([m]) => !LONG_ALLOWED.includes(m))
			.map(([m, src]) => [m, src.split("\n").length] as const)
			.filter(([, n]) => n > 500);
		expect(long).toEqual([]);
	});
});

/** The casts TypeScript cannot check (`as unknown as`): only where a library's declarations differ from what it does. */
const UNCHECKED_CAST = /\bas unknown as\b/;
const MAX_UNCHECKED_CASTS = 5;

describe("types", () => {
	const casts = sources.flatMap(([m, src]) =>
		src.split("\n").flatMap((line, i, lines) => (UNCHECKED_CAST.test(line) ? [{ at: `${m}:${i + 1}`, line, before: lines[i - 1] ?? "" }] : [])),
	);

	it(`keeps unchecked casts (\`as unknown as\`) in lib/, mixins/ and services/ to at most ${MAX_UNCHECKED_CASTS}`, () => {
		expect(casts.map(c => c.at).length, casts.map(c => c.at).join("\n")).toBeLessThanOrEqual(MAX_UNCHECKED_CASTS);
	});

	it("says why beside each unchecked cast (a comment on its line or the line above)", () => {
		const said = (c: (typeof casts)[number]) => /\/\/|\/\*/.test(c.line) || /^\s*(\/\/|\*)|\*\/\s*$/.test(c.before);
		expect(casts.filter(c => !said(c)).map(c => c.at)).toEqual([]);
	});

	it("types service schemas through Moleculer's own ServiceSchema (lib/broker/service.ts), not a cast", () => {
		const schemaModule = fs.readFileSync(path.join(ROOT, "lib/broker/service.ts"), "utf8");
		expect(schemaModule).toMatch(/declare module "moleculer"/);
		expect(schemaModule).not.toMatch(UNCHECKED_CAST);
	});
});

describe("the broker's middlewares", () => {
	it("are Moleculer's internal ones in Moleculer's order, with the lean metrics in place of its Metrics", async () => {
		const { INTERNAL_MIDDLEWARES } = await import("../../moleculer.config.js");
		const source = fs.readFileSync(path.join(ROOT, "node_modules", "moleculer", "src", "service-broker.js"), "utf8");
		const listed = /const INTERNAL_MIDDLEWARES = \[([^\]]*)\]/
			.exec(source)![1]!
			.match(/"(\w+)"/g)!
			.map(s => s.slice(1, -1));
		expect([...INTERNAL_MIDDLEWARES]).toEqual(listed);
	});
});
