/**
 * The in-process product search index the shop uses: an inverted index over folded tokens plus
 * per-product typed arrays for the filters, facets and sorts, all in this process's memory.
 *
 * Why its own and not one of the engines: bench/search-engines.ts measured @orama/orama,
 * minisearch and flexsearch on the generated catalog (docs/search.md has the table). None of
 * them does the contract's matching (every word, the last as a prefix, one typo from 5 letters,
 * transpositions included) together with typed filters, facets and sorts within the latency
 * target, and each keeps one or more JS objects per product and term. Here:
 *
 * - A query word becomes the set of dictionary terms it matches: the word itself; for the last
 *   word its prefix range (a posting list of its own for 1-2 letters, a bucket of the dictionary
 *   by first 3 letters for longer); for words of 5+ letters the variants at one edit (text.ts
 *   `editVariants`) looked up by hash: a typo costs a few hundred lookups, never a dictionary scan.
 * - Words are intersected rarest first over posting lists (`postings.ts`), scoring as they go
 *   (BM25-like per field: name and SKU above options above description; exact above prefix above
 *   typo); relevance puts the count of words found in the name before the score.
 * - Filters are checks on typed arrays; facets are counted over every match; a sort keeps only the
 *   top `offset + limit` in a heap, so a page costs O(matches) and not a full sort.
 * - `upsert`/`remove` change only the postings that differ: microseconds, searchable at once.
 *
 * One instance per process: each products node keeps its own (docs/search.md, "Wiring").
 */
import { fold, editVariants, productText, queryWords, type QueryWord } from "./text.js";
import { ExpansionMemo, type MemoisedExpansion } from "./expansion-memo.js";
import { FLAG_BITS, FLAG_MASK, MAX_SLOTS, PostingLists, RunStore, grownFloat64, grownInt32, grownUint16, grownUint8 } from "./postings.js";
import {
	PRICE_BUCKETS,
	priceBucket,
	priceFacet,
	type SearchFacets,
	type SearchIndex,
	type SearchQuery,
	type SearchResult,
	type SearchableProduct,
} from "./search-index.js";

// Term flags (8 bits of a posting): where in the product the term occurs.
const NAME_TF = 0b11; // times in the name, 0..3
const DESC_SHIFT = 2; // times in the description, 0..7, bits 2..4
const IN_SKU = 1 << 5;
const IN_OPTIONS = 1 << 6;

// Relevance weights. Only their order matters to the contract (name matches come first anyway,
// by the count of words found in the name); within a tier they decide.
const W_NAME = 3;
const W_SKU = 3;
const W_OPTIONS = 1.5;
const W_DESC = 1;
const K1 = 1.2;
const B = 0.75;
const KIND_EXACT = 1;
const KIND_TYPO = 0.5;
const KIND_PREFIX_TYPO = 0.35;
const KIND_SHORT_PREFIX = 0.5;
/** Relevance key: each query word found in the name is worth more than any score. */
const NAME_TIER = 1e6;

/**
 * Prefixes up to this long get a posting list of their own, under EDGE + prefix: a query ending
 * in "s" would otherwise walk the postings of every term starting with s (a third of a catalog's
 * terms). It costs about as many postings again as the terms themselves.
 */
const EDGE_PREFIX = 2;
const EDGE = "\u0001";
/** Longer prefixes are looked up in the dictionary's buckets of this many first characters. */
const BUCKET = EDGE_PREFIX + 1;
/** A removed product's posting stays, as a tombstone, in lists at least this long. */
const TOMBSTONE_FROM = 256;

/** The terms a query word matched, and how well (KIND_*; prefixes in between, by how much they cover). */
interface Expansion extends MemoisedExpansion {
	/** The tag its terms carry in `termTag` during this query. */
	tag: number;
}

export interface MemoryIndexStats {
	products: number;
	slots: number;
	/** Slots of removed products, left unused until the next rebuild. */
	freedSlots: number;
	/** Postings of removed products left in long posting lists until the next rebuild. */
	tombstones: number;
	terms: number;
	categories: number;
	optionValues: number;
	/** Typed-array bytes (postings, runs, per-product arrays); strings and maps come on top. */
	typedBytes: number;
	/**
	 * An estimate of all the index holds: the typed arrays, plus its strings (ids, folded names,
	 * terms, slugs, option values), its maps and plain arrays and the expansion memo, at V8's usual
	 * sizes (one-byte strings, 8-byte slots, ~40 bytes a map entry). Not the products' documents.
	 */
	estimatedBytes: number;
}

const STRING_HEADER = 16;
const MAP_ENTRY = 40;
const ARRAY_SLOT = 8;
/** Heap bytes of the strings of a list, each also held by one array slot. */
function stringBytes(list: readonly string[]): number {
	let n = 0;
	for (const s of list) n += STRING_HEADER + ARRAY_SLOT + s.length;
	return n;
}

/** The index's data. Kept apart from the facade so that `replaceAll` can build a new one aside. */
class IndexState {
	// Products, by slot.
	private readonly slotOf = new Map<string, number>();
	private ids: string[] = [];
	private foldNames: string[] = [];
	/**
	 * Slots of removed products. Not reused: a new product always takes a new slot at the end, so its
	 * postings are appended, where a reused slot would be inserted into the middle of every list
	 * (a copy of up to megabytes per term at a million products). A rebuild compacts them away.
	 */
	private freed = 0;
	/** Postings of removed products left in long lists. */
	private tombstones = 0;
	private slotCount = 0;
	private alive = new Uint8Array(16);
	private price = new Float64Array(16);
	private available = new Float64Array(16);
	private created = new Float64Array(16);
	/** The first 6 characters of the folded name as a number: most name comparisons end here. */
	private nameKey = new Float64Array(16);
	private priceBucketOf = new Uint8Array(16);
	private nameLen = new Uint8Array(16);
	private descLen = new Uint16Array(16);
	private nameLenSum = 0;
	private descLenSum = 0;

