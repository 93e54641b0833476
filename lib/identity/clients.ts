/**
 * OAuth clients as the shop registers them, and the rules their registration follows:
 * redirect URIs match exactly (no wildcards, no fragments), `https` everywhere except on
 * loopback (RFC 8252 §7.3), private-use schemes (reverse DNS, RFC 8252 §7.1) for native apps
 * only; public clients never have a secret; grants and scopes from a closed list.
 */
import { API_SCOPES, OIDC_SCOPES, isApiScope } from "./scopes.js";
import type { Static } from "typebox";
import type { OAuthClient } from "../http/schemas.js";

export const GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
export const CLIENT_SCOPES = [...OIDC_SCOPES, ...API_SCOPES] as const;

export interface OAuthClientRecord {
	_id: string;
	clientId: string;
	name: string;
	type: "public" | "confidential";
	redirectUris: string[];
	postLogoutRedirectUris: string[];
	grantTypes: GrantType[];
	scopes: string[];
	/** SHA-256 (hex) of the secret; the secret itself is shown once and never stored. */
	secretHash?: string;
	/** The shop's own apps: no consent page. */
	firstParty: boolean;
	createdAt: string;
	updatedAt: string;
}

export type PublicOAuthClient = Static<typeof OAuthClient>;

export function publicClient(c: OAuthClientRecord): PublicOAuthClient {
	return {
		id: c._id,
		clientId: c.clientId,
		name: c.name,
		type: c.type,
		redirectUris: c.redirectUris,
		postLogoutRedirectUris: c.postLogoutRedirectUris,
		grantTypes: c.grantTypes,
		scopes: c.scopes,
		firstParty: c.firstParty,
		createdAt: c.createdAt,
		updatedAt: c.updatedAt,
	};
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** Why a redirect URI cannot be registered, or undefined when it can. */
export function redirectUriProblem(uri: string, type: "public" | "confidential"): string | undefined {
	if (uri.includes("*")) return "A redirect URI is matched exactly: no wildcards.";
	let url: URL;
	try {
		url = new URL(uri);
	} catch {
		return "A redirect URI must be an absolute URI.";
	}
	if (url.hash || uri.includes("#")) return "A redirect URI has no fragment.";
	if (url.protocol === "https:") return undefined;
	if (url.protocol === "http:") return LOOPBACK_HOSTS.has(url.hostname) ? undefined : "A redirect URI uses https, or http on a loopback address only.";
	// A private-use scheme (com.example.app:/callback) is a native app's, which cannot keep a secret.
	if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(url.protocol) && type === "public") return undefined;
	return "A redirect URI uses https, http on loopback, or a reverse-DNS private-use scheme (public native clients).";
}

/** What is wrong with a grant combination, if anything. */
export function grantProblem(type: "public" | "confidential", grants: readonly GrantType[], redirectUris: readonly string[]): string | undefined {
	if (type === "public" && grants.includes("client_credentials")) return "A public client cannot use client_credentials: it has no secret.";
	if (grants.includes("refresh_token") && !grants.includes("authorization_code") && !grants.includes("urn:ietf:params:oauth:grant-type:device_code"))
		return "refresh_token comes with authorization_code or the device grant.";
	if (grants.includes("authorization_code") && redirectUris.length === 0) return "authorization_code needs at least one redirect URI.";
	return undefined;
}

/** The client's metadata as oidc-provider reads it (Client model). `client_secret` is the secret's hash: see services/api/identity.ts. */
export function providerMetadata(c: OAuthClientRecord): Record<string, unknown> {
	const native = c.redirectUris.some(u => !/^https?:/.test(u));
	return {
		client_id: c.clientId,
		client_name: c.name,
		application_type: native ? "native" : "web",
		redirect_uris: c.redirectUris,
		post_logout_redirect_uris: c.postLogoutRedirectUris,
		grant_types: c.grantTypes,
		response_types: c.grantTypes.includes("authorization_code") ? ["code"] : [],
		// oidc-provider allow-lists only its own (OpenID) scopes per client; the API's are the resource server's, narrowed per client by shop_api_scopes.
		scope: OIDC_SCOPES.filter(s => s !== "offline_access" || c.grantTypes.includes("refresh_token")).join(" "),
		shop_api_scopes: c.scopes.filter(isApiScope),
		...(c.type === "confidential" && c.secretHash
			? { token_endpoint_auth_method: "client_secret_basic", client_secret: c.secretHash }
			: { token_endpoint_auth_method: "none" }),
		shop_first_party: c.firstParty,
	};
}
