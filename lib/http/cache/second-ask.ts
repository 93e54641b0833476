/**
 * Which answers are worth keeping: one asked again within `windowMs` of its last ask. A search page
 * is kept only LIST_TTL (1 s), and most searches are not asked again that soon: storing each one
 * (serialising, tagging, indexing, expiring it) cost the gateway 10–12 % of a search load's CPU for
 * entries that expired unread. Only keys are remembered here (at most `max`, the oldest forgotten
 * first), so a page is stored from its second ask on. Pure: the clock is passed in.
 */
export class SecondAsk {
	/** Key → when it was last asked; insertion order is age. */
	private readonly asked = new Map<string, number>();

	constructor(
		private readonly windowMs: number,
		private readonly max = 10_000,
	) {}

	/** Record an ask of `key`; true when it was asked before within the window. */
	askedAgain(key: string, now: number): boolean {
		const last = this.asked.get(key);
		this.asked.delete(key);
		this.asked.set(key, now);
		if (this.asked.size > this.max) this.asked.delete(this.asked.keys().next().value!);
		return last !== undefined && now - last <= this.windowMs;
	}

	get size(): number {
		return this.asked.size;
	}
}
