/**
 * The web shop as an OpenID Connect client of the shop's own provider (`/oidc`, client `shop-web`,
 * public): authorization code + PKCE (S256) through oauth4webapi (panva), no secret.
 *
 * - A sign-in leaves the page for the provider's sign-in page; the `state`, the PKCE verifier and
 *   where to come back to are kept in sessionStorage for that round trip only (removed at the callback).
 * - The callback (`/auth/callback`, the client's registered redirect URI) checks the state and
 *   exchanges the code; the tokens are handed to the caller and kept in memory only.
 * - `prompt=none` asks for a new code without a form while the provider's session cookie is valid
 *   (a reload signs in again silently); `login_required` means the visitor is signed out.
 * - Sign-out is RP-initiated logout: end_session with the ID token as hint and the shop's home as
 *   post_logout_redirect_uri.
 */
import * as oauth from "oauth4webapi";

export const CLIENT_ID = "shop-web";
export const SCOPE = "openid email profile";
const ROUND_TRIP_KEY = "shop.oidc.roundTrip";

const client: oauth.Client = { client_id: CLIENT_ID };
const clientAuth = oauth.None();
/** Plain http is only ever the shop on a developer's or test machine (loopback); anywhere else the shop is https. */
const requestOptions = { [oauth.allowInsecureRequests]: window.location.protocol === "http:" };

export const issuer = () => new URL(`${window.location.origin}/oidc`);
export const redirectUri = () => `${window.location.origin}/auth/callback`;

let metadata: Promise<oauth.AuthorizationServer> | null = null;

/** The provider's discovery document, fetched once per page (again after a failure). */
export function authorizationServer(): Promise<oauth.AuthorizationServer> {
	metadata ??= (async () => {
		const res = await oauth.discoveryRequest(issuer(), { ...requestOptions, algorithm: "oidc" });
		return oauth.processDiscoveryResponse(issuer(), res);
	})().catch(err => {
		metadata = null;
		throw err;
	});
	return metadata;
}

interface RoundTrip {
	state: string;
	codeVerifier: string;
	/** The path to show after signing in (this site's only). */
	next: string;
	silent: boolean;
}

export interface OidcTokens {
	accessToken: string;
	refreshToken: string | null;
	idToken: string | null;
	expiresIn: number;
}

export interface AuthorizeOptions {
	next: string;
	/** `prompt=none`: no form; the provider answers `login_required` when its session is gone. */
	silent?: boolean;
	loginHint?: string;
	uiLocales?: string;
}

/** Leave for the provider's authorization endpoint (the page unloads). */
export async function startAuthorization(opts: AuthorizeOptions): Promise<void> {
	const as = await authorizationServer();
	const codeVerifier = oauth.generateRandomCodeVerifier();
	const state = oauth.generateRandomState();
	const trip: RoundTrip = { state, codeVerifier, next: opts.next, silent: opts.silent === true };
	sessionStorage.setItem(ROUND_TRIP_KEY, JSON.stringify(trip));
	const url = new URL(as.authorization_endpoint!);
	url.searchParams.set("client_id", CLIENT_ID);
	url.searchParams.set("redirect_uri", redirectUri());
	url.searchParams.set("response_type", "code");
	url.searchParams.set("scope", SCOPE);
	url.searchParams.set("state", state);
	url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
	url.searchParams.set("code_challenge_method", "S256");
	if (opts.silent) url.searchParams.set("prompt", "none");
	if (opts.loginHint) url.searchParams.set("login_hint", opts.loginHint);
	if (opts.uiLocales) url.searchParams.set("ui_locales", opts.uiLocales);
	window.location.assign(url.href);
}

export type CallbackResult =
	| { kind: "tokens"; tokens: OidcTokens; next: string }
	/** The provider said no without a form (`login_required`, ...) to a silent attempt: signed out, no error to show. */
	| { kind: "signedOut"; next: string }
	| { kind: "error"; message: string; next: string };

/** At /auth/callback: the round trip's state checked, the code exchanged with its PKCE verifier. */
export async function finishAuthorization(currentUrl: URL): Promise<CallbackResult> {
	const raw = sessionStorage.getItem(ROUND_TRIP_KEY);
	sessionStorage.removeItem(ROUND_TRIP_KEY);
	let trip: RoundTrip | null;
	try {
		trip = raw ? (JSON.parse(raw) as RoundTrip) : null;
	} catch {
		trip = null;
	}
	if (!trip) return { kind: "error", message: "no sign-in in progress", next: "/" };
	const as = await authorizationServer();
	try {
		const params = oauth.validateAuthResponse(as, client, currentUrl, trip.state);
		const res = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri(), trip.codeVerifier, requestOptions);
		const result = await oauth.processAuthorizationCodeResponse(as, client, res, { requireIdToken: true });
		return { kind: "tokens", tokens: tokensOf(result), next: trip.next };
	} catch (err) {
		if (trip.silent && err instanceof oauth.AuthorizationResponseError) return { kind: "signedOut", next: trip.next };
		return { kind: "error", message: (err as Error).message, next: trip.next };
	}
}

/** A new pair for the refresh token (rotated: the old one is spent). Null when the provider refuses it (`invalid_grant`). */
export async function refreshTokens(refreshToken: string): Promise<OidcTokens | null> {
	const as = await authorizationServer();
	const res = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, requestOptions);
	try {
		return tokensOf(await oauth.processRefreshTokenResponse(as, client, res));
	} catch (err) {
		if (err instanceof oauth.ResponseBodyError) return null;
		throw err;
	}
}

/**
 * Leave for the provider's end_session endpoint (GET: the provider takes POST only with
 * SameSite=None cookies); it asks the user, ends the grant and sends the browser back home.
 */
export async function endSession(idToken: string | null): Promise<void> {
	const as = await authorizationServer();
	const url = new URL(as.end_session_endpoint!);
	url.searchParams.set("client_id", CLIENT_ID);
	if (idToken) url.searchParams.set("id_token_hint", idToken);
	url.searchParams.set("post_logout_redirect_uri", `${window.location.origin}/`);
	window.location.assign(url.href);
}

function tokensOf(r: oauth.TokenEndpointResponse): OidcTokens {
	return { accessToken: r.access_token, refreshToken: r.refresh_token ?? null, idToken: r.id_token ?? null, expiresIn: r.expires_in ?? 60 };
}
