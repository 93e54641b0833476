/**
 * A cache of HTTP answers bounded by bytes: least recently used out first, each entry tagged with
 * surrogate keys (the products and categories it shows) so that one change removes exactly the
 * answers that show it. Pure: the clock is passed in.
 *
 * Fills race with purges: an answer read from the services before a change, and stored after that
 * change's purge, would stay stale. So a fill starts with `beginFill()` (the purge sequence now),
 * and `put` refuses an answer when a purge of one of its tags (or of everything) happened since.
 * The last `PURGE_MEMORY` purges are remembered; a fill older than that is refused too.
 *
 * A purge may also hold its tags until some time: answers carrying them are not stored until then
 * (for news that arrives before the change it announces is written: the answers are served uncached
 * meanwhile).
 */

export interface CachedAnswer {
	body: Buffer;
	etag: string;
	/** Surrogate keys, also sent as the `Surrogate-Key` header. */
	tags: readonly string[];
	/** The `Cache-Control` header the answer is sent with. */
	cacheControl: string;
	storedAt: number;
	expiresAt: number;
}

interface Slot {
	key: string;
	answer: CachedAnswer;
	bytes: number;
}

/** What a fill remembers: the purge sequence when it began. */
export interface FillToken {
	readonly seq: number;
}

export type RemovalCause = "purged" | "evicted" | "expired" | "replaced";

const PURGE_MEMORY = 4096;
/** What an entry costs besides its body: key, tags, headers and bookkeeping (an estimate). */
const ENTRY_OVERHEAD = 256;
export const PURGE_ALL = "*";

export function sizeOf(key: string, answer: CachedAnswer): number {
	let tagBytes = 0;
	for (const t of answer.tags) tagBytes += t.length * 2 + 48;
	return answer.body.length + key.length * 2 + answer.etag.length + answer.cacheControl.length + tagBytes + ENTRY_OVERHEAD;
}

export class TaggedLru {
	/** Insertion order is recency: the first entry is the least recently used. */
	private readonly entries = new Map<string, Slot>();
	private readonly byTag = new Map<string, Set<string>>();
	private usedBytes = 0;
	private seq = 0;
	/** The last purges, oldest first: their sequence number and tags. */
	private readonly purges: { seq: number; tags: ReadonlySet<string> }[] = [];
	/** Tags whose answers are not stored before the time given. */
	private readonly held = new Map<string, number>();

	constructor(
		readonly maxBytes: number,
		private readonly onRemove: (cause: RemovalCause, count: number) => void = () => undefined,
	) {}

	get bytes(): number {
		return this.usedBytes;
	}
	get size(): number {
		return this.entries.size;
	}

	/** The live answer under `key` (now the most recently used), or undefined. */
	get(key: string, now: number): CachedAnswer | undefined {
		const slot = this.entries.get(key);
		if (!slot) return undefined;
		if (slot.answer.expiresAt <= now) {
			this.remove(slot);
			this.onRemove("expired", 1);
			return undefined;
		}
		this.entries.delete(key);
		this.entries.set(key, slot);
		return slot.answer;
	}

	beginFill(): FillToken {
		return { seq: this.seq };
	}

	/**
	 * Store an answer read since `token` was taken. False when it was not stored: a purge of one of
	 * its tags came in meanwhile (it may show the state before that change), or it is larger than
	 * the whole cache.
	 */
	put(key: string, answer: CachedAnswer, token: FillToken, now = answer.storedAt): boolean {
		if (this.purgedSince(token, answer.tags) || this.isHeld(answer.tags, now)) return false;
		const bytes = sizeOf(key, answer);
		if (bytes > this.maxBytes) return false;
		const old = this.entries.get(key);
		if (old) {
			this.remove(old);
			this.onRemove("replaced", 1);
		}
		const slot: Slot = { key, answer, bytes };
		this.entries.set(key, slot);
		this.usedBytes += bytes;
		for (const tag of answer.tags) {
			let keys = this.byTag.get(tag);
			if (!keys) this.byTag.set(tag, (keys = new Set()));
			keys.add(key);
		}
		let evicted = 0;
		while (this.usedBytes > this.maxBytes) {
			const oldest = this.entries.values().next().value as Slot;
			this.remove(oldest);
			evicted++;
		}
		if (evicted) this.onRemove("evicted", evicted);
		return true;
	}

	/**
	 * Remove every answer tagged with one of `tags` (`PURGE_ALL`: every answer), and with `hold`
	 * store none carrying them before `hold.until`. Returns how many went.
	 */
	purge(tags: Iterable<string>, hold?: { now: number; until: number }): number {
		const set = new Set(tags);
		if (set.size === 0) return 0;
		if (hold) this.hold(set, hold.now, hold.until);
		this.seq++;
		this.purges.push({ seq: this.seq, tags: set });
		if (this.purges.length > PURGE_MEMORY) this.purges.shift();
		let removed = 0;
		if (set.has(PURGE_ALL)) {
			removed = this.entries.size;
			this.entries.clear();
			this.byTag.clear();
			this.usedBytes = 0;
		} else {
			for (const tag of set) {
				const keys = this.byTag.get(tag);
				if (!keys) continue;
				for (const key of [...keys]) {
					const slot = this.entries.get(key);
					if (slot) {
						this.remove(slot);
						removed++;
					}
				}
			}
		}
		if (removed) this.onRemove("purged", removed);
		return removed;
	}

	private hold(tags: ReadonlySet<string>, now: number, until: number): void {
		// Past holds go once there are many (a hold is a few seconds long: what is left is bounded by the event rate).
		if (this.held.size > PURGE_MEMORY) for (const [tag, at] of this.held) if (at <= now) this.held.delete(tag);
		for (const tag of tags) if ((this.held.get(tag) ?? 0) < until) this.held.set(tag, until);
	}

	private isHeld(tags: readonly string[], now: number): boolean {
		if (this.held.size === 0) return false;
		return tags.some(t => (this.held.get(t) ?? 0) > now);
	}

	private purgedSince(token: FillToken, tags: readonly string[]): boolean {
		if (token.seq === this.seq) return false;
		const first = this.purges[0];
		// Purges since the fill began have been forgotten: cannot tell, so refuse.
		if (!first || first.seq > token.seq + 1) return true;
		for (let i = this.purges.length - 1; i >= 0 && this.purges[i]!.seq > token.seq; i--) {
			const purged = this.purges[i]!.tags;
			if (purged.has(PURGE_ALL) || tags.some(t => purged.has(t))) return true;
		}
		return false;
	}

	private remove(slot: Slot): void {
		this.entries.delete(slot.key);
		this.usedBytes -= slot.bytes;
		for (const tag of slot.answer.tags) {
			const keys = this.byTag.get(tag);
			if (!keys) continue;
			keys.delete(slot.key);
			if (keys.size === 0) this.byTag.delete(tag);
		}
	}
}
