/**
 * The shop's OpenID Connect provider (oidc-provider), configured flow by flow:
 *
 * - authorization code with PKCE (S256 only, required of every client), refresh tokens rotated
 *   on every use (a replayed one revokes the grant), for the web shop and native apps;
 * - client credentials for confidential integrator clients (`client_secret_basic`);
 * - the device authorization grant (RFC 8628) for point-of-sale and TV clients;
 * - RP-initiated logout, revocation, introspection, userinfo, discovery;
 * - resource indicators: the shop API (`<public origin>/api/v1`) is every client's default
 *   resource, so its access tokens are RS256 JWTs (`typ: at+jwt`, RFC 9068) signed with the users
 *   service's key ring, carrying `roles` and `sid` (the grant, or `client:<id>`), which the
 *   gateway verifies and denies like any session's.
 *
 * Nothing is kept in this process: every model goes through `call` to the users service
 * (services/users/oidc-accounts.ts), so any node serving /oidc continues a flow another began.
 * The interactive pages (sign-in, consent) are services/api/identity.ts; the rest are here.
 */
import Provider, { errors, type KoaContextWithOIDC } from "oidc-provider";
import { API_SCOPES, grantableScopes } from "./scopes.js";
import { CSP, devicePage, deviceConfirmPage, errorPage, logoutPage, messagePage, pickLang } from "./pages.js";

export type Call = <T>(action: string, params: Record<string, unknown>) => Promise<T>;

export interface IdentitySettings {
	publicUrl: string;
	accessTtlSeconds: number;
	refreshTtlSeconds: number;
	authorizationCodeTtlSeconds: number;
	deviceCodeTtlSeconds: number;
	signingKeys: Record<string, unknown>[];
	cookieKeys: string[];
}

interface AccountClaims {
	sub: string;
	email: string;
	name: string;
	roles: string[];
	locale: string;
}

export const issuerOf = (publicUrl: string) => `${publicUrl}/oidc`;
export const apiResourceOf = (publicUrl: string) => `${publicUrl}/api/v1`;

/** The longest id, user code or uid the users service takes (its own are far shorter). */
const MAX_ID = 400;

/** oidc-provider's storage, one instance per model name, each operation one call to the users service. */
function remoteAdapter(call: Call) {
	return class RemoteAdapter {
		constructor(readonly name: string) {}
		async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
			if (this.name === "Client") return; // clients are registered through /oauth-clients only
			await call("users.oidcUpsert", { model: this.name, id, payload, ...(expiresIn ? { expiresIn } : {}) });
		}
		async find(id: string): Promise<Record<string, unknown> | undefined> {
			// A JWT presented where an opaque token is looked up (userinfo, introspection) names nothing stored.
			if (id.length > MAX_ID) return undefined;
			if (this.name === "Client") return (await call<Record<string, unknown> | null>("users.oidcClient", { clientId: id })) ?? undefined;
			return (await call<Record<string, unknown> | null>("users.oidcFind", { model: this.name, id })) ?? undefined;
		}
		async findByUserCode(userCode: string) {
			if (userCode.length > MAX_ID) return undefined;
			return (await call<Record<string, unknown> | null>("users.oidcFindBy", { model: this.name, field: "userCode", value: userCode })) ?? undefined;
		}
		async findByUid(uid: string) {
			if (uid.length > MAX_ID) return undefined;
			return (await call<Record<string, unknown> | null>("users.oidcFindBy", { model: this.name, field: "uid", value: uid })) ?? undefined;
		}
		async consume(id: string): Promise<void> {
			await call("users.oidcConsume", { model: this.name, id });
		}
		async destroy(id: string): Promise<void> {
			await call("users.oidcDestroy", { model: this.name, id });
		}
		async revokeByGrantId(grantId: string): Promise<void> {
			await call("users.oidcRevokeByGrantId", { grantId });
		}
	};
}

const langOf = (ctx: KoaContextWithOIDC) => pickLang(ctx.oidc?.params?.ui_locales as string | undefined, ctx.get("accept-language"));
function html(ctx: KoaContextWithOIDC, body: string): void {
	ctx.type = "html";
	ctx.set("Content-Security-Policy", CSP);
	ctx.body = body;
}

interface TokenLike {
	kind: string;
	accountId?: string;
	grantId?: string;
	clientId: string;
}

const ownTokensOnly = async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) => token.clientId === client.clientId;

