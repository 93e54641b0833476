/**
 * A gateway's deny-list of revoked sessions: an access token naming one of them is refused,
 * until the moment the session's last access token would have expired anyway (then the entry is
 * forgotten, so the list holds only the last ACCESS_TOKEN_TTL's revocations). Fed by the users
 * service's SESSIONS_REVOKED broadcast and by reading `users.revokedSessions`.
 */
import type { SessionsRevoked } from "../contracts/broadcasts.js";

export class RevokedSessions {
	private readonly until = new Map<string, number>();
	private lastPrune = 0;

	add(news: SessionsRevoked): void {
		for (const s of news.sessions) {
			const t = Date.parse(s.until);
			if (Number.isFinite(t) && t > (this.until.get(s.id) ?? 0)) this.until.set(s.id, t);
		}
	}

	isRevoked(sessionId: string, now = Date.now()): boolean {
		if (now - this.lastPrune > 60_000) this.prune(now);
		const t = this.until.get(sessionId);
		return t !== undefined && t > now;
	}

	prune(now = Date.now()): void {
		this.lastPrune = now;
		for (const [id, t] of this.until) if (t <= now) this.until.delete(id);
	}

	get size(): number {
		return this.until.size;
	}
}
