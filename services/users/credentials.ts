/**
 * The per-account throttle in front of every password check (login and password change share
 * it, keyed by the account's email). The rules are lib/domain/users.ts; this is their storage:
 * each attempt is one atomic increment of the account's counter (made if missing) before the
 * password is looked at, and the decision follows from the value that increment wrote, so
 * fifteen parallel guesses count fifteen and only the allowed ones are checked.
 */
import { createHash } from "node:crypto";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import { tooManyRequests } from "../../lib/errors.js";
import { failureLocks, lockedFor, lockHasExpired, mayCheckCredentials, type CredentialAttempts } from "../../lib/domain/users.js";

export interface AttemptsRecord extends CredentialAttempts {
	_id: string;
}

export interface ThrottleLimits {
	maxFailures: number;
	lockSeconds: number;
}

/** The record id of an address's attempts. */
export const attemptsKeyOf = (email: string) => createHash("sha256").update(email).digest("hex");

export class CredentialGuard {
	constructor(
		private readonly attempts: Collection<AttemptsRecord>,
		private readonly limits: () => ThrottleLimits,
		private readonly onLocked: () => void = () => undefined,
	) {}

	/**
	 * Runs `check` (the password comparison) unless the account is locked or this attempt is
	 * beyond the limit (429 with Retry-After). Answers what `check` answered; a failure may lock.
	 */
	async check(email: string, check: () => Promise<boolean>): Promise<boolean> {
		// Counted under the address's hash: whoever types an address, the database does not keep it.
		const key = attemptsKeyOf(email);
		const { maxFailures, lockSeconds } = this.limits();
		const now = Date.now();
		const seen = await this.attempts.findById(key);
		this.refuseIfLocked(seen, now);
		if (lockHasExpired(seen, now)) await this.attempts.updateWhere({ _id: key, lockedUntil: seen!.lockedUntil }, { $set: { attempts: 0, lockedUntil: 0 } });

		const counted = await this.count(key);
		if (!mayCheckCredentials(counted, maxFailures)) {
			await this.lock(key, now + lockSeconds * 1000);
			this.refuseIfLocked(await this.attempts.findById(key), now, lockSeconds);
		}
		if (await check()) {
			await this.attempts.removeById(key);
			return true;
		}
		if (failureLocks(counted, maxFailures)) await this.lock(key, Date.now() + lockSeconds * 1000);
		return false;
	}

	private refuseIfLocked(state: AttemptsRecord | null, now: number, fallbackSeconds?: number): void {
		const wait = lockedFor(state, now) || fallbackSeconds || 0;
		if (wait > 0) {
			this.onLocked();
			throw tooManyRequests(wait, "Too many failed attempts for this account; try again later");
		}
	}

	/** One atomic increment, inserting the counter when it is missing; answers the state written. */
	private async count(key: string): Promise<AttemptsRecord> {
		for (;;) {
			const counted = await this.attempts.updateById(key, { $inc: { attempts: 1 } });
			if (counted) return counted;
			try {
				return await this.attempts.insert({ _id: key, attempts: 1, lockedUntil: 0 });
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err; // another attempt made it first: count on it
			}
		}
	}

	/** Lock until `until` unless a lock is already running (the first lock's end stands). */
	private async lock(key: string, until: number): Promise<void> {
		await this.attempts.updateWhere({ _id: key, lockedUntil: { $lte: Date.now() } }, { $set: { lockedUntil: until } });
	}
}
