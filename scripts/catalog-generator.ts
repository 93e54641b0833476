/**
 * A generated catalog for search benchmarks and property tests: deterministic (one seed, the same
 * catalog on every machine) and shaped like a real one, because an engine's speed depends on the
 * shape of the text far more than on the number of products:
 *
 * - thousands of made-up words (syllables) drawn with Zipf-like frequencies, so a few words are in
 *   a large share of products and most are rare, plus a shipped list of English product nouns,
 *   adjectives, colours and materials; a few words carry accents (café, crème, ...);
 * - brands (also Zipf: a few big ones), multi-word names, descriptions of a few sentences;
 * - a category tree of about 400 categories whose sizes differ by orders of magnitude;
 * - log-normal prices by department; about 10 % of products with 2 to 12 variants (size, colour,
 *   material), each with its own SKU and price.
 *
 * `generateProducts` yields the products service's create input; `toSearchable` turns one into
 * the search index's input (with a made-up id and createdAt); `sampleQueries` draws a query log.
 */
import type { SearchableProduct, SearchableVariant } from "../lib/search/search-index.js";

export interface GeneratedCategory {
	slug: string;
	name: string;
	parentSlug: string | null;
}

export interface GeneratedVariant {
	sku: string;
	options: Record<string, string>;
	price: number;
	stock: number;
}

export interface GeneratedProduct {
	sku: string;
	name: string;
	description: string;
	price: number;
	currency: "EUR";
	categories: string[];
	stock: number;
	options?: { name: string; values: string[] }[];
	variants?: GeneratedVariant[];
}

// ---------------------------------------------------------------------------------------------
// Randomness

export type Random = () => number;