	// Terms.
	private readonly termId = new Map<string, number>();
	private terms: string[] = [];
	/**
	 * Term ids by their first BUCKET characters, each bucket in term order: a prefix range is one
	 * hash lookup and a binary search in a small array, and a typo variant whose head no term has
	 * costs only the hash miss. Edge terms (EDGE + prefix) are not in them.
	 */
	private readonly buckets = new Map<string, Bucket>();
	/** For each term, the ids of its edge terms (its first 1..EDGE_PREFIX characters), -1 for none. */
	private edgeIds = new Int32Array(16).fill(-1);
	private readonly chars = new Set<string>();
	private alphabet: string[] = [];
	private readonly postings = new PostingLists();
	/**
	 * Bumped by every write that can change a word's expansion (the dictionary, a document
	 * frequency, the number of products); a price or stock change leaves it alone.
	 */
	private version = 0;
	private readonly expansions: ExpansionMemo | null;

	constructor(memoiseExpansions = true) {
		this.expansions = memoiseExpansions ? new ExpansionMemo() : null;
	}
	/** Each product's term ids (and their flags), to take it out of the postings again. */
	private readonly termRuns = new RunStore(true);

	// Categories and options.
	private readonly catId = new Map<string, number>();
	private catSlugs: string[] = [];
	private readonly catPostings = new PostingLists();
	private readonly catRuns = new RunStore();
	private readonly optNameId = new Map<string, number>();
	private optNames: string[] = [];
	private readonly optValueId = new Map<string, number>();
	private optValues: string[] = [];
	private optValueName: number[] = [];
	private readonly optPostings = new PostingLists();
	/** Active variants: [count, then per variant its number of values and the option-value ids]. */
	private readonly variantRuns = new RunStore();
	/** The distinct option-value ids over a product's active variants (facets, postings). */
	private readonly optRuns = new RunStore();

	// Per-query scratch, by slot (valid only where `wordTag` says this query touched it).
	private wordTag = new Int32Array(16);
	private seen = new Int32Array(16);
	private score = new Float64Array(16);
	private best = new Float64Array(16);
	private nameHits = new Uint16Array(16);
	private bestName = new Uint8Array(16);
	private listA = new Int32Array(16);
	private listB = new Int32Array(16);
	private tag = 1;
	private catMark = new Int32Array(16);
	private optMark = new Int32Array(16);
	private optGroup = new Uint8Array(16);
	private termTag = new Int32Array(16);
	/** Scratch of setTerms, by term id. */
	private buildMark = new Int32Array(16);
	private buildFlags = new Uint8Array(16);
	private buildTag = 0;
	private termWeight = new Float64Array(16);

	get size(): number {
		return this.slotOf.size;
	}

	stats(): MemoryIndexStats {
		const arrays = [
			this.alive,
			this.price,
			this.available,
			this.created,
			this.nameKey,
			this.nameLen,
			this.descLen,
			this.wordTag,
			this.seen,
			this.score,
			this.best,
			this.nameHits,
			this.bestName,
			this.listA,
			this.listB,
			this.priceBucketOf,
			this.edgeIds,
			this.buildMark,
			this.buildFlags,
			this.catMark,
			this.optMark,
			this.optGroup,
			this.termTag,
			this.termWeight,
		];
		let typedBytes = arrays.reduce((s, a) => s + a.byteLength, 0);
		typedBytes += this.termRuns.bytes + this.catRuns.bytes + this.variantRuns.bytes + this.optRuns.bytes;
		for (const p of [this.postings, this.catPostings, this.optPostings]) {
			typedBytes += p.solo.byteLength + p.lens.byteLength;
			for (const l of p.lists) if (l) typedBytes += l.byteLength;
		}
		let otherBytes = stringBytes(this.ids) + stringBytes(this.foldNames) + this.slotOf.size * MAP_ENTRY;
		otherBytes += stringBytes(this.terms) + this.termId.size * MAP_ENTRY; // the map's keys are the same strings
		for (const p of [this.postings, this.catPostings, this.optPostings]) otherBytes += p.lists.length * ARRAY_SLOT;
		for (const b of this.buckets.values()) otherBytes += MAP_ENTRY + 64 + (b.sorted.length + b.recent.length) * ARRAY_SLOT;
		otherBytes += stringBytes(this.catSlugs) + this.catId.size * MAP_ENTRY;
		otherBytes += stringBytes(this.optNames) + this.optNameId.size * MAP_ENTRY;
		otherBytes += 2 * stringBytes(this.optValues) + this.optValueId.size * MAP_ENTRY + this.optValueName.length * ARRAY_SLOT;
		otherBytes += this.expansions?.bytes ?? 0;
		return {
			products: this.size,
			slots: this.slotCount,
			freedSlots: this.freed,
			tombstones: this.tombstones,
			terms: this.terms.length,
			categories: this.catSlugs.length,
			optionValues: this.optValues.length,
			typedBytes,
			estimatedBytes: typedBytes + otherBytes,
		};
	}

	/** Give back the room left for growth (after a rebuild: most of it will not be used). */
	trim(): void {
		for (const p of [this.postings, this.catPostings, this.optPostings]) p.trim();
		for (const r of [this.termRuns, this.catRuns, this.variantRuns, this.optRuns]) r.trim(this.slotCount);
	}

	// -------------------------------------------------------------------------------------------
	// Writing

