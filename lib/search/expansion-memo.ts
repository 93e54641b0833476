/**
 * The expansions of query words (memory-index.ts `expand`: the dictionary terms a word matches,
 * with their weights), kept between searches. An expansion depends only on the word and on the
 * index's dictionary, document frequencies and size, so it stays valid until one of those changes:
 * the index bumps its `version` then (a new or removed product, a changed text; not a price or
 * stock change), and the memo forgets everything it holds on the next lookup.
 *
 * Bounded as an LRU by the number of terms held (one short prefix can match thousands of terms).
 */

/** What a word expands to: term ids and their weights, by position; `cost` is the postings to walk. */
export interface MemoisedExpansion {
	readonly terms: Int32Array;
	readonly weights: Float64Array;
	readonly cost: number;
}

export class ExpansionMemo {
	private readonly entries = new Map<string, MemoisedExpansion>();
	private heldTerms = 0;
	private version = -1;

	constructor(
		private readonly maxTerms = 1_000_000,
		private readonly maxEntries = 10_000,
	) {}

	get size(): number {
		return this.entries.size;
	}

	/** About what the memo holds in memory: 12 bytes a term, plus each entry's key and arrays. */
	get bytes(): number {
		return this.heldTerms * 12 + this.entries.size * 200;
	}

	/** The expansion remembered for this key at this index version, if any (and marks it recently used). */
	get(key: string, version: number): MemoisedExpansion | undefined {
		if (version !== this.version) {
			this.entries.clear();
			this.heldTerms = 0;
			this.version = version;
			return undefined;
		}
		const hit = this.entries.get(key);
		if (hit !== undefined) {
			this.entries.delete(key);
			this.entries.set(key, hit);
		}
		return hit;
	}

	/** Remember an expansion made at `version` (the one `get` was last asked about). */
	set(key: string, version: number, expansion: MemoisedExpansion): void {
		if (version !== this.version || expansion.terms.length > this.maxTerms) return;
		const old = this.entries.get(key);
		if (old !== undefined) {
			this.entries.delete(key);
			this.heldTerms -= old.terms.length;
		}
		this.entries.set(key, expansion);
		this.heldTerms += expansion.terms.length;
		for (const [k, e] of this.entries) {
			if (this.heldTerms <= this.maxTerms && this.entries.size <= this.maxEntries) break;
			this.entries.delete(k);
			this.heldTerms -= e.terms.length;
		}
	}
}
