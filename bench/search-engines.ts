/**
 * Measures the candidate search engines on the generated catalog (scripts/catalog-generator.ts),
 * the measurement behind the choice recorded in docs/search.md:
 *
 *   sh scripts/with-node.sh npx tsx bench/search-engines.ts --products 100000
 *   ... --products 1000000 --engines memory,minisearch,flexsearch --timeout 900
 *
 * Each engine runs in a child process of its own (`node --expose-gc`), so that its heap is
 * measured after a forced GC with nothing else in it, and a crash or a timeout costs one row.
 * Per engine: index build time, memory held by the index (heap + array buffers, after GC, minus
 * what the catalog itself holds), query latency p50/p99 over a rotating query log (text only,
 * text with facets, browse with filters and facets), typo recall, and the cost of one update.
 *
 * - memory: lib/search/memory-index.ts, the contract's semantics in full.
 * - minisearch, flexsearch: the engine answers the text part; filters, facets and the sort are a
 *   post-pass over typed arrays here (the "hybrid"), which is what using them would look like.
 * - orama: its own `where`, `facets` and `sortBy` (it has them natively); no option facets.
 * Where an engine's matching differs from the contract it is said in the "matching" column.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { generateCategories, generateProducts, random, sampleQueries, toSearchable, type GeneratedProduct } from "../scripts/catalog-generator.js";
import { MemorySearchIndex } from "../lib/search/memory-index.js";
import { productText, tokenize } from "../lib/search/text.js";
import { PRICE_BUCKETS, priceBucket, type SearchableProduct, type SearchQuery } from "../lib/search/search-index.js";

const ENGINES = ["memory", "minisearch", "flexsearch", "orama"] as const;
type EngineName = (typeof ENGINES)[number];

interface Row {
	engine: string;
	products: number;
	buildMs: number;
	memoryMB: number;
	text: Latency;
	textFacets: Latency;
	browse: Latency;
	typoSubst: number;
	typoSwap: number;
	updateUs: number;
	matching: string;
	facets: string;
	error?: string;
}
interface Latency {
	p50: number;
	p99: number;
	n: number;
}

function arg(name: string, fallback: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

// ---------------------------------------------------------------------------------------------
// What every engine is asked to do

/** A candidate engine: text matching plus whatever of filters, facets and sorts it does itself. */
interface Engine {
	matching: string;
	facets: string;
	build(products: SearchableProduct[]): Promise<void>;
	/** Text query (with the filters and facets asked for); answers the page's ids. */
	query(q: SearchQuery): Promise<{ ids: string[]; total: number }>;
	update(p: SearchableProduct): Promise<void>;
}

