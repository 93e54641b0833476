/**
 * Password rules and hashing. bcrypt only reads the first 72 bytes of a password, so longer
 * ones are refused rather than silently truncated, at registration and also wherever a password
 * is checked (a 72-byte password plus any suffix must not pass for it). Passwords on the list of
 * the most common ones are refused, as NIST SP 800-63B §5.1.1.2 asks: the list is the
 * `passwords-common` dictionary of @zxcvbn-ts/language-common (about 49,000 passwords from
 * breach corpora), compared case-insensitively.
 */
import bcrypt from "bcrypt";
import { dictionary } from "@zxcvbn-ts/language-common";

export const PASSWORD_MIN_BYTES = 10;
export const PASSWORD_MAX_BYTES = 72;

let common: Set<string> | undefined;
/** Only passwords long enough to pass the length rule need to be in the set. */
function commonPasswords(): Set<string> {
	common ??= new Set((dictionary["passwords-common"] as string[]).filter(p => Buffer.byteLength(p, "utf8") >= PASSWORD_MIN_BYTES).map(p => p.toLowerCase()));
	return common;
}

export function isCommonPassword(password: string): boolean {
	return commonPasswords().has(password.toLowerCase());
}

/** A password that can never be right, whatever is stored: longer than bcrypt reads. */
export function passwordTooLong(password: string): boolean {
	return Buffer.byteLength(password, "utf8") > PASSWORD_MAX_BYTES;
}

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: unknown): string | null {
	if (typeof password !== "string") return "The password must be a string.";
	const bytes = Buffer.byteLength(password, "utf8");
	if (bytes < PASSWORD_MIN_BYTES) return `The password must be at least ${PASSWORD_MIN_BYTES} bytes long.`;
	if (bytes > PASSWORD_MAX_BYTES) return `The password must be at most ${PASSWORD_MAX_BYTES} bytes long (bcrypt ignores the rest).`;
	if (password.trim().length === 0) return "The password must not be blank.";
	if (isCommonPassword(password)) return "This password is one of the most commonly used ones; choose another.";
	return null;
}

export function hashPassword(password: string, cost: number): Promise<string> {
	return bcrypt.hash(password, cost);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
	return bcrypt.compare(password, hash);
}

/**
 * A hash to compare against when the account does not exist, so that an unknown email takes
 * as long as a wrong password and the timing does not tell which emails are registered.
 */
export function dummyHash(cost: number): Promise<string> {
	return bcrypt.hash("not-a-real-password-but-same-cost", cost);
}

import { EMAIL_PATTERN } from "../contracts/http/identity.js";

export function normalizeEmail(email: string): string {
	return email.trim().toLowerCase();
}
export function emailProblem(email: unknown): string | null {
	if (typeof email !== "string") return "The email must be a string.";
	const e = normalizeEmail(email);
	if (e.length > 254 || !EMAIL_PATTERN.test(e)) return "The email address is not valid.";
	return null;
}