	upsert(p: SearchableProduct): void {
		let slot = this.slotOf.get(p.id);
		if (slot === undefined) {
			slot = this.allocate();
			this.slotOf.set(p.id, slot);
			this.ids[slot] = p.id;
			this.alive[slot] = 1;
			this.version++;
		} else {
			this.nameLenSum -= this.nameLen[slot]!;
			this.descLenSum -= this.descLen[slot]!;
		}
		const folded = fold(p.name);
		this.foldNames[slot] = folded;
		this.nameKey[slot] = nameKeyOf(folded);
		this.price[slot] = p.price;
		this.priceBucketOf[slot] = priceBucket(p.price);
		this.available[slot] = p.available;
		const created = Date.parse(p.createdAt);
		this.created[slot] = Number.isNaN(created) ? 0 : created;

		const text = productText(p);
		this.nameLen[slot] = Math.min(text.name.length, 255);
		this.descLen[slot] = Math.min(text.description.length, 65535);
		this.nameLenSum += this.nameLen[slot]!;
		this.descLenSum += this.descLen[slot]!;
		this.setTerms(slot, text.name, text.description, text.sku, text.options);
		this.setCategories(slot, p.categories);
		this.setVariants(slot, p);
	}

	remove(id: string): void {
		const slot = this.slotOf.get(id);
		if (slot === undefined) return;
		this.slotOf.delete(id);
		this.version++;
		this.nameLenSum -= this.nameLen[slot]!;
		this.descLenSum -= this.descLen[slot]!;
		// Short lists lose the posting; long ones keep it as a tombstone (searches skip slots that are
		// not alive, and slots are never reused): taking one posting out of the middle of a list of
		// half a million is a copy of megabytes. A rebuild drops the tombstones.
		this.unpost(this.postings, this.termRuns, slot, TOMBSTONE_FROM);
		this.unpost(this.catPostings, this.catRuns, slot, TOMBSTONE_FROM);
		this.unpost(this.optPostings, this.optRuns, slot, TOMBSTONE_FROM);
		this.variantRuns.clear(slot);
		this.alive[slot] = 0;
		this.ids[slot] = "";
		this.foldNames[slot] = "";
		this.freed++;
	}

	private allocate(): number {
		const slot = this.slotCount++;
		if (slot >= MAX_SLOTS) throw new RangeError(`the in-memory search index holds at most ${MAX_SLOTS} products`);
		const n = slot + 1;
		if (n > this.alive.length) {
			this.alive = grownUint8(this.alive, n);
			this.price = grownFloat64(this.price, n);
			this.available = grownFloat64(this.available, n);
			this.created = grownFloat64(this.created, n);
			this.nameKey = grownFloat64(this.nameKey, n);
			this.priceBucketOf = grownUint8(this.priceBucketOf, n);
			this.nameLen = grownUint8(this.nameLen, n);
			this.descLen = grownUint16(this.descLen, n);
			this.wordTag = grownInt32(this.wordTag, n);
			this.seen = grownInt32(this.seen, n);
			this.score = grownFloat64(this.score, n);
			this.best = grownFloat64(this.best, n);
			this.nameHits = grownUint16(this.nameHits, n);
			this.bestName = grownUint8(this.bestName, n);
			this.listA = grownInt32(this.listA, n);
			this.listB = grownInt32(this.listB, n);
			const cap = this.alive.length;
			for (const r of [this.termRuns, this.catRuns, this.variantRuns, this.optRuns]) r.ensureSlots(cap);
		}
		this.ids.push("");
		this.foldNames.push("");
		return slot;
	}

	private unpost(postings: PostingLists, runs: RunStore, slot: number, keepFrom = Infinity): void {
		const off = runs.off[slot]!;
		const len = runs.len[slot]!;
		for (let i = 0; i < len; i++) {
			const key = runs.data[off + i]!;
			if (postings.df(key) < keepFrom) postings.remove(key, slot);
			else this.tombstones++;
		}
		runs.clear(slot);
	}

	private setTerms(slot: number, name: string[], description: string[], sku: string[], options: string[]): void {
		// Flags are gathered by term id in scratch arrays (no Map per product: this runs a million
		// times in a rebuild); `ids` keeps first-seen order, so the same text gives the same run.
		if (this.buildTag > 0x3fffffff) {
			this.buildMark.fill(0);
			this.buildTag = 0;
		}
		const tag = ++this.buildTag;
		const ids: number[] = [];
		const touch = (id: number): void => {
			if (this.buildMark[id] === tag) return;
			this.buildMark[id] = tag;
			this.buildFlags[id] = 0;
			ids.push(id);
		};
		const term = (t: string): number => {
			const id = this.intern(t);
			if (id >= this.buildMark.length) {
				this.buildMark = grownInt32(this.buildMark, this.terms.length);
				this.buildFlags = grownUint8(this.buildFlags, this.terms.length);
			}
			touch(id);
			return id;
		};
		for (const t of name) {
			const id = term(t);
			if ((this.buildFlags[id]! & NAME_TF) !== NAME_TF) this.buildFlags[id]!++;
		}
		for (const t of description) {
			const id = term(t);
			if (((this.buildFlags[id]! >> DESC_SHIFT) & 7) !== 7) this.buildFlags[id]! += 1 << DESC_SHIFT;
		}
		for (const t of sku) this.buildFlags[term(t)]! |= IN_SKU;
		for (const t of options) this.buildFlags[term(t)]! |= IN_OPTIONS;
		const words = ids.length;
		for (let i = 0; i < words; i++) {
			const id = ids[i]!;
			for (let k = 0; k < EDGE_PREFIX; k++) {
				const e = this.edgeIds[id * EDGE_PREFIX + k]!;
				if (e < 0) continue;
				touch(e);
				this.buildFlags[e]! |= this.buildFlags[id]!;
			}
		}
		const fl = ids.map(id => this.buildFlags[id]!);
		// Unchanged text (a price or stock change, the usual event): leave the postings alone.
		const runs = this.termRuns;
		const off = runs.off[slot]!;
		const len = runs.len[slot]!;
		if (len === ids.length && runs.aux) {
			let same = true;
			for (let i = 0; i < len && same; i++) same = runs.data[off + i] === ids[i] && runs.aux[off + i] === fl[i];
			if (same) return;
		}
		this.version++;
		// Changed text: touch only the postings that changed. Most of a product's terms (and nearly
		// all its edge terms, whose lists are the longest) survive an edit, and a posting taken out
		// of or put into the middle of a long list costs a copy of the rest of it.
		const aux = runs.aux!;
		for (let i = off; i < off + len; i++) {
			const id = runs.data[i]!;
			if (this.buildMark[id] !== tag) this.postings.remove(id, slot);
			else {
				if (aux[i] !== this.buildFlags[id]) this.postings.add(id, slot, this.buildFlags[id]!); // in place
				this.buildMark[id] = -tag; // already posted
			}
		}
		for (let i = 0; i < ids.length; i++) if (this.buildMark[ids[i]!] === tag) this.postings.add(ids[i]!, slot, fl[i]!);
		runs.set(slot, ids, fl, this.slotCount);
	}

