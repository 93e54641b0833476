/**
 * Access tokens: RS256 JWTs signed by the users service, verified anywhere with its JWKS.
 * Refresh tokens: opaque random strings, stored only as a SHA-256 hash.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject, type JsonWebKey } from "node:crypto";
import jwt from "jsonwebtoken";

export const ACCESS_TOKEN_TYPE = "access";
export const JWT_ALGORITHM = "RS256";

export interface AccessClaims {
	sub: string;
	roles: string[];
	typ: typeof ACCESS_TOKEN_TYPE;
	iss: string;
	aud: string;
	exp: number;
	iat: number;
	jti?: string;
	sid?: string;
}

export interface Jwk extends JsonWebKey {
	kid: string;
	alg: string;
	use: string;
}
export interface Jwks {
	keys: Jwk[];
}

export interface SigningKey {
	kid: string;
	privateKeyPem: string;
	publicJwk: Jwk;
}

export function generateSigningKeyPem(): string {
	const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
	return privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** The key id is the RFC 7638 thumbprint of the public key. */
export function signingKeyFromPem(privateKeyPem: string): SigningKey {
	const publicKey = createPublicKey(privateKeyPem);
	const jwk = publicKey.export({ format: "jwk" }) as { kty: string; n: string; e: string };
	const thumbprint = createHash("sha256").update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n })).digest("base64url");
	return { kid: thumbprint, privateKeyPem, publicJwk: { ...jwk, kid: thumbprint, alg: JWT_ALGORITHM, use: "sig" } };
}

export interface TokenSettings {
	issuer: string;
	audience: string;
	accessTtlSeconds: number;
}

export function signAccessToken(key: SigningKey, settings: TokenSettings, subject: string, roles: string[], sessionId: string): string {
	return jwt.sign({ roles, typ: ACCESS_TOKEN_TYPE, sid: sessionId }, key.privateKeyPem, {
		algorithm: JWT_ALGORITHM,
		keyid: key.kid,
		subject,
		issuer: settings.issuer,
		audience: settings.audience,
		expiresIn: settings.accessTtlSeconds,
	});
}

export class InvalidTokenError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "InvalidTokenError";
	}
}

/**
 * Verifies access tokens against a JWKS. The algorithm is pinned to RS256, so `alg: none` and
 * HS256-signed-with-the-public-key tokens fail; issuer, audience, expiry and type are checked.
 * Keys are fetched once and again only when a token names an unknown `kid` (at most every 10 s).
 */
export class AccessTokenVerifier {
	private keys = new Map<string, KeyObject>();
	private lastFetch = 0;
	private fetching?: Promise<void>;

	constructor(
		private readonly fetchJwks: () => Promise<Jwks>,
		private readonly settings: { issuer: string; audience: string },
		private readonly refetchIntervalMs = 10_000,
	) {}

	private async refresh(force: boolean): Promise<void> {
		if (!force && this.keys.size > 0) return;
		if (Date.now() - this.lastFetch < this.refetchIntervalMs && this.keys.size > 0) return;
		this.fetching ??= (async () => {
			try {
				const jwks = await this.fetchJwks();
				const next = new Map<string, KeyObject>();
				for (const k of jwks.keys) {
					if (k.kty === "RSA" && k.kid) next.set(k.kid, createPublicKey({ key: k, format: "jwk" }));
				}
				this.keys = next;
				this.lastFetch = Date.now();
			} finally {
				this.fetching = undefined;
			}
		})();
		await this.fetching;
	}

	async verify(token: string): Promise<AccessClaims> {
		const decoded = jwt.decode(token, { complete: true });
		if (!decoded || typeof decoded.payload === "string") throw new InvalidTokenError("Malformed token");
		const kid = decoded.header.kid;
		if (!kid) throw new InvalidTokenError("Token has no key id");
		await this.refresh(false);
		if (!this.keys.has(kid)) await this.refresh(true);
		const key = this.keys.get(kid);
		if (!key) throw new InvalidTokenError("Unknown signing key");
		let claims: jwt.JwtPayload;
		try {
			claims = jwt.verify(token, key, { algorithms: [JWT_ALGORITHM], issuer: this.settings.issuer, audience: this.settings.audience }) as jwt.JwtPayload;
		} catch (err) {
			throw new InvalidTokenError((err as Error).message);
		}
		if (claims.typ !== ACCESS_TOKEN_TYPE) throw new InvalidTokenError("Not an access token");
		if (typeof claims.sub !== "string" || !Array.isArray(claims.roles)) throw new InvalidTokenError("Token lacks subject or roles");
		return claims as AccessClaims;
	}
}

export function newRefreshToken(): string {
	return randomBytes(32).toString("base64url");
}
export function hashRefreshToken(token: string): string {
	return createHash("sha256").update(token).digest("hex");
}
