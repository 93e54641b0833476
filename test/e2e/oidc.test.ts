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
});
