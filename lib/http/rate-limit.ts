/**
 * A fixed-window request counter per client for moleculer-web's `rateLimit`, which several
 * routes can share (the credential routes, `/auth/*` and `POST /me/password`, count against one
 * limit). moleculer-web makes a store per route with `new StoreFactory(window)`; a factory that
 * returns one existing store makes them share it.
 */
export class SharedWindowStore {
	private hits = new Map<string, number>();
	resetTime: number;
	private readonly timer: NodeJS.Timeout;

	constructor(private readonly windowMs: number) {
		this.resetTime = Date.now() + windowMs;
		this.timer = setInterval(() => {
			this.resetTime = Date.now() + this.windowMs;
			this.hits = new Map();
		}, windowMs);
		this.timer.unref();
	}

	inc(key: string): number {
		const n = (this.hits.get(key) ?? 0) + 1;
		this.hits.set(key, n);
		return n;
	}

	/** What moleculer-web's `StoreFactory` option takes, answering this store for every route. */
	factory(): new () => SharedWindowStore {
		return alwaysMaking(this);
	}
}

/** A class whose `new` answers `store` every time (a constructor that returns an object makes `new` answer it). */
function alwaysMaking<T extends object>(store: T): new () => T {
	return class SharedStoreFactory {
		constructor() {
			return store;
		}
	} as new () => T;
}
