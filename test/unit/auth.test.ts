import { generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { describe, expect, it } from "vitest";
import { emailProblem, hashPassword, isCommonPassword, normalizeEmail, passwordProblem, passwordTooLong, verifyPassword } from "../../lib/auth/passwords.js";
import {
	AccessTokenVerifier,
	generateSigningKeyPem,
	hashRefreshToken,
	InvalidTokenError,
	newRefreshToken,
	signAccessToken,
	signingKeyFromPem,
} from "../../lib/auth/tokens.js";
import { loadConfig } from "../../lib/config.js";
import { failureLocks, lockedFor, lockHasExpired, mayCheckCredentials, mergePreferences, DEFAULT_PREFERENCES } from "../../lib/domain/users.js";

describe("password rules", () => {
	it("takes 10 to 72 bytes, counted in UTF-8", () => {
		expect(passwordProblem("123456789")).toMatch(/at least 10/);
		expect(passwordProblem("4815-tiger-2342")).toBeNull();
		expect(passwordProblem("a".repeat(72))).toBeNull();
		expect(passwordProblem("a".repeat(73))).toMatch(/at most 72/);
		expect(passwordProblem("é".repeat(36))).toBeNull(); // 72 bytes
		expect(passwordProblem("é".repeat(37))).toMatch(/at most 72/); // 74 bytes, 37 characters
		expect(passwordProblem(" ".repeat(12))).toMatch(/blank/);
		expect(passwordProblem(undefined)).toMatch(/string/);
	});
	it("refuses the most common passwords, in any case (NIST SP 800-63B)", () => {
		for (const common of ["1234567890", "qwertyuiop", "Password123", "BASKETBALL"]) expect(passwordProblem(common), common).toMatch(/most commonly used/);
		expect(isCommonPassword("correct-horse-battery")).toBe(false);
	});
	it("knows a password longer than bcrypt reads can never be right", () => {
		expect(passwordTooLong("a".repeat(72))).toBe(false);
		expect(passwordTooLong("a".repeat(73))).toBe(true);
		expect(passwordTooLong("é".repeat(37))).toBe(true);
	});
	it("hashes with bcrypt and verifies", async () => {
		const hash = await hashPassword("correct-horse", 4);
		expect(hash).toMatch(/^\$2b\$04\$/);
		expect(await verifyPassword("correct-horse", hash)).toBe(true);
		expect(await verifyPassword("wrong-horse!", hash)).toBe(false);
	});
	it("uses bcrypt cost 12 unless configured", () => {
		const saved = process.env.BCRYPT_COST;
		delete process.env.BCRYPT_COST;
		try {
			expect(loadConfig().bcryptCost).toBe(12);
		} finally {
			if (saved !== undefined) process.env.BCRYPT_COST = saved;
		}
	});
	it("checks and normalizes emails", () => {
		expect(emailProblem("a@b.co")).toBeNull();
		expect(emailProblem("no-at-sign")).not.toBeNull();
		expect(emailProblem("a@b")).not.toBeNull();
		expect(normalizeEmail("  Ann@Example.COM ")).toBe("ann@example.com");
	});
});

describe("access tokens", () => {
	const key = signingKeyFromPem(generateSigningKeyPem());
	const settings = { issuer: "iss-x", audience: "aud-y", accessTtlSeconds: 900 };
	const verifier = () => new AccessTokenVerifier(async () => ({ keys: [key.publicJwk] }), settings);

	it("signs RS256 with typ at+jwt, kid, sub, roles, sid, iss, aud and a 15-minute exp", async () => {
		const token = signAccessToken(key, settings, "user-1", ["customer"], "sess-1");
		const decoded = jwt.decode(token, { complete: true })!;
		expect(decoded.header).toMatchObject({ alg: "RS256", typ: "at+jwt", kid: key.kid });
		const claims = await verifier().verify(token);
		expect(claims).toMatchObject({ sub: "user-1", roles: ["customer"], iss: "iss-x", aud: "aud-y", sid: "sess-1" });
		expect(claims.exp - claims.iat).toBe(900);
		// Each token its own id, even two of one session in the same second.
		const again = jwt.decode(signAccessToken(key, settings, "user-1", ["customer"], "sess-1")) as { jti?: string };
		expect((decoded.payload as { jti?: string }).jti).toMatch(/^[0-9a-f-]{36}$/);
		expect(again.jti).not.toBe((decoded.payload as { jti?: string }).jti);
	});

	it("rejects a token signed by another key with the same kid", async () => {
		const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
		const forged = jwt.sign({ roles: ["admin"], sid: "s" }, privateKey, {
			algorithm: "RS256",
			keyid: key.kid,
			header: { alg: "RS256", typ: "at+jwt" },
			subject: "x",
			issuer: "iss-x",
			audience: "aud-y",
			expiresIn: 60,
		});
		await expect(verifier().verify(forged)).rejects.toBeInstanceOf(InvalidTokenError);
	});

	/** A token signed with the real key, but not quite an access token. */
	const signed = (payload: object, header: object, opts: jwt.SignOptions = {}) =>
		jwt.sign(payload, key.privateKeyPem, {
			algorithm: "RS256",
			keyid: key.kid,
			header: { alg: "RS256", ...header },
			issuer: "iss-x",
			audience: "aud-y",
			...opts,
		});

	it("rejects a JWT whose typ is not at+jwt (an ID token, a plain JWT), whatever it carries", async () => {
		const claims = { roles: ["admin"], sid: "s", sub: "u" };
		await expect(verifier().verify(signed(claims, { typ: "JWT" }, { expiresIn: 60 }))).rejects.toThrow(/Not an access token/);
		await expect(verifier().verify(signed(claims, {}, { expiresIn: 60 }))).rejects.toThrow(/Not an access token/);
		expect(await verifier().verify(signed(claims, { typ: "application/at+JWT" }, { expiresIn: 60 }))).toMatchObject({ sub: "u" });
	});

	it("rejects a token with a crit header, without an expiry, or without a session", async () => {
		await expect(verifier().verify(signed({ roles: [], sid: "s", sub: "u" }, { typ: "at+jwt", crit: ["exp"] }, { expiresIn: 60 }))).rejects.toThrow(
			/critical/,
		);
		await expect(verifier().verify(signed({ roles: [], sid: "s", sub: "u" }, { typ: "at+jwt" }))).rejects.toThrow(/no expiry/);
		await expect(verifier().verify(signed({ roles: [], sub: "u" }, { typ: "at+jwt" }, { expiresIn: 60 }))).rejects.toThrow(/session/);
	});

	it("refetches the JWKS once for an unknown kid, then refuses", async () => {
		let fetches = 0;
		const v = new AccessTokenVerifier(
			async () => {
				fetches++;
				return { keys: [key.publicJwk] };
			},
			settings,
			0,
		);
		await v.verify(signAccessToken(key, settings, "u", ["customer"], "s"));
		const other = signingKeyFromPem(generateSigningKeyPem());
		await expect(v.verify(signAccessToken(other, settings, "u", ["customer"], "s"))).rejects.toThrow(/Unknown signing key/);
		expect(fetches).toBe(2);
	});

	it("does not let a stream of unknown kids hammer the JWKS endpoint", async () => {
		let fetches = 0;
		const v = new AccessTokenVerifier(
			async () => {
				fetches++;
				return { keys: [key.publicJwk] };
			},
			settings,
			10_000,
		);
		await v.verify(signAccessToken(key, settings, "u", ["customer"], "s"));
		for (let i = 0; i < 5; i++) {
			const other = signingKeyFromPem(generateSigningKeyPem());
			await expect(v.verify(signAccessToken(other, settings, "u", ["customer"], "s"))).rejects.toThrow(/Unknown signing key/);
		}
		expect(fetches).toBe(1);
	});

	it("makes the kid the key's thumbprint, stable for one key", () => {
		const pem = generateSigningKeyPem();
		expect(signingKeyFromPem(pem).kid).toBe(signingKeyFromPem(pem).kid);
		expect(signingKeyFromPem(pem).publicJwk).not.toHaveProperty("d");
	});

	it("makes unguessable refresh tokens and stores only their hash", () => {
		const a = newRefreshToken();
		expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
		expect(a).not.toBe(newRefreshToken());
		expect(hashRefreshToken(a)).toMatch(/^[0-9a-f]{64}$/);
		expect(hashRefreshToken(a)).not.toContain(a);
	});
});

describe("credential throttling", () => {
	it("checks at most the first five attempts of a burst, and the fifth failure locks for the lock time", () => {
		const decisions = Array.from({ length: 8 }, (_, i) => ({ attempts: i + 1, lockedUntil: 0 })).map(counted => mayCheckCredentials(counted, 5));
		expect(decisions).toEqual([true, true, true, true, true, false, false, false]);
		expect([1, 2, 3, 4].map(attempts => failureLocks({ attempts, lockedUntil: 0 }, 5))).toEqual([false, false, false, false]);
		expect(failureLocks({ attempts: 5, lockedUntil: 0 }, 5)).toBe(true);
	});
	it("reports the lock in whole seconds, and its end", () => {
		const now = 1_000_000;
		const locked = { attempts: 5, lockedUntil: now + 60_000 };
		expect(lockedFor(locked, now)).toBe(60);
		expect(lockedFor(locked, now + 59_500)).toBe(1);
		expect(lockedFor(locked, now + 60_000)).toBe(0);
		expect(lockHasExpired(locked, now + 59_999)).toBe(false);
		expect(lockHasExpired(locked, now + 60_000)).toBe(true);
		expect(lockHasExpired({ attempts: 3, lockedUntil: 0 }, now)).toBe(false);
		expect(lockedFor(null, now)).toBe(0);
	});
});

describe("preferences", () => {
	it("merges a partial change", () => {
		expect(mergePreferences(DEFAULT_PREFERENCES, { notifications: { inApp: false } })).toEqual({
			...DEFAULT_PREFERENCES,
			notifications: { email: true, inApp: false },
		});
	});
});