/** mulberry32: small, fast, and good enough for test data. */
export function random(seed: number): Random {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const int = (r: Random, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Random, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
const chance = (r: Random, p: number): boolean => r() < p;
function gauss(r: Random): number {
	return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** Draws indexes 0..n-1 with P(i) ∝ 1 / (i + q)^s (Zipf-Mandelbrot). */
export function zipf(n: number, s = 1.05, q = 2.7): (r: Random) => number {
	const cdf = new Float64Array(n);
	let sum = 0;
	for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + q, s);
	return r => {
		const x = r() * sum;
		let lo = 0;
		let hi = n - 1;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (cdf[mid]! < x) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	};
}

// ---------------------------------------------------------------------------------------------
// Words

const NOUNS = (
	"jacket shirt dress skirt trousers jeans sweater hoodie coat scarf hat cap gloves socks boots sneakers sandals belt wallet backpack " +
	"bag suitcase watch bracelet necklace ring earrings sunglasses umbrella lamp chair table sofa desk shelf cabinet mirror rug cushion " +
	"blanket pillow curtain vase candle clock frame basket mug cup plate bowl kettle teapot pan pot knife spoon fork grater blender toaster " +
	"mixer grinder scale thermometer drill hammer wrench screwdriver saw ladder hose shovel rake planter seeds fertilizer bicycle helmet " +
	"ball racket bat skates tent sleepingbag stove lantern compass bottle flask cooler phone tablet laptop monitor keyboard mouse headphones " +
	"earbuds speaker charger cable adapter router camera lens tripod drone printer projector console controller game puzzle doll robot " +
	"blocks kite book novel notebook pen pencil marker stapler folder calendar shampoo conditioner soap lotion perfume razor toothbrush " +
	"brush comb dryer collar leash bowl aquarium feeder tea coffee chocolate honey jam pasta rice oil vinegar spice sauce cereal biscuit"
).split(" ");
const ADJECTIVES = (
	"classic modern slim compact portable wireless waterproof lightweight heavy premium essential vintage organic natural soft warm cool " +
	"quick smart mini mega ultra pro deluxe basic everyday outdoor indoor urban rustic elegant casual sporty cosy bold bright dark matte " +
	"glossy smooth rough silent powerful ergonomic foldable adjustable durable recycled handmade large small medium tall wide narrow round " +
	"square oval double single triple extra fresh crispy sweet spicy mild strong gentle rapid steady"
).split(" ");
const COLOURS = "black white grey red blue navy green olive yellow orange pink purple brown beige crème écru bordeaux turquoise silver gold ivory taupe".split(
	" ",
);
const MATERIALS =
	"cotton wool linen silk leather suede denim steel aluminium bamboo oak walnut pine glass ceramic porcelain plastic rubber velvet cashmere".split(" ");
const FUNCTION_WORDS = "the a with and for of in on to your our this that is are made by from its all every new".split(" ");
const ACCENTED = "café crème naïve façade fiancée déjà soufflé über größe jalapeño piñata smörgåsbord résumé crêpe brûlée château".split(" ");

const ONSETS = [
	"b",
	"c",
	"d",
	"f",
	"g",
	"h",
	"j",
	"k",
	"l",
	"m",
	"n",
	"p",
	"r",
	"s",
	"t",
	"v",
	"w",
	"z",
	"br",
	"cr",
	"dr",
	"fl",
	"gr",
	"pl",
	"pr",
	"st",
	"tr",
	"sh",
	"ch",
	"th",
	"sk",
	"sl",
];
const VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea", "ou", "io"];
const CODAS = ["", "", "", "n", "r", "l", "s", "m", "x", "nd", "rt", "st"];
const ACCENT_OF: Record<string, string> = { a: "á", e: "é", i: "í", o: "ö", u: "ü", n: "ñ", c: "ç" };

/** `count` distinct made-up words, most frequent first; about 3 % carry an accent. */
function syllableWords(r: Random, count: number): string[] {
	const words = new Set<string>();
	while (words.size < count) {
		const syllables = int(r, 1, 3) + (chance(r, 0.3) ? 1 : 0);
		let w = "";
		for (let i = 0; i < syllables; i++) w += pick(r, ONSETS) + pick(r, VOWELS) + (i === syllables - 1 || chance(r, 0.2) ? pick(r, CODAS) : "");
		if (w.length < 3 || w.length > 12) continue;
		if (chance(r, 0.03)) {
			const i = [...w].findIndex(c => ACCENT_OF[c] !== undefined);
			if (i >= 0) w = w.slice(0, i) + ACCENT_OF[w[i]!]! + w.slice(i + 1);
		}
		words.add(w);
	}
	return [...words];
}

const capital = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);

export function slugify(text: string): string {
	return text
		.normalize("NFD")
		.replace(/\p{M}+/gu, "")
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, "-")
		.replace(/^-+|-+$/g, "");
}

/** ASCII upper-case code for SKUs: "Crème" → "CREME". */
const skuCode = (text: string): string => slugify(text).replace(/-/g, "").toUpperCase();

// ---------------------------------------------------------------------------------------------
// Categories

const DEPARTMENTS: { name: string; median: number }[] = [
	{ name: "Electronics", median: 12000 },
	{ name: "Fashion", median: 4000 },
	{ name: "Home and Living", median: 5000 },
	{ name: "Garden", median: 3000 },
	{ name: "Sports and Outdoors", median: 4500 },
	{ name: "Toys and Games", median: 2500 },
	{ name: "Books", median: 1500 },
	{ name: "Beauty", median: 1800 },
	{ name: "Grocery", median: 600 },
	{ name: "Automotive", median: 3500 },
	{ name: "Office", median: 1200 },
	{ name: "Pets", median: 1600 },
	{ name: "Music", median: 8000 },
	{ name: "Health", median: 2000 },
];

interface CategoryPlan {
	slug: string;
	name: string;
	parentSlug: string | null;
	department: number;
	nouns: string[];
}

