/**
 * The users service's part of the OpenID Connect provider (which runs on the gateway nodes,
 * services/api/identity.ts): everything it keeps or checks goes through these actions, so the
 * bcrypt check, the lockout and the storage stay here.
 *
 *   oidc*            internal (never routed): the provider's storage (oidc-store.ts), account
 *                    lookups and password checks, the signing and cookie keys, and the hooks that
 *                    tie a grant to a session row, so that the deny-list (sessions.ts) kills its
 *                    access tokens like any session's
 *   *OAuthClient*    the admin's /oauth-clients routes (oauth-clients.ts)
 */
import { createPrivateKey, randomBytes } from "node:crypto";
import type { Service } from "moleculer";
import { defineMixin } from "../../lib/broker/service.js";
import { config } from "../../lib/config.js";
import type { ShopContext } from "../../lib/auth/access.js";
import type { OAuthClientRecord } from "../../lib/identity/clients.js";
import { OAUTH_CLIENTS } from "../../lib/contracts/http/oauth-clients.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import { SESSIONS_REVOKED, type SessionsRevoked } from "../../lib/contracts/broadcasts.js";
import type { DbMethods } from "../../mixins/db.mixin.js";
import type { Accounts } from "./accounts.js";
import type { Sessions, SessionRecord } from "./sessions.js";
import type { SigningKeys } from "./signing-keys.js";
import { OidcModels, type OidcModelRecord } from "./oidc-store.js";
import { OAuthClients } from "./oauth-clients.js";

type Params<A extends keyof typeof OAUTH_CLIENTS> = ParamsOf<(typeof OAUTH_CLIENTS)[A]>;
interface OidcState {
	accounts: Accounts;
	sessions: Sessions;
	keys: SigningKeys;
	oidcModels: OidcModels;
	oauthClients: OAuthClients;
	oidcSweep?: NodeJS.Timeout;
}
type OidcThis = Service & DbMethods & OidcState;

export interface OidcAccountClaims {
	sub: string;
	email: string;
	name: string;
	roles: string[];
	locale: string;
}

const model = { model: { type: "string", max: 60 }, id: { type: "string", max: 400 } } as const;
const internal = { visibility: "public" as const };
const CLOCK_SKEW_MS = 60_000;
const COOKIE_KEYS_DOC = "CookieKeys";