/** Typed arrays by document number, for the hybrid engines' post-pass. */
class PostPass {
	price: Float64Array;
	available: Float64Array;
	created: Float64Array;
	cats: Int32Array[];
	opts: Int32Array[];
	catCount: number;
	optCount: number;
	catId = new Map<string, number>();
	ids: string[];
	constructor(products: SearchableProduct[]) {
		const n = products.length;
		this.price = new Float64Array(n);
		this.available = new Float64Array(n);
		this.created = new Float64Array(n);
		this.ids = products.map(p => p.id);
		const optId = new Map<string, number>();
		this.cats = products.map((p, i) => {
			this.price[i] = p.price;
			this.available[i] = p.available;
			this.created[i] = Date.parse(p.createdAt);
			return Int32Array.from(p.categories, c => this.catId.get(c) ?? this.catId.set(c, this.catId.size).size - 1);
		});
		this.opts = products.map(p => {
			const s = new Set<number>();
			for (const v of p.variants ?? [])
				if (v.active)
					for (const [k, val] of Object.entries(v.options)) s.add(optId.get(`${k}=${val}`) ?? optId.set(`${k}=${val}`, optId.size).size - 1);
			return Int32Array.from(s);
		});
		this.catCount = this.catId.size;
		this.optCount = optId.size;
	}
	/** Filters, facets (counted, not shaped), and the top `limit` by score or by a sort key. */
	run(docs: ArrayLike<number>, scores: ArrayLike<number> | null, q: SearchQuery): { ids: string[]; total: number } {
		const cat = q.categories ? new Set(q.categories.map(c => this.catId.get(c) ?? -1)) : null;
		const kept: number[] = [];
		for (let i = 0; i < docs.length; i++) {
			const d = docs[i]!;
			const p = this.price[d]!;
			if (q.minPrice !== undefined && p < q.minPrice) continue;
			if (q.maxPrice !== undefined && p > q.maxPrice) continue;
			if (q.inStock !== undefined && this.available[d]! > 0 !== q.inStock) continue;
			if (cat) {
				let hit = false;
				for (const c of this.cats[d]!) if (cat.has(c)) hit = true;
				if (!hit) continue;
			}
			kept.push(scores ? i : d);
		}
		if (q.facets) {
			const cc = new Int32Array(this.catCount);
			const oc = new Int32Array(this.optCount);
			const pc = new Int32Array(PRICE_BUCKETS.length);
			// Counted as the real index counts them; only the work is measured, the figure is not read.
			let stock = 0;
			for (const k of kept) {
				const d = scores ? docs[k]! : k;
				for (const c of this.cats[d]!) cc[c]!++;
				for (const o of this.opts[d]!) oc[o]!++;
				pc[priceBucket(this.price[d]!)]!++;
				// eslint-disable-next-line @typescript-eslint/no-unused-vars
				if (this.available[d]! > 0) stock++;
			}
		}
		const key = scores ? (k: number) => -scores[k]! : q.sort === "price" ? (k: number) => this.price[k]! : (k: number) => -this.created[k]!;
		const top = kept.length > 4 * q.limit ? partialTop(kept, q.limit, key) : kept.sort((a, b) => key(a) - key(b)).slice(0, q.limit);
		return { ids: top.map(k => this.ids[scores ? docs[k]! : k]!), total: kept.length };
	}
}

function partialTop(items: number[], k: number, key: (x: number) => number): number[] {
	const best: number[] = [];
	let worst = Infinity;
	for (const x of items) {
		const v = key(x);
		if (best.length < k || v < worst) {
			best.push(x);
			if (best.length > k * 2) {
				best.sort((a, b) => key(a) - key(b)).length = k;
				worst = key(best[k - 1]!);
			}
		}
	}
	return best.sort((a, b) => key(a) - key(b)).slice(0, k);
}

/** The text a field-less engine indexes per field: SKUs and options as their tokens. */
function fields(p: SearchableProduct): { name: string; description: string; sku: string; options: string } {
	const t = productText(p);
	return { name: p.name, description: p.description, sku: t.sku.join(" "), options: t.options.join(" ") };
}

