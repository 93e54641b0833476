/**
 * How often emails may be asked for (password reset, a new verification email): a fixed window
 * per key (an address's hash, a client), counted in the users database so every users node
 * counts the same. Each hit is one atomic increment within the window, or starts a new window.
 */
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";

export interface ThrottleRecord {
	_id: string;
	count: number;
	windowEndsAt: number;
}

export class EmailThrottle {
	constructor(private readonly windows: Collection<ThrottleRecord>) {}

	/** Counts one hit on `key`: 0 when it is within `limit`, else the seconds until the window ends. */
	async hit(key: string, limit: number, windowMs: number, now = Date.now()): Promise<number> {
		for (let tries = 0; tries < 3; tries++) {
			if ((await this.windows.updateWhere({ _id: key, windowEndsAt: { $gt: now } }, { $inc: { count: 1 } })) === 1) {
				const w = await this.windows.findById(key);
				return w && w.count > limit ? Math.max(1, Math.ceil((w.windowEndsAt - now) / 1000)) : 0;
			}
			if ((await this.windows.updateWhere({ _id: key, windowEndsAt: { $lte: now } }, { $set: { count: 1, windowEndsAt: now + windowMs } })) === 1)
				return 0;
			try {
				await this.windows.insert({ _id: key, count: 1, windowEndsAt: now + windowMs });
				return 0;
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err; // another hit made it: count on it
			}
		}
		return 0;
	}
}