export function createProvider(settings: IdentitySettings, call: Call): Provider {
	const api = apiResourceOf(settings.publicUrl);
	const account = (accountId: string) => call<AccountClaims | null>("users.oidcAccount", { accountId });

	/** The API scopes a resource server offers in this request: all of them to a client on its own, a user's roles' otherwise. */
	async function apiScopes(ctx: KoaContextWithOIDC, client: { shop_api_scopes?: string[] } | undefined): Promise<string> {
		const allowed = client?.shop_api_scopes ?? [];
		const accountId = ctx.oidc.session?.accountId ?? (ctx.oidc.entities.Grant as { accountId?: string } | undefined)?.accountId;
		if (!accountId) return API_SCOPES.filter(s => allowed.includes(s)).join(" ");
		const claims = await account(accountId);
		return grantableScopes(claims?.roles ?? [], allowed).join(" ");
	}

	const provider = new Provider(issuerOf(settings.publicUrl), {
		adapter: remoteAdapter(call),
		clients: [],
		jwks: { keys: settings.signingKeys },
		cookies: { keys: settings.cookieKeys },
		async findAccount(_ctx: unknown, sub: string) {
			const claims = await account(sub);
			if (!claims) return undefined;
			return { accountId: sub, claims: () => ({ sub, email: claims.email, email_verified: false, name: claims.name, locale: claims.locale }) };
		},
		claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "locale"] },
		scopes: ["openid", "offline_access", "profile", "email"],
		responseTypes: ["code"],
		extraClientMetadata: { properties: ["shop_first_party", "shop_api_scopes"] },
		clientDefaults: {
			grant_types: ["authorization_code"],
			response_types: ["code"],
			token_endpoint_auth_method: "none",
			id_token_signed_response_alg: "RS256",
		},
		enabledJWA: { idTokenSigningAlgValues: ["RS256"] },
		pkce: { required: () => true },
		rotateRefreshToken: () => true,
		// Logout ends the grant, refresh tokens included (offline_access does not outlive it).
		expiresWithSession: async () => true,
		issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) => client.grantTypeAllowed("refresh_token"),
		interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/oidc/interaction/${interaction.uid}` },
		ttl: {
			AccessToken: settings.accessTtlSeconds,
			ClientCredentials: settings.accessTtlSeconds,
			AuthorizationCode: settings.authorizationCodeTtlSeconds,
			DeviceCode: settings.deviceCodeTtlSeconds,
			IdToken: 3600,
			RefreshToken: settings.refreshTtlSeconds,
			Interaction: 3600,
			Session: 14 * 24 * 3600,
			Grant: settings.refreshTtlSeconds,
		},
		features: {
			devInteractions: { enabled: false },
			clientCredentials: { enabled: true },
			// A client introspects and revokes its own tokens only (the shop's resource server verifies JWTs itself).
			introspection: { enabled: true, allowedPolicy: ownTokensOnly },
			revocation: { enabled: true, allowedPolicy: ownTokensOnly },
			userinfo: { enabled: true },
			rpInitiatedLogout: {
				enabled: true,
				async logoutSource(ctx: KoaContextWithOIDC, form: string) {
					html(ctx, logoutPage(langOf(ctx), form));
				},
				async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
					html(ctx, messagePage(langOf(ctx), "loggedOut"));
				},
			},
			deviceFlow: {
				enabled: true,
				async userCodeInputSource(ctx: KoaContextWithOIDC, form: string, _out: unknown, err: unknown) {
					html(ctx, devicePage(langOf(ctx), form, !!err));
				},
				async userCodeConfirmSource(
					ctx: KoaContextWithOIDC,
					form: string,
					client: { clientName?: string; clientId: string },
					_info: unknown,
					userCode: string,
				) {
					html(ctx, deviceConfirmPage(langOf(ctx), form, client.clientName ?? client.clientId, userCode));
				},
				async successSource(ctx: KoaContextWithOIDC) {
					html(ctx, messagePage(langOf(ctx), "deviceDone"));
				},
			},
			resourceIndicators: {
				enabled: true,
				defaultResource: async () => api,
				useGrantedResource: async () => true,
				async getResourceServerInfo(ctx: KoaContextWithOIDC, indicator: string, client: { shop_api_scopes?: string[] }) {
					if (indicator !== api) throw new errors.InvalidTarget!("unknown resource");
					return {
						scope: await apiScopes(ctx, client),
						audience: api,
						accessTokenTTL: settings.accessTtlSeconds,
						accessTokenFormat: "jwt",
						jwt: { sign: { alg: "RS256" } },
					};
				},
			},
		},
		/** `sid` and `roles` in every access token: the gateway's deny-list and role checks read them. */
		async extraTokenClaims(_ctx: unknown, token: TokenLike) {
			const clientOnly = token.kind === "ClientCredentials";
			const sid = clientOnly ? `client:${token.clientId}` : (token.grantId ?? `client:${token.clientId}`);
			const { roles } = await call<{ roles: string[] }>("users.oidcTokenIssued", {
				sid,
				clientId: token.clientId,
				...(clientOnly || !token.accountId ? {} : { accountId: token.accountId }),
			});
			return { sid, roles };
		},
		async renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) {
			html(ctx, errorPage(langOf(ctx), out.error, out.error_description));
		},
		clientBasedCORS(_ctx: unknown, origin: string, client: { redirectUris?: string[] }) {
			return (client.redirectUris ?? []).some(u => u.startsWith(`${origin}/`));
		},
	});
	provider.proxy = true;
	return provider;
}