async function makeEngine(name: EngineName): Promise<Engine> {
	switch (name) {
		case "memory": {
			const index = new MemorySearchIndex();
			return {
				matching: "contract (AND, last word prefix, 1 typo >= 5 incl. transposition)",
				facets: "own (all)",
				build: products => index.replaceAll(products),
				query: q => index.search(q),
				update: p => index.upsert(p),
			};
		}
		case "minisearch": {
			const { default: MiniSearch } = await import("minisearch");
			type Doc = { n: number; name: string; description: string; sku: string; options: string };
			const ms = new MiniSearch<Doc>({
				idField: "n",
				fields: ["name", "description", "sku", "options"],
				tokenize: text => tokenize(text),
				processTerm: t => t,
			});
			let post: PostPass;
			let numberOf = new Map<string, number>();
			return {
				matching: "AND, last word prefix, Levenshtein 1 >= 5 (a transposition is 2)",
				facets: "none: post-pass",
				async build(products) {
					post = new PostPass(products);
					numberOf = new Map(products.map((p, n) => [p.id, n]));
					ms.addAll(products.map((p, n) => ({ n, ...fields(p) })));
				},
				async query(q) {
					if (!q.q)
						return post.run(
							Int32Array.from({ length: post.ids.length }, (_, i) => i),
							null,
							q,
						);
					const hits = ms.search(q.q, {
						combineWith: "AND",
						prefix: (_t, i, all) => i === all.length - 1,
						fuzzy: t => (t.length >= 5 ? 1 : false),
						boost: { name: 3, sku: 3, options: 1.5 },
					});
					return post.run(
						hits.map(h => h.id as number),
						hits.map(h => h.score),
						q,
					);
				},
				async update(p) {
					ms.replace({ n: numberOf.get(p.id)!, ...fields(p) });
				},
			};
		}
		case "flexsearch": {
			const { Index } = await import("flexsearch");
			// One index over all the text (AND across fields needs one), one over names (relevance tier).
			const all = new Index({ tokenize: "forward", fastupdate: true, encode: (text: string) => tokenize(text) });
			const names = new Index({ tokenize: "forward", fastupdate: true, encode: (text: string) => tokenize(text) });
			let post: PostPass;
			let numberOf = new Map<string, number>();
			const text = (p: SearchableProduct) => Object.values(fields(p)).join(" ");
			return {
				matching: "AND, every word a prefix, no typo tolerance",
				facets: "none (tags only): post-pass",
				async build(products) {
					post = new PostPass(products);
					numberOf = new Map(products.map((p, n) => [p.id, n]));
					products.forEach((p, n) => {
						all.add(n, text(p));
						names.add(n, p.name);
					});
				},
				async query(q) {
					if (!q.q)
						return post.run(
							Int32Array.from({ length: post.ids.length }, (_, i) => i),
							null,
							q,
						);
					const hits = all.search(q.q, { limit: post.ids.length }) as number[];
					const inName = new Set(names.search(q.q, { limit: post.ids.length }) as number[]);
					// Rank: name matches first, then flexsearch's own order.
					return post.run(
						hits,
						hits.map((d, i) => (inName.has(d) ? 2e9 : 1e9) - i),
						q,
					);
				},
				async update(p) {
					const n = numberOf.get(p.id)!;
					all.update(n, text(p));
					names.update(n, p.name);
				},
			};
		}
		case "orama": {
			const { create, insertMultiple, search, remove, insert } = await import("@orama/orama");
			const db = create({
				schema: {
					name: "string",
					description: "string",
					sku: "string",
					options: "string",
					price: "number",
					available: "number",
					created: "number",
					categories: "enum[]",
				} as const,
				components: { tokenizer: { language: "english", normalizationCache: new Map(), tokenize: (raw: string) => tokenize(raw) } },
			});
			const doc = (p: SearchableProduct) => ({
				id: p.id,
				...fields(p),
				price: p.price,
				available: p.available,
				created: Date.parse(p.createdAt),
				categories: p.categories,
			});
			return {
				matching: "every word in (threshold 0), every word a prefix, Levenshtein 1 on every word",
				facets: "native (categories, price ranges); no option facets",
				async build(products) {
					await insertMultiple(db, products.map(doc), 5000);
				},
				async query(q) {
					const where: Record<string, unknown> = {};
					if (q.categories) where.categories = { containsAny: q.categories };
					if (q.inStock !== undefined) where.available = q.inStock ? { gt: 0 } : { lte: 0 };
					const facets = q.facets
						? { categories: { limit: 1000 }, price: { ranges: PRICE_BUCKETS.map((from, i) => ({ from, to: PRICE_BUCKETS[i + 1] ?? 1e12 })) } }
						: undefined;
					const res = await search(db, {
						term: q.q ?? "",
						properties: ["name", "description", "sku", "options"],
						tolerance: q.q ? 1 : 0,
						threshold: 0,
						boost: { name: 3, sku: 3, options: 1.5 },
						limit: q.limit,
						offset: q.offset,
						...(Object.keys(where).length ? { where } : {}),
						...(facets ? { facets } : {}),
						...(q.q ? {} : { sortBy: { property: "price", order: "ASC" } }),
					} as Parameters<typeof search<typeof db>>[1]);
					return { ids: res.hits.map(h => String(h.id)), total: res.count };
				},
				async update(p) {
					await remove(db, p.id);
					await insert(db, doc(p));
				},
			};
		}
	}
}