	private intern(t: string): number {
		const known = this.termId.get(t);
		if (known !== undefined) return known;
		const id = this.newTerm(t);
		this.edgeIds = grownInt32(this.edgeIds, (this.terms.length + EDGE_PREFIX) * EDGE_PREFIX, -1);
		for (let k = 0; k < EDGE_PREFIX; k++) {
			if (k >= t.length) break;
			const e = EDGE + t.slice(0, k + 1);
			this.edgeIds[id * EDGE_PREFIX + k] = this.termId.get(e) ?? this.newTerm(e);
		}
		if (t.length >= BUCKET) {
			const key = t.slice(0, BUCKET);
			let bucket = this.buckets.get(key);
			if (bucket === undefined) this.buckets.set(key, (bucket = { sorted: [], recent: [] }));
			bucket.recent.push(id);
			if (bucket.recent.length > 32 + (bucket.sorted.length >> 4)) mergeBucket(bucket, this.terms);
		}
		let newChar = false;
		for (const c of t) {
			if (!this.chars.has(c)) {
				this.chars.add(c);
				newChar = true;
			}
		}
		if (newChar) this.alphabet = [...this.chars].sort();
		return id;
	}

	private newTerm(t: string): number {
		const id = this.terms.length;
		this.terms.push(t);
		this.termId.set(t, id);
		this.postings.ensure(id + 1);
		return id;
	}

	private setCategories(slot: number, slugs: readonly string[]): void {
		const ids: number[] = [];
		for (const slug of new Set(slugs)) {
			let id = this.catId.get(slug);
			if (id === undefined) {
				id = this.catSlugs.length;
				this.catSlugs.push(slug);
				this.catId.set(slug, id);
				this.catPostings.ensure(id + 1);
			}
			ids.push(id);
		}
		this.repost(this.catPostings, this.catRuns, slot, ids);
	}

	/** Replace a slot's run of keys and its postings, leaving them alone when they did not change. */
	private repost(postings: PostingLists, runs: RunStore, slot: number, ids: number[]): void {
		const off = runs.off[slot]!;
		const len = runs.len[slot]!;
		if (len === ids.length) {
			let same = true;
			for (let i = 0; i < len && same; i++) same = runs.data[off + i] === ids[i];
			if (same) return;
		}
		this.unpost(postings, runs, slot);
		for (const id of ids) postings.add(id, slot, 0);
		runs.set(slot, ids, null, this.slotCount);
	}

	private setVariants(slot: number, p: SearchableProduct): void {
		const run: number[] = [0];
		const distinct = new Set<number>();
		for (const v of p.variants ?? []) {
			if (!v.active) continue;
			run[0]!++;
			const at = run.length;
			run.push(0);
			for (const [name, value] of Object.entries(v.options)) {
				const id = this.optionValue(name, value);
				run.push(id);
				distinct.add(id);
			}
			run[at] = run.length - at - 1;
		}
		this.variantRuns.set(slot, run[0]! > 0 ? run : [], null, this.slotCount);
		this.repost(this.optPostings, this.optRuns, slot, [...distinct]);
	}

	private optionValue(name: string, value: string): number {
		const fn = fold(name);
		let nameId = this.optNameId.get(fn);
		if (nameId === undefined) {
			nameId = this.optNames.length;
			// Facets name an option by its folded name, the form `option=size:M` filters take.
			this.optNames.push(fn);
			this.optNameId.set(fn, nameId);
		}
		const key = `${nameId}\u0000${fold(value)}`;
		let id = this.optValueId.get(key);
		if (id === undefined) {
			id = this.optValues.length;
			this.optValues.push(value);
			this.optValueName.push(nameId);
			this.optValueId.set(key, id);
			this.optPostings.ensure(id + 1);
		}
		return id;
	}

	// -------------------------------------------------------------------------------------------
	// Searching

	search(query: SearchQuery): SearchResult {
		this.ensureScratch();
		// Tags only grow; long before they overflow, start again from a clean slate.
		if (this.tag > 0x3fffffff) {
			for (const a of [this.wordTag, this.seen, this.catMark, this.optMark, this.termTag]) a.fill(0);
			this.tag = 1;
		}
		const words = queryWords(query.q);
		let matches: Int32Array;
		let count: number;
		const filters = this.prepareFilters(query);
		if (filters === null) return { ids: [], total: 0, ...(query.facets ? { facets: emptyFacets() } : {}) };
		if (words.length > 0) {
			const found = this.matchWords(words);
			matches = found.list;
			count = this.applyFilters(found.list, found.count, filters, false);
		} else {
			const driven = this.browseCandidates(filters);
			matches = driven.list;
			count = this.applyFilters(driven.list, driven.count, filters, driven.byCategory);
		}
		const ids = this.page(matches, count, query, words.length > 0);
		const result: SearchResult = { ids, total: count };
		if (query.facets) result.facets = this.facets(matches, count);
		return result;
	}

