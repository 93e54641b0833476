/**
 * The session: tokens and the signed-in user. The tokens come from the shop's OpenID provider
 * (./oidc.ts: code + PKCE as the public client `shop-web`).
 *
 * - The access, refresh and ID tokens live only in this module's memory, are sent only in the
 *   Authorization header (and the refresh token only to the token endpoint), and are lost on
 *   reload: the page then signs in again silently (`prompt=none`) while the provider's session
 *   cookie is valid. localStorage holds only a marker that someone signed in here
 *   (`shop.signedIn`, no secret), so that an anonymous visitor is not sent to the provider on
 *   every load, and so that a sign-out in one tab reaches the others (`storage` event).
 * - One refresh at a time: concurrent requests that need a new access token share one in-flight
 *   refresh (`refreshing`). The refresh token is rotated on every use; each tab has its own.
 * - Sign-out clears tokens, user and cart state, then leaves for the provider's end_session
 *   endpoint (RP-initiated logout), which ends the grant: its access tokens are refused within a second.
 */
import { createStore } from "../lib/store";
import { endSession, refreshTokens, type OidcTokens } from "./oidc";
import type { User } from "./types";

const SIGNED_IN_KEY = "shop.signedIn";
/** Refresh a little before the access token expires, so that a request is not sent with a token about to die. */
const EXPIRY_MARGIN_MS = 20_000;

interface Tokens {
	access: string;
	expiresAt: number;
	refresh: string | null;
	id: string | null;
}

export interface SessionState {
	/** `unknown` until a silent sign-in (if any) has been tried at start. */
	status: "unknown" | "signedIn" | "signedOut";
	user: User | null;
}

export const session = createStore<SessionState>({ status: "unknown", user: null });

let tokens: Tokens | null = null;
let refreshing: Promise<string | null> | null = null;
/** Counts token changes, so that a request that got a 401 knows whether the token it used is still the current one. */
let generation = 0;

function setMarker(on: boolean): void {
	try {
		if (on) localStorage.setItem(SIGNED_IN_KEY, "1");
		else localStorage.removeItem(SIGNED_IN_KEY);
	} catch {
		/* storage disabled: no silent sign-in after a reload */
	}
}

/** Someone signed in in this browser and did not sign out: worth a silent sign-in at start. */
export function wasSignedIn(): boolean {
	try {
		return localStorage.getItem(SIGNED_IN_KEY) === "1";
	} catch {
		return false;
	}
}

/** Keep the tokens of a sign-in or a refresh (the ID token of the sign-in stays when a refresh brings none). */
export function acceptTokens(t: OidcTokens): void {
	tokens = { access: t.accessToken, expiresAt: Date.now() + t.expiresIn * 1000, refresh: t.refreshToken, id: t.idToken ?? tokens?.id ?? null };
	generation++;
	setMarker(true);
}

export function setUser(user: User): void {
	session.set({ status: "signedIn", user });
}

/** Forget everything locally (tokens, user). */
export function clearSession(): void {
	tokens = null;
	generation++;
	setMarker(false);
	session.set({ status: "signedOut", user: null });
}

export function tokenGeneration(): number {
	return generation;
}

/** A valid access token, refreshing first when it is about to expire; null when signed out. */
export async function currentAccessToken(): Promise<string | null> {
	if (!tokens) return null;
	if (tokens.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return tokens.access;
	return refreshAccessToken();
}

/**
 * Rotate the refresh token for a new access token. Every caller during one refresh gets the same
 * promise. Resolves to the new access token, or null when the session is over (no refresh token,
 * or the provider refused it); rejects on a network error (the session is kept, the caller may try again).
 */
export function refreshAccessToken(): Promise<string | null> {
	refreshing ??= (async () => {
		const refresh = tokens?.refresh;
		if (!refresh) {
			if (tokens) clearSession();
			return null;
		}
		const next = await refreshTokens(refresh);
		if (!next) {
			clearSession();
			return null;
		}
		acceptTokens(next);
		return next.accessToken;
	})().finally(() => {
		refreshing = null;
	});
	return refreshing;
}

/** Clear everything here, then end the provider's session (the page leaves for it and comes back to the home page). */
export async function signOut(): Promise<void> {
	const idToken = tokens?.id ?? null;
	clearSession();
	await endSession(idToken);
}

/** Another tab signed out: follow it (a sign-in elsewhere is picked up at the next load, not by leaving this page). */
export function watchOtherTabs(): void {
	window.addEventListener("storage", e => {
		if (e.key !== SIGNED_IN_KEY || e.newValue) return;
		tokens = null;
		generation++;
		session.set({ status: "signedOut", user: null });
	});
}
