import { describe, expect, it } from "vitest";
import { ExpansionMemo } from "../../lib/search/expansion-memo.js";
import { MemorySearchIndex } from "../../lib/search/memory-index.js";
import type { SearchQuery, SearchableProduct } from "../../lib/search/search-index.js";
import { ReferenceSearchIndex } from "../helpers/reference-index.js";
import { generateCategories, generateProducts, random, sampleQueries, toSearchable } from "../../scripts/catalog-generator.js";

function product(id: string, name: string, description = "Plain.", more: Partial<SearchableProduct> = {}): SearchableProduct {
	return { id, sku: `SKU-${id}`, name, description, categories: ["c"], price: 1000, available: 1, createdAt: "2026-01-01T00:00:00.000Z", ...more };
}

const query = (text: string, more: Partial<SearchQuery> = {}): SearchQuery => ({ q: text, sort: "relevance", offset: 0, limit: 1000, ...more });

/** The memoised index, the same index without the memo and the oracle, fed the same changes. */
function trio() {
	const memo = new MemorySearchIndex();
	const plain = new MemorySearchIndex({ memoiseExpansions: false });
	const reference = new ReferenceSearchIndex();
	return {
		memo,
		async replaceAll(products: SearchableProduct[]) {
			for (const i of [memo, plain, reference]) await i.replaceAll(products);
		},
		async upsert(p: SearchableProduct) {
			for (const i of [memo, plain, reference]) await i.upsert(p);
		},
		async remove(id: string) {
			for (const i of [memo, plain, reference]) await i.remove(id);
		},
		/** The memoised answer, after checking it is the unmemoised one exactly and the oracle's set. */
		async search(q: SearchQuery) {
			const got = await memo.search(q);
			expect(got, JSON.stringify(q)).toEqual(await plain.search(q));
			const want = await reference.search(q);
			expect(got.total, JSON.stringify(q)).toBe(want.total);
			expect([...got.ids].sort(), JSON.stringify(q)).toEqual([...want.ids].sort());
			return got;
		},
	};
}

describe("the word expansion memo of the search index", () => {
	const CATALOG = [product("a", "Ceramic Mug"), product("b", "Espresso Machine"), product("c", "Headphone Stand")];

	it("a product added after a cached expansion is found by the exact word, the prefix and a typo", async () => {
		const t = trio();
		await t.replaceAll(CATALOG);
		for (const text of ["kettle", "ket", "kettel", "mug ket"]) expect((await t.search(query(text))).ids).toEqual([]);
		await t.upsert(product("d", "Kettle Mug"));
		expect((await t.search(query("kettle"))).ids).toEqual(["d"]);
		expect((await t.search(query("ket"))).ids).toEqual(["d"]);
		expect((await t.search(query("kettel"))).ids).toEqual(["d"]);
		expect((await t.search(query("mug ket"))).ids).toEqual(["d"]);
	});

	it("a product whose text changed after a cached expansion is found by its new words, not its old ones", async () => {
		const t = trio();
		await t.replaceAll(CATALOG);
		expect((await t.search(query("ceramic"))).ids).toEqual(["a"]);
		expect((await t.search(query("porcel"))).ids).toEqual([]);
		await t.upsert(product("a", "Porcelain Cup"));
		expect((await t.search(query("ceramic"))).ids).toEqual([]);
		expect((await t.search(query("porcel"))).ids).toEqual(["a"]);
		expect((await t.search(query("porcelian"))).ids).toEqual(["a"]);
	});

	it("a product removed after a cached expansion is no longer found, and a price change keeps the answers right", async () => {
		const t = trio();
		await t.replaceAll(CATALOG);
		expect((await t.search(query("espresso"))).ids).toEqual(["b"]);
		await t.upsert({ ...CATALOG[1]!, price: 5, available: 0 });
		expect((await t.search(query("espresso", { inStock: true }))).ids).toEqual([]);
		expect((await t.search(query("esp", { maxPrice: 10 }))).ids).toEqual(["b"]);
		await t.remove("b");
		expect((await t.search(query("espresso"))).ids).toEqual([]);
		expect((await t.search(query("esp"))).ids).toEqual([]);
		await t.replaceAll([product("b", "Espresso Cup")]);
		expect((await t.search(query("espresso"))).ids).toEqual(["b"]);
	});

	it("answers exactly as without the memo, and as the oracle, while products come, change and go between repeated queries", async () => {
		const categories = generateCategories(4);
		const generated = [...generateProducts({ count: 800, seed: 11, categories })];
		const products = generated.map(toSearchable);
		const texts = sampleQueries(generated, 40, 3);
		const r = random(23);
		const t = trio();
		await t.replaceAll(products.slice(0, 600));
		let checked = 0;
		for (let round = 0; round < 30; round++) {
			for (const text of texts.slice(0, 15)) {
				await t.search(query(text, { facets: round % 3 === 0 }));
				checked++;
			}
			const p = products[Math.floor(r() * products.length)]!;
			const roll = r();
			if (roll < 0.3) await t.remove(p.id);
			else if (roll < 0.6) await t.upsert({ ...p, name: `${p.name} ${texts[round % texts.length]}` });
			else if (roll < 0.8) await t.upsert({ ...p, available: round % 2, price: p.price + round });
			else await t.upsert(p);
		}
		expect(checked).toBe(450);
	}, 30_000);
});

describe("ExpansionMemo", () => {
	const expansion = (n: number) => ({ terms: new Int32Array(n), weights: new Float64Array(n), cost: n });

	it("forgets everything when the index version changes", () => {
		const memo = new ExpansionMemo();
		expect(memo.get("a", 1)).toBeUndefined();
		memo.set("a", 1, expansion(2));
		expect(memo.get("a", 1)?.cost).toBe(2);
		expect(memo.get("a", 2)).toBeUndefined();
		expect(memo.size).toBe(0);
		memo.set("a", 1, expansion(2)); // made at an older version: not kept
		expect(memo.get("a", 2)).toBeUndefined();
	});

	it("holds at most its bound of terms and entries, dropping the least recently used first", () => {
		const memo = new ExpansionMemo(10, 3);
		memo.get("x", 0);
		memo.set("a", 0, expansion(4));
		memo.set("b", 0, expansion(4));
		expect(memo.get("a", 0)).toBeDefined(); // a is now more recent than b
		memo.set("c", 0, expansion(4)); // 12 terms: b goes
		expect(memo.get("b", 0)).toBeUndefined();
		expect(memo.get("a", 0)).toBeDefined();
		expect(memo.get("c", 0)).toBeDefined();
		memo.set("d", 0, expansion(1));
		memo.set("e", 0, expansion(1)); // 4 entries: a (least recent) goes
		expect(memo.size).toBe(3);
		expect(memo.get("a", 0)).toBeUndefined();
		memo.set("huge", 0, expansion(11)); // larger than the whole bound: not kept
		expect(memo.get("huge", 0)).toBeUndefined();
	});
});
