/**
 * Growable integer storage for the in-memory search index, kept in typed arrays so that a
 * million products cost tens of megabytes instead of millions of small JS objects.
 *
 * - `PostingLists`: for each key (a term, a category, an option value), the slots that hold it,
 *   sorted by slot, each packed with 8 bits of flags (`slot << 8 | flags`). A key held by one
 *   slot only (most SKU parts) keeps it inline, without a list of its own.
 * - `RunStore`: for each slot, one run of integers (its term ids, its categories...), appended
 *   to one shared array; a replaced run leaves a hole that is reclaimed by compaction.
 */

export const FLAG_BITS = 8;
export const FLAG_MASK = (1 << FLAG_BITS) - 1;
/** Slots fit in the 23 bits left of a posting: about 8.3 million products. */
export const MAX_SLOTS = 1 << (31 - FLAG_BITS);

export function grownInt32(a: Int32Array<ArrayBuffer>, need: number, fill = 0): Int32Array<ArrayBuffer> {
	if (need <= a.length) return a;
	const next = new Int32Array(Math.max(need, a.length * 2, 16));
	next.set(a);
	if (fill !== 0) next.fill(fill, a.length);
	return next;
}

export function grownFloat64(a: Float64Array<ArrayBuffer>, need: number): Float64Array<ArrayBuffer> {
	if (need <= a.length) return a;
	const next = new Float64Array(Math.max(need, a.length * 2, 16));
	next.set(a);
	return next;
}

export function grownUint8(a: Uint8Array<ArrayBuffer>, need: number): Uint8Array<ArrayBuffer> {
	if (need <= a.length) return a;
	const next = new Uint8Array(Math.max(need, a.length * 2, 16));
	next.set(a);
	return next;
}

export function grownUint16(a: Uint16Array<ArrayBuffer>, need: number): Uint16Array<ArrayBuffer> {
	if (need <= a.length) return a;
	const next = new Uint16Array(Math.max(need, a.length * 2, 16));
	next.set(a);
	return next;
}

export class PostingLists {
	/** The single posting of a key without a list (valid while `lists[key]` is unset and `lens[key]` is 1). */
	solo = new Int32Array(16);
	lists: (Int32Array | undefined)[] = [];
	lens = new Int32Array(16);

	ensure(keys: number): void {
		this.solo = grownInt32(this.solo, keys);
		this.lens = grownInt32(this.lens, keys);
		while (this.lists.length < keys) this.lists.push(undefined);
	}

	/**
	 * Lists cut to their length plus an eighth: the room doubling left is mostly never used, but
	 * none at all would make the first add to each long list after a rebuild a copy of it.
	 */
	trim(): void {
		const { lists, lens } = this;
		for (let k = 0; k < lists.length; k++) {
			const list = lists[k];
			const keep = lens[k]! + (lens[k]! >> 3) + 2;
			if (list !== undefined && list.length > keep) {
				const cut = new Int32Array(keep);
				cut.set(list.subarray(0, lens[k]!));
				lists[k] = cut;
			}
		}
	}

	df(key: number): number {
		return this.lens[key] ?? 0;
	}

	add(key: number, slot: number, flags: number): void {
		const packed = (slot << FLAG_BITS) | flags;
		const len = this.lens[key]!;
		let list = this.lists[key];
		if (list === undefined) {
			if (len === 0 || this.solo[key]! >>> FLAG_BITS === slot) {
				this.solo[key] = packed;
				this.lens[key] = 1;
				return;
			}
			list = new Int32Array(4);
			list[0] = this.solo[key]!;
			this.lists[key] = list;
		}
		const at = lowerBound(list, len, slot);
		if (at < len && list[at]! >>> FLAG_BITS === slot) {
			list[at] = packed;
			return;
		}
		if (len === list.length) {
			const bigger = new Int32Array(len < 64 ? len * 2 : len + (len >> 1));
			bigger.set(list);
			list = bigger;
			this.lists[key] = list;
		}
		list.copyWithin(at + 1, at, len);
		list[at] = packed;
		this.lens[key] = len + 1;
	}

