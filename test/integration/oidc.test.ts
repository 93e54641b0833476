/**
 * The shop as an OpenID Connect provider, driven with openid-client (panva's certified relying
 * party) and plain HTTP with a cookie jar for the provider's pages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { ADMIN_ENV, admin, customer, eventually, startShop, withRoles, type Account, type TestShop } from "../helpers/shop.js";
import { Browser, discover, formAction, formField, oauthError, signIn } from "../helpers/oidc.js";

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