	private ensureScratch(): void {
		this.catMark = grownInt32(this.catMark, this.catSlugs.length);
		this.optMark = grownInt32(this.optMark, this.optValues.length);
		this.optGroup = grownUint8(this.optGroup, this.optValues.length);
		this.termTag = grownInt32(this.termTag, this.terms.length);
		this.termWeight = grownFloat64(this.termWeight, this.terms.length);
	}

	/** A new range of tags for this query: every tag written before is below it. */
	private nextTags(n: number): number {
		const base = this.tag;
		this.tag += n + 1;
		return base;
	}

	/**
	 * The terms a word matches, each with its weight (how well it matches x idf). Terms are
	 * collected with `termTag` (this query's tag) rather than a Map: a short prefix reaches
	 * tens of thousands of terms.
	 */
	private expand(w: QueryWord, tag: number): Expansion {
		const key = `${w.prefix ? "p" : "w"}${w.typo ? "t" : "-"}${w.text}`;
		let found = this.expansions?.get(key, this.version);
		if (found === undefined) {
			found = this.expandNow(w, tag);
			this.expansions?.set(key, this.version, found);
		}
		return { terms: found.terms, weights: found.weights, cost: found.cost, tag };
	}

	/** `expand` without the memo. Leaves `termTag` marked with `tag` on the terms found. */
	private expandNow(w: QueryWord, tag: number): MemoisedExpansion {
		const terms: number[] = [];
		const { termTag, termWeight, postings } = this;
		const n = this.size || 1;
		const put = (id: number, kind: number): void => {
			const df = postings.df(id);
			if (df === 0) return;
			const weight = kind * Math.log(1 + (n - df + 0.5) / (df + 0.5));
			if (termTag[id] !== tag) {
				termTag[id] = tag;
				termWeight[id] = weight;
				terms.push(id);
			} else if (termWeight[id]! < weight) {
				termWeight[id] = weight;
			}
		};
		const text = w.text;
		if (w.prefix && text.length <= EDGE_PREFIX) {
			// Short prefixes have a posting list of their own (see setTerms).
			const id = this.termId.get(EDGE + text);
			if (id !== undefined) put(id, KIND_SHORT_PREFIX);
		} else if (w.prefix) {
			this.prefixRange(text, id => put(id, this.terms[id]!.length === text.length ? KIND_EXACT : 0.5 + (0.5 * text.length) / this.terms[id]!.length));
		} else {
			const id = this.termId.get(text);
			if (id !== undefined) put(id, KIND_EXACT);
		}
		if (w.typo) {
			for (const v of editVariants(text, this.alphabet)) {
				if (w.prefix) {
					this.prefixRange(v, id => put(id, this.terms[id]!.length === v.length ? KIND_TYPO : KIND_PREFIX_TYPO));
				} else {
					const id = this.termId.get(v);
					if (id !== undefined) put(id, KIND_TYPO);
				}
			}
		}
		const weights = new Float64Array(terms.length);
		let cost = 0;
		for (let i = 0; i < terms.length; i++) {
			weights[i] = termWeight[terms[i]!]!;
			cost += postings.df(terms[i]!);
		}
		return { terms: Int32Array.from(terms), weights, cost };
	}

	/** The terms starting with `prefix` (at least BUCKET characters long). */
	private prefixRange(prefix: string, each: (id: number) => void): void {
		const bucket = this.buckets.get(prefix.slice(0, BUCKET));
		if (bucket === undefined) return;
		const terms = this.terms;
		for (const id of bucket.recent) if (terms[id]!.startsWith(prefix)) each(id);
		const list = bucket.sorted;
		let lo = 0;
		if (prefix.length > BUCKET) {
			let hi = list.length;
			while (lo < hi) {
				const mid = (lo + hi) >>> 1;
				if (terms[list[mid]!]! < prefix) lo = mid + 1;
				else hi = mid;
			}
		}
		for (let i = lo; i < list.length && terms[list[i]!]!.startsWith(prefix); i++) each(list[i]!);
	}

