/**
 * The shop as an OpenID Connect provider, driven with openid-client (panva's certified relying
 * party) and plain HTTP with a cookie jar for the provider's pages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { ADMIN_ENV, admin, customer, eventually, startShop, withRoles, type Account, type TestShop } from "../helpers/shop.js";
import { Browser, approveDevice, discover, formAction, formField, oauthError, signIn, signOut } from "../helpers/oidc.js";

let shop: TestShop;
let issuer: string;
let api: string; // the resource indicator of the shop API
let adminAccount: Account;
const REDIRECT = "http://127.0.0.1:9/callback";

beforeAll(async () => {
	shop = await startShop({ env: { ...ADMIN_ENV, DEVICE_POLL_INTERVAL_S: "1", DEVICE_CODE_TTL: "3", AUTHORIZATION_CODE_TTL: "2" } });
	issuer = `${shop.baseUrl}/oidc`;
	api = `${shop.baseUrl}/api/v1`;
	adminAccount = await admin(shop);
}, 30_000);
afterAll(async () => {
	await shop?.stop();
});

async function publicClient(extra: Record<string, unknown> = {}) {
	const res = await adminAccount.http.post("/api/v1/oauth-clients", {
		name: "Mobile app",
		type: "public",
		redirectUris: [REDIRECT],
		postLogoutRedirectUris: ["http://127.0.0.1:9/bye"],
		grantTypes: ["authorization_code", "refresh_token"],
		...extra,
	});
	expect(res.status).toBe(201);
	return res.body as { id: string; clientId: string };
}

async function codeFlow(config: oidc.Configuration, account: { email: string; password: string }, scope = "openid email profile offline_access") {
	const verifier = oidc.randomPKCECodeVerifier();
	const state = oidc.randomState();
	const url = oidc.buildAuthorizationUrl(config, {
		redirect_uri: REDIRECT,
		scope,
		code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
		code_challenge_method: "S256",
		state,
	});
	const browser = new Browser();
	const done = await signIn(browser, url.href, account.email, account.password, REDIRECT, shop.baseUrl);
	expect(done.url.startsWith(REDIRECT), `${done.status} ${done.html.slice(0, 500)}`).toBe(true);
	return { callback: new URL(done.url), verifier, state, browser };
}

describe("identity provider", () => {
	it("publishes its discovery document", async () => {
		const res = await shop.http.get("/oidc/.well-known/openid-configuration");
		expect(res.status).toBe(200);
		expect(res.body.issuer).toBe(issuer);
		expect(res.body.code_challenge_methods_supported).toEqual(["S256"]);
		expect(res.body.grant_types_supported).toEqual(
			expect.arrayContaining(["authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"]),
		);
	});

	it("code + PKCE through the login page: ID and access tokens, GET /me, refresh rotation and reuse", async () => {
		const client = await publicClient();
		const config = await discover(issuer, client.clientId);
		const ann = await customer(shop, "Ann");
		const { callback, verifier, state } = await codeFlow(config, ann);
		const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
		expect(tokens.claims()?.sub).toBe(ann.id);
		expect(tokens.claims()?.email).toBe(ann.email);
		const me = await shop.http.as(tokens.access_token).get("/api/v1/me");
		expect(me.status).toBe(200);
		expect(me.body.id).toBe(ann.id);
		const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
		expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
		expect((await shop.http.as(refreshed.access_token).get("/api/v1/me")).status).toBe(200);
		// The access token: an RFC 9068 JWT for the shop API, signed with a key the JWKS publishes.
		const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${api}/auth/jwks`)), {
			issuer,
			audience: api,
			typ: "at+jwt",
			algorithms: ["RS256"],
		});
		expect(protectedHeader.typ).toBe("at+jwt");
		expect(payload).toMatchObject({ sub: ann.id, roles: ["customer"], client_id: client.clientId });
		expect(typeof payload.sid).toBe("string");
		await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${issuer}/jwks`)), { issuer, audience: api });
		// It is the shop API's token, not userinfo's: refused there with invalid_token, never a 500.
		expect(await oauthError(oidc.fetchUserInfo(config, tokens.access_token, ann.id))).toMatchObject({ error: "invalid_token", status: 401 });

		// A replayed refresh token: invalid_grant, and the newest tokens of that grant die too.
		await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
		await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
		await eventually(
			async () => ((await shop.http.as(refreshed.access_token).get("/api/v1/me")).status === 401 ? true : undefined),
			1000,
			"the newest access token refused",
		);
	});

	it("shows third-party clients a consent page (in Spanish when asked) and skips it for the web shop", async () => {
		const client = await publicClient();
		const config = await discover(issuer, client.clientId);
		const bea = await customer(shop, "Bea");
		const url = oidc.buildAuthorizationUrl(config, {
			redirect_uri: REDIRECT,
			scope: "openid email",
			code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
			code_challenge_method: "S256",
		});
		const browser = new Browser("es-ES,es;q=0.9");
		const login = await browser.follow(url.href, {}, REDIRECT);
		expect(login.html).toContain("Iniciar sesión");
		const consent = await browser.follow(new URL(formAction(login.html)!, shop.baseUrl).href, {
			form: { csrf: formField(login.html, "csrf")!, email: bea.email, password: bea.password },
		});
		expect(consent.html).toContain("¿Permitir el acceso?");
		expect(consent.html).toContain("Ver tu correo electrónico");

		const shopConfig = await discover(issuer, "shop-web");
		const shopUrl = oidc.buildAuthorizationUrl(shopConfig, {
			redirect_uri: `${shop.baseUrl}/auth/callback`,
			scope: "openid",
			code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
			code_challenge_method: "S256",
		});
		const done = await signIn(new Browser(), shopUrl.href, bea.email, bea.password, `${shop.baseUrl}/auth/callback`, shop.baseUrl);
		expect(done.url).toMatch(/\/auth\/callback\?code=/);
	});

	it("refuses a wrong password on the login page (401, same page), a missing CSRF token (403), and locks after 5 failures (429)", async () => {
		const client = await publicClient();
		const config = await discover(issuer, client.clientId);
		const cy = await customer(shop, "Cy");
		const url = oidc.buildAuthorizationUrl(config, {
			redirect_uri: REDIRECT,
			scope: "openid",
			code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
			code_challenge_method: "S256",
		});
		const browser = new Browser();
		const login = await browser.follow(url.href, {}, REDIRECT);
		const action = new URL(formAction(login.html)!, shop.baseUrl).href;
		const noCsrf = await browser.request(action, { form: { email: cy.email, password: cy.password } });
		expect(noCsrf.status).toBe(403);
		let page = login.html;
		const statuses: number[] = [];
		for (let i = 0; i < 6; i++) {
			const res = await browser.request(action, { form: { csrf: formField(page, "csrf")!, email: cy.email, password: "wrong-password-123" } });
			statuses.push(res.status);
			page = await res.text();
		}
		expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
		expect(statuses[5]).toBe(429);
		expect(page).toContain("Too many failed attempts");
	});
});

describe("client credentials", () => {
	async function integrator(scopes: string[]) {
		const res = await adminAccount.http.post("/api/v1/oauth-clients", { name: "ERP", type: "confidential", grantTypes: ["client_credentials"], scopes });
		expect(res.status).toBe(201);
		expect(typeof res.body.clientSecret).toBe("string");
		return res.body as { id: string; clientId: string; clientSecret: string };
	}

	it("a token with catalog:write creates a product; without the scope 403; the secret is shown once", async () => {
		const erp = await integrator(["catalog:write"]);
		const config = await discover(issuer, erp.clientId, erp.clientSecret);
		const tokens = await oidc.clientCredentialsGrant(config, { scope: "catalog:write" });
		expect(tokens.scope).toBe("catalog:write");
		const made = await shop.http
			.as(tokens.access_token)
			.post("/api/v1/products", { sku: "ERP-1", name: "From the ERP", price: 500, currency: "EUR", stock: 3 });
		expect(made.status).toBe(201);
		expect((await shop.http.get(`/api/v1/products/${made.body.id}`)).body.name).toBe("From the ERP");
		// Its token opens nothing else.
		expect((await shop.http.as(tokens.access_token).get("/api/v1/users")).status).toBe(403);

		const reader = await integrator(["orders:read"]);
		const readerTokens = await oidc.clientCredentialsGrant(await discover(issuer, reader.clientId, reader.clientSecret), { scope: "orders:read" });
		expect((await shop.http.as(readerTokens.access_token).post("/api/v1/products", { sku: "ERP-2", name: "No", price: 1, currency: "EUR" })).status).toBe(
			403,
		);

		const listed = await adminAccount.http.get("/api/v1/oauth-clients");
		expect(listed.status).toBe(200);
		expect(JSON.stringify(listed.body)).not.toContain(erp.clientSecret);
	});

	it("a wrong secret is invalid_client; a rotated secret replaces the old one; a deleted client's tokens stop working", async () => {
		const erp = await integrator(["inventory:write"]);
		expect(await oauthError(oidc.clientCredentialsGrant(await discover(issuer, erp.clientId, "not-the-secret"), { scope: "inventory:write" }))).toEqual({
			error: "invalid_client",
			status: 401,
		});
		const tokens = await oidc.clientCredentialsGrant(await discover(issuer, erp.clientId, erp.clientSecret), { scope: "inventory:write" });
		const rotated = await adminAccount.http.post(`/api/v1/oauth-clients/${erp.id}/rotate-secret`);
		expect(rotated.status).toBe(200);
		expect((await oauthError(oidc.clientCredentialsGrant(await discover(issuer, erp.clientId, erp.clientSecret), {}))).error).toBe("invalid_client");
		await oidc.clientCredentialsGrant(await discover(issuer, erp.clientId, rotated.body.clientSecret), {});

		const product = await adminAccount.http.post("/api/v1/products", { sku: "INV-1", name: "Stocked", price: 100, currency: "EUR", stock: 1 });
		expect((await shop.http.as(tokens.access_token).patch(`/api/v1/products/${product.body.id}/inventory`, { delta: 2 })).status).toBe(200);
		expect((await adminAccount.http.delete(`/api/v1/oauth-clients/${erp.id}`)).status).toBe(204);
		await eventually(
			async () =>
				(await shop.http.as(tokens.access_token).patch(`/api/v1/products/${product.body.id}/inventory`, { delta: 1 })).status === 401
					? true
					: undefined,
			1000,
			"the deleted client's token refused",
		);
	});

	it("after a rotation of the key ring, new tokens are signed with the new key and old ones keep working", async () => {
		const erp = await integrator(["orders:read"]);
		const config = await discover(issuer, erp.clientId, erp.clientSecret);
		const before = await oidc.clientCredentialsGrant(config, { scope: "orders:read" });
		const { kid } = await shop.broker.call<{ kid: string }>("users.rotateSigningKey");
		const after = await eventually(
			async () => {
				const t = await oidc.clientCredentialsGrant(config, { scope: "orders:read" });
				return JSON.parse(Buffer.from(t.access_token.split(".")[0]!, "base64url").toString()).kid === kid ? t : undefined;
			},
			5000,
			"a token signed with the new key",
		);
		for (const t of [before, after]) expect((await shop.http.as(t.access_token).get("/api/v1/orders")).status).toBe(200);
	});

	it("a customer's token never carries catalog:write, even when the client may ask for it", async () => {
		const client = await publicClient({ scopes: ["catalog:write"] });
		const config = await discover(issuer, client.clientId);
		const dan = await customer(shop, "Dan");
		const { callback, verifier } = await codeFlow(config, dan, "openid catalog:write");
		const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: oidc.skipStateCheck });
		expect(tokens.scope ?? "").not.toContain("catalog:write");
		expect((await shop.http.as(tokens.access_token).post("/api/v1/products", { sku: "C-1", name: "No", price: 1, currency: "EUR" })).status).toBe(403);
		// An admin signing in through the same client gets it.
		const boss = await withRoles(shop, ["admin"], "Boss");
		const bossFlow = await codeFlow(config, boss, "openid catalog:write");
		const bossTokens = await oidc.authorizationCodeGrant(config, bossFlow.callback, {
			pkceCodeVerifier: bossFlow.verifier,
			expectedState: oidc.skipStateCheck,
		});
		expect(bossTokens.scope).toContain("catalog:write");
	});
});

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

describe("device authorization (RFC 8628)", () => {
	async function pos() {
		const res = await adminAccount.http.post("/api/v1/oauth-clients", { name: "Till 4", type: "public", grantTypes: [DEVICE_GRANT, "refresh_token"] });
		expect(res.status).toBe(201);
		return discover(issuer, res.body.clientId);
	}

	it("a point-of-sale device gets tokens once a person approves its code; polling too fast is slow_down", async () => {
		const config = await pos();
		const eve = await withRoles(shop, ["agent"], "Eve");
		const started = await oidc.initiateDeviceAuthorization(config, { scope: "openid offline_access" });
		expect(started.interval).toBe(1);
		expect((await oauthError(oidc.genericGrantRequest(config, DEVICE_GRANT, { device_code: started.device_code }))).error).toBe("authorization_pending");
		expect(await oauthError(oidc.genericGrantRequest(config, DEVICE_GRANT, { device_code: started.device_code }))).toEqual({
			error: "slow_down",
			status: 400,
		});

		const last = await approveDevice(new Browser(), started.verification_uri_complete!, started.user_code, eve.email, eve.password, shop.baseUrl);
		expect(last).toContain("You can return to your device");
		const tokens = await oidc.pollDeviceAuthorizationGrant(config, { ...started, interval: 1 });
		expect(tokens.refresh_token).toBeTruthy();
		const me = await shop.http.as(tokens.access_token).get("/api/v1/me");
		expect(me.status).toBe(200);
		expect(me.body.id).toBe(eve.id);
	});

	it("an unapproved code expires: expired_token", async () => {
		const config = await pos();
		const started = await oidc.initiateDeviceAuthorization(config, { scope: "openid" });
		await new Promise(r => setTimeout(r, 3200)); // DEVICE_CODE_TTL is 3 s here
		expect(await oauthError(oidc.genericGrantRequest(config, DEVICE_GRANT, { device_code: started.device_code }))).toEqual({
			error: "expired_token",
			status: 400,
		});
	});
});

describe("ending access", () => {
	it("RP-initiated logout stops the access token at the gateway within a second", async () => {
		const client = await publicClient();
		const config = await discover(issuer, client.clientId);
		const fay = await customer(shop, "Fay");
		const { callback, verifier, state, browser } = await codeFlow(config, fay);
		const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
		expect((await shop.http.as(tokens.access_token).get("/api/v1/me")).status).toBe(200);
		const endUrl = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: "http://127.0.0.1:9/bye" });
		expect(await signOut(browser, endUrl.href, shop.baseUrl, "http://127.0.0.1:9/bye")).toMatch(/^http:\/\/127\.0\.0\.1:9\/bye/);
		await eventually(
			async () => ((await shop.http.as(tokens.access_token).get("/api/v1/me")).status === 401 ? true : undefined),
			1000,
			"the access token refused after logout",
		);
		expect((await oauthError(oidc.refreshTokenGrant(config, tokens.refresh_token!))).error).toBe("invalid_grant");
	});

	it("revoking the refresh token stops the access token within a second; introspection says inactive", async () => {
		const client = await publicClient();
		const config = await discover(issuer, client.clientId);
		const gus = await customer(shop, "Gus");
		const { callback, verifier, state } = await codeFlow(config, gus);
		const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
		expect((await oidc.tokenIntrospection(config, tokens.refresh_token!)).active).toBe(true);
		await oidc.tokenRevocation(config, tokens.refresh_token!);
		await eventually(
			async () => ((await shop.http.as(tokens.access_token).get("/api/v1/me")).status === 401 ? true : undefined),
			1000,
			"the access token refused after revocation",
		);
		expect((await oidc.tokenIntrospection(config, tokens.refresh_token!)).active).toBe(false);
	});

	it("a password change ends the user's OpenID grants too", async () => {
		const client = await publicClient();
		const config = await discover(issuer, client.clientId);
		const hal = await customer(shop, "Hal");
		const { callback, verifier, state } = await codeFlow(config, hal);
		const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
		expect((await hal.http.post("/api/v1/me/password", { currentPassword: hal.password, newPassword: "another-long-passphrase" })).status).toBe(204);
		await eventually(
			async () => ((await shop.http.as(tokens.access_token).get("/api/v1/me")).status === 401 ? true : undefined),
			1000,
			"the access token refused",
		);
	});
});

describe("bad input gets the RFC's error, never a 500", () => {
	async function authorize(params: Record<string, string>) {
		const url = new URL(`${issuer}/auth`);
		for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
		const res = await new Browser().request(url.href);
		return { status: res.status, location: res.headers.get("location") ?? "", html: await res.text() };
	}

	it("wrong redirect_uri and unknown client: an error page, no redirect", async () => {
		const client = await publicClient();
		const challenge = await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());
		const base = { response_type: "code", scope: "openid", code_challenge: challenge, code_challenge_method: "S256" };
		const wrong = await authorize({ ...base, client_id: client.clientId, redirect_uri: "http://127.0.0.1:9/other" });
		expect(wrong.status).toBe(400);
		expect(wrong.html).toContain("invalid_redirect_uri");
		const unknown = await authorize({ ...base, client_id: "no-such-client", redirect_uri: REDIRECT });
		expect(unknown.status).toBe(400);
		expect(unknown.html).toContain("invalid_client");
	});

	it("missing or plain PKCE: invalid_request back to the client", async () => {
		const client = await publicClient();
		const base = { response_type: "code", scope: "openid", client_id: client.clientId, redirect_uri: REDIRECT };
		const missing = await authorize(base);
		expect(missing.status).toBe(303);
		expect(new URL(missing.location).searchParams.get("error")).toBe("invalid_request");
		const plain = await authorize({ ...base, code_challenge: "a".repeat(43), code_challenge_method: "plain" });
		expect(new URL(plain.location).searchParams.get("error")).toBe("invalid_request");
	});

	it("a state mismatch is refused by the client; an expired code and a reused code are invalid_grant, and reuse revokes the first tokens", async () => {
		const client = await publicClient();
		const config = await discover(issuer, client.clientId);
		const ivy = await customer(shop, "Ivy");

		const a = await codeFlow(config, ivy);
		await expect(oidc.authorizationCodeGrant(config, a.callback, { pkceCodeVerifier: a.verifier, expectedState: "another-state" })).rejects.toMatchObject({
			cause: expect.objectContaining({ message: expect.stringMatching(/state/) }),
		});

		const b = await codeFlow(config, ivy);
		await new Promise(r => setTimeout(r, 2200)); // AUTHORIZATION_CODE_TTL is 2 s here
		expect(await oauthError(oidc.authorizationCodeGrant(config, b.callback, { pkceCodeVerifier: b.verifier, expectedState: b.state }))).toEqual({
			error: "invalid_grant",
			status: 400,
		});

		const c = await codeFlow(config, ivy);
		const first = await oidc.authorizationCodeGrant(config, c.callback, { pkceCodeVerifier: c.verifier, expectedState: c.state });
		expect(await oauthError(oidc.authorizationCodeGrant(config, c.callback, { pkceCodeVerifier: c.verifier, expectedState: c.state }))).toEqual({
			error: "invalid_grant",
			status: 400,
		});
		await eventually(
			async () => ((await shop.http.as(first.access_token).get("/api/v1/me")).status === 401 ? true : undefined),
			1000,
			"the first tokens revoked",
		);
		expect((await oauthError(oidc.refreshTokenGrant(config, first.refresh_token!))).error).toBe("invalid_grant");
	});

	it("client registration: exact https redirect URIs, http only on loopback, no secret for public clients", async () => {
		const post = (body: Record<string, unknown>) =>
			adminAccount.http.post("/api/v1/oauth-clients", { name: "X", type: "public", grantTypes: ["authorization_code"], ...body });
		expect((await post({ redirectUris: ["http://example.com/cb"] })).body.data[0].field).toBe("redirectUris[0]");
		expect((await post({ redirectUris: ["https://example.com/*"] })).status).toBe(422);
		expect((await post({ redirectUris: ["https://example.com/cb#x"] })).status).toBe(422);
		expect((await post({ redirectUris: [] })).body.data[0].field).toBe("grantTypes");
		expect((await post({ grantTypes: ["client_credentials"] })).status).toBe(422);
		const native = await post({ redirectUris: ["com.example.shop:/callback", "http://[::1]/cb"] });
		expect(native.status).toBe(201);
		expect(native.body.clientSecret).toBeUndefined();
		const customer1 = await customer(shop, "Nosy");
		expect((await customer1.http.get("/api/v1/oauth-clients")).status).toBe(403);
	});
});

describe("an outage of the users service", () => {
	it("is a 503 with Retry-After at the token endpoint, not a 500 (runs last: it stops the users service)", async () => {
		const erp = await adminAccount.http.post("/api/v1/oauth-clients", {
			name: "ERP",
			type: "confidential",
			grantTypes: ["client_credentials"],
			scopes: [],
		});
		const users = shop.broker.getLocalService("users")!;
		await shop.broker.destroyService(users);
		const res = await fetch(`${issuer}/token`, {
			method: "POST",
			headers: {
				authorization: `Basic ${Buffer.from(`${erp.body.clientId}:${erp.body.clientSecret}`).toString("base64")}`,
				"content-type": "application/x-www-form-urlencoded",
			},
			body: "grant_type=client_credentials",
		});
		expect(res.status).toBe(503);
		expect(res.headers.get("retry-after")).toBe("2");
		expect(((await res.json()) as { error: string }).error).toBe("temporarily_unavailable");
	});
});
