/**
 * Single-use tokens sent by email: password reset (30 minutes) and address verification (24 hours).
 * 256 random bits each; only their SHA-256 is stored (the `_id`), so the database never holds a
 * usable token. Using one is a compare-and-set of `usedAt`: of two uses at once, one wins.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Collection } from "../../lib/store/index.js";

export type AccountTokenKind = "password_reset" | "verification";

export const TOKEN_TTL_MS: Record<AccountTokenKind, number> = { password_reset: 30 * 60_000, verification: 24 * 3600_000 };

export interface AccountTokenRecord {
	/** SHA-256 of the token, hex. */
	_id: string;
	kind: AccountTokenKind;
	/** Null for a reset asked for an address with no account (the same work is done, nothing is sent). */
	userId: string | null;
	expiresAt: number;
	usedAt: string | null;
	createdAt: string;
}

const hashOf = (token: string) => createHash("sha256").update(token, "utf8").digest("hex");
/** Tokens kept after they expired, for nothing but a clear answer; then removed. */
const KEEP_EXPIRED_MS = 24 * 3600_000;

export class AccountTokens {
	constructor(readonly tokens: Collection<AccountTokenRecord>) {}

	/** A new token for `userId` (the raw value, to be emailed; only its hash is stored). */
	async issue(kind: AccountTokenKind, userId: string | null, now = Date.now()): Promise<string> {
		const token = randomBytes(32).toString("base64url");
		await this.tokens.insert({
			_id: hashOf(token),
			kind,
			userId,
			expiresAt: now + TOKEN_TTL_MS[kind],
			usedAt: null,
			createdAt: new Date(now).toISOString(),
		});
		return token;
	}

	/** Uses the token once: the user it was for, or null when it is unknown, expired, used, or of another kind. */
	async use(kind: AccountTokenKind, token: string, now = Date.now()): Promise<string | null> {
		if (token.length > 200) return null;
		const _id = hashOf(token);
		const used = await this.tokens.updateWhere({ _id, kind, usedAt: null, expiresAt: { $gt: now } }, { $set: { usedAt: new Date(now).toISOString() } });
		if (used !== 1) return null;
		return (await this.tokens.findById(_id))?.userId ?? null;
	}

	/** Every unused token of a user of this kind stops working (a new password, a verified address). */
	async revokeAll(kind: AccountTokenKind, userId: string): Promise<void> {
		await this.tokens.updateWhere({ kind, userId, usedAt: null }, { $set: { usedAt: new Date().toISOString() } });
	}

	async removeExpired(now = Date.now()): Promise<number> {
		return this.tokens.removeWhere({ expiresAt: { $lt: now - KEEP_EXPIRED_MS } });
	}

	async removeOfUser(userId: string): Promise<number> {
		return this.tokens.removeWhere({ userId });
	}
}