	/**
	 * Products holding every word, with their scores and name hits. Rarest word first: each next
	 * word only keeps the products the previous ones kept (`wordTag` says how far a product got),
	 * either by walking the word's postings or, when few products are left, by looking for the
	 * word's terms among each product's own terms, whichever touches fewer entries.
	 */
	private matchWords(words: QueryWord[]): { list: Int32Array; count: number } {
		const base = this.nextTags(words.length);
		const expansions = words.map((w, i) => this.expand(w, base + i)).sort((a, b) => a.cost - b.cost);
		const { wordTag, best, bestName, score, nameHits, nameLen, descLen, termTag, termWeight, termRuns, alive } = this;
		const n = this.size || 1;
		const avgName = this.nameLenSum / n || 1;
		const avgDesc = this.descLenSum / n || 1;
		const termsPerProduct = termRuns.total / n;
		const contribution = (slot: number, f: number): number => {
			const nameTf = f & NAME_TF;
			const descTf = (f >> DESC_SHIFT) & 7;
			let c = 0;
			if (nameTf) c += (W_NAME * nameTf * (K1 + 1)) / (nameTf + K1 * (1 - B + (B * nameLen[slot]!) / avgName));
			if (descTf) c += (W_DESC * descTf * (K1 + 1)) / (descTf + K1 * (1 - B + (B * descLen[slot]!) / avgDesc));
			if (f & IN_SKU) c += W_SKU;
			if (f & IN_OPTIONS) c += W_OPTIONS;
			return c;
		};
		let list = this.listA;
		let count = 0;
		for (let wi = 0; wi < expansions.length; wi++) {
			const e = expansions[wi]!;
			const tag = base + wi;
			const prev = tag - 1;
			const out = wi % 2 === 0 ? this.listA : this.listB;
			let kept = 0;
			if (wi > 0 && count * termsPerProduct < e.cost) {
				// Few products left: check each one's terms against this word's (re-tagged: a term can
				// belong to two words' expansions, and the later one's tag would hide it).
				for (let k = 0; k < e.terms.length; k++) {
					termTag[e.terms[k]!] = e.tag;
					termWeight[e.terms[k]!] = e.weights[k]!;
				}
				const ids = termRuns.data;
				const flags = termRuns.aux!;
				for (let i = 0; i < count; i++) {
					const slot = list[i]!;
					const off = termRuns.off[slot]!;
					const end = off + termRuns.len[slot]!;
					let bestC = -1;
					let inName = 0;
					for (let j = off; j < end; j++) {
						const term = ids[j]!;
						if (termTag[term] !== e.tag) continue;
						const f = flags[j]!;
						const c = contribution(slot, f) * termWeight[term]!;
						if (c > bestC) bestC = c;
						if (f & NAME_TF) inName = 1;
					}
					if (bestC < 0) continue;
					wordTag[slot] = tag;
					score[slot] = score[slot]! + bestC;
					nameHits[slot] = nameHits[slot]! + inName;
					out[kept++] = slot;
				}
			} else {
				for (let k = 0; k < e.terms.length; k++) {
					const term = e.terms[k]!;
					const df = this.postings.df(term);
					const weight = e.weights[k]!;
					const plist = this.postings.lists[term];
					const single = this.postings.solo[term]!;
					for (let j = 0; j < df; j++) {
						const packed = plist === undefined ? single : plist[j]!;
						const slot = packed >>> FLAG_BITS;
						const t = wordTag[slot]!;
						const first = wi === 0 ? t < base && alive[slot] === 1 : t === prev;
						if (!first && t !== tag) continue;
						const f = packed & FLAG_MASK;
						const c = contribution(slot, f) * weight;
						if (first) {
							wordTag[slot] = tag;
							best[slot] = c;
							bestName[slot] = f & NAME_TF ? 1 : 0;
							out[kept++] = slot;
						} else {
							if (c > best[slot]!) best[slot] = c;
							if (f & NAME_TF) bestName[slot] = 1;
						}
					}
				}
				for (let i = 0; i < kept; i++) {
					const slot = out[i]!;
					score[slot] = wi === 0 ? best[slot]! : score[slot]! + best[slot]!;
					nameHits[slot] = wi === 0 ? bestName[slot]! : nameHits[slot]! + bestName[slot]!;
				}
			}
			list = out;
			count = kept;
			if (count === 0) break;
		}
		// One number to sort by: words found in the name first, then the score (far below NAME_TIER).
		for (let i = 0; i < count; i++) {
			const slot = list[i]!;
			score[slot] = nameHits[slot]! * NAME_TIER + Math.min(score[slot]!, NAME_TIER - 1);
		}
		return { list, count };
	}

	/** The filters of a query in the form the checks use; null when nothing can match. */
	private prepareFilters(q: SearchQuery): Filters | null {
		const tag = this.nextTags(0);
		let catIds: number[] | null = null;
		if (q.categories) {
			catIds = [];
			for (const slug of new Set(q.categories)) {
				const id = this.catId.get(slug);
				if (id === undefined) continue;
				this.catMark[id] = tag;
				catIds.push(id);
			}
			if (catIds.length === 0) return null;
		}
		let groups: number[][] | null = null;
		if (q.options && q.options.length > 0) {
			const byName = new Map<number, number[]>();
			for (const { name, value } of q.options) {
				const nameId = this.optNameId.get(fold(name));
				if (nameId === undefined) return null;
				const values = byName.get(nameId) ?? [];
				byName.set(nameId, values);
				const id = this.optValueId.get(`${nameId}\u0000${fold(value)}`);
				if (id !== undefined) values.push(id);
			}
			groups = [...byName.values()];
			if (groups.some(g => g.length === 0)) return null;
			if (groups.length > 31) throw new RangeError("at most 31 option names in one search");
			groups.forEach((g, i) => {
				for (const id of g) {
					this.optMark[id] = tag;
					this.optGroup[id] = i;
				}
			});
		}
		return { tag, minPrice: q.minPrice ?? -Infinity, maxPrice: q.maxPrice ?? Infinity, inStock: q.inStock, catIds, groups };
	}

	/** Browse: start from the smallest of the category and option postings, or from every product. */
	private browseCandidates(f: Filters): { list: Int32Array; count: number; byCategory: boolean } {
		let source: { postings: PostingLists; keys: number[] } | null = null;
		let cost = this.slotCount;
		let byCategory = false;
		if (f.catIds) {
			const c = f.catIds.reduce((s, id) => s + this.catPostings.df(id), 0);
			if (c < cost) {
				cost = c;
				source = { postings: this.catPostings, keys: f.catIds };
				byCategory = true;
			}
		}
		for (const g of f.groups ?? []) {
			const c = g.reduce((s, id) => s + this.optPostings.df(id), 0);
			if (c < cost) {
				cost = c;
				source = { postings: this.optPostings, keys: g };
				byCategory = false;
			}
		}
		const out = this.listA;
		let count = 0;
		if (source === null) {
			const alive = this.alive;
			for (let s = 0; s < this.slotCount; s++) if (alive[s]) out[count++] = s;
			return { list: out, count, byCategory: false };
		}
		const tag = this.nextTags(0);
		const seen = this.seen;
		const single = source.keys.length === 1;
		for (const key of source.keys) {
			const df = source.postings.df(key);
			const list = source.postings.lists[key];
			const solo = source.postings.solo[key]!;
			for (let j = 0; j < df; j++) {
				const slot = (list === undefined ? solo : list[j]!) >>> FLAG_BITS;
				if (!this.alive[slot]) continue;
				if (!single) {
					if (seen[slot] === tag) continue;
					seen[slot] = tag;
				}
				out[count++] = slot;
			}
		}
		return { list: out, count, byCategory };
	}