function planCategories(seed: number): CategoryPlan[] {
	const r = random(seed ^ 0x9e3779b9);
	const vocab = syllableWords(random(seed ^ 0x51ed), 600);
	const used = new Set<string>();
	const unique = (name: string): string => {
		const base = slugify(name);
		let slug = base;
		for (let n = 2; used.has(slug); n++) slug = `${base}-${n}`;
		used.add(slug);
		return slug;
	};
	const out: CategoryPlan[] = [];
	DEPARTMENTS.forEach((d, department) => {
		const rootSlug = unique(d.name);
		out.push({ slug: rootSlug, name: d.name, parentSlug: null, department, nouns: [] });
		const children = int(r, 4, 12);
		for (let c = 0; c < children; c++) {
			const noun = pick(r, NOUNS);
			const childName = `${capital(pick(r, ADJECTIVES))} ${capital(noun)}s`;
			const childSlug = unique(childName);
			const nouns = [noun, pick(r, NOUNS), pick(r, NOUNS)];
			out.push({ slug: childSlug, name: childName, parentSlug: rootSlug, department, nouns });
			// Some children are split further, a few of them into many small leaves.
			const leaves = chance(r, 0.5) ? int(r, 2, chance(r, 0.2) ? 25 : 6) : 0;
			for (let l = 0; l < leaves; l++) {
				const leafName = `${capital(pick(r, vocab))} ${capital(noun)}s`;
				out.push({ slug: unique(leafName), name: leafName, parentSlug: childSlug, department, nouns: [noun, pick(r, NOUNS)] });
			}
		}
	});
	return out;
}

export function generateCategories(seed: number): GeneratedCategory[] {
	return planCategories(seed).map(({ slug, name, parentSlug }) => ({ slug, name, parentSlug }));
}

// ---------------------------------------------------------------------------------------------
// Products

export interface GenerateOptions {
	count: number;
	seed: number;
	categories?: GeneratedCategory[];
}

const SIZES = ["S", "M", "L", "XL"];
const SHOE_SIZES = ["38", "39", "40", "41", "42", "43", "44", "45"];

