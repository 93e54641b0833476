import { generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { describe, expect, it } from "vitest";
import { emailProblem, hashPassword, normalizeEmail, passwordProblem, verifyPassword } from "../../lib/auth/passwords.js";
import { AccessTokenVerifier, generateSigningKeyPem, hashRefreshToken, InvalidTokenError, newRefreshToken, signAccessToken, signingKeyFromPem } from "../../lib/auth/tokens.js";
import { loadConfig } from "../../lib/config.js";
import { lockedFor, mergePreferences, DEFAULT_PREFERENCES, throttleAfterFailure } from "../../lib/domain/users.js";

describe("password rules", () => {
	it("takes 10 to 72 bytes, counted in UTF-8", () => {
		expect(passwordProblem("123456789")).toMatch(/at least 10/);
		expect(passwordProblem("1234567890")).toBeNull();
		expect(passwordProblem("a".repeat(72))).toBeNull();
		expect(passwordProblem("a".repeat(73))).toMatch(/at most 72/);
		expect(passwordProblem("é".repeat(36))).toBeNull(); // 72 bytes
		expect(passwordProblem("é".repeat(37))).toMatch(/at most 72/); // 74 bytes, 37 characters
		expect(passwordProblem(" ".repeat(12))).toMatch(/blank/);
		expect(passwordProblem(undefined)).toMatch(/string/);
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

	it("signs RS256 with kid, sub, roles, typ, iss, aud and a 15-minute exp", async () => {
		const token = signAccessToken(key, settings, "user-1", ["customer"], "sess-1");
		const decoded = jwt.decode(token, { complete: true })!;
		expect(decoded.header).toMatchObject({ alg: "RS256", kid: key.kid });
		const claims = await verifier().verify(token);
		expect(claims).toMatchObject({ sub: "user-1", roles: ["customer"], typ: "access", iss: "iss-x", aud: "aud-y", sid: "sess-1" });
		expect(claims.exp - claims.iat).toBe(900);
	});

	it("rejects a token signed by another key with the same kid", async () => {
		const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
		const forged = jwt.sign({ roles: ["admin"], typ: "access" }, privateKey, { algorithm: "RS256", keyid: key.kid, subject: "x", issuer: "iss-x", audience: "aud-y", expiresIn: 60 });
		await expect(verifier().verify(forged)).rejects.toBeInstanceOf(InvalidTokenError);
	});

	it("refetches the JWKS once for an unknown kid, then refuses", async () => {
		let fetches = 0;
		const v = new AccessTokenVerifier(async () => {
			fetches++;
			return { keys: [key.publicJwk] };
		}, settings, 0);
		await v.verify(signAccessToken(key, settings, "u", ["customer"], "s"));
		const other = signingKeyFromPem(generateSigningKeyPem());
		await expect(v.verify(signAccessToken(other, settings, "u", ["customer"], "s"))).rejects.toThrow(/Unknown signing key/);
		expect(fetches).toBe(2);
	});

	it("does not let a stream of unknown kids hammer the JWKS endpoint", async () => {
		let fetches = 0;
		const v = new AccessTokenVerifier(async () => {
			fetches++;
			return { keys: [key.publicJwk] };
		}, settings, 10_000);
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

describe("login throttling", () => {
	it("locks after the fifth consecutive failure for the lock time", () => {
		let state = { failures: 0, lockedUntil: 0 };
		const now = 1_000_000;
		for (let i = 0; i < 4; i++) {
			state = throttleAfterFailure(state, now, 5, 60);
			expect(lockedFor(state, now)).toBe(0);
		}
		state = throttleAfterFailure(state, now, 5, 60);
		expect(lockedFor(state, now)).toBe(60);
		expect(lockedFor(state, now + 59_500)).toBe(1);
		expect(lockedFor(state, now + 60_000)).toBe(0);
	});
});

describe("preferences", () => {
	it("merges a partial change", () => {
		expect(mergePreferences(DEFAULT_PREFERENCES, { notifications: { inApp: false } })).toEqual({ ...DEFAULT_PREFERENCES, notifications: { email: true, inApp: false } });
	});
});
