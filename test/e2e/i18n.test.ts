/**
 * The web shop's message catalogs: one key set in every language, the same {placeholders} in
 * each translation, no empty message, and every key the components use exists.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { en } from "../../web/src/i18n/en.js";
import { es } from "../../web/src/i18n/es.js";
import { WEB } from "./harness.js";

const catalogs: Record<string, Record<string, string>> = { en, es };
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map(m => m[1]).sort();

function sources(dir: string): string[] {
	return fs
		.readdirSync(dir, { withFileTypes: true })
		.flatMap(e => (e.isDirectory() ? sources(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : []));
}

describe("web shop message catalogs", () => {
	test("every language has exactly the English keys, with the same placeholders and no empty message", () => {
		const keys = Object.keys(en).sort();
		for (const [lang, catalog] of Object.entries(catalogs)) {
			expect(Object.keys(catalog).sort(), lang).toEqual(keys);
			for (const k of keys) {
				expect(catalog[k]!.trim(), `${lang} ${k}`).not.toBe("");
				expect(placeholders(catalog[k]!), `${lang} ${k}`).toEqual(placeholders(en[k as keyof typeof en]));
			}
		}
	});

	test("every key the components pass to t() is in the catalog", () => {
		const used = new Set<string>();
		for (const file of sources(path.join(WEB, "src"))) {
			for (const m of fs.readFileSync(file, "utf8").matchAll(/\bt\("([\w.-]+)"/g)) used.add(m[1]!);
		}
		expect(used.size).toBeGreaterThan(100);
		expect([...used].filter(k => !(k in en))).toEqual([]);
	});
});