export function* generateProducts({ count, seed, categories }: GenerateOptions): Generator<GeneratedProduct> {
	const r = random(seed);
	const plan = planCategories(seed);
	const known = new Set((categories ?? plan).map(c => c.slug));
	// Products go to categories that have no children (plus some to their parents), by Zipf weight
	// over a shuffled order: a few huge categories, many small ones.
	const parents = new Set(plan.map(c => c.parentSlug).filter(s => s !== null));
	let leaves = plan.filter(c => !parents.has(c.slug) && c.parentSlug !== null && known.has(c.slug));
	if (leaves.length === 0) leaves = plan.filter(c => !parents.has(c.slug) && c.parentSlug !== null);
	for (let i = leaves.length - 1; i > 0; i--) {
		const j = int(r, 0, i);
		[leaves[i], leaves[j]] = [leaves[j]!, leaves[i]!];
	}
	const leafOf = zipf(leaves.length, 1.1, 1.5);
	const vocab = syllableWords(random(seed ^ 0xabcdef), 6000);
	const wordOf = zipf(vocab.length, 1.0, 2.7);
	const brands = syllableWords(random(seed ^ 0x1234567), 1500).map(capital);
	const brandOf = zipf(brands.length, 1.0, 5);
	const adjOf = zipf(ADJECTIVES.length, 0.8, 3);
	const nounOf = zipf(NOUNS.length, 0.8, 3);
	const word = (): string => (chance(r, 0.02) ? pick(r, ACCENTED) : vocab[wordOf(r)]!);

	for (let i = 0; i < count; i++) {
		const leaf = leaves[leafOf(r)]!;
		const cats = [leaf.slug];
		if (chance(r, 0.15)) cats.push(leaves[leafOf(r)]!.slug);
		if (chance(r, 0.05) && leaf.parentSlug) cats.push(leaf.parentSlug);
		const brand = brands[brandOf(r)]!;
		const noun = chance(r, 0.75) ? pick(r, leaf.nouns) : NOUNS[nounOf(r)]!;
		const parts = [brand];
		if (chance(r, 0.6)) parts.push(capital(ADJECTIVES[adjOf(r)]!));
		if (chance(r, 0.5)) parts.push(capital(word()));
		if (chance(r, 0.2)) parts.push(capital(pick(r, MATERIALS)));
		parts.push(capital(noun));
		if (chance(r, 0.3)) parts.push(`${pick(r, ["X", "S", "Pro ", "Mk", "V", ""])}${int(r, 1, 999)}`);
		const name = parts.join(" ");

		const sentences: string[] = [];
		const nSentences = int(r, 2, 4);
		for (let s = 0; s < nSentences; s++) {
			const len = int(r, 6, 14);
			const ws: string[] = [];
			for (let k = 0; k < len; k++) {
				const x = r();
				if (x < 0.3) ws.push(pick(r, FUNCTION_WORDS));
				else if (x < 0.7) ws.push(word());
				else if (x < 0.8) ws.push(ADJECTIVES[adjOf(r)]!);
				else if (x < 0.88) ws.push(noun);
				else if (x < 0.94) ws.push(pick(r, MATERIALS));
				else ws.push(pick(r, COLOURS));
			}
			sentences.push(`${capital(ws.join(" "))}.`);
		}
		const description = sentences.join(" ");

		const median = DEPARTMENTS[leaf.department]!.median;
		let price = Math.round(Math.exp(Math.log(median) + 0.9 * gauss(r)));
		price = Math.min(2_000_000, Math.max(50, price));
		if (price > 300 && chance(r, 0.6)) price = Math.floor(price / 100) * 100 + 99;
		const stock = chance(r, 0.15) ? 0 : Math.floor(Math.exp(r() * 6));
		const sku = `${skuCode(brand).slice(0, 3).padEnd(3, "X")}-${String(i + 1).padStart(7, "0")}`;

		const product: GeneratedProduct = { sku, name, description, price, currency: "EUR", categories: cats, stock };
		if (chance(r, 0.1)) {
			const options: { name: string; values: string[] }[] = [];
			const shoes = noun === "boots" || noun === "sneakers" || noun === "sandals";
			const sizePool = shoes ? SHOE_SIZES : SIZES;
			if (chance(r, 0.8)) {
				const from = int(r, 0, sizePool.length - 2);
				options.push({ name: "size", values: sizePool.slice(from, from + int(r, 2, sizePool.length - from)) });
			}
			if (options.length === 0 || chance(r, 0.6)) {
				const colours = new Set<string>();
				const n = int(r, 2, 4);
				while (colours.size < n) colours.add(capital(pick(r, COLOURS)));
				options.push({ name: "colour", values: [...colours] });
			}
			if (chance(r, 0.1))
				options.push({ name: "material", values: [capital(pick(r, MATERIALS)), capital(pick(r, MATERIALS))].filter((v, k, a) => a.indexOf(v) === k) });
			let combos: Record<string, string>[] = [{}];
			for (const o of options) combos = combos.flatMap(c => o.values.map(v => ({ ...c, [o.name]: v })));
			for (let k = combos.length - 1; k > 0; k--) {
				const j = int(r, 0, k);
				[combos[k], combos[j]] = [combos[j]!, combos[k]!];
			}
			combos = combos.slice(0, 12);
			if (combos.length >= 2) {
				product.options = options.map(o => ({ name: o.name, values: o.values.filter(v => combos.some(c => c[o.name] === v)) }));
				product.variants = combos.map(c => ({
					sku: `${sku}-${options.map(o => skuCode(c[o.name]!)).join("-")}`,
					options: c,
					price: Math.max(50, price + (c.size === "XL" || c.size === "45" ? Math.round(price * 0.1) : 0) + int(r, -2, 2) * 100),
					stock: chance(r, 0.2) ? 0 : int(r, 1, 40),
				}));
			}
		}
		yield product;
	}
}