	/** Keep, in place, the candidates that pass every filter; returns how many. */
	private applyFilters(list: Int32Array, count: number, f: Filters, categoriesDone: boolean): number {
		const { price, available, catRuns, catMark, variantRuns, optMark, optGroup } = this;
		const checkPrice = f.minPrice !== -Infinity || f.maxPrice !== Infinity;
		const checkCats = f.catIds !== null && !categoriesDone;
		const groups = f.groups;
		const full = groups ? (1 << groups.length) - 1 : 0;
		if (!checkPrice && f.inStock === undefined && !checkCats && !groups) return count;
		const cats = catRuns.data;
		const vars = variantRuns.data;
		let kept = 0;
		for (let i = 0; i < count; i++) {
			const s = list[i]!;
			if (checkPrice) {
				const p = price[s]!;
				if (p < f.minPrice || p > f.maxPrice) continue;
			}
			if (f.inStock !== undefined && available[s]! > 0 !== f.inStock) continue;
			if (checkCats) {
				let hit = false;
				const off = catRuns.off[s]!;
				const end = off + catRuns.len[s]!;
				for (let k = off; k < end && !hit; k++) hit = catMark[cats[k]!] === f.tag;
				if (!hit) continue;
			}
			if (groups) {
				// One active variant must have, for every option name asked, one of its values.
				let hit = false;
				let at = variantRuns.off[s]!;
				const nv = variantRuns.len[s]! > 0 ? vars[at++]! : 0;
				for (let v = 0; v < nv && !hit; v++) {
					const k = vars[at++]!;
					let mask = 0;
					for (let e = at; e < at + k; e++) {
						const ov = vars[e]!;
						if (optMark[ov] === f.tag) mask |= 1 << optGroup[ov]!;
					}
					hit = mask === full;
					at += k;
				}
				if (!hit) continue;
			}
			list[kept++] = s;
		}
		return kept;
	}

	// -------------------------------------------------------------------------------------------
	// Sorting and paging

	private page(list: Int32Array, count: number, q: SearchQuery, scored: boolean): string[] {
		const offset = Math.max(0, Math.floor(q.offset));
		const limit = Math.max(0, Math.floor(q.limit));
		if (offset >= count || limit === 0) return [];
		const k = Math.min(count, offset + limit);
		const order = this.order(q.sort, scored);
		const top = k * 4 >= count ? list.slice(0, count).sort(order.cmp) : selectTop(list, count, k, order);
		const ids: string[] = [];
		for (let i = offset; i < k; i++) ids.push(this.ids[top[i]!]!);
		return ids;
	}

	/**
	 * The order of a sort: a numeric key first (`key[a] * sign` ascending), then `cmp` for the
	 * whole order with id breaking every tie, so pages never overlap or skip.
	 */
	private order(sort: SearchQuery["sort"], scored: boolean): Order {
		const { ids, foldNames, nameKey } = this;
		const byId = (a: number, b: number): number => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0);
		const byName = (a: number, b: number): number => {
			const ka = nameKey[a]!;
			const kb = nameKey[b]!;
			if (ka !== kb) return ka < kb ? -1 : 1;
			const na = foldNames[a]!;
			const nb = foldNames[b]!;
			return na < nb ? -1 : na > nb ? 1 : byId(a, b);
		};
		const byNumber = (key: Float64Array, sign: number, tie: (a: number, b: number) => number): Order => ({
			key,
			sign,
			cmp: (a, b) => {
				const d = (key[a]! - key[b]!) * sign;
				return d !== 0 ? d : tie(a, b);
			},
		});
		switch (sort) {
			case "price":
				return byNumber(this.price, 1, byId);
			case "-price":
				return byNumber(this.price, -1, byId);
			case "-createdAt":
				return byNumber(this.created, -1, byId);
			case "name":
				return byNumber(nameKey, 1, byName);
			case "relevance":
				// matchWords left nameHits x NAME_TIER + score in `score`: the tier first, then the score.
				return scored ? byNumber(this.score, -1, byName) : byNumber(nameKey, 1, byName);
		}
	}

	// -------------------------------------------------------------------------------------------
	// Facets

	private facets(list: Int32Array, count: number): SearchFacets {
		// Dense counters: categories and option values number in the hundreds or thousands.
		const catCount = new Int32Array(this.catSlugs.length);
		const optCount = new Int32Array(this.optValues.length);
		const prices = new Int32Array(PRICE_BUCKETS.length);
		const { catRuns, optRuns, priceBucketOf, available } = this;
		const cats = catRuns.data;
		const opts = optRuns.data;
		let inStock = 0;
		for (let i = 0; i < count; i++) {
			const s = list[i]!;
			prices[priceBucketOf[s]!]!++;
			if (available[s]! > 0) inStock++;
			let off = catRuns.off[s]!;
			let end = off + catRuns.len[s]!;
			for (let k = off; k < end; k++) catCount[cats[k]!]!++;
			off = optRuns.off[s]!;
			end = off + optRuns.len[s]!;
			for (let k = off; k < end; k++) optCount[opts[k]!]!++;
		}
		const categories: SearchFacets["categories"] = [];
		for (let c = 0; c < catCount.length; c++) if (catCount[c]! > 0) categories.push({ slug: this.catSlugs[c]!, count: catCount[c]! });
		categories.sort((a, b) => b.count - a.count || (a.slug < b.slug ? -1 : 1));
		const values: number[] = [];
		for (let o = 0; o < optCount.length; o++) if (optCount[o]! > 0) values.push(o);
		const options: SearchFacets["options"] = {};
		for (const o of values.sort((a, b) => optCount[b]! - optCount[a]! || cmpStr(this.optValues[a]!, this.optValues[b]!))) {
			const name = this.optNames[this.optValueName[o]!]!;
			(options[name] ??= []).push({ value: this.optValues[o]!, count: optCount[o]! });
		}
		return { categories, options, price: priceFacet(prices), inStock };
	}
}

