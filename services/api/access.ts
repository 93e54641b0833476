/**
 * Who is calling, decided at the gateway without a network hop per request:
 * - the access token is verified locally against the users service's JWKS (fetched once, again
 *   for an unknown `kid` and when the users service says its keys changed);
 * - its session must not be on the deny-list of revoked sessions, which the users service's
 *   SESSIONS_REVOKED broadcasts feed within milliseconds, and which is read in full at start and
 *   caught up every REVOCATION_SYNC_MS (a gateway that was cut off misses no revocation for long);
 * - the called action's `auth` and `roles` decide whether that caller may call it.
 */
import type { IncomingMessage } from "node:http";
import type { ServiceBroker } from "moleculer";
import { AccessTokenVerifier, InvalidTokenError, type Jwks, type TrustedIssuer } from "../../lib/auth/tokens.js";
import { parseScope, rolesForClientScopes, scopeAllows } from "../../lib/identity/scopes.js";
import { RevokedSessions } from "../../lib/auth/revoked-sessions.js";
import { authorize, type ActionAccess, type AuthUser, type Role } from "../../lib/auth/access.js";
import { forbidden, unauthorized } from "../../lib/errors.js";
import type { SessionsRevoked } from "../../lib/contracts/broadcasts.js";

const REVOCATION_SYNC_MS = 15_000;
/** How far back each catch-up reads (a broadcast that raced the previous read is read again). */
const SYNC_OVERLAP_MS = 60_000;
const BEARER = /^bearer +([A-Za-z0-9_\-.=]+) *$/i;

export class GatewayAccess {
	readonly verifier: AccessTokenVerifier;
	readonly revoked = new RevokedSessions();
	/** The deny-list has been read from the users service at least once. */
	revocationsLoaded = false;
	private lastSync?: number;
	private timer?: NodeJS.Timeout;
	/** Called after each read of the deny-list (the readiness gate looks again). */
	onLoaded?: () => void;

	constructor(
		private readonly broker: ServiceBroker,
		settings: TrustedIssuer[],
	) {
		this.verifier = new AccessTokenVerifier(() => broker.call<Jwks, Record<string, never>>("users.jwks", {}, { timeout: 5000, retries: 2 }), settings);
	}

	/** Read the deny-list now (at start: waiting a bounded time for the users service), then keep it current. */
	async start(): Promise<void> {
		await this.broker.waitForServices(["users"], 10_000).catch(() => undefined);
		await this.sync().catch(err => this.broker.logger.warn(`Revoked sessions not read yet (${(err as Error).message}); retrying`));
		this.timer = setInterval(() => void this.sync().catch(() => undefined), this.revocationsLoaded ? REVOCATION_SYNC_MS : 1000);
		this.timer.unref();
	}

	stop(): void {
		if (this.timer) clearInterval(this.timer);
	}

	async sync(): Promise<void> {
		const started = Date.now();
		const since = this.lastSync === undefined ? undefined : new Date(this.lastSync - SYNC_OVERLAP_MS).toISOString();
		const news = await this.broker.call<SessionsRevoked, { since?: string }>("users.revokedSessions", since ? { since } : {}, { timeout: 5000 });
		this.revoked.add(news);
		this.lastSync = started;
		this.onLoaded?.();
		if (!this.revocationsLoaded) {
			this.revocationsLoaded = true;
			// From now on a slow catch-up is enough: broadcasts carry the news.
			if (this.timer) clearInterval(this.timer);
			this.timer = setInterval(() => void this.sync().catch(() => undefined), REVOCATION_SYNC_MS);
			this.timer.unref();
		}
	}

	/** The caller of a request: null without an Authorization header, 401 for a bad, expired or revoked token. */
	async authenticate(req: IncomingMessage): Promise<AuthUser | null> {
		const header = req.headers.authorization;
		if (!header) return null;
		const m = BEARER.exec(header);
		if (!m?.[1]) throw unauthorized("The Authorization header must be 'Bearer <accessToken>'", "INVALID_TOKEN");
		let claims;
		try {
			claims = await this.verifier.verify(m[1]);
		} catch (err) {
			if (err instanceof InvalidTokenError) throw unauthorized("The access token is invalid or expired", "INVALID_TOKEN");
			throw err;
		}
		if (this.revoked.isRevoked(claims.sid)) throw unauthorized("The access token is invalid or expired", "INVALID_TOKEN");
		if (claims.sid.startsWith("client:")) {
			const scopes = parseScope(claims.scope);
			return { id: claims.client_id ?? claims.sub, roles: rolesForClientScopes(scopes), sessionId: claims.sid, scopes };
		}
		return { id: claims.sub, roles: claims.roles as Role[], sessionId: claims.sid };
	}

	authorize(user: AuthUser | null | undefined, action: ActionAccess | undefined): void {
		// A client on its own reaches only what its scopes open. Checked here only: the calls an action
		// makes on the client's behalf carry the same user and are not the client's to choose.
		if (action && action.auth !== "public" && user?.scopes && !scopeAllows(user.scopes, action.name ?? ""))
			throw forbidden("The token's scopes do not allow this", "INSUFFICIENT_SCOPE");
		authorize(user, action);
	}
}