/** A made-up id like the store's (16 characters, not in creation order). */
export function productId(index: number): string {
	let h = Math.imul(index ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;
	h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 0;
	return h.toString(36).padStart(7, "0") + index.toString(36).padStart(9, "0");
}

const EPOCH = Date.parse("2024-01-01T00:00:00.000Z");

/** The search index's view of a generated product: the `index`-th one, with a made-up id and createdAt. */
export function toSearchable(p: GeneratedProduct, index: number): SearchableProduct {
	const id = productId(index);
	const createdAt = new Date(EPOCH + index * 97_000 + ((index * 7919) % 60_000)).toISOString();
	const out: SearchableProduct = {
		id,
		sku: p.sku,
		name: p.name,
		description: p.description,
		categories: p.categories,
		price: p.price,
		available: p.stock,
		createdAt,
	};
	if (p.variants) {
		// Every 13th variant is switched off, so inactive variants exist (never all of a product's).
		const variants: SearchableVariant[] = p.variants.map((v, k) => ({
			id: `${id}-${k}`,
			sku: v.sku,
			options: v.options,
			price: v.price,
			available: v.stock,
			active: k === 0 || (index + k) % 13 !== 0,
		}));
		const active = variants.filter(v => v.active);
		out.variants = variants;
		out.options = p.options;
		out.price = Math.min(...active.map(v => v.price));
		out.available = active.reduce((s, v) => s + v.available, 0);
	}
	return out;
}

// ---------------------------------------------------------------------------------------------
// Queries

const words = (text: string): string[] => text.split(/[^\p{L}\p{N}]+/u).filter(w => w.length > 0);

/** One typo: a deletion, transposition, substitution or insertion somewhere after the first letter. */
function typo(r: Random, w: string): string {
	const i = int(r, 1, w.length - 1);
	const c = pick(r, [..."abcdefghijklmnopqrstuvwxyz"]);
	switch (int(r, 0, 3)) {
		case 0:
			return w.slice(0, i) + w.slice(i + 1);
		case 1:
			return i + 1 < w.length ? w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2) : w.slice(0, i) + c;
		case 2:
			return w.slice(0, i) + c + w.slice(i + 1);
		default:
			return w.slice(0, i) + c + w.slice(i);
	}
}

/**
 * `n` distinct queries drawn from the catalog as a query log would have them: mostly one or two
 * words from names, some from descriptions, prefixes (search as you type), brand + product type,
 * typos, whole SKUs, and a few that find nothing. Reads at most the first 20,000 products.
 */
export function sampleQueries(
	products: Iterable<Pick<GeneratedProduct, "name" | "description" | "sku"> & { variants?: { sku: string }[] }>,
	n: number,
	seed: number,
): string[] {
	const r = random(seed ^ 0x7f4a7c15);
	const pool: { name: string[]; description: string[]; skus: string[] }[] = [];
	for (const p of products) {
		pool.push({ name: words(p.name), description: words(p.description), skus: [p.sku, ...(p.variants ?? []).map(v => v.sku)] });
		if (pool.length >= 20_000) break;
	}
	if (pool.length === 0) return [];
	const out = new Set<string>();
	for (let attempts = 0; out.size < n && attempts < n * 50; attempts++) {
		const p = pick(r, pool);
		const x = r();
		const k = int(r, 0, p.name.length - 1);
		const w = p.name[k]!;
		let q: string;
		if (x < 0.3) q = w;
		else if (x < 0.4) q = pick(r, p.description);
		else if (x < 0.58) q = k + 1 < p.name.length ? `${w} ${p.name[k + 1]}` : `${p.name[0]} ${w}`;
		else if (x < 0.68) q = k + 1 < p.name.length ? `${w} ${p.name[k + 1]!.slice(0, int(r, 1, p.name[k + 1]!.length))}` : w;
		else if (x < 0.8) q = w.slice(0, int(r, Math.min(2, w.length), Math.min(5, w.length)));
		else if (x < 0.86) q = w.length >= 5 ? typo(r, w) : w;
		else if (x < 0.91) q = `${p.name[0]} ${p.name[p.name.length - 1]}`;
		else if (x < 0.94) q = `${pick(r, p.description)} ${pick(r, p.description)}`;
		else if (x < 0.97) q = pick(r, p.skus);
		else if (x < 0.985) q = `${w} ${pick(r, p.description)} ${pick(r, p.description)}`;
		else q = `zq${int(r, 100, 99999)}x`;
		out.add(q.toLowerCase() === q || chance(r, 0.5) ? q.toLowerCase() : q);
	}
	return [...out];
}
