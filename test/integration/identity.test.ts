/**
 * Identity through the gateway: registration, login, sessions, profile, admin user management,
 * and the token attacks a verifier must refuse.
 */
import { createHmac, createPublicKey } from "node:crypto";
import jwt from "jsonwebtoken";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, login, startShop, uniqueEmail, type TestShop } from "../helpers/shop.js";

let shop: TestShop;
beforeAll(async () => {
	shop = await startShop({ services: ["users", "api"], env: ADMIN_ENV });
});
afterAll(async () => {
	await shop?.stop();
});

const register = (body: unknown) => shop.http.post("/api/v1/auth/register", body);
const fields = (body: { data?: { field: string }[] }) => (body.data ?? []).map(d => d.field);

describe("POST /auth/register", () => {
	it("creates a customer and never returns the hash", async () => {
		const email = uniqueEmail();
		const res = await register({ email, password: "long-enough-pw", name: "Ann" });
		expect(res.status).toBe(201);
		expect(res.body.user).toMatchObject({
			email,
			name: "Ann",
			roles: ["customer"],
			preferences: { language: "en", notifications: { email: true, inApp: true } },
		});
		expect(typeof res.body.user.id).toBe("string");
		expect(res.body.user._id).toBeUndefined();
		expect(JSON.stringify(res.body)).not.toMatch(/passwordHash|\$2[aby]\$/);
	});

	it("answers 409 for a taken email, whatever its case", async () => {
		const email = uniqueEmail();
		expect((await register({ email, password: "long-enough-pw", name: "A" })).status).toBe(201);
		const again = await register({ email: email.toUpperCase(), password: "long-enough-pw", name: "B" });
		expect(again.status).toBe(409);
		expect(again.body).toMatchObject({ name: "ConflictError", code: 409, type: "EMAIL_TAKEN" });
	});

	it.each([
		["short", "short-pw", "password"],
		["longer than 72 bytes", "é".repeat(37), "password"],
		["not a string", 1234567890123, "password"],
	])("answers 422 for a password that is %s", async (_what, password, field) => {
		const res = await register({ email: uniqueEmail(), password, name: "X" });
		expect(res.status).toBe(422);
		expect(fields(res.body)).toContain(field);
		expect(JSON.stringify(res.body)).not.toContain(String(password));
	});

	it("answers 422 naming each bad field", async () => {
		const res = await register({ email: "not-an-email", password: "long-enough-pw", name: "" });
		expect(res.status).toBe(422);
		expect(fields(res.body)).toEqual(expect.arrayContaining(["name"]));
		const bad = await register({ email: "not-an-email", password: "long-enough-pw", name: "N" });
		expect(bad.status).toBe(422);
		expect(fields(bad.body)).toEqual(["email"]);
	});

	it("does not let a client choose its roles", async () => {
		const res = await register({ email: uniqueEmail(), password: "long-enough-pw", name: "Mallory", roles: ["admin"] });
		expect(res.status).toBe(422);
		expect(fields(res.body)).toContain("roles");
	});
});

