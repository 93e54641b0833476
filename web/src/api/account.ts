/** Sign in, register, sign out and the things the header shows (cart size, unread notifications). */
import { get, post } from "./client";
import { acceptTokens, clearSession, hasStoredSession, refreshAccessToken, session, setUser, signOut as endSession } from "./session";
import { createStore } from "../lib/store";
import { language, setLanguage } from "../i18n";
import type { Cart, Page, Notification, User } from "./types";

export const cartCount = createStore<number>(0);
export const unreadCount = createStore<number>(0);

export async function signIn(email: string, password: string): Promise<User> {
	const pair = await post<{ accessToken: string; refreshToken: string; expiresIn: number; user: User }>("/auth/login", { email, password }, { auth: false });
	acceptTokens(pair);
	setLanguage(pair.user.preferences?.language);
	void refreshBadges();
	return pair.user;
}

export async function register(name: string, email: string, password: string): Promise<User> {
	// The language the shop is read in: the welcome (verification) email is written in it.
	await post("/auth/register", { name, email, password, preferences: { language: language.get() } }, { auth: false });
	return signIn(email, password);
}

export async function signOut(): Promise<void> {
	await endSession();
	cartCount.set(0);
	unreadCount.set(0);
	setLanguage(null);
}

/** At start: a stored refresh token becomes a session (or is dropped when refused). */
export async function restoreSession(): Promise<void> {
	if (!hasStoredSession()) {
		clearSession();
		return;
	}
	try {
		const token = await refreshAccessToken();
		if (!token) return;
		const me = await get<User>("/me");
		setUser(me);
		setLanguage(me.preferences?.language);
		void refreshBadges();
	} catch {
		// A network error: keep the refresh token for the next try, but show the shop signed out.
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
