/** The user record and what of it may leave the users service. */
import type { Role } from "../auth/access.js";
import type { Static } from "typebox";
import type { Preferences as PreferencesSchema, User } from "../http/schemas.js";
import type { AddressEntry } from "./addresses.js";

export type Preferences = Static<typeof PreferencesSchema>;
export type NotificationPreferences = Preferences["notifications"];

export const DEFAULT_PREFERENCES: Preferences = { language: "en", currency: "EUR", notifications: { email: true, inApp: true } };

export interface UserRecord {
	_id: string;
	email: string;
	name: string;
	passwordHash: string;
	roles: Role[];
	active: boolean;
	preferences: Preferences;
	/** The owner proved the address (a verification or reset link). Absent on accounts made before verification existed. */
	emailVerified?: boolean;
	/** The address book (lib/domain/addresses.ts); `addressVersion` counts its changes, for compare-and-set. */
	addresses?: AddressEntry[];
	addressVersion?: number;
	createdAt: string;
	updatedAt: string;
}

/** What a client sees of a user (the contract's `user`, lib/http/schemas.ts). */
export type PublicUser = Static<typeof User>;

/** The only shape a user leaves the service in: never the hash. */
export function publicUser(u: UserRecord): PublicUser {
	return {
		id: u._id,
		email: u.email,
		name: u.name,
		roles: u.roles,
		active: u.active,
		preferences: u.preferences,
		emailVerified: u.emailVerified ?? false,
		createdAt: u.createdAt,
		updatedAt: u.updatedAt,
	};
}

/** Merge a partial preferences change into the current ones. */
export function mergePreferences(
	current: Preferences,
	change: Partial<Omit<Preferences, "notifications">> & { notifications?: Partial<NotificationPreferences> },
): Preferences {
	return {
		language: change.language ?? current.language,
		currency: change.currency ?? current.currency,
		notifications: { ...current.notifications, ...(change.notifications ?? {}) },
	};
}

/**
 * Credential throttling for one account (login and password change share it): every attempt is
 * counted with one atomic increment *before* the password is checked, so parallel guesses cannot
 * all slip past the limit. An attempt whose count goes beyond `maxFailures` is refused (429)
 * without checking the password; the `maxFailures`-th failure locks the account for
 * `lockSeconds`; a success clears the count. Pure: the users service stores the state.
 */
export interface CredentialAttempts {
	/** Attempts since the last success or the last lock, this one included. */
	attempts: number;
	/** Epoch ms until which the account is locked; 0 when it is not. */
	lockedUntil: number;
}

/** Seconds the account stays locked (0: not locked). */
export function lockedFor(state: CredentialAttempts | null, now: number): number {
	if (!state || state.lockedUntil <= now) return 0;
	return Math.ceil((state.lockedUntil - now) / 1000);
}

/** A lock that has run out: the count starts again. */
export function lockHasExpired(state: CredentialAttempts | null, now: number): boolean {
	return !!state && state.lockedUntil > 0 && state.lockedUntil <= now;
}

/** After this attempt was counted: may its password be checked at all? */
export function mayCheckCredentials(counted: CredentialAttempts, maxFailures: number): boolean {
	return counted.attempts <= maxFailures;
}

/** After this attempt failed: does it lock the account? */
export function failureLocks(counted: CredentialAttempts, maxFailures: number): boolean {
	return counted.attempts >= maxFailures;
}