describe("POST /auth/login", () => {
	it("answers a token pair and the user", async () => {
		const email = uniqueEmail();
		await register({ email, password: "long-enough-pw", name: "Lin" });
		const res = await shop.http.post("/api/v1/auth/login", { email, password: "long-enough-pw" });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ tokenType: "Bearer", expiresIn: 900, user: { email } });
		const claims = jwt.decode(res.body.accessToken, { complete: true })!;
		expect(claims.header.alg).toBe("RS256");
		expect(claims.payload).toMatchObject({
			sub: res.body.user.id,
			roles: ["customer"],
			sid: expect.any(String),
			iss: "moleculer-shop",
			aud: "moleculer-shop-api",
		});
		expect(claims.header).toMatchObject({ alg: "RS256", typ: "at+jwt" });
		const p = claims.payload as jwt.JwtPayload;
		expect(p.exp! - p.iat!).toBe(15 * 60);
	});

	it("answers the same 401 for an unknown email and a wrong password", async () => {
		const email = uniqueEmail();
		await register({ email, password: "long-enough-pw", name: "Lin" });
		const wrong = await shop.http.post("/api/v1/auth/login", { email, password: "wrong-password" });
		const unknown = await shop.http.post("/api/v1/auth/login", { email: uniqueEmail(), password: "wrong-password" });
		expect(wrong.status).toBe(401);
		expect(unknown.status).toBe(401);
		expect(wrong.body).toEqual(unknown.body);
	});

	it("locks an account for a while after 5 consecutive failures, with Retry-After", async () => {
		const email = uniqueEmail();
		await register({ email, password: "long-enough-pw", name: "Lin" });
		for (let i = 0; i < 5; i++) expect((await shop.http.post("/api/v1/auth/login", { email, password: "bad-password" })).status).toBe(401);
		const locked = await shop.http.post("/api/v1/auth/login", { email, password: "long-enough-pw" });
		expect(locked.status).toBe(429);
		expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
		// Another account is not affected.
		const other = uniqueEmail();
		await register({ email: other, password: "long-enough-pw", name: "Other" });
		expect((await shop.http.post("/api/v1/auth/login", { email: other, password: "long-enough-pw" })).status).toBe(200);
	});

	it("locks unknown emails the same way, so a lock does not reveal an account", async () => {
		const email = uniqueEmail();
		for (let i = 0; i < 5; i++) await shop.http.post("/api/v1/auth/login", { email, password: "bad-password" });
		expect((await shop.http.post("/api/v1/auth/login", { email, password: "bad-password" })).status).toBe(429);
	});

	it("validates its input", async () => {
		const res = await shop.http.post("/api/v1/auth/login", { email: "a@b.co" });
		expect(res.status).toBe(422);
		expect(fields(res.body)).toContain("password");
	});
});

describe("sessions: refresh and logout", () => {
	it("rotates the refresh token; the old one stops working", async () => {
		const acc = await customer(shop);
		const first = await shop.http.post("/api/v1/auth/refresh", { refreshToken: acc.refreshToken });
		expect(first.status).toBe(200);
		expect(first.body.refreshToken).not.toBe(acc.refreshToken);
		expect(first.body.accessToken).toBeTruthy();
		expect((await shop.http.get("/api/v1/me", { authorization: `Bearer ${first.body.accessToken}` })).status).toBe(200);
		const next = await shop.http.post("/api/v1/auth/refresh", { refreshToken: first.body.refreshToken });
		expect(next.status).toBe(200);
	});

	it("revokes the whole session when a used refresh token is presented again", async () => {
		const acc = await customer(shop);
		const rotated = await shop.http.post("/api/v1/auth/refresh", { refreshToken: acc.refreshToken });
		expect(rotated.status).toBe(200);
		const replay = await shop.http.post("/api/v1/auth/refresh", { refreshToken: acc.refreshToken });
		expect(replay.status).toBe(401);
		// The thief's replay also ends the legitimate holder's newer token.
		const legit = await shop.http.post("/api/v1/auth/refresh", { refreshToken: rotated.body.refreshToken });
		expect(legit.status).toBe(401);
	});

	it("of two concurrent uses of one refresh token, at most one succeeds", async () => {
		const acc = await customer(shop);
		const results = await Promise.all([0, 1, 2].map(() => shop.http.post("/api/v1/auth/refresh", { refreshToken: acc.refreshToken })));
		expect(results.filter(r => r.status === 200).length).toBe(1);
		expect(results.filter(r => r.status === 401).length).toBe(2);
	});

	it("logout ends the session (204) and needs a signed-in caller", async () => {
		const acc = await customer(shop);
		expect((await shop.http.post("/api/v1/auth/logout", { refreshToken: acc.refreshToken })).status).toBe(401);
		const out = await acc.http.post("/api/v1/auth/logout", { refreshToken: acc.refreshToken });
		expect(out.status).toBe(204);
		expect(out.body).toBeNull();
		expect((await shop.http.post("/api/v1/auth/refresh", { refreshToken: acc.refreshToken })).status).toBe(401);
	});

	it("answers 401 for a made-up refresh token", async () => {
		const res = await shop.http.post("/api/v1/auth/refresh", { refreshToken: "x".repeat(43) });
		expect(res.status).toBe(401);
	});
});