	remove(key: number, slot: number): void {
		const len = this.lens[key]!;
		const list = this.lists[key];
		if (list === undefined) {
			if (len === 1 && this.solo[key]! >>> FLAG_BITS === slot) this.lens[key] = 0;
			return;
		}
		const at = lowerBound(list, len, slot);
		if (at >= len || list[at]! >>> FLAG_BITS !== slot) return;
		list.copyWithin(at, at + 1, len);
		this.lens[key] = len - 1;
		// Give back most of a list that shrank a lot (a product type that left the catalog).
		if (len > 64 && len - 1 < list.length >> 2) this.lists[key] = list.slice(0, len * 2);
	}
}

/** First index in list[0..len) whose slot is >= slot. */
function lowerBound(list: Int32Array, len: number, slot: number): number {
	let lo = 0;
	let hi = len;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (list[mid]! >>> FLAG_BITS < slot) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

export class RunStore {
	data = new Int32Array(1024);
	/** Optional byte per value (the flags of a term run). */
	aux: Uint8Array | null;
	off = new Int32Array(16);
	len = new Int32Array(16);
	private used = 0;
	private waste = 0;

	constructor(withAux = false) {
		this.aux = withAux ? new Uint8Array(1024) : null;
	}

	ensureSlots(slots: number): void {
		this.off = grownInt32(this.off, slots);
		this.len = grownInt32(this.len, slots);
	}

	/** Replace slot's run. `slots` is how many slots exist (compaction walks them). */
	set(slot: number, values: ArrayLike<number>, aux: ArrayLike<number> | null, slots: number): void {
		this.waste += this.len[slot]!;
		this.len[slot] = 0;
		const n = values.length;
		if (this.used + n > this.data.length) {
			if (this.waste > this.used >> 1) this.compact(slots);
			if (this.used + n > this.data.length) this.grow(this.used + n);
		}
		const at = this.used;
		for (let i = 0; i < n; i++) this.data[at + i] = values[i]!;
		if (this.aux && aux) for (let i = 0; i < n; i++) this.aux[at + i] = aux[i]!;
		this.off[slot] = at;
		this.len[slot] = n;
		this.used += n;
	}

	clear(slot: number): void {
		this.waste += this.len[slot]!;
		this.len[slot] = 0;
	}

	/** Compact and cut the shared array to what is held. */
	trim(slots: number): void {
		if (this.waste > 0) this.compact(slots);
		if (this.data.length > this.used + 1024) {
			this.data = this.data.slice(0, this.used + 1024);
			if (this.aux) this.aux = this.aux.slice(0, this.used + 1024);
		}
	}

	/** Values held (holes not counted). */
	get total(): number {
		return this.used - this.waste;
	}

	get bytes(): number {
		return this.data.byteLength + (this.aux?.byteLength ?? 0) + this.off.byteLength + this.len.byteLength;
	}

	private grow(need: number): void {
		const size = Math.max(need, this.data.length * 2);
		const data = new Int32Array(size);
		data.set(this.data.subarray(0, this.used));
		this.data = data;
		if (this.aux) {
			const aux = new Uint8Array(size);
			aux.set(this.aux.subarray(0, this.used));
			this.aux = aux;
		}
	}

	private compact(slots: number): void {
		const data = new Int32Array(this.data.length);
		const aux = this.aux ? new Uint8Array(this.data.length) : null;
		let at = 0;
		for (let s = 0; s < slots; s++) {
			const n = this.len[s]!;
			if (n === 0) continue;
			const from = this.off[s]!;
			data.set(this.data.subarray(from, from + n), at);
			if (aux && this.aux) aux.set(this.aux.subarray(from, from + n), at);
			this.off[s] = at;
			at += n;
		}
		this.data = data;
		this.aux = aux;
		this.used = at;
		this.waste = 0;
	}
}
