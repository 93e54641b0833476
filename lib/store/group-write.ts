/**
 * Group commit without a timer: the first item is written at once; items that arrive while a
 * write is in flight wait and go together in the next one. Each caller's promise settles when the
 * write that carried its item did (rejected with that write's error).
 */
export class GroupWrite<T> {
	private pending: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
	private writing = false;

	constructor(
		private readonly write: (items: T[]) => Promise<void>,
		/** Items per write at most. */
		private readonly max = 200,
	) {}

	add(item: T): Promise<void> {
		return new Promise<void>((resolve, reject) => {
			this.pending.push({ item, resolve, reject });
			if (!this.writing) void this.drain();
		});
	}

	private async drain(): Promise<void> {
		this.writing = true;
		try {
			while (this.pending.length > 0) {
				const batch = this.pending.splice(0, this.max);
				try {
					await this.write(batch.map(b => b.item));
					for (const b of batch) b.resolve();
				} catch (err) {
					for (const b of batch) b.reject(err);
				}
			}
		} finally {
			this.writing = false;
		}
	}
}