describe("GET /auth/jwks and the access token verifier", () => {
	let acc: Awaited<ReturnType<typeof customer>>;
	let privateKeyPem: string;
	let kid: string;
	beforeAll(async () => {
		acc = await customer(shop);
		const users = shop.broker.getLocalService("users") as unknown as { keys: { signing: { privateKeyPem: string; kid: string } } };
		privateKeyPem = users.keys.signing.privateKeyPem;
		kid = users.keys.signing.kid;
	});
	const me = (token: string) => shop.http.get("/api/v1/me", { authorization: `Bearer ${token}` });
	const base = () => ({ sub: acc.id, roles: ["customer", "admin"], sid: "a-session", iss: "moleculer-shop", aud: "moleculer-shop-api" });
	/** Signed with the real key, the way the users service signs (typ at+jwt), unless `header` says otherwise. */
	const sign = (payload: object, opts: jwt.SignOptions = {}) =>
		jwt.sign(payload, privateKeyPem, { algorithm: "RS256", keyid: kid, ...opts, header: { alg: "RS256", typ: "at+jwt", ...opts.header } });

	it("accepts a token made with the real key the way the users service makes them (the control for the refusals below)", async () => {
		expect((await me(sign(base(), { expiresIn: 60 }))).status).toBe(200);
	});

	it("publishes the public key only", async () => {
		const res = await shop.http.get("/api/v1/auth/jwks");
		expect(res.status).toBe(200);
		expect(res.body.keys).toHaveLength(1);
		expect(res.body.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", kid });
		for (const secret of ["d", "p", "q", "dp", "dq", "qi"]) expect(res.body.keys[0][secret]).toBeUndefined();
	});

	it("accepts a genuine token", async () => {
		expect((await me(acc.accessToken)).status).toBe(200);
	});

	it("refuses alg none", async () => {
		const none = jwt.sign(base(), "", { algorithm: "none", header: { alg: "none", kid } as jwt.JwtHeader });
		expect((await me(none)).status).toBe(401);
	});

	it("refuses HS256 signed with the public key", async () => {
		const res = await shop.http.get("/api/v1/auth/jwks");
		const publicPem = createPublicKey({ key: res.body.keys[0], format: "jwk" }).export({ type: "spki", format: "pem" }).toString();
		const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT", kid })).toString("base64url");
		const payload = Buffer.from(JSON.stringify({ ...base(), exp: Math.floor(Date.now() / 1000) + 600 })).toString("base64url");
		const sig = createHmac("sha256", publicPem).update(`${header}.${payload}`).digest("base64url");
		expect((await me(`${header}.${payload}.${sig}`)).status).toBe(401);
	});

	it("refuses an expired token", async () => {
		const expired = sign({ ...base(), exp: Math.floor(Date.now() / 1000) - 10 });
		expect((await me(expired)).status).toBe(401);
	});

	it("refuses a tampered token", async () => {
		const [h, p, s] = acc.accessToken.split(".");
		const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
		claims.roles = ["admin"];
		const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
		expect((await me(forged)).status).toBe(401);
		expect((await acc.http.as(forged).get("/api/v1/users")).status).toBe(401);
	});

	it("refuses a wrong issuer or audience, a JWT that is not typed at+jwt, a crit header, no expiry, no session", async () => {
		const refused = [
			sign({ ...base(), iss: "someone-else" }, { expiresIn: 60 }),
			sign({ ...base(), aud: "other-api" }, { expiresIn: 60 }),
			sign(base(), { expiresIn: 60, header: { alg: "RS256", typ: "JWT" } }),
			sign(base(), { expiresIn: 60, header: { alg: "RS256", typ: "at+jwt", crit: ["x-custom"] } as jwt.JwtHeader }),
			sign(base()),
			sign({ ...base(), sid: undefined }, { expiresIn: 60 }),
		];
		for (const token of refused) expect((await me(token)).status).toBe(401);
	});

	it("takes the Bearer scheme in any case (RFC 7235)", async () => {
		for (const scheme of ["bearer", "BEARER", "Bearer"])
			expect((await shop.http.get("/api/v1/me", { authorization: `${scheme} ${acc.accessToken}` })).status).toBe(200);
	});

	it("refuses a refresh token used as an access token, and garbage", async () => {
		expect((await me(acc.refreshToken)).status).toBe(401);
		expect((await me("not.a.jwt")).status).toBe(401);
		expect((await shop.http.get("/api/v1/me", { authorization: "Basic abc" })).status).toBe(401);
	});

	it("answers 401 without a token on a signed-in route", async () => {
		const res = await shop.http.get("/api/v1/me");
		expect(res.status).toBe(401);
		expect(res.body).toMatchObject({ code: 401 });
	});
});

describe("GET/PATCH /me and POST /me/password", () => {
	it("changes name and merges preferences", async () => {
		const acc = await customer(shop);
		const res = await acc.http.patch("/api/v1/me", { name: "New Name", preferences: { currency: "USD", notifications: { email: false } } });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ name: "New Name", preferences: { language: "en", currency: "USD", notifications: { email: false, inApp: true } } });
		expect((await acc.http.get("/api/v1/me")).body.preferences.currency).toBe("USD");
	});

	it("refuses roles and bad preferences with 422", async () => {
		const acc = await customer(shop);
		const roles = await acc.http.patch("/api/v1/me", { roles: ["admin"] });
		expect(roles.status).toBe(422);
		expect(fields(roles.body)).toContain("roles");
		const currency = await acc.http.patch("/api/v1/me", { preferences: { currency: "euros" } });
		expect(currency.status).toBe(422);
		expect(fields(currency.body)).toContain("preferences.currency");
		expect((await acc.http.get("/api/v1/me")).body.roles).toEqual(["customer"]);
	});

	it("changes the password and ends the other sessions", async () => {
		const acc = await customer(shop);
		const other = await login(shop, acc.email, acc.password);
		const wrong = await acc.http.post("/api/v1/me/password", { currentPassword: "not-my-password", newPassword: "a-new-long-password" });
		expect(wrong.status).toBe(422);
		expect(fields(wrong.body)).toEqual(["currentPassword"]);
		const weak = await acc.http.post("/api/v1/me/password", { currentPassword: acc.password, newPassword: "short" });
		expect(weak.status).toBe(422);
		expect(fields(weak.body)).toEqual(["newPassword"]);

		const ok = await acc.http.post("/api/v1/me/password", { currentPassword: acc.password, newPassword: "a-new-long-password" });
		expect(ok.status).toBe(204);
		expect((await shop.http.post("/api/v1/auth/refresh", { refreshToken: other.refreshToken })).status).toBe(401);
		expect((await shop.http.post("/api/v1/auth/refresh", { refreshToken: acc.refreshToken })).status).toBe(200);
		expect((await shop.http.post("/api/v1/auth/login", { email: acc.email, password: acc.password })).status).toBe(401);
		expect((await shop.http.post("/api/v1/auth/login", { email: acc.email, password: "a-new-long-password" })).status).toBe(200);
	});
});

