/**
 * Sessions: one per login, holding the hash of its current refresh token. A refresh rotates
 * the token (compare-and-set on the hash, so of two uses of one token exactly one wins); a used
 * token presented again ends the whole session (refresh-token reuse detection, RFC 9700 §4.14).
 *
 * Ending a session also voids its access tokens at once: every access token names its session
 * (`sid`), the revocation is broadcast to every gateway (lib/contracts/broadcasts.ts), and the
 * gateways keep a deny-list of revoked sessions until their last access token would have
 * expired. A gateway that missed the broadcast catches up from `revokedSince`.
 */
import { randomUUID } from "node:crypto";
import type { ServiceBroker } from "moleculer";
import type { Collection, Query } from "../../lib/store/index.js";
import { unauthorized } from "../../lib/errors.js";
import { hashRefreshToken, newRefreshToken } from "../../lib/auth/tokens.js";
import { SESSIONS_REVOKED, type SessionsRevoked } from "../../lib/contracts/broadcasts.js";
import { logSecurityEvent } from "../../lib/observability/security-log.js";

export interface SessionRecord {
	_id: string;
	userId: string;
	currentHash: string;
	usedHashes: string[];
	revoked: boolean;
	revokedReason?: string;
	revokedAt?: string;
	expiresAt: string;
	createdAt: string;
	rotatedAt: string;
}

export type RevocationReason =
	"logout" | "refresh_token_reuse" | "password_changed" | "account_changed" | "account_deleted" | "grant_revoked" | "password_reset";

export interface SessionTimes {
	accessTtlSeconds: number;
	refreshTtlSeconds: number;
}

/** Clocks of different nodes differ a little: deny a revoked session a minute longer than strictly needed. */
const CLOCK_SKEW_MS = 60_000;
const invalidRefresh = () => unauthorized("The refresh token is invalid, expired or already used", "INVALID_REFRESH_TOKEN");

export class Sessions {
	constructor(
		private readonly sessions: Collection<SessionRecord>,
		private readonly broker: ServiceBroker,
		private readonly times: () => SessionTimes,
		private readonly log: { warn(msg: string): void },
	) {}

	/** A new session for a login: its id and its first refresh token. */
	async open(userId: string): Promise<{ sessionId: string; refreshToken: string }> {
		const refreshToken = newRefreshToken();
		const now = new Date();
		const sessionId = randomUUID();
		await this.sessions.insert({
			_id: sessionId,
			userId,
			currentHash: hashRefreshToken(refreshToken),
			usedHashes: [],
			revoked: false,
			expiresAt: new Date(now.getTime() + this.times().refreshTtlSeconds * 1000).toISOString(),
			createdAt: now.toISOString(),
			rotatedAt: now.toISOString(),
		});
		return { sessionId, refreshToken };
	}

	/** Trade a refresh token for the next one; 401 for anything but the session's current, unexpired token. */
	async rotate(refreshToken: string): Promise<{ session: SessionRecord; refreshToken: string }> {
		const hash = hashRefreshToken(refreshToken);
		const session = await this.sessions.findOne({ currentHash: hash });
		if (!session || session.revoked || session.expiresAt < new Date().toISOString()) {
			// A token that was already rotated away is being replayed: end that whole session.
			const stolen = session ?? (await this.sessions.findOne({ usedHashes: hash }));
			if (stolen && !stolen.revoked && (await this.revoke({ _id: stolen._id }, "refresh_token_reuse"))) {
				logSecurityEvent(this.log, "refresh_token_reuse", { sessionId: stolen._id, userId: stolen.userId, sessionRevoked: true });
			}
			throw invalidRefresh();
		}
		const next = newRefreshToken();
		// Compare-and-set: of two concurrent uses of one token, only one rotates it.
		const rotated = await this.sessions.updateWhere(
			{ _id: session._id, currentHash: hash, revoked: false },
			{ $set: { currentHash: hashRefreshToken(next), rotatedAt: new Date().toISOString() }, $push: { usedHashes: hash } },
		);
		if (rotated === 0) {
			await this.revoke({ _id: session._id }, "refresh_token_reuse");
			logSecurityEvent(this.log, "refresh_token_reuse", { sessionId: session._id, userId: session.userId, sessionRevoked: true });
			throw invalidRefresh();
		}
		return { session, refreshToken: next };
	}

	/** The session a refresh token currently opens, if any (logout). */
	async findByRefreshToken(refreshToken: string, userId: string): Promise<SessionRecord | null> {
		return this.sessions.findOne({ currentHash: hashRefreshToken(refreshToken), userId });
	}

	/**
	 * End the sessions that match (and are not ended yet), and tell every gateway. Answers how
	 * many ended. A session made while this runs is not in the list; the callers that end all of
	 * a user's sessions also refuse new logins for that user (deactivated, deleted) or issue
	 * tokens with the new roles (a role change), so a late session is harmless.
	 */
	async revoke(match: Query, reason: RevocationReason): Promise<number> {
		const open = await this.sessions.find({ query: { ...match, revoked: false } });
		if (open.length === 0) return 0;
		const at = new Date();
		const ids = open.map(s => s._id);
		await this.sessions.updateWhere({ _id: { $in: ids }, revoked: false }, { $set: { revoked: true, revokedReason: reason, revokedAt: at.toISOString() } });
		const until = new Date(at.getTime() + this.times().accessTtlSeconds * 1000 + CLOCK_SKEW_MS).toISOString();
		const news: SessionsRevoked = { sessions: ids.map(id => ({ id, until })) };
		this.broker.broadcast(SESSIONS_REVOKED, news);
		return ids.length;
	}

	/** Sessions revoked at or after `since` whose access tokens may still be unexpired: a gateway's deny-list. */
	async revokedSince(since: string | undefined): Promise<SessionsRevoked> {
		const ttlMs = this.times().accessTtlSeconds * 1000 + CLOCK_SKEW_MS;
		const horizon = new Date(Date.now() - ttlMs).toISOString();
		const from = since && since > horizon ? since : horizon;
		const rows = await this.sessions.find({ query: { revoked: true, revokedAt: { $gte: from } } });
		return { sessions: rows.map(s => ({ id: s._id, until: new Date(Date.parse(s.revokedAt!) + ttlMs).toISOString() })) };
	}
}
