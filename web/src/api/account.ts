/** Sign in, register, sign out and the things the header shows (cart size, unread notifications). */
import { get, post } from "./client";
import { acceptTokens, clearSession, session, setUser, signOut as endSession, wasSignedIn } from "./session";
import { finishAuthorization, startAuthorization } from "./oidc";
import { createStore } from "../lib/store";
import { language, setLanguage } from "../i18n";
import type { Cart, Page, Notification, User } from "./types";

export const cartCount = createStore<number>(0);
export const unreadCount = createStore<number>(0);

/** The provider's redirect URI: a client route that only finishes a sign-in. */
export const CALLBACK_PATH = "/auth/callback";
/** A silent sign-in was tried in this tab's session already: a failed one is not repeated on every load. */
const SILENT_TRIED_KEY = "shop.oidc.silentTried";

/** Leave for the provider's sign-in page; back at `next` once signed in. */
export function signIn(next: string, loginHint?: string): Promise<void> {
	return startAuthorization({ next, loginHint, uiLocales: language.get() });
}

/** The shop's own registration form, then the provider's sign-in (the email filled in). */
export async function register(name: string, email: string, password: string, next: string): Promise<void> {
	// The language the shop is read in: the welcome (verification) email is written in it.
	await post("/auth/register", { name, email, password, preferences: { language: language.get() } }, { auth: false });
	await signIn(next, email);
}

export async function signOut(): Promise<void> {
	cartCount.set(0);
	unreadCount.set(0);
	setLanguage(null);
	await endSession();
}

/**
 * At /auth/callback: exchange the code, load the user, and answer where to go next (a path of this
 * site). Throws when the sign-in failed (the page shows it).
 */
export async function completeSignIn(): Promise<string> {
	const result = await finishAuthorization(new URL(window.location.href));
	if (result.kind === "signedOut") {
		clearSession();
		return result.next;
	}
	if (result.kind === "error") {
		clearSession();
		throw new Error(result.message);
	}
	acceptTokens(result.tokens);
	sessionStorage.removeItem(SILENT_TRIED_KEY);
	await reloadMe();
	void refreshBadges();
	return result.next;
}

/**
 * At start (not on the callback route): nothing in memory survives a load, so someone who signed
 * in here before is sent through the provider without a form (`prompt=none`) once per tab session;
 * everyone else is signed out.
 */
export async function restoreSession(): Promise<void> {
	if (window.location.pathname === CALLBACK_PATH) return;
	if (!wasSignedIn() || sessionStorage.getItem(SILENT_TRIED_KEY)) {
		clearSession();
		return;
	}
	sessionStorage.setItem(SILENT_TRIED_KEY, "1");
	try {
		await startAuthorization({ next: window.location.pathname + window.location.search, silent: true });
	} catch {
		// The provider did not answer: show the shop signed out; the next load tries again.
		sessionStorage.removeItem(SILENT_TRIED_KEY);
		if (session.get().status === "unknown") session.set({ status: "signedOut", user: null });
	}
}

export async function reloadMe(): Promise<void> {
	const me = await get<User>("/me");
	setUser(me);
	setLanguage(me.preferences?.language);
}

export function setCart(cart: Cart): void {
	cartCount.set(cart.items.reduce((n, l) => n + l.quantity, 0));
}

export async function refreshBadges(): Promise<void> {
	if (session.get().status !== "signedIn") return;
	const [cart, notes] = await Promise.allSettled([get<Cart>("/cart"), get<Page<Notification>>("/me/notifications", { pageSize: 100 })]);
	if (cart.status === "fulfilled") setCart(cart.value);
	if (notes.status === "fulfilled") unreadCount.set(notes.value.rows.filter(n => !n.read).length);
}

export function isStaff(user: User | null | undefined): boolean {
	return Boolean(user?.roles.some(r => r === "admin" || r === "agent"));
}
export function isAdmin(user: User | null | undefined): boolean {
	return Boolean(user?.roles.includes("admin"));
}
