/** The user record and what of it may leave the users service. */
import type { Role } from "../auth/access.js";

export interface NotificationPreferences {
	email: boolean;
	inApp: boolean;
}
export interface Preferences {
	language: string;
	currency: string;
	notifications: NotificationPreferences;
}

export const DEFAULT_PREFERENCES: Preferences = { language: "en", currency: "EUR", notifications: { email: true, inApp: true } };

export interface UserRecord {
	_id: string;
	email: string;
	name: string;
	passwordHash: string;
	roles: Role[];
	active: boolean;
	preferences: Preferences;
	createdAt: string;
	updatedAt: string;
}

export interface PublicUser {
	id: string;
	email: string;
	name: string;
	roles: Role[];
	active: boolean;
	preferences: Preferences;
	createdAt: string;
	updatedAt: string;
}

/** The only shape a user leaves the service in: never the hash. */
export function publicUser(u: UserRecord): PublicUser {
	return { id: u._id, email: u.email, name: u.name, roles: u.roles, active: u.active, preferences: u.preferences, createdAt: u.createdAt, updatedAt: u.updatedAt };
}

/** Merge a partial preferences change into the current ones. */
export function mergePreferences(current: Preferences, change: Partial<Omit<Preferences, "notifications">> & { notifications?: Partial<NotificationPreferences> }): Preferences {
	return {
		language: change.language ?? current.language,
		currency: change.currency ?? current.currency,
		notifications: { ...current.notifications, ...(change.notifications ?? {}) },
	};
}

/**
 * Login throttling for one account: after `maxFailures` consecutive failures the account's
 * login answers 429 for `lockSeconds`. Pure: the caller stores the state.
 */
export interface LoginThrottleState {
	failures: number;
	lockedUntil: number;
}
export function throttleAfterFailure(state: LoginThrottleState, now: number, maxFailures: number, lockSeconds: number): LoginThrottleState {
	const failures = state.failures + 1;
	if (failures >= maxFailures) return { failures: 0, lockedUntil: now + lockSeconds * 1000 };
	return { failures, lockedUntil: state.lockedUntil };
}
export function lockedFor(state: LoginThrottleState | null, now: number): number {
	if (!state || state.lockedUntil <= now) return 0;
	return Math.ceil((state.lockedUntil - now) / 1000);
}