// ---------------------------------------------------------------------------------------------
// One engine, in this process

function percentiles(samples: number[]): Latency {
	const s = [...samples].sort((a, b) => a - b);
	const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
	return { p50: at(0.5), p99: at(0.99), n: s.length };
}

async function time(run: (i: number) => Promise<unknown>, count: number, budgetMs: number): Promise<Latency> {
	// Warm up for at most a tenth of the budget, then sample until `count` or the budget (30 at least).
	const warm = performance.now() + budgetMs / 10;
	for (let i = 0; i < Math.min(100, count) && performance.now() < warm; i++) await run(i);
	const samples: number[] = [];
	const stop = performance.now() + budgetMs;
	for (let i = 0; i < count && (i < 30 || performance.now() < stop); i++) {
		const t = process.hrtime.bigint();
		await run(i);
		samples.push(Number(process.hrtime.bigint() - t) / 1e6);
	}
	return percentiles(samples);
}

function heapNow(): number {
	const gc = (globalThis as { gc?: () => void }).gc;
	if (gc) {
		gc();
		gc();
	}
	const m = process.memoryUsage();
	return m.heapUsed + m.arrayBuffers;
}

/** A one-letter typo somewhere after the first letter: a substitution or a swap of neighbours. */
function misspell(word: string, swap: boolean, r: () => number): string {
	const i = 1 + Math.floor(r() * (word.length - 2));
	if (swap) return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
	const c = "abcdefghijklmnopqrstuvwxyz"[Math.floor(r() * 26)]!;
	return word.slice(0, i) + (c === word[i] ? (c === "a" ? "b" : "a") : c) + word.slice(i + 1);
}

async function runChild(name: EngineName, count: number): Promise<Row> {
	const categories = generateCategories(7);
	const generated: GeneratedProduct[] = [...generateProducts({ count, seed: 7, categories })];
	const products = generated.map(toSearchable);
	const queries = sampleQueries(generated, 2000, 11);
	const r = random(3);
	const roots = categories.filter(c => c.parentSlug !== null).map(c => c.slug);
	const before = heapNow();
	const engine = await makeEngine(name);
	let t = performance.now();
	await engine.build(products);
	const buildMs = performance.now() - t;
	const memoryMB = (heapNow() - before) / 2 ** 20;
	const budget = Number(arg("budget", "15000"));
	const text = await time(i => engine.query({ q: queries[i % queries.length]!, sort: "relevance", offset: 0, limit: 20 }), 3000, budget);
	const textFacets = await time(
		i => engine.query({ q: queries[(i + 7) % queries.length]!, sort: "relevance", offset: 0, limit: 20, facets: true }),
		3000,
		budget,
	);
	const browse = await time(
		i =>
			engine.query({
				categories: [roots[i % roots.length]!],
				inStock: i % 2 === 0 ? true : undefined,
				sort: "price",
				offset: 0,
				limit: 20,
				facets: true,
			}),
		1000,
		budget,
	);
	// Typo recall: a misspelt name word (5+ letters) with the product's next name word must find it.
	const recall = async (swap: boolean): Promise<number> => {
		let found = 0;
		let asked = 0;
		const stop = performance.now() + budget;
		for (let k = 0; asked < 100 && k < 5000 && (asked < 10 || performance.now() < stop); k++) {
			const p = products[Math.floor(r() * products.length)]!;
			const ws = tokenize(p.name);
			const at = ws.findIndex(w => w.length >= 6 && /^[a-z]+$/.test(w));
			if (at < 0 || at + 1 >= ws.length) continue;
			asked++;
			const q = `${misspell(ws[at]!, swap, r)} ${ws[at + 1]}`;
			const res = await engine.query({ q, sort: "relevance", offset: 0, limit: 10_000 });
			if (res.ids.includes(p.id)) found++;
		}
		return asked ? (100 * found) / asked : NaN;
	};
	const typoSubst = await recall(false);
	const typoSwap = await recall(true);
	// Update: a product whose name changes (its text is re-indexed), 500 times.
	t = performance.now();
	let updates = 0;
	for (let i = 0; i < 500 && (i < 10 || performance.now() - t < budget); i++, updates++) {
		const p = products[(i * 7919) % products.length]!;
		await engine.update({ ...p, name: `${p.name} Edition ${i}`, price: p.price + 1 });
	}
	const updateUs = ((performance.now() - t) / updates) * 1000;
	return {
		engine: name,
		products: count,
		buildMs,
		memoryMB,
		text,
		textFacets,
		browse,
		typoSubst,
		typoSwap,
		updateUs,
		matching: engine.matching,
		facets: engine.facets,
	};
}

