/**
 * The web shop in a real browser (Debian's chromium through playwright-core) against the whole
 * shop started as `npm start` starts it. Every page a flow visits is checked with axe-core;
 * a failing test leaves a screenshot in test/e2e/artifacts/. The run also writes the README's
 * screenshots (docs/screenshots/storefront.png, backoffice.png).
 */
import { randomUUID } from "node:crypto";
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
	saveDocScreenshot,
	skipWithoutChromium,
	startShopProcess,
	tokensInUrls,
	uniqueEmail,
	type RunningShop,
	type TrackedPage,
} from "./harness.js";

const skip = skipWithoutChromium();
const PASSWORD = "correct-horse-battery-staple";

describe.skipIf(skip)("web shop in a browser", { timeout: 120_000 }, () => {
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

	/** A fresh browser context; its screenshot is saved if the test fails, and it never puts a token in a URL. */
	async function open(name: string, opts: Parameters<typeof openPage>[2] = {}): Promise<TrackedPage> {
		const tp = await openPage(browser, shop.baseUrl, opts);
		pages.push(tp);
		onTestFailed(async () => {
			await saveArtifact(tp.page, name);
		});
		return tp;
	}

	function expectNoTokensInUrls(tp: TrackedPage) {
		expect(tokensInUrls(tp.urls)).toEqual([]);
	}

	async function signInInUi(page: Page, email: string, password: string, next = "/") {
		await page.goto(`/login?next=${encodeURIComponent(next)}`);
		await signInOnProviderPage(page, email, password);
	}

	async function fillCheckout(page: Page) {
		await heading(page, "Checkout");
		await page.getByLabel("Full name").fill("Ann Example");
		await page.getByRole("textbox", { name: "Address", exact: true }).fill("Hauptstraße 1");
		await page.getByLabel("Postal code").fill("10115");
		await page.getByLabel("City").fill("Berlin");
		await page.getByLabel("Country").selectOption("DE");
		expect(await page.getByLabel("Card number").count(), "the shop never asks for the card").toBe(0);
	}

	/** On the simulated payment service's page (server-rendered, same tab): pay with a card, then back to the order. */
	async function payOnProviderPage(page: Page, card: string, outcome: RegExp) {
		await page.getByRole("heading", { name: "Confirm your payment" }).waitFor({ timeout: 20_000 });
		expect(new URL(page.url()).pathname).toMatch(/^\/api\/v1\/payments\/simulated\/sessions\/sim_pi_/);
		await page.getByLabel("Card number").fill(card);
		await page.getByLabel("Expiry month").fill("12");
		await page.getByLabel("Expiry year").fill(String(new Date().getFullYear() + 2));
		await page.getByLabel("Security code").fill("123");
		await page.getByRole("button", { name: "Pay" }).click();
		await page.getByText(outcome).first().waitFor();
		await page.getByRole("link", { name: "Return to the shop" }).click();
		await heading(page, /^Order [0-9A-F]{8}$/);
	}

	/** A paid order placed through the API for a customer (setup for the back-office flows). */
	async function paidOrderViaApi(token: string, name: string, sku: string): Promise<{ id: string; productId: string }> {
		const found = await apiCall(shop.baseUrl, "GET", `/products?q=${encodeURIComponent(name)}`);
		const product = found.body.rows.find((p: { sku: string }) => p.sku === sku);
		expect(product, `demo product ${sku}`).toBeTruthy();
		expect((await apiCall(shop.baseUrl, "POST", "/cart/items", { productId: product.id, quantity: 1 }, token)).status).toBe(200);
		const order = await apiCall(
			shop.baseUrl,
			"POST",
			"/orders",
			{
				shippingAddress: { name: "Rita Return", line1: "Calle Mayor 5", city: "Madrid", postalCode: "28013", country: "ES" },
				payment: { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" },
			},
			token,
			{ "idempotency-key": randomUUID() },
		);
		expect(order.status, JSON.stringify(order.body)).toBe(202);
		await eventually(
			async () => ((await apiCall(shop.baseUrl, "GET", `/orders/${order.body.id}`, undefined, token)).body.status === "paid" ? true : undefined),
			15_000,
			"order paid",
		);
		return { id: order.body.id, productId: product.id };
	}

	async function staffAccount(roles: string[], name: string): Promise<{ email: string }> {
		const email = uniqueEmail(name.toLowerCase());
		expect((await apiCall(shop.baseUrl, "POST", "/auth/register", { email, password: PASSWORD, name })).status).toBe(201);
		const admin = await loginApi(shop.baseUrl, ADMIN_EMAIL, ADMIN_PASSWORD);
		const user = await loginApi(shop.baseUrl, email, PASSWORD);
		const res = await apiCall(shop.baseUrl, "PATCH", `/users/${user.userId}`, { roles }, admin.token);
		expect(res.status, JSON.stringify(res.body)).toBe(200);
		return { email };
	}

	test("a customer registers, searches as they type, pays with the approved card on the payment page and comes back to a paid order", async () => {
		const tp = await open("checkout-approved");
		const { page } = tp;
		await page.goto("/");
		await heading(page, "Welcome to the shop");
		await expectAccessible(page, "home");

		await page.getByRole("link", { name: "Register" }).click();
		await heading(page, "Create an account");
		// After a navigation the new page's heading has the focus (effects run after paint: poll).
		await expect.poll(() => page.evaluate("document.activeElement && document.activeElement.tagName")).toBe("H1");
		await expectAccessible(page, "register");
		const email = uniqueEmail("ann");
		await page.getByLabel("Name").fill("Ann");
		await page.getByLabel("Email").fill(email);
		await page.getByLabel("Password").fill(PASSWORD);
		await page.getByRole("button", { name: "Create account" }).click();
		// Registration is the shop's form; signing in is the provider's page (the email filled in from login_hint).
		await page.waitForURL(/\/oidc\/interaction\//);
		await expect.poll(() => page.getByLabel("Email").inputValue()).toBe(email);
		await expectAccessible(page, "provider sign-in after registration");
		await signInOnProviderPage(page, email, PASSWORD);
		await page.evaluate("window.__sameDocument = true");

		// Search as you type: the results follow the box.
		await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Shop" }).click();
		await heading(page, "All products");
		await page.getByLabel("Search products").pressSequentially("goosen", { delay: 40 });
		const product = page.getByRole("link", { name: "Gooseneck Kettle" });
		await product.waitFor();
		await expect.poll(() => page.url()).toContain("q=goosen");
		await expect.poll(() => page.locator(".product-card").count()).toBe(1);
		await expectAccessible(page, "search results");

		await product.click();
		await heading(page, "Gooseneck Kettle");
		await expectAccessible(page, "product");
		await page.getByRole("button", { name: "Add to cart" }).click();
		await page.getByText("Added to your cart.").waitFor();
		await page.getByRole("link", { name: "View cart" }).click();
		await heading(page, "Your cart");
		await page.getByLabel("Quantity of Gooseneck Kettle").fill("2");
		await page.getByLabel("Quantity of Gooseneck Kettle").press("Tab");
		await expect.poll(() => page.locator(".total-row dd").textContent()).toBe("€138.00");
		await expectAccessible(page, "cart");

		await page.getByRole("link", { name: "Check out" }).click();
		await fillCheckout(page);
		await page.getByText("4242424242424242").waitFor(); // the test cards are shown in development
		await expectAccessible(page, "checkout");
		const placed = page.waitForResponse(r => r.url().endsWith("/api/v1/orders") && r.request().method() === "POST");
		await page.getByRole("button", { name: "Place order" }).click();
		expect((await placed).request().postDataJSON().payment).toEqual({ method: "session" });

		await payOnProviderPage(page, "4242424242424242", /Payment authorized/);
		await page.locator(".order-status").getByText("Paid", { exact: true }).waitFor({ timeout: 20_000 });
		await expectAccessible(page, "order (paid)");

		await page.getByRole("link", { name: "Orders" }).click();
		await heading(page, "Your orders");
		await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
		await page.locator("tbody").getByText("Paid").waitFor();
		await expectAccessible(page, "order history");

		// Tokens: none is stored (memory only; localStorage keeps only the signed-in marker), the sign-in's round-trip
		// state is gone from sessionStorage, and none went into a URL.
		const stored = JSON.parse((await page.evaluate("JSON.stringify(Object.assign({}, localStorage))")) as string) as Record<string, string>;
		expect(stored["shop.signedIn"]).toBe("1");
		expect(Object.keys(stored).filter(k => /token/i.test(k))).toEqual([]);
		expect(Object.values(stored).some(v => /^eyJ/.test(v) || v.length > 40)).toBe(false);
		expect(await page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('shop.oidc.roundTrip'))")).toEqual([]);
		expectNoTokensInUrls(tp);
		expect(tp.errors).toEqual([]);
	});

	test("on a phone (390×844): a declined card's reason shows on the order page, and paying again with another card makes it paid", async () => {
		const tp = await open("phone-declined", { viewport: { width: 390, height: 844 }, isMobile: true });
		const { page } = tp;
		await registerInUi(page, "Dee");
		await page.goto("/search?q=bottle");
		await page.getByRole("link", { name: "Insulated Bottle 750 ml" }).click();
		await heading(page, "Insulated Bottle 750 ml");
		await expectAccessible(page, "product on a phone");
		await page.getByRole("button", { name: "Add to cart" }).click();
		await page.getByRole("link", { name: "View cart" }).click();
		await heading(page, "Your cart");
		await expectAccessible(page, "cart on a phone");
		await page.getByRole("link", { name: "Check out" }).click();
		await fillCheckout(page);
		await expectAccessible(page, "checkout on a phone");
		await page.getByRole("button", { name: "Place order" }).click();
		await page.getByRole("heading", { name: "Confirm your payment" }).waitFor({ timeout: 20_000 });
		await expectAccessible(page, "the simulated confirmation page on a phone");
		await payOnProviderPage(page, "4000000000000002", /The card was declined/);
		// Still pending, the session open for another card: the reason, "pay now" and "cancel order".
		await page.locator(".order-status").getByText("Pending", { exact: true }).waitFor();
		await page.getByText("The card was declined (card_declined). Try another card.").waitFor({ timeout: 20_000 });
		await page.getByRole("button", { name: "Cancel order" }).waitFor();
		await expectAccessible(page, "declined order on a phone");
		expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
		await page.getByRole("link", { name: "Pay now" }).click();
		await payOnProviderPage(page, "4242424242424242", /Payment authorized/);
		await page.locator(".order-status").getByText("Paid", { exact: true }).waitFor({ timeout: 20_000 });
		expect(await page.getByText(/The card was declined/).count()).toBe(0);
		await expectAccessible(page, "paid order on a phone");
		// Nothing wider than the screen.
		expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
		expectNoTokensInUrls(tp);
		expect(tp.errors).toEqual([]);
	});

	test("a return: the admin ships and delivers in the back office, the customer opens a return, an agent approves it, the customer sees the refund", async () => {
		const customerEmail = uniqueEmail("rita");
		expect((await apiCall(shop.baseUrl, "POST", "/auth/register", { email: customerEmail, password: PASSWORD, name: "Rita" })).status).toBe(201);
		const customer = await loginApi(shop.baseUrl, customerEmail, PASSWORD);
		const order = await paidOrderViaApi(customer.token, "Reading Lamp", "FUR-LAMP-01");
		const short = order.id.slice(0, 8).toUpperCase();

		// The admin ships and delivers it.
		const admin = await open("return-admin");
		await signInInUi(admin.page, ADMIN_EMAIL, ADMIN_PASSWORD, "/admin/orders");
		await heading(admin.page, "Orders");
		await admin.page.getByLabel("Status").selectOption("paid");
		await admin.page.getByRole("link", { name: short }).click();
		await heading(admin.page, `Order ${short}`);
		await expectAccessible(admin.page, "admin order");
		await admin.page.getByRole("button", { name: "Mark shipped" }).click();
		await admin.page.locator(".order-status").getByText("Shipped", { exact: true }).waitFor();
		await admin.page.getByRole("button", { name: "Mark delivered" }).click();
		await admin.page.locator(".order-status").getByText("Delivered", { exact: true }).waitFor();
		await admin.page.getByRole("link", { name: "All orders" }).click();
		await heading(admin.page, "Orders");
		await admin.page.locator("tbody tr").first().waitFor();
		await expectAccessible(admin.page, "admin orders");
		await saveDocScreenshot(admin.page, "backoffice.png");

		// The customer asks to return it.
		const cust = await open("return-customer");
		await signInInUi(cust.page, customerEmail, PASSWORD, `/orders/${order.id}`);
		await cust.page.locator(".order-status").getByText("Delivered", { exact: true }).waitFor();
		await cust.page.getByRole("link", { name: "Return items" }).click();
		await heading(cust.page, "Contact support");
		await expect.poll(() => cust.page.getByLabel("Type").inputValue()).toBe("return");
		await cust.page.getByLabel("Subject").fill("The lamp flickers");
		await cust.page.getByLabel("Message").fill("It flickers when dimmed. I would like to return it.");
		await expectAccessible(cust.page, "new return");
		await cust.page.getByRole("button", { name: "Send", exact: true }).click();
		await heading(cust.page, "The lamp flickers");
		await cust.page.locator(".return-status").getByText("Requested", { exact: true }).waitFor();
		await expectAccessible(cust.page, "ticket (customer)");

		// An agent approves it in the back office.
		const agentAccount = await staffAccount(["customer", "agent"], "Agnes");
		const agent = await open("return-agent");
		await signInInUi(agent.page, agentAccount.email, PASSWORD, "/admin/support");
		await heading(agent.page, "Support queue");
		await expectAccessible(agent.page, "support queue");
		await agent.page.getByRole("link", { name: "The lamp flickers" }).click();
		await heading(agent.page, "The lamp flickers");
		await agent.page.getByRole("button", { name: "Assign to me" }).click();
		await agent.page.getByText("Assigned to: Me").waitFor();
		await agent.page.getByRole("textbox", { name: "Your reply" }).fill("Sorry about that, we will refund you.");
		await agent.page.getByRole("button", { name: "Send reply" }).click();
		await agent.page.locator(".message-staff").getByText("Sorry about that").waitFor();
		await expectAccessible(agent.page, "ticket (agent)");
		await agent.page.getByRole("button", { name: "Approve return" }).click();
		await agent.page.locator(".return-status").getByText("Approved", { exact: true }).waitFor();

		// The customer's open ticket page follows the thread by itself; the order shows the refund.
		await cust.page.getByText("Sorry about that, we will refund you.").waitFor({ timeout: 20_000 });
		await cust.page.getByText("Your return was approved").waitFor({ timeout: 20_000 });
		await eventually(
			async () => {
				await cust.page.goto(`/orders/${order.id}`);
				await cust.page.locator(".order-status").waitFor(); // the order has loaded
				return (await cust.page.getByRole("heading", { name: "Refunds" }).count()) > 0 ? true : undefined;
			},
			15_000,
			"the refund on the order page",
			500,
		);
		await cust.page.locator(".refunds").getByText("€59.00").waitFor();
		await expectAccessible(cust.page, "refunded order");
		for (const tp of [admin, cust, agent]) {
			expectNoTokensInUrls(tp);
			expect(tp.errors).toEqual([]);
		}
	});

	test("an admin creates a product in the back office (422 shown at the field first) and it is found in the storefront within a second", async () => {
		const tp = await open("admin-product");
		const { page } = tp;
		await signInInUi(page, ADMIN_EMAIL, ADMIN_PASSWORD, "/admin/products");
		await heading(page, "Products");
		await expectAccessible(page, "admin products");
		await page.getByRole("link", { name: "New product" }).click();
		await heading(page, "New product");
		const word = `Zephyr${Date.now().toString(36)}`;
		await page.getByLabel("Name").fill(`${word} Desk Organizer`);
		await page.getByLabel("SKU").fill("not a valid sku!");
		await page.getByLabel("Price").fill("24.50");
		await page.getByLabel("Stock").fill("7");
		await page.getByLabel("Furniture").check();
		await page.getByRole("button", { name: "Create product" }).click();
		// The API's 422 is shown next to the SKU field.
		const sku = page.getByLabel("SKU");
		await expect.poll(() => sku.getAttribute("aria-invalid")).toBe("true");
		const describedBy = (await sku.getAttribute("aria-describedby")) ?? "";
		expect(await page.locator(`[id="${describedBy.split(" ").pop()}"]`).textContent()).toMatch(/sku/i);
		await expectAccessible(page, "product form with errors");

		await sku.fill(`ORG-${word.toUpperCase()}`);
		const created = page.waitForResponse(r => r.url().endsWith("/api/v1/products") && r.request().method() === "POST" && r.status() === 201);
		await page.getByRole("button", { name: "Create product" }).click();
		const response = await created;
		const createdAt = Date.now();
		const idem = response.request().headers()["idempotency-key"];
		expect(idem, "POST /products carries an Idempotency-Key").toMatch(/^[0-9a-f-]{36}$/);
		// Findable by search within a second of its creation.
		const foundAfter = await eventually(
			async () => {
				const res = await apiCall(shop.baseUrl, "GET", `/products?q=${word.toLowerCase()}`);
				return res.body.rows.length === 1 ? Date.now() - createdAt : undefined;
			},
			3000,
			"the new product in search",
			50,
		);
		expect(foundAfter).toBeLessThan(1000);
		await heading(page, `Edit ${word} Desk Organizer`);
		await expectAccessible(page, "product edit");

		const store = await open("admin-product-store");
		await store.page.goto("/search");
		await store.page.getByLabel("Search products").pressSequentially(word.slice(0, 9), { delay: 20 });
		await store.page.getByRole("link", { name: `${word} Desk Organizer` }).waitFor();
		await store.page.getByText("€24.50").waitFor();
		await expect.poll(() => store.page.locator(".product-card").count()).toBe(1);

		// The README's picture of the storefront: a category with its products.
		await store.page.goto("/search?category=electronics");
		await heading(store.page, "Electronics");
		await store.page.getByText("Featherweight 13 Laptop").waitFor();
		await expectAccessible(store.page, "category");
		await saveDocScreenshot(store.page, "storefront.png");
		for (const x of [tp, store]) {
			expectNoTokensInUrls(x);
			expect(x.errors).toEqual([]);
		}
	});

	test("a customer cannot open the back office: the UI says so and the API answers 403", async () => {
		const tp = await open("customer-no-admin");
		const { page } = tp;
		const email = await registerInUi(page, "Carl");
		for (const path of ["/admin", "/admin/orders", "/admin/users", "/admin/support"]) {
			await page.goto(path);
			await heading(page, "No access");
			await page.getByText("Your account cannot open the back office.").waitFor();
		}
		await expectAccessible(page, "no access");
		const { token } = await loginApi(shop.baseUrl, email, PASSWORD);
		expect((await apiCall(shop.baseUrl, "GET", "/users", undefined, token)).status).toBe(403);
		expect((await apiCall(shop.baseUrl, "GET", "/orders?all=true", undefined, token)).status).toBe(403);
		expect((await apiCall(shop.baseUrl, "POST", "/products", { sku: "X-1", name: "X", price: 100, currency: "EUR" }, token)).status).toBe(403);
		expect(tp.errors).toEqual([]);
	});

	test("Spanish: the browser's language before sign-in, the user's preference after it", async () => {
		const es = await open("spanish", { locale: "es-ES" });
		await es.page.goto("/");
		await heading(es.page, "Bienvenido a la tienda");
		expect(await es.page.evaluate("document.documentElement.lang")).toBe("es");
		await expectAccessible(es.page, "home (es)");
		await es.page.goto("/search?q=featherweight");
		await heading(es.page, "Todos los productos");
		await es.page.getByRole("link", { name: "Featherweight 13 Laptop" }).waitFor();
		expect(await es.page.locator(".product-price").first().textContent()).toMatch(/^999,00\s€$/);
		await es.page.getByText("En stock").first().waitFor();
		await expectAccessible(es.page, "search (es)");

		// An English browser, a user who chose Spanish.
		const email = uniqueEmail("lucia");
		expect((await apiCall(shop.baseUrl, "POST", "/auth/register", { email, password: PASSWORD, name: "Lucía" })).status).toBe(201);
		const { token } = await loginApi(shop.baseUrl, email, PASSWORD);
		expect((await apiCall(shop.baseUrl, "PATCH", "/me", { preferences: { language: "es" } }, token)).status).toBe(200);
		const en = await open("spanish-preference");
		await signInInUi(en.page, email, PASSWORD, "/account");
		await heading(en.page, "Tu cuenta");
		await expectAccessible(en.page, "account (es)");
		expect(es.errors).toEqual([]);
		expect(en.errors).toEqual([]);
	});
});

/**
 * Tokens against a shop whose access tokens live 21 s. The page's clock is held still
 * (`page.clock.setFixedTime`), so the page believes its access token is fresh while the server's
 * clock lets it expire: the next requests are really refused with 401, as when a token expires
 * early (a server clock ahead, a laptop waking from sleep).
 */
describe.skipIf(skip)("web shop tokens in a browser", { timeout: 120_000 }, () => {
	const ACCESS_TTL = 21; // just over the client's 20 s margin: a token is used, not refreshed ahead, while the page's clock stands still
	let shop: RunningShop;
	let browser: Browser;
	const pages: TrackedPage[] = [];

	beforeAll(async () => {
		await ensureWebBuild();
		[shop, browser] = await Promise.all([startShopProcess({ ACCESS_TOKEN_TTL: String(ACCESS_TTL) }), launchBrowser()]);
	}, 240_000);

	afterAll(async () => {
		await Promise.allSettled(pages.map(p => p.close()));
		await browser?.close().catch(() => undefined);
		await shop?.stop();
	}, 30_000);

	test("an access token the server refuses: concurrent 401s share one refresh and each request is retried once; a reload signs in again without a form; sign-out ends the grant", async () => {
		const tp = await openPage(browser, shop.baseUrl);
		pages.push(tp);
		onTestFailed(async () => saveArtifact(tp.page, "tokens"));
		const { page } = tp;
		await page.clock.setFixedTime(Date.now());
		await registerInUi(page, "Tom");
		const grants: string[] = [];
		const sentRefreshTokens: string[] = [];
		const issuedRefreshTokens: string[] = [];
		const bearers: string[] = [];
		const refused: string[] = [];
		page.on("request", r => {
			const url = new URL(r.url());
			if (url.pathname === "/oidc/token") {
				const form = new URLSearchParams(r.postData() ?? "");
				grants.push(form.get("grant_type") ?? "");
				if (form.get("refresh_token")) sentRefreshTokens.push(form.get("refresh_token")!);
			}
			const auth = r.headers().authorization;
			if (url.pathname.startsWith("/api/v1/") && auth) bearers.push(auth.replace(/^Bearer /, ""));
		});
		page.on("response", r => {
			if (r.status() === 401 && r.url().includes("/api/v1/")) refused.push(`${r.request().method()} ${new URL(r.url()).pathname}`);
			if (new URL(r.url()).pathname === "/oidc/token" && r.status() === 200)
				void r.json().then((b: { refresh_token?: string }) => b.refresh_token && issuedRefreshTokens.push(b.refresh_token));
		});
		// The server's clock moves on past the token's expiry; the page's does not.
		await new Promise(r => setTimeout(r, (ACCESS_TTL + 1.5) * 1000));
		expect(refused).toEqual([]); // nothing was asked meanwhile
		// A navigation asks for the badges (cart, notifications) and the page's list at once: all refused, one refresh, each sent again.
		await page.getByRole("link", { name: "Notifications" }).click();
		await heading(page, "Notifications");
		await page.getByText("No notifications.").waitFor();
		await page.getByRole("link", { name: "Cart" }).click();
		await heading(page, "Your cart");
		await page.getByText("Your cart is empty.").waitFor();
		expect(refused.length, `several requests were refused: ${refused.join(", ")}`).toBeGreaterThanOrEqual(2);
		expect(grants, "one refresh for all of them").toEqual(["refresh_token"]);
		await expect.poll(() => issuedRefreshTokens.length).toBe(1);
		expect(issuedRefreshTokens[0]).not.toBe(sentRefreshTokens[0]); // rotated
		// Nothing is stored but a marker: no token in localStorage or sessionStorage.
		const stored = (await page.evaluate("JSON.stringify({ ...localStorage, ...sessionStorage })")) as string;
		for (const token of [...sentRefreshTokens, ...issuedRefreshTokens, ...bearers]) expect(stored).not.toContain(token);

		// A reload: the tokens (memory only) are gone; the provider's session cookie gives a new code without a form.
		await page.reload();
		await page.getByRole("button", { name: "Sign out" }).waitFor();
		await heading(page, "Your cart");
		expect(grants).toEqual(["refresh_token", "authorization_code"]);
		const lastBearer = bearers.at(-1)!;

		await page.getByRole("button", { name: "Sign out" }).click();
		await page.getByRole("button", { name: "Yes, sign me out" }).click();
		await page.getByRole("link", { name: "Sign in" }).waitFor();
		await eventually(
			async () => ((await apiCall(shop.baseUrl, "GET", "/me", undefined, lastBearer)).status === 401 ? true : undefined),
			1000,
			"the access token refused after sign-out",
			50,
		);
		// The grant is over: neither the rotated-away nor the newest refresh token gets anything.
		for (const refreshToken of [sentRefreshTokens[0]!, issuedRefreshTokens[0]!]) {
			const res = await fetch(`${shop.baseUrl}/oidc/token`, {
				method: "POST",
				body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: "shop-web" }),
			});
			expect(res.status).toBe(400);
			expect(((await res.json()) as { error: string }).error).toBe("invalid_grant");
		}
		await page.goto("/orders");
		await heading(page, "Please sign in");
		const endSession = tp.urls.filter(u => u.includes("/oidc/session/end?"));
		expect(endSession).toHaveLength(1); // RP-initiated logout, its ID token hint the one JWT in a URL
		expect(
			tokensInUrls(
				tp.urls.filter(u => !endSession.includes(u)),
				[...sentRefreshTokens, ...issuedRefreshTokens],
			),
		).toEqual([]);
		for (const token of [...sentRefreshTokens, ...issuedRefreshTokens, ...bearers]) expect(endSession[0]).not.toContain(token);
		expect(tp.errors).toEqual([]);
	});
});

async function heading(page: Page, text: string | RegExp) {
	await expect
		.poll(() => page.locator("main h1").first().textContent(), { timeout: 15_000 })
		.toMatch(text instanceof RegExp ? text : new RegExp(`^${escape(text)}$`));
}

async function registerInUi(page: Page, name: string): Promise<string> {
	const email = uniqueEmail(name.toLowerCase());
	await page.goto("/register");
	await heading(page, "Create an account");
	await page.getByLabel("Name").fill(name);
	await page.getByLabel("Email").fill(email);
	await page.getByLabel("Password").fill(PASSWORD);
	await page.getByRole("button", { name: "Create account" }).click();
	// Registration is the shop's form; signing in is the provider's page (the email filled in from login_hint).
	await page.waitForURL(/\/oidc\/interaction\//);
	await expect.poll(() => page.getByLabel("Email").inputValue()).toBe(email);
	await signInOnProviderPage(page, email, PASSWORD);
	return email;
}

function escape(s: string): string {
	return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