describe("admin user management", () => {
	it("is for admins only", async () => {
		const acc = await customer(shop);
		expect((await shop.http.get("/api/v1/users")).status).toBe(401);
		expect((await acc.http.get("/api/v1/users")).status).toBe(403);
		expect((await acc.http.patch(`/api/v1/users/${acc.id}`, { roles: ["admin"] })).status).toBe(403);
	});

	it("lists users in pages", async () => {
		const adm = await admin(shop);
		await customer(shop);
		const res = await adm.http.get("/api/v1/users?page=1&pageSize=2");
		expect(res.status).toBe(200);
		expect(res.body.rows).toHaveLength(2);
		expect(res.body).toMatchObject({ page: 1, pageSize: 2 });
		expect(res.body.total).toBeGreaterThanOrEqual(2);
		expect(res.body.totalPages).toBe(Math.ceil(res.body.total / 2));
		expect(JSON.stringify(res.body)).not.toMatch(/passwordHash/);
		const tooBig = await adm.http.get("/api/v1/users?pageSize=101");
		expect(tooBig.status).toBe(422);
		expect(fields(tooBig.body)).toContain("pageSize");
	});

	it("changes roles, which take effect at the next login", async () => {
		const adm = await admin(shop);
		const acc = await customer(shop);
		const res = await adm.http.patch(`/api/v1/users/${acc.id}`, { roles: ["customer", "agent"] });
		expect(res.status).toBe(200);
		expect(res.body.roles).toEqual(["customer", "agent"]);
		const again = await login(shop, acc.email, acc.password);
		expect((jwt.decode(again.accessToken) as jwt.JwtPayload).roles).toEqual(["customer", "agent"]);
		const bad = await adm.http.patch(`/api/v1/users/${acc.id}`, { roles: ["superuser"] });
		expect(bad.status).toBe(422);
	});

	it("deactivates and erases (DELETE keeps only an erased tombstone; again changes nothing; an unknown id is 404)", async () => {
		const adm = await admin(shop);
		const acc = await customer(shop);
		expect((await adm.http.patch(`/api/v1/users/${acc.id}`, { active: false })).status).toBe(200);
		expect((await shop.http.post("/api/v1/auth/login", { email: acc.email, password: acc.password })).status).toBe(401);
		const del = await adm.http.delete(`/api/v1/users/${acc.id}`);
		expect(del.status).toBe(204);
		const erased = await adm.http.get(`/api/v1/users/${acc.id}`);
		expect(erased.body).toMatchObject({ email: `erased-${acc.id}@erased.invalid`, name: "Erased customer", active: false });
		expect(erased.body.erasure.requestedAt).toEqual(expect.any(String));
		expect((await adm.http.delete(`/api/v1/users/${acc.id}`)).status).toBe(204);
		expect((await adm.http.get(`/api/v1/users/${acc.id}`)).body).toEqual(erased.body);
		expect((await adm.http.delete(`/api/v1/users/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
	});
});

describe("null is not a way around validation", () => {
	it("refuses null for optional fields instead of storing it", async () => {
		const acc = await customer(shop);
		for (const body of [{ name: null }, { preferences: { notifications: { inApp: null } } }, { preferences: { currency: null } }]) {
			const res = await acc.http.patch("/api/v1/me", body);
			expect(res.status, JSON.stringify(body)).toBe(422);
		}
		const me = await acc.http.get("/api/v1/me");
		expect(me.body.name).toBe("Customer");
		expect(me.body.preferences.notifications.inApp).toBe(true);
	});
});

describe("null in required fields", () => {
	it("answers 422, never 500, for null where a value is required", async () => {
		const acc = await customer(shop);
		const cases: [string, string, unknown][] = [
			["POST", "/api/v1/auth/login", { email: "", password: null }],
			["POST", "/api/v1/auth/login", { email: null, password: "x" }],
			["POST", "/api/v1/auth/refresh", { refreshToken: null }],
			["POST", "/api/v1/auth/register", { email: null, password: null, name: null }],
		];
		for (const [method, url, body] of cases)
			expect((await shop.http.request(method, url, body)).status, `${method} ${url} ${JSON.stringify(body)}`).toBe(422);
		expect((await acc.http.post("/api/v1/auth/logout", { refreshToken: null })).status).toBe(422);
	});
});
