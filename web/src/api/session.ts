/**
 * The session: tokens and the signed-in user.
 *
 * - The access token lives only in memory (this module's `access`), is sent only in the
 *   Authorization header, and is lost on reload.
 * - The refresh token lives in localStorage (`shop.refreshToken`) so that a reload or a new tab
 *   stays signed in. It is rotated on every use (POST /auth/refresh answers a new pair and the
 *   old one stops working), so a stolen copy is either already spent or, when replayed, makes the
 *   server revoke the whole session. The CSP (`script-src 'self'`, no inline scripts) is what
 *   keeps other scripts from reading it. See web/README.md.
 * - One refresh at a time: concurrent requests that need a new access token share one in-flight
 *   refresh (`refreshing`), and tabs take turns through a Web Lock, each reading the latest
 *   refresh token inside the lock (a tab never presents a token another tab already rotated).
 * - Sign-out (here or in another tab) calls POST /auth/logout and clears tokens, user and cart
 *   state; the `storage` event carries it to the other tabs.
 */
import { createStore } from "../lib/store";
import type { User } from "./types";

const REFRESH_KEY = "shop.refreshToken";
/** Refresh a little before the access token expires, so that a request is not sent with a token about to die. */
const EXPIRY_MARGIN_MS = 20_000;

interface AccessToken {
	token: string;
	expiresAt: number;
}

export interface SessionState {
	/** `unknown` until the stored refresh token (if any) has been tried at start. */
	status: "unknown" | "signedIn" | "signedOut";
	user: User | null;
}

export const session = createStore<SessionState>({ status: "unknown", user: null });

let access: AccessToken | null = null;
let refreshing: Promise<string | null> | null = null;
/** Counts token changes, so that a request that got a 401 knows whether the token it used is still the current one. */
let generation = 0;

interface TokenPair {
	accessToken: string;
	refreshToken: string;
	expiresIn: number;
	user?: User;
}

function storedRefreshToken(): string | null {
	try {
		return localStorage.getItem(REFRESH_KEY);
	} catch {
		return null;
	}
}

function storeRefreshToken(token: string | null): void {
	try {
		if (token) localStorage.setItem(REFRESH_KEY, token);
		else localStorage.removeItem(REFRESH_KEY);
	} catch {
		/* storage disabled: the session lasts as long as the page */
	}
}

/** Keep a pair from /auth/login or /auth/refresh. */
export function acceptTokens(pair: TokenPair): void {
	access = { token: pair.accessToken, expiresAt: Date.now() + pair.expiresIn * 1000 };
	generation++;
	storeRefreshToken(pair.refreshToken);
	if (pair.user) session.set({ status: "signedIn", user: pair.user });
}

export function setUser(user: User): void {
	session.set({ status: "signedIn", user });
}

/** Forget everything locally (tokens, user). */
export function clearSession(): void {
	access = null;
	generation++;
	storeRefreshToken(null);
	session.set({ status: "signedOut", user: null });
}

export function tokenGeneration(): number {
	return generation;
}

/** A valid access token, refreshing first when it is missing or about to expire; null when signed out. */
export async function currentAccessToken(): Promise<string | null> {
	if (access && access.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return access.token;
	if (!storedRefreshToken()) return null;
	return refreshAccessToken();
}

/**
 * Rotate the refresh token for a new pair. Every caller during one refresh gets the same promise.
 * Resolves to the new access token, or null when the session is over (the refresh token was
 * refused); rejects on a network error (the session is kept, the caller may try again).
 */
export function refreshAccessToken(): Promise<string | null> {
	refreshing ??= withLock(async () => {
		const token = storedRefreshToken();
		if (!token) {
			clearSession();
			return null;
		}
		const res = await fetch("/api/v1/auth/refresh", {
			method: "POST",
			headers: { "content-type": "application/json", accept: "application/json" },
			body: JSON.stringify({ refreshToken: token }),
			credentials: "omit",
		});
		if (res.status === 401 || res.status === 400 || res.status === 422) {
			clearSession();
			return null;
		}
		if (!res.ok) throw new Error(`refresh failed with ${res.status}`);
		const pair = (await res.json()) as TokenPair;
		acceptTokens(pair);
		return pair.accessToken;
	}).finally(() => {
		refreshing = null;
	});
	return refreshing;
}

/** Tabs take turns to rotate the refresh token (Web Locks; without them, this tab alone is serialized). */
function withLock<T>(fn: () => Promise<T>): Promise<T> {
	const locks = (navigator as Navigator & { locks?: LockManager }).locks;
	if (!locks?.request) return fn();
	return locks.request("shop.refresh", fn) as Promise<T>;
}

/** POST /auth/logout with the current refresh token (best effort), then clear everything. */
export async function signOut(): Promise<void> {
	const token = storedRefreshToken();
	const bearer = access?.token ?? (token ? await currentAccessToken().catch(() => null) : null);
	if (token && bearer) {
		await fetch("/api/v1/auth/logout", {
			method: "POST",
			headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
			body: JSON.stringify({ refreshToken: storedRefreshToken() ?? token }),
			credentials: "omit",
		}).catch(() => undefined);
	}
	clearSession();
}

/** Another tab signed out (or in): follow it. */
export function watchOtherTabs(onSignedIn: () => void): void {
	window.addEventListener("storage", e => {
		if (e.key !== REFRESH_KEY) return;
		if (!e.newValue) {
			access = null;
			generation++;
			session.set({ status: "signedOut", user: null });
		} else if (session.get().status !== "signedIn") {
			onSignedIn();
		}
	});
}

export function hasStoredSession(): boolean {
	return storedRefreshToken() !== null;
}