interface Filters {
	tag: number;
	minPrice: number;
	maxPrice: number;
	inStock: boolean | undefined;
	catIds: number[] | null;
	groups: number[][] | null;
}

function emptyFacets(): SearchFacets {
	return { categories: [], options: {}, price: [], inStock: 0 };
}

function cmpStr(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

/** The folded name's first 6 UTF-16 units, each capped at 255, as one exact double (48 bits). */
function nameKeyOf(folded: string): number {
	let key = 0;
	for (let i = 0; i < 6; i++) key = key * 256 + (i < folded.length ? Math.min(folded.charCodeAt(i), 255) : 0);
	return key;
}

/**
 * A bucket of the dictionary: term ids in term order, plus the ones added since the last merge
 * (unsorted, at most 1/16 of the sorted part), so that adding a term is not a copy of the bucket
 * (a brand's SKUs can put a million terms behind one three-letter head).
 */
interface Bucket {
	sorted: number[];
	recent: number[];
}

function mergeBucket(bucket: Bucket, terms: readonly string[]): void {
	const byTerm = (x: number, y: number): number => (terms[x]! < terms[y]! ? -1 : 1);
	const b = bucket.recent.sort(byTerm);
	const a = bucket.sorted;
	const out = new Array<number>(a.length + b.length);
	let i = 0;
	let j = 0;
	let k = 0;
	while (i < a.length && j < b.length) out[k++] = terms[a[i]!]! < terms[b[j]!]! ? a[i++]! : b[j++]!;
	while (i < a.length) out[k++] = a[i++]!;
	while (j < b.length) out[k++] = b[j++]!;
	bucket.sorted = out;
	bucket.recent = [];
}

/**
 * The first k of list[0..count) under cmp, in order: a max-heap of the k best seen so far, whose
 * root (the worst of them) most candidates fail to beat with one comparison.
 */
interface Order {
	key: Float64Array;
	sign: number;
	cmp: (a: number, b: number) => number;
}

function selectTop(list: Int32Array, count: number, k: number, order: Order): Int32Array {
	const { key, sign, cmp } = order;
	const heap = new Int32Array(k);
	let size = 0;
	const siftUp = (i: number): void => {
		const x = heap[i]!;
		while (i > 0) {
			const parent = (i - 1) >> 1;
			if (cmp(heap[parent]!, x) >= 0) break;
			heap[i] = heap[parent]!;
			i = parent;
		}
		heap[i] = x;
	};
	const siftDown = (i: number): void => {
		const x = heap[i]!;
		for (;;) {
			let child = 2 * i + 1;
			if (child >= size) break;
			if (child + 1 < size && cmp(heap[child + 1]!, heap[child]!) > 0) child++;
			if (cmp(heap[child]!, x) <= 0) break;
			heap[i] = heap[child]!;
			i = child;
		}
		heap[i] = x;
	};
	for (let i = 0; i < count; i++) {
		const s = list[i]!;
		if (size < k) {
			heap[size] = s;
			siftUp(size++);
		} else {
			// Most candidates lose to the root on the key alone, without a call.
			const d = (key[s]! - key[heap[0]!]!) * sign;
			if (d > 0 || (d === 0 && cmp(s, heap[0]!) >= 0)) continue;
			heap[0] = s;
			siftDown(0);
		}
	}
	return heap.sort(cmp);
}

type Op = { kind: "upsert"; product: SearchableProduct } | { kind: "remove"; id: string };

/** How many products `replaceAll` indexes between two turns of the event loop. */
const BUILD_CHUNK = 2000;

export class MemorySearchIndex implements SearchIndex {
	readonly kind = "memory";
	private state: IndexState;
	/** Changes made while a rebuild runs, replayed onto the new state before it takes over. */
	private pending: Op[] | null = null;
	private rebuilding: Promise<void> = Promise.resolve();

	/** `memoiseExpansions: false` only for tests that compare answers with and without the memo. */
	constructor(private readonly options: { memoiseExpansions?: boolean } = {}) {
		this.state = this.newState();
	}

	private newState(): IndexState {
		return new IndexState(this.options.memoiseExpansions ?? true);
	}

	get size(): number {
		return this.state.size;
	}

	stats(): MemoryIndexStats {
		return this.state.stats();
	}

	replaceAll(products: Iterable<SearchableProduct> | AsyncIterable<SearchableProduct>): Promise<void> {
		const run = this.rebuilding.then(() => this.rebuild(products));
		this.rebuilding = run.catch(() => undefined);
		return run;
	}

	private async rebuild(products: Iterable<SearchableProduct> | AsyncIterable<SearchableProduct>): Promise<void> {
		const next = this.newState();
		this.pending = [];
		try {
			let n = 0;
			for await (const p of products) {
				next.upsert(p);
				// Yield now and then: searches and events go on (on the old state) during a rebuild.
				if (++n % BUILD_CHUNK === 0) await new Promise(resolve => setImmediate(resolve));
			}
			for (const op of this.pending) {
				if (op.kind === "upsert") next.upsert(op.product);
				else next.remove(op.id);
			}
			next.trim();
			this.state = next;
		} finally {
			this.pending = null;
		}
	}

	upsert(product: SearchableProduct): Promise<void> {
		this.state.upsert(product);
		this.pending?.push({ kind: "upsert", product });
		return Promise.resolve();
	}

	remove(id: string): Promise<void> {
		this.state.remove(id);
		this.pending?.push({ kind: "remove", id });
		return Promise.resolve();
	}

	search(query: SearchQuery): Promise<SearchResult> {
		try {
			return Promise.resolve(this.state.search(query));
		} catch (err) {
			return Promise.reject(err);
		}
	}
}
