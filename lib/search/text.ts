/**
 * Text rules of product search, shared by the in-memory index, the brute-force reference and the
 * OpenSearch mapping: folding (case and accents), tokens, which fields of a product are searched,
 * and the one-typo rule. Kept in one place so the engines cannot drift apart.
 */
import type { SearchableProduct } from "./search-index.js";

/** Words this long or longer tolerate one typo (edit distance 1, a transposition counting as one). */
export const TYPO_MIN_LENGTH = 5;

// eslint-disable-next-line no-control-regex -- control characters are exactly what this pattern is about
const ASCII = /^[\x00-\x7f]*$/;
const MARKS = /\p{M}+/gu;
const TOKEN = /[\p{L}\p{N}]+/gu;

/**
 * Case- and accent-insensitive form: lowercase, decompose (NFD), drop combining marks.
 * Lowercasing first so that characters whose lowercase form carries a mark ("İ") lose it too.
 */
export function fold(text: string): string {
	if (ASCII.test(text)) return text.toLowerCase();
	return text.toLowerCase().normalize("NFD").replace(MARKS, "");
}

/** Folded tokens: runs of Unicode letters and digits; everything else separates. */
export function tokenize(text: string): string[] {
	return fold(text).match(TOKEN) ?? [];
}

/** What each searchable field of a product holds, as folded tokens. */
export interface ProductText {
	name: string[];
	description: string[];
	/** Parts of the product's and every variant's SKU, plus each SKU's parts joined ("abc-12" → abc, 12, abc12). */
	sku: string[];
	/** Values of the product's options and of its active variants' options. */
	options: string[];
}

export function skuTokens(sku: string, out: string[]): void {
	const parts = tokenize(sku);
	for (const p of parts) out.push(p);
	// The whole SKU typed without its separators must find it too.
	if (parts.length > 1) out.push(parts.join(""));
}

export function productText(p: SearchableProduct): ProductText {
	const sku: string[] = [];
	skuTokens(p.sku, sku);
	const options: string[] = [];
	for (const o of p.options ?? []) for (const v of o.values) for (const t of tokenize(v)) options.push(t);
	for (const v of p.variants ?? []) {
		skuTokens(v.sku, sku);
		if (!v.active) continue;
		for (const value of Object.values(v.options)) for (const t of tokenize(value)) options.push(t);
	}
	return { name: tokenize(p.name), description: tokenize(p.description), sku, options };
}

/** A word of a query: the last one matches as a prefix (search as you type). */
export interface QueryWord {
	text: string;
	prefix: boolean;
	typo: boolean;
}

export function queryWords(q: string | undefined): QueryWord[] {
	if (!q) return [];
	const tokens = tokenize(q);
	return tokens.map((text, i) => ({ text, prefix: i === tokens.length - 1, typo: text.length >= TYPO_MIN_LENGTH }));
}

/**
 * Optimal string alignment distance of at most one: equal, one substitution, insertion or
 * deletion, or two adjacent characters swapped.
 */
export function withinOneEdit(a: string, b: string): boolean {
	const la = a.length;
	const lb = b.length;
	if (la === lb) {
		let i = 0;
		while (i < la && a.charCodeAt(i) === b.charCodeAt(i)) i++;
		if (i === la) return true;
		// one substitution, or a transposition of i and i+1
		if (a.slice(i + 1) === b.slice(i + 1)) return true;
		return i + 1 < la && a.charCodeAt(i) === b.charCodeAt(i + 1) && a.charCodeAt(i + 1) === b.charCodeAt(i) && a.slice(i + 2) === b.slice(i + 2);
	}
	if (la + 1 === lb) return oneInsertion(a, b);
	if (lb + 1 === la) return oneInsertion(b, a);
	return false;
}

/** `long` is `short` with one character inserted. */
function oneInsertion(short: string, long: string): boolean {
	let i = 0;
	while (i < short.length && short.charCodeAt(i) === long.charCodeAt(i)) i++;
	return short.slice(i) === long.slice(i + 1);
}

/** Does token `t` satisfy query word `w` (exact, prefix for the last word, one typo for long words)? */
export function wordMatches(w: QueryWord, t: string): boolean {
	if (t === w.text) return true;
	if (w.prefix && t.startsWith(w.text)) return true;
	if (!w.typo) return false;
	if (withinOneEdit(w.text, t)) return true;
	if (!w.prefix) return false;
	// A prefix of t within one edit of the word: only prefixes one shorter, as long, or one longer can be.
	for (let len = w.text.length - 1; len <= w.text.length + 1 && len < t.length; len++) {
		if (withinOneEdit(w.text, t.slice(0, len))) return true;
	}
	return false;
}

/**
 * Every string at edit distance one from `word` over `alphabet` (the characters the index holds):
 * deletions, adjacent transpositions, substitutions and insertions. A term of the index is within
 * one typo of the word exactly when it is one of these, so looking each up replaces a scan of the
 * dictionary; about 12 x length x |alphabet| strings, no memory kept between queries.
 */
export function editVariants(word: string, alphabet: readonly string[]): Set<string> {
	const out = new Set<string>();
	const n = word.length;
	for (let i = 0; i < n; i++) out.add(word.slice(0, i) + word.slice(i + 1));
	for (let i = 0; i + 1 < n; i++) {
		if (word[i] !== word[i + 1]) out.add(word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2));
	}
	for (let i = 0; i <= n; i++) {
		const head = word.slice(0, i);
		const tail = word.slice(i);
		const rest = word.slice(i + 1);
		for (const c of alphabet) {
			out.add(head + c + tail);
			if (i < n && c !== word[i]) out.add(head + c + rest);
		}
	}
	out.delete(word);
	return out;
}
