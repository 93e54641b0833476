/**
 * Password rules and hashing. bcrypt only reads the first 72 bytes of a password, so longer
 * ones are refused rather than silently truncated.
 */
import bcrypt from "bcrypt";

export const PASSWORD_MIN_BYTES = 10;
export const PASSWORD_MAX_BYTES = 72;

/** Why a password is refused, or null when it is acceptable. */
export function passwordProblem(password: unknown): string | null {
	if (typeof password !== "string") return "The password must be a string.";
	const bytes = Buffer.byteLength(password, "utf8");
	if (bytes < PASSWORD_MIN_BYTES) return `The password must be at least ${PASSWORD_MIN_BYTES} bytes long.`;
	if (bytes > PASSWORD_MAX_BYTES) return `The password must be at most ${PASSWORD_MAX_BYTES} bytes long (bcrypt ignores the rest).`;
	if (password.trim().length === 0) return "The password must not be blank.";
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

const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/;
export function normalizeEmail(email: string): string {
	return email.trim().toLowerCase();
}
export function emailProblem(email: unknown): string | null {
	if (typeof email !== "string") return "The email must be a string.";
	const e = normalizeEmail(email);
	if (e.length > 254 || !EMAIL.test(e)) return "The email address is not valid.";
	return null;
}
