/**
 * The shop as an OpenID Connect provider, driven with openid-client (panva's certified relying
 * party) and plain HTTP with a cookie jar for the provider's pages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import { ADMIN_ENV, admin, customer, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { Browser, discover, signIn } from "../helpers/oidc.js";

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
		await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
		await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
	});
});
