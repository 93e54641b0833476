/**
 * Erasure of an account across the shop (GDPR Art. 17). The users service records the request
 * in `erasure_requests` with `user.erasure-requested` in that record's outbox (one write), erases
 * its own data at once (the account keeps only its id: a placeholder name and address, no
 * password, no sessions, tokens, addresses or throttles keyed by the address), and then records
 * each service's `user.erasure-acknowledged`; the request is complete when every participant has
 * acknowledged. Every step may run again without changing anything.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Context } from "moleculer";
import { config } from "../../lib/config.js";
import { notFound } from "../../lib/errors.js";
import { hashPassword } from "../../lib/auth/passwords.js";
import { domainEvent } from "../../lib/contracts/events.js";
import { DEFAULT_PREFERENCES, type UserRecord } from "../../lib/domain/users.js";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import type { Sessions } from "./sessions.js";
import type { AccountTokens } from "./account-tokens.js";

/** The services that hold personal data besides users, each acknowledging an erasure. */
export const ERASURE_PARTICIPANTS = ["orders", "tickets", "notifications", "pricing"] as const;

export interface ErasureRequest {
	_id: string;
	requestedAt: string;
	/** Service → when it acknowledged (users itself at once). */
	acknowledged: Record<string, string>;
	completedAt: string | null;
	version: number;
}

export interface ErasureStatus {
	requestedAt: string;
	acknowledged: string[];
	completedAt: string | null;
}

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,40}$/;
export const erasedEmailOf = (userId: string) => `erased-${userId}@erased.invalid`;

export class Erasure {
	constructor(
		private readonly users: Collection<UserRecord>,
		readonly requests: Collection<ErasureRequest>,
		private readonly sessions: Sessions,
		private readonly tokens: AccountTokens,
		/** Records keyed by the address's SHA-256 (login attempts), and by `address:` and that hash (email throttles). */
		private readonly attempts: Collection<{ _id: string }>,
		private readonly throttles: Collection<{ _id: string }>,
	) {}

	/** The erasure of the users service's own collections (`collection` is the service's DbMixin accessor). */
	static of(
		collection: <T extends { _id: string }>(name: string) => Collection<T>,
		users: Collection<UserRecord>,
		sessions: Sessions,
		tokens: AccountTokens,
	): Erasure {
		return new Erasure(users, collection<ErasureRequest>("erasure_requests"), sessions, tokens, collection("login_attempts"), collection("email_throttle"));
	}

	async request(userId: string, cause: Context | null): Promise<void> {
		const user = await this.users.findById(userId);
		if (!user) throw notFound("User", userId);
		const at = new Date().toISOString();
		try {
			await this.requests.insertWithEvents(
				{ _id: userId, requestedAt: at, acknowledged: { users: at }, completedAt: null, version: 0 },
				[domainEvent("user.erasure-requested", { userId })],
				cause,
			);
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err; // requested before: finish our own part if a crash cut it short
		}
		await this.eraseOwn(user);
	}

	private async eraseOwn(user: UserRecord): Promise<void> {
		const erasedEmail = erasedEmailOf(user._id);
		if (user.email !== erasedEmail) {
			const passwordHash = await hashPassword(randomBytes(32).toString("base64url"), config.bcryptCost);
			await this.users.updateById(user._id, {
				$set: {
					email: erasedEmail,
					name: "Erased customer",
					passwordHash,
					active: false,
					emailVerified: false,
					preferences: DEFAULT_PREFERENCES,
					addresses: [],
					updatedAt: new Date().toISOString(),
				},
			});
			const hash = createHash("sha256").update(user.email).digest("hex");
			await this.attempts.removeById(hash);
			await this.throttles.removeById(`address:${hash}`);
		}
		await this.sessions.revoke({ userId: user._id }, "account_deleted");
		await this.tokens.removeOfUser(user._id);
	}

	async acknowledge(userId: string, service: string): Promise<void> {
		if (!SERVICE_NAME.test(service)) return;
		await this.requests.change(userId, r => {
			if (r.acknowledged[service]) return null;
			const at = new Date().toISOString();
			const done = ERASURE_PARTICIPANTS.every(s => s === service || r.acknowledged[s]);
			return {
				expect: { version: r.version },
				update: { $set: { [`acknowledged.${service}`]: at, version: r.version + 1, ...(done ? { completedAt: at } : {}) } },
			};
		});
	}

	async status(userId: string): Promise<ErasureStatus | null> {
		const r = await this.requests.findById(userId);
		return r ? { requestedAt: r.requestedAt, acknowledged: Object.keys(r.acknowledged).sort(), completedAt: r.completedAt } : null;
	}
}