export const OidcAccountsMixin = defineMixin<OidcThis>({
	settings: {
		$collections: {
			oidc_models: {
				indexes: [
					{ fields: { grantId: 1 }, sparse: true },
					{ fields: { uid: 1 }, sparse: true },
					{ fields: { userCode: 1 }, sparse: true },
					{ fields: { removeAt: 1 }, sparse: true },
				],
			},
			oauth_clients: { indexes: [{ fields: { clientId: 1 }, unique: true }] },
		},
	},

	actions: {
		oidcUpsert: {
			...internal,
			params: { ...model, payload: "object", expiresIn: { type: "number", optional: true } },
			async handler(this: OidcThis, ctx: ShopContext<{ model: string; id: string; payload: Record<string, unknown>; expiresIn?: number }>) {
				await this.oidcModels.upsert(ctx.params.model, ctx.params.id, ctx.params.payload, ctx.params.expiresIn);
				return null;
			},
		},
		oidcFind: {
			...internal,
			idempotent: true,
			params: model,
			async handler(this: OidcThis, ctx: ShopContext<{ model: string; id: string }>) {
				return (await this.oidcModels.find(ctx.params.model, ctx.params.id)) ?? null;
			},
		},
		oidcFindBy: {
			...internal,
			idempotent: true,
			params: { model: model.model, field: { type: "enum", values: ["uid", "userCode"] }, value: { type: "string", max: 400 } },
			async handler(this: OidcThis, ctx: ShopContext<{ model: string; field: "uid" | "userCode"; value: string }>) {
				return (await this.oidcModels.findBy(ctx.params.model, ctx.params.field, ctx.params.value)) ?? null;
			},
		},
		oidcConsume: {
			...internal,
			params: model,
			async handler(this: OidcThis, ctx: ShopContext<{ model: string; id: string }>) {
				await this.oidcModels.consume(ctx.params.model, ctx.params.id);
				return null;
			},
		},
		oidcDestroy: {
			...internal,
			idempotent: true,
			params: model,
			async handler(this: OidcThis, ctx: ShopContext<{ model: string; id: string }>) {
				await this.oidcModels.destroy(ctx.params.model, ctx.params.id);
				return null;
			},
		},
		oidcRevokeByGrantId: {
			...internal,
			idempotent: true,
			params: { grantId: { type: "string", max: 400 } },
			async handler(this: OidcThis, ctx: ShopContext<{ grantId: string }>) {
				await this.oidcModels.revokeByGrantId(ctx.params.grantId);
				return null;
			},
		},
		oidcClient: {
			...internal,
			idempotent: true,
			params: { clientId: { type: "string", max: 400 } },
			async handler(this: OidcThis, ctx: ShopContext<{ clientId: string }>) {
				return (await this.oauthClients.metadataOf(ctx.params.clientId)) ?? null;
			},
		},

		/** The login form's check: the account's id, or the same 401 (429 when locked) as POST /auth/login. */
		oidcAuthenticate: {
			...internal,
			params: { email: { type: "string", min: 1, max: 320 }, password: { type: "string", min: 1, max: 1000 } },
			async handler(this: OidcThis, ctx: ShopContext<{ email: string; password: string }>) {
				const user = await this.accounts.authenticate(ctx.params.email, ctx.params.password);
				return { accountId: user._id };
			},
		},
		/** What ID tokens and userinfo say about an account; null once it is gone or deactivated. */
		oidcAccount: {
			...internal,
			idempotent: true,
			params: { accountId: { type: "string", max: 100 } },
			async handler(this: OidcThis, ctx: ShopContext<{ accountId: string }>): Promise<OidcAccountClaims | null> {
				const u = await this.accounts.users.findById(ctx.params.accountId);
				return u?.active ? { sub: u._id, email: u.email, name: u.name, roles: u.roles, locale: u.preferences.language } : null;
			},
		},
		/**
		 * An access token is being issued for a grant (or a client's own credentials): its `sid` is a
		 * session row, opened here, so that ending the user's sessions (password, roles, deactivation)
		 * or the client's also kills it. A row already ended stays ended: its deny-list entry is renewed
		 * for this token, and the grant's refresh tokens are removed.
		 */
		oidcTokenIssued: {
			...internal,
			params: { sid: { type: "string", max: 400 }, accountId: { type: "string", max: 100, optional: true }, clientId: { type: "string", max: 400 } },
			async handler(this: OidcThis, ctx: ShopContext<{ sid: string; accountId?: string; clientId: string }>) {
				const { sid, accountId, clientId } = ctx.params;
				const rows = this.collection<SessionRecord & { clientId: string }>("sessions");
				const now = new Date();
				const row = await rows.insertOrGet({
					_id: sid,
					userId: accountId ?? `client:${clientId}`,
					clientId,
					currentHash: `oidc:${sid}`,
					usedHashes: [],
					revoked: false,
					expiresAt: new Date(now.getTime() + config.jwt.refreshTtlSeconds * 1000).toISOString(),
					createdAt: now.toISOString(),
					rotatedAt: now.toISOString(),
				});
				if (row.revoked) {
					await rows.updateWhere({ _id: sid }, { $set: { revokedAt: now.toISOString() } });
					await this.oidcModels.revokeByGrantId(sid);
					const until = new Date(now.getTime() + config.jwt.accessTtlSeconds * 1000 + CLOCK_SKEW_MS).toISOString();
					this.broker.broadcast(SESSIONS_REVOKED, { sessions: [{ id: sid, until }] } satisfies SessionsRevoked);
				}
				const user = accountId ? await this.accounts.users.findById(accountId) : null;
				return { roles: user?.roles ?? [] };
			},
		},
		/** The provider revoked a grant (logout, revocation, a replayed refresh token or code): its access tokens die. */
		oidcGrantRevoked: {
			...internal,
			idempotent: true,
			params: { grantId: { type: "string", max: 400 } },
			async handler(this: OidcThis, ctx: ShopContext<{ grantId: string }>) {
				await this.sessions.revoke({ _id: ctx.params.grantId }, "grant_revoked");
				return null;
			},
		},
		/** The key that signs, as a private JWK (the provider signs ID and access tokens with the users' key ring). */
		oidcSigningKeys: {
			...internal,
			idempotent: true,
			handler(this: OidcThis) {
				const key = this.keys.signing;
				const jwk = createPrivateKey(key.privateKeyPem).export({ format: "jwk" });
				return { keys: [{ ...jwk, kid: key.kid, alg: "RS256", use: "sig" }] };
			},
		},
		/** Cookie keys shared by every node: OIDC_COOKIE_KEYS, or made once and kept in the database. */
		oidcCookieKeys: {
			...internal,
			idempotent: true,
			async handler(this: OidcThis): Promise<string[]> {
				if (config.oidc.cookieKeys.length > 0) return config.oidc.cookieKeys;
				const made = [randomBytes(32).toString("base64url")];
				const docs = this.collection<OidcModelRecord>("oidc_models");
				const kept = await docs.insertOrGet({ _id: COOKIE_KEYS_DOC, model: COOKIE_KEYS_DOC, payload: JSON.stringify(made) });
				return JSON.parse(kept.payload) as string[];
			},
		},

		createOAuthClient: {
			roles: ["admin"],
			params: OAUTH_CLIENTS["users.createOAuthClient"],
			handler(this: OidcThis, ctx: ShopContext<Params<"users.createOAuthClient">>) {
				return this.oauthClients.create(ctx.params);
			},
		},
		listOAuthClients: {
			idempotent: true,
			roles: ["admin"],
			async handler(this: OidcThis) {
				return { items: await this.oauthClients.list() };
			},
		},
		updateOAuthClient: {
			idempotent: true,
			roles: ["admin"],
			params: OAUTH_CLIENTS["users.updateOAuthClient"],
			handler(this: OidcThis, ctx: ShopContext<Params<"users.updateOAuthClient">>) {
				return this.oauthClients.update(ctx.params);
			},
		},
		removeOAuthClient: {
			roles: ["admin"],
			params: OAUTH_CLIENTS["users.removeOAuthClient"],
			async handler(this: OidcThis, ctx: ShopContext<Params<"users.removeOAuthClient">>) {
				const removed = await this.oauthClients.remove(ctx.params.id);
				await this.sessions.revoke({ clientId: removed.clientId }, "grant_revoked");
				return null;
			},
		},
		rotateOAuthClientSecret: {
			roles: ["admin"],
			params: OAUTH_CLIENTS["users.rotateOAuthClientSecret"],
			handler(this: OidcThis, ctx: ShopContext<Params<"users.rotateOAuthClientSecret">>) {
				return this.oauthClients.rotateSecret(ctx.params.id);
			},
		},
	},

	async started() {
		this.oidcModels = new OidcModels(this.collection<OidcModelRecord>("oidc_models"));
		this.oauthClients = new OAuthClients(this.collection<OAuthClientRecord>("oauth_clients"));
		await this.oauthClients.seedWebShop(config.publicUrl);
		this.oidcSweep = setInterval(() => void this.oidcModels.sweep().catch(() => undefined), 10 * 60_000);
		this.oidcSweep.unref();
	},

	stopped() {
		if (this.oidcSweep) clearInterval(this.oidcSweep);
	},
});
