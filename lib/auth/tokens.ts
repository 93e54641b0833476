/**
 * Access tokens: RS256 JWTs signed by the users service, verified anywhere with its JWKS.
 * Refresh tokens: opaque random strings, stored only as a SHA-256 hash.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject, type JsonWebKey } from "node:crypto";
import jwt from "jsonwebtoken";

/** The JOSE `typ` header of an access token (RFC 9068, RFC 8725 §3.11): no other JWT passes for one. */
export const ACCESS_TOKEN_TYPE = "at+jwt";
export const JWT_ALGORITHM = "RS256";

export interface AccessClaims {
	sub: string;
	roles: string[];
	iss: string;
	aud: string;
	exp: number;
	iat: number;
	/** The session (refresh-token family), the OpenID grant, or `client:<id>`: what revocation names. */
	sid: string;
	/** Tokens of the OpenID provider: the client, and the scopes granted (a client's own token is authorised by them). */
	client_id?: string;
	scope?: string;
}

/** An issuer whose access tokens the gateway takes, with the audience they must name. */
export interface TrustedIssuer {
	issuer: string;
	audience: string;
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
	const publicJwk = verificationKeyFromPem(privateKeyPem);
	return { kid: publicJwk.kid, privateKeyPem, publicJwk };
}

/** A key that only verifies (a retired one): its public JWK from a public or private PEM. */
export function verificationKeyFromPem(pem: string): Jwk {
	const jwk = createPublicKey(pem).export({ format: "jwk" }) as { kty: string; n: string; e: string };
	const kid = createHash("sha256")
		.update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
		.digest("base64url");
	return { ...jwk, kid, alg: JWT_ALGORITHM, use: "sig" };
}

export interface TokenSettings {
	issuer: string;
	audience: string;
	accessTtlSeconds: number;
}

/** An access token in the JWT profile of RFC 9068: `typ: at+jwt`, and a `jti` of its own (two tokens of one session in one second still differ). */
export function signAccessToken(key: SigningKey, settings: TokenSettings, subject: string, roles: string[], sessionId: string): string {
	return jwt.sign({ roles, sid: sessionId }, key.privateKeyPem, {
		algorithm: JWT_ALGORITHM,
		jwtid: randomUUID(),
		keyid: key.kid,
		header: { alg: JWT_ALGORITHM, typ: ACCESS_TOKEN_TYPE },
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
 * HS256-signed-with-the-public-key tokens fail; the `typ` header must be `at+jwt`, a `crit`
 * header (an extension this verifier cannot honour) fails it, and issuer, audience, a numeric
 * expiry, subject, roles and session id are required.
 * Keys are fetched once and again only when a token names an unknown `kid` (at most every 10 s).
 */
export class AccessTokenVerifier {
	private keys = new Map<string, KeyObject>();
	private lastFetch = 0;
	private fetching?: Promise<void>;

	constructor(
		private readonly fetchJwks: () => Promise<Jwks>,
		settings: TrustedIssuer | TrustedIssuer[],
		private readonly refetchIntervalMs = 10_000,
	) {
		this.trusted = Array.isArray(settings) ? settings : [settings];
	}
	/** The users service's own tokens and the OpenID provider's, each with its own audience. */
	private readonly trusted: TrustedIssuer[];

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

	/** Fetch the keys again now (the users service said they changed). */
	async reload(): Promise<void> {
		this.lastFetch = 0;
		await this.refresh(true);
	}

	async verify(token: string): Promise<AccessClaims> {
		const decoded = jwt.decode(token, { complete: true });
		if (!decoded || typeof decoded.payload === "string") throw new InvalidTokenError("Malformed token");
		const header = decoded.header as jwt.JwtHeader & { crit?: unknown };
		if (typeof header.typ !== "string" || !/^(application\/)?at\+jwt$/i.test(header.typ)) throw new InvalidTokenError("Not an access token");
		if (header.crit !== undefined) throw new InvalidTokenError("Unsupported critical header");
		const kid = header.kid;
		if (!kid) throw new InvalidTokenError("Token has no key id");
		await this.refresh(false);
		if (!this.keys.has(kid)) await this.refresh(true);
		const key = this.keys.get(kid);
		if (!key) throw new InvalidTokenError("Unknown signing key");
		let claims: jwt.JwtPayload;
		try {
			const issuer = this.trusted.map(t => t.issuer) as [string, ...string[]];
			claims = jwt.verify(token, key, { algorithms: [JWT_ALGORITHM], issuer }) as jwt.JwtPayload;
		} catch (err) {
			throw new InvalidTokenError((err as Error).message);
		}
		const expected = this.trusted.find(t => t.issuer === claims.iss)?.audience;
		const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
		if (!expected || !audiences.includes(expected)) throw new InvalidTokenError("jwt audience invalid");
		if (typeof claims.exp !== "number") throw new InvalidTokenError("Token has no expiry");
		if (typeof claims.sub !== "string" || !Array.isArray(claims.roles) || typeof claims.sid !== "string")
			throw new InvalidTokenError("Token lacks subject, roles or session");
		return claims as AccessClaims;
	}
}

export function newRefreshToken(): string {
	return randomBytes(32).toString("base64url");
}
export function hashRefreshToken(token: string): string {
	return createHash("sha256").update(token).digest("hex");
}
