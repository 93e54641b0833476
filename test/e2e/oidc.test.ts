/**
 * The web shop as an OpenID Connect client of the shop's own provider, in a real browser: sign-in
 * through the provider's page (code + PKCE), a reload signed in again without a form
 * (`prompt=none`), RP-initiated logout killing the access token at the API, and the back office's
 * OAuth clients page.
 */
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from "vitest";
import type { Browser, Page } from "playwright-core";
import {
	ADMIN_EMAIL,
	ADMIN_PASSWORD,
	apiCall,
	ensureWebBuild,
	eventually,
	expectAccessible,
	launchBrowser,
	loginApi,
	openPage,
	saveArtifact,
	signInOnProviderPage,
	skipWithoutChromium,
	startShopProcess,
	tokensInUrls,
	uniqueEmail,
	type RunningShop,
	type TrackedPage,
} from "./harness.js";

const skip = skipWithoutChromium();
const PASSWORD = "correct-horse-battery-staple";

describe.skipIf(skip)("the web shop signs in through the OpenID provider", { timeout: 120_000 }, () => {
	let shop: RunningShop;
	let browser: Browser;
	const pages: TrackedPage[] = [];

	beforeAll(async () => {
		await ensureWebBuild();
		[shop, browser] = await Promise.all([startShopProcess(), launchBrowser()]);
	}, 240_000);

	afterAll(async () => {
		await Promise.allSettled(pages.map(p => p.close()));
		await browser?.close().catch(() => undefined);
		await shop?.stop();
	}, 30_000);

	async function open(name: string): Promise<TrackedPage> {
		const tp = await openPage(browser, shop.baseUrl);
		pages.push(tp);
		onTestFailed(async () => saveArtifact(tp.page, name));
		return tp;
	}

	async function heading(page: Page, text: string) {
		await expect.poll(() => page.locator("main h1, h1").first().textContent(), { timeout: 15_000 }).toBe(text);
	}

	test("a customer signs in on the provider's page, sees their account, is signed in again silently after a reload, and signing out kills the access token within a second", async () => {
		const email = uniqueEmail("olga");
		expect((await apiCall(shop.baseUrl, "POST", "/auth/register", { email, password: PASSWORD, name: "Olga" })).status).toBe(201);
		const tp = await open("oidc-customer");
		const { page } = tp;
		const bearers: string[] = [];
		const authorizeUrls: string[] = [];
		const tokenRequests: string[] = [];
		page.on("request", r => {
			const url = new URL(r.url());
			const auth = r.headers().authorization;
			if (url.pathname.startsWith("/api/v1/") && auth) bearers.push(auth.replace(/^Bearer /, ""));
			if (url.pathname === "/oidc/auth") authorizeUrls.push(r.url());
			if (url.pathname === "/oidc/token") tokenRequests.push(new URLSearchParams(r.postData() ?? "").get("grant_type") ?? "");
		});

		await page.goto("/");
		await page.getByRole("link", { name: "Sign in" }).click();
		await page.waitForURL(/\/oidc\/interaction\//);
		await heading(page, "Sign in");
		await expectAccessible(page, "provider sign-in");
		const authorize = new URL(authorizeUrls[0]!);
		expect(authorize.searchParams.get("client_id")).toBe("shop-web");
		expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
		expect(authorize.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
		expect(authorize.searchParams.get("redirect_uri")).toBe(`${shop.baseUrl}/auth/callback`);
		await signInOnProviderPage(page, email, PASSWORD);
		expect(tokenRequests).toEqual(["authorization_code"]);
		// Nothing of the round trip is left in storage, and no token is stored at all.
		const stored = (await page.evaluate("JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } })")) as string;
		expect(stored).not.toMatch(/eyJ|codeVerifier|refresh/i);

		await page.getByRole("link", { name: "Account" }).click();
		await heading(page, "Your account");
		await page.getByText(email).first().waitFor();
		await expectAccessible(page, "account after OIDC sign-in");
		const firstToken = bearers.at(-1)!;
		expect((await apiCall(shop.baseUrl, "GET", "/me", undefined, firstToken)).body.email).toBe(email);

		// A reload loses the tokens (memory only): the provider's session cookie signs in again, without a form.
		await page.reload();
		await page.getByRole("button", { name: "Sign out" }).waitFor();
		await heading(page, "Your account");
		expect(new URL(authorizeUrls.at(-1)!).searchParams.get("prompt")).toBe("none");
		expect(tokenRequests).toEqual(["authorization_code", "authorization_code"]);
		const secondToken = bearers.at(-1)!;
		expect(secondToken).not.toBe(firstToken);

		// RP-initiated logout: the provider asks, then sends the browser home signed out.
		await page.getByRole("button", { name: "Sign out" }).click();
		await heading(page, "Sign out of the shop?");
		await expectAccessible(page, "provider sign-out");
		await page.getByRole("button", { name: "Yes, sign me out" }).click();
		await page.waitForURL(`${shop.baseUrl}/`);
		await page.getByRole("link", { name: "Sign in" }).waitFor();
		await eventually(
			async () => ((await apiCall(shop.baseUrl, "GET", "/me", undefined, secondToken)).status === 401 ? true : undefined),
			1000,
			"the access token refused after sign-out",
			50,
		);
		// The next load does not try a silent sign-in any more.
		const before = authorizeUrls.length;
		await page.goto("/account");
		await heading(page, "Please sign in");
		expect(authorizeUrls.length).toBe(before);
		// The one JWT in a URL is the ID token hint of end_session (RP-initiated logout by GET); no access token ever.
		const endSession = tp.urls.filter(u => u.includes("/oidc/session/end?"));
		expect(endSession).toHaveLength(1);
		expect(
			tokensInUrls(
				tp.urls.filter(u => !endSession.includes(u)),
				[firstToken, secondToken],
			),
		).toEqual([]);
		for (const token of [firstToken, secondToken]) expect(endSession[0]).not.toContain(token);
		expect(tp.errors).toEqual([]);
	});
	test("an admin creates a confidential client in the back office: each 422 at its field, the secret shown once and working, rotated, deleted", async () => {
		const tp = await open("oidc-admin-clients");
		const { page } = tp;
		await page.goto("/login?next=/admin/oauth-clients");
		await signInOnProviderPage(page, ADMIN_EMAIL, ADMIN_PASSWORD);
		await heading(page, "OAuth clients");
		await page
			.getByRole("row", { name: /Web shop/ })
			.getByText("Built in")
			.waitFor();
		await expectAccessible(page, "OAuth clients");

		const form = page.getByRole("region", { name: "New client" });
		await form.getByLabel("Name").fill("ERP sync");
		await form.getByLabel("Type").selectOption("confidential");
		const grants = form.getByRole("group", { name: "Allowed grants" });
		await grants.getByLabel("Client credentials").uncheck();
		await form.getByRole("button", { name: "Create client" }).click();
		// No grant at all: the API's 422 is shown at the group of grants.
		await expect.poll(() => grants.getAttribute("aria-describedby")).toBeTruthy();
		const grantsError = page.locator(`[id="${await grants.getAttribute("aria-describedby")}"]`);
		expect(await grantsError.textContent()).toMatch(/\S/);

		// A plain-http redirect URI off loopback: the 422 names its line, at the text box.
		await grants.getByLabel("Client credentials").check();
		await grants.getByLabel("Authorization code + PKCE").check();
		const redirects = form.getByRole("textbox", { name: "Redirect URIs", exact: true });
		await redirects.fill("https://erp.example.com/callback\nhttp://erp.example.com/callback");
		await form.getByRole("button", { name: "Create client" }).click();
		await expect.poll(() => redirects.getAttribute("aria-invalid")).toBe("true");
		const redirectsError = page.locator(`[id="${(await redirects.getAttribute("aria-describedby"))!.split(" ").at(-1)}"]`);
		expect(await redirectsError.textContent()).toMatch(/^Line 2: /);
		await expectAccessible(page, "OAuth clients with field errors");

		await redirects.fill("");
		await grants.getByLabel("Authorization code + PKCE").uncheck();
		await form.getByRole("group", { name: "Scopes" }).getByLabel("catalog:write").check();
		await form.getByRole("button", { name: "Create client" }).click();
		const shown = page.getByRole("region", { name: "Secret of ERP sync" });
		await shown.waitFor();
		await expectAccessible(page, "OAuth clients showing a secret");
		const secret = (await shown.getByTestId("client-secret").textContent())!;
		const clientId = (await shown.locator("dd code").first().textContent())!;
		expect(secret.length).toBeGreaterThanOrEqual(32);
		const row = page.getByRole("row", { name: /ERP sync/ });
		await row.getByText(clientId).waitFor();

		const token = async (id: string, s: string) => {
			const res = await fetch(`${shop.baseUrl}/oidc/token`, {
				method: "POST",
				headers: { authorization: `Basic ${Buffer.from(`${id}:${s}`).toString("base64")}` },
				body: new URLSearchParams({ grant_type: "client_credentials", scope: "catalog:write" }),
			});
			return { status: res.status, body: (await res.json()) as { access_token?: string; error?: string } };
		};
		expect((await token(clientId, secret)).status).toBe(200);
		// Shown once: not after a reload, and never by the API's list.
		await page.reload();
		await heading(page, "OAuth clients");
		await page.getByRole("row", { name: /ERP sync/ }).waitFor();
		expect(await page.content()).not.toContain(secret);
		const admin = await loginApi(shop.baseUrl, ADMIN_EMAIL, ADMIN_PASSWORD);
		const listed = await apiCall(shop.baseUrl, "GET", "/oauth-clients", undefined, admin.token);
		expect(listed.status).toBe(200);
		expect(JSON.stringify(listed.body)).not.toContain(secret);

		// Rotation: a new secret, once; the old one is refused.
		await page.getByRole("button", { name: "Rotate secret of ERP sync" }).click();
		const rotated = (await page.getByRole("region", { name: "Secret of ERP sync" }).getByTestId("client-secret").textContent())!;
		expect(rotated).not.toBe(secret);
		expect((await token(clientId, secret)).body.error).toBe("invalid_client");
		expect((await token(clientId, rotated)).status).toBe(200);

		await page.getByRole("button", { name: "Delete ERP sync" }).click();
		await expect.poll(() => page.getByRole("row", { name: /ERP sync/ }).count()).toBe(0);
		expect((await token(clientId, rotated)).body.error).toBe("invalid_client");
		expect(tokensInUrls(tp.urls, [secret, rotated])).toEqual([]);
		expect(tp.errors).toEqual([]);
	});
});
