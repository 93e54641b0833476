/**
 * The layout as rules that fail when broken: no import cycle among the shop's modules (type-only
 * imports included: a cycle of types is a tangle too), nothing in lib/, mixins/ or services/
 * imports scripts/, bench/ or test/, lib/ imports no service, and every service file stays a
 * table of contents.
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

	it("resolves every relative import to a file that exists", () => {
		const missing = modules.flatMap(m => (graph.get(m) ?? []).filter(t => !fs.existsSync(path.join(ROOT, t))).map(t => `${m} → ${t}`));
		expect(missing).toEqual([]);
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