// ---------------------------------------------------------------------------------------------
// The table

function runInChild(name: EngineName, count: number, timeoutS: number): Promise<Row> {
	const failed = (error: string): Row => {
		const none = { p50: NaN, p99: NaN, n: 0 };
		return {
			engine: name,
			products: count,
			buildMs: NaN,
			memoryMB: NaN,
			text: none,
			textFacets: none,
			browse: none,
			typoSubst: NaN,
			typoSwap: NaN,
			updateUs: NaN,
			matching: "",
			facets: "",
			error,
		};
	};
	return new Promise(resolve => {
		const self = fileURLToPath(import.meta.url);
		const child = spawn(
			process.execPath,
			[
				"--expose-gc",
				"--max-old-space-size=16384",
				"--import",
				"tsx",
				self,
				"--child",
				name,
				"--products",
				String(count),
				"--budget",
				arg("budget", "15000"),
			],
			{
				stdio: ["ignore", "pipe", "inherit"],
			},
		);
		let out = "";
		child.stdout.on("data", (d: Buffer) => (out += d.toString()));
		const timer = setTimeout(() => child.kill("SIGKILL"), timeoutS * 1000);
		child.on("exit", (code, signal) => {
			clearTimeout(timer);
			const line = out.trim().split("\n").pop() ?? "";
			try {
				resolve(JSON.parse(line) as Row);
			} catch {
				resolve(failed(signal === "SIGKILL" ? `did not finish in ${timeoutS} s` : `exit ${code ?? signal}`));
			}
		});
	});
}

const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : "-");

function table(rows: Row[]): string {
	const head =
		"| engine | products | build s | memory MB | text p50 / p99 ms | + facets p50 / p99 ms | browse + facets p50 / p99 ms | typo recall subst / swap % | update µs | matching | facets |";
	const lines = [head, head.replace(/[^|]+/g, " --- ")];
	for (const r of rows) {
		if (r.error) {
			lines.push(`| ${r.engine} | ${r.products} | ${r.error} | | | | | | | | |`);
			continue;
		}
		const lat = (l: Latency) => `${f(l.p50, 3)} / ${f(l.p99, 3)}`;
		lines.push(
			`| ${r.engine} | ${r.products} | ${f(r.buildMs / 1000, 1)} | ${f(r.memoryMB, 0)} | ${lat(r.text)} | ${lat(r.textFacets)} | ${lat(r.browse)} | ${f(r.typoSubst, 0)} / ${f(r.typoSwap, 0)} | ${f(r.updateUs, 0)} | ${r.matching} | ${r.facets} |`,
		);
	}
	return lines.join("\n");
}

async function main(): Promise<void> {
	const count = Number(arg("products", "100000"));
	const child = arg("child", "");
	if (child) {
		const row = await runChild(child as EngineName, count);
		process.stdout.write(`${JSON.stringify(row)}\n`);
		return;
	}
	const engines = arg("engines", ENGINES.join(",")).split(",") as EngineName[];
	const timeoutS = Number(arg("timeout", "900"));
	const rows: Row[] = [];
	for (const e of engines) {
		process.stderr.write(`${e} on ${count} products...\n`);
		rows.push(await runInChild(e, count, timeoutS));
		process.stderr.write(`${table(rows.slice(-1)).split("\n").pop()}\n`);
	}
	console.log(table(rows));
}

await main();
