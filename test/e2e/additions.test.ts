/**
 * The contract's "Additions to v1" in a real browser against the real shop (started as `npm start`
 * starts it): variants with their own stock, search facets, a promotion code, shipping methods,
 * tax rates and the cart's breakdown, through checkout to a paid order; and their back-office
 * pages. Everything the browser sees comes from the server: each test creates what it needs
 * through the admin API, and no request is answered by anyone but the shop. The numbers the
 * pages show are compared with the API's own answers (GET /cart, GET /orders/:id).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from "vitest";
import type { Browser, Page } from "playwright-core";
import { confirmCard } from "../helpers/payments.js";
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
	gotoSignedIn,
	skipWithoutChromium,
	startShopProcess,
	tokensInUrls,
	uniqueEmail,
	type RunningShop,
	type TrackedPage,
} from "./harness.js";

const skip = skipWithoutChromium();
const PASSWORD = "correct-horse-battery-staple";
const eur = (minor: number) => new Intl.NumberFormat("en", { style: "currency", currency: "EUR" }).format(minor / 100);

interface CartAnswer {
	items: { itemId: string; variantId: string | null; quantity: number; lineTotal: number }[];
	subtotal: number;
	discount: number;
	shipping: number;
	tax: number;
	total: number;
	promotion: { code: string } | null;
	shippingMethod: { id: string; name: string; price: number } | null;
}

describe.skipIf(skip)("web shop: variants, facets, promotions, shipping and tax on the real server", { timeout: 150_000 }, () => {
	let shop: RunningShop;
	let browser: Browser;
	let adminToken: string;
	const pages: TrackedPage[] = [];

	beforeAll(async () => {
		await ensureWebBuild();
		[shop, browser] = await Promise.all([startShopProcess(), launchBrowser()]);
		adminToken = (await loginApi(shop.baseUrl, ADMIN_EMAIL, ADMIN_PASSWORD)).token;
	}, 240_000);

	afterAll(async () => {
		await Promise.allSettled(pages.map(p => p.close()));
		await browser?.close().catch(() => undefined);
		await shop?.stop();
	}, 30_000);

	async function open(name: string, opts: Parameters<typeof openPage>[2] = {}): Promise<TrackedPage> {
		const tp = await openPage(browser, shop.baseUrl, opts);
		pages.push(tp);
		onTestFailed(async () => {
			await saveArtifact(tp.page, name);
		});
		return tp;
	}

	/** The admin API, each POST with its own Idempotency-Key; a status other than `expected` fails the test. */
	async function admin<T = any>(method: string, url: string, body: unknown, expected: number): Promise<T> {
		const res = await apiCall<T>(shop.baseUrl, method, url, body, adminToken, method === "POST" ? { "idempotency-key": randomUUID() } : {});
		expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBe(expected);
		return res.body;
	}

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

	/** The rows of a totals list as shown: { "Subtotal": "€54.00", "Discount (CODE)": "−€5.40", ... }. */
	function shownTotals(page: Page, scope: string): Promise<Record<string, string>> {
		return page
			.locator(`${scope} .totals`)
			.evaluate(dl =>
				Object.fromEntries(
					[...dl.querySelectorAll(":scope > div")].map(row => [
						row.querySelector("dt")!.textContent!.trim(),
						row.querySelector("dd")!.textContent!.trim(),
					]),
				),
			);
	}

	/** A product sold in variants (size × colour, each with its own price and stock), and a second one for the facets. */
	async function catalogFixture() {
		const word = `Tee${Date.now().toString(36)}`;
		const sku = `TEE-${word}`.toUpperCase();
		const tee = await admin(
			"POST",
			"/products",
			{
				sku,
				name: `${word} Trail Tee`,
				description: "A light running shirt.",
				price: 2500,
				currency: "EUR",
				categories: ["outdoor"],
				options: [
					{ name: "size", values: ["S", "M"] },
					{ name: "colour", values: ["red", "blue"] },
				],
			},
			201,
		);
		const variant = async (size: string, colour: string, price: number, stock: number) =>
			admin("POST", `/products/${tee.id}/variants`, { sku: `${sku}-${size}-${colour}`.toUpperCase(), options: { size, colour }, price, stock }, 201);
		// S/blue is not sold; M/red is sold out.
		const sRed = await variant("S", "red", 2500, 3);
		const mBlue = await variant("M", "blue", 2700, 4);
		const mRed = await variant("M", "red", 2600, 0);
		await admin(
			"POST",
			"/products",
			{
				sku: `SHORTS-${word}`.toUpperCase(),
				name: `${word} Trail Shorts`,
				description: "Shorts for the trail.",
				price: 3900,
				currency: "EUR",
				categories: ["outdoor"],
				options: [{ name: "colour", values: ["green"] }],
			},
			201,
		).then(shorts =>
			admin(
				"POST",
				`/products/${shorts.id}/variants`,
				{ sku: `SHORTS-${word}-G`.toUpperCase(), options: { colour: "green" }, price: 3900, stock: 9 },
				201,
			),
		);
		return { word, tee, sRed, mBlue, mRed };
	}

	test("a customer filters by facets, picks a variant, is refused a code with its reason, applies one, chooses shipping, sees the breakdown the API gives and pays", async () => {
		const { word, tee, mBlue, mRed } = await catalogFixture();
		const code = `SAVE${Date.now().toString(36)}`.toUpperCase();
		const expired = `OLD${Date.now().toString(36)}`.toUpperCase();
		await admin("POST", "/promotions", { code, type: "percent", value: 10 }, 201);
		await admin(
			"POST",
			"/promotions",
			{ code: expired, type: "percent", value: 50, startsAt: "2019-01-01T00:00:00Z", endsAt: "2020-01-01T00:00:00Z" },
			201,
		);
		const standard = await admin(
			"POST",
			"/shipping-methods",
			{ name: `Standard ${word}`, countries: ["PL"], price: 490, currency: "EUR", minDays: 3, maxDays: 5 },
			201,
		);
		const express = await admin(
			"POST",
			"/shipping-methods",
			{ name: `Express ${word}`, countries: ["PL", "SE"], price: 1290, currency: "EUR", minDays: 1, maxDays: 1 },
			201,
		);
		await admin("PUT", "/tax-rates/PL", { rate: 2300 }, 200);

		const tp = await open("additions-checkout");
		const { page } = tp;
		const email = await registerInUi(page, "Vera");

		// Facets: counts beside the filters, an option filter becomes option=name:value and narrows the results.
		await gotoSignedIn(page, `/search?q=${word.toLowerCase()}`);
		await expect.poll(() => page.locator(".product-card").count()).toBe(2);
		await page.getByRole("group", { name: "colour" }).waitFor();
		await expect.poll(() => page.getByRole("group", { name: "colour" }).textContent()).toMatch(/green \(1\)/);
		await page
			.getByRole("group", { name: "colour" })
			.getByLabel(/^green/)
			.check();
		await expect.poll(() => page.url()).toContain("option=colour%3Agreen");
		await expect.poll(() => page.locator(".product-card").count()).toBe(1);
		await page.getByRole("link", { name: `${word} Trail Shorts` }).waitFor();
		await expectAccessible(page, "search with facets");
		await page
			.getByRole("group", { name: "colour" })
			.getByLabel(/^green/)
			.uncheck();
		await expect.poll(() => page.locator(".product-card").count()).toBe(2);
		const teeCard = page.locator(".product-card", { has: page.getByRole("link", { name: `${word} Trail Tee` }) });
		await expect.poll(() => teeCard.locator(".product-price").textContent()).toBe(`from ${eur(2500)}`); // the lowest active variant price

		// Variant pickers: a combination not sold is not offered, a sold-out one cannot be bought, price and SKU follow the choice.
		await page.getByRole("link", { name: `${word} Trail Tee` }).click();
		await heading(page, `${word} Trail Tee`);
		await page.getByRole("group", { name: "size" }).waitFor();
		await page.getByRole("radio", { name: "M", exact: true }).check({ force: true });
		await page.getByRole("radio", { name: "red", exact: true }).check({ force: true });
		await expect.poll(() => page.locator(".product-price-big").textContent()).toBe(eur(2600));
		await page.locator(".availability").getByText("Out of stock").waitFor();
		expect(await page.getByRole("button", { name: "Add to cart" }).isDisabled()).toBe(true);
		// Live availability: the sold-out variant is restocked in the back office; the open page follows without a reload.
		await admin("PATCH", `/products/${tee.id}/variants/${mRed.id}/inventory`, { delta: 2 }, 200);
		await page.locator(".availability").getByText("Only 2 left").waitFor({ timeout: 15_000 });
		await page.getByRole("radio", { name: "blue", exact: true }).check({ force: true });
		await expect.poll(() => page.locator(".product-price-big").textContent()).toBe(eur(2700));
		await page.getByText(mBlue.sku).waitFor();
		await expectAccessible(page, "product with variants");
		const added = page.waitForResponse(r => r.url().endsWith("/api/v1/cart/items") && r.request().method() === "POST");
		await page.getByRole("button", { name: "Add to cart" }).click();
		const addRequest = (await added).request();
		expect(addRequest.postDataJSON()).toEqual({ productId: tee.id, variantId: mBlue.id, quantity: 1 });
		expect(addRequest.headers()["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);
		await page.getByText("Added to your cart.").waitFor();

		// Cart: the line's options, its quantity keyed by itemId, a refused code with its reason at the field, the good code, country and method.
		await page.getByRole("link", { name: "View cart" }).click();
		await heading(page, "Your cart");
		await page.getByText("size: M, colour: blue").waitFor();
		const patched = page.waitForResponse(r => r.request().method() === "PATCH" && r.url().includes("/api/v1/cart/items/"));
		await page.getByLabel(`Quantity of ${word} Trail Tee`).fill("2");
		await page.getByLabel(`Quantity of ${word} Trail Tee`).press("Tab");
		expect((await patched).url()).toContain(`/cart/items/${mBlue.id}`);
		await expect.poll(() => page.locator(".total-row dd").textContent()).toBe(eur(5400));
		await page.getByLabel("Promotion code").fill(expired.toLowerCase());
		await page.getByRole("button", { name: "Apply" }).click();
		const codeField = page.getByLabel("Promotion code");
		await expect.poll(() => codeField.getAttribute("aria-invalid")).toBe("true");
		const refusalId = ((await codeField.getAttribute("aria-describedby")) ?? "").split(" ").pop();
		expect(await page.locator(`[id="${refusalId}"]`).textContent()).toBe("This promotion code has expired.");
		await expectAccessible(page, "cart with a refused code");
		await codeField.fill(code.toLowerCase()); // codes are case-insensitive
		await page.getByRole("button", { name: "Apply" }).click();
		await page.getByText(`Code ${code} applied.`).waitFor();
		await page.getByLabel("Deliver to").selectOption("PL");
		// Both methods to PL, cheapest first and chosen by default; then Express.
		const methodRadios = page.getByRole("group", { name: "Shipping method" }).getByRole("radio");
		await expect.poll(() => methodRadios.count()).toBe(2);
		await expect.poll(() => page.getByRole("radio", { name: new RegExp(`^Standard ${word}`) }).isChecked()).toBe(true);
		const priced = page.waitForResponse(r => r.url().includes("/api/v1/cart?") && r.url().includes(`shippingMethodId=${express.id}`));
		await page.getByRole("radio", { name: new RegExp(`^Express ${word}`) }).check();
		await priced;

		// The breakdown shown is the server's: GET /cart?country&shippingMethodId for the same customer.
		const customer = await loginApi(shop.baseUrl, email, PASSWORD);
		const cart = await apiCall<CartAnswer>(shop.baseUrl, "GET", `/cart?country=PL&shippingMethodId=${express.id}`, undefined, customer.token);
		expect(cart.status).toBe(200);
		const c = cart.body;
		expect(c.items.map(i => [i.itemId, i.quantity])).toEqual([[mBlue.id, 2]]);
		expect(c.subtotal).toBe(5400);
		expect(c.discount).toBe(540);
		expect(c.shipping).toBe(1290);
		expect(c.shippingMethod).toEqual({ id: express.id, name: `Express ${word}`, price: 1290 });
		expect(c.total).toBe(c.subtotal - c.discount + c.shipping); // prices include tax
		expect(c.tax).toBeGreaterThan(0);
		const expectedRows = {
			Subtotal: eur(c.subtotal),
			[`Discount (${code})`]: `−${eur(c.discount)}`,
			[`Shipping (Express ${word})`]: eur(c.shipping),
			"Tax included": eur(c.tax),
			Total: eur(c.total),
		};
		await expect.poll(() => shownTotals(page, ".cart-summary")).toEqual(expectedRows);
		await expectAccessible(page, "cart with a code, shipping and tax");

		// Checkout: the country and method carried over; the order is placed with them and followed to paid.
		await page.getByRole("link", { name: "Check out" }).click();
		await heading(page, "Checkout");
		await expect.poll(() => page.getByRole("radio", { name: new RegExp(`^Express ${word}`) }).isChecked()).toBe(true);
		expect(await page.getByLabel("Country").inputValue()).toBe("PL");
		await page.getByLabel("Full name").fill("Vera Variant");
		await page.getByRole("textbox", { name: "Address", exact: true }).fill("ul. Marszałkowska 1");
		await page.getByLabel("Postal code").fill("00-624");
		await page.getByLabel("City").fill("Warszawa");
		expect(await page.getByLabel("Card number").count(), "the shop never asks for the card").toBe(0);
		await expect.poll(() => shownTotals(page, ".cart-summary")).toEqual(expectedRows);
		await expectAccessible(page, "checkout with shipping methods");
		const placed = page.waitForResponse(r => r.url().endsWith("/api/v1/orders") && r.request().method() === "POST");
		await page.getByRole("button", { name: "Place order" }).click();
		const placedRequest = (await placed).request();
		expect(placedRequest.postDataJSON().shippingMethodId).toBe(express.id);
		expect(placedRequest.postDataJSON().payment).toEqual({ method: "session" });
		expect(placedRequest.headers()["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);
		// The simulated payment service's page; back to the order unpaid, which then follows the payment by itself.
		await page.getByRole("heading", { name: "Confirm your payment" }).waitFor({ timeout: 20_000 });
		await page.getByRole("link", { name: "Return to the shop" }).click();
		await heading(page, /^Order [0-9A-F]{8}$/);
		await page.getByRole("link", { name: "Pay now" }).waitFor();
		await expectAccessible(page, "order awaiting payment");
		await page.evaluate("window.__sameDocument = true");
		// The customer pays elsewhere (the service's page on another device): the order page follows without a reload.
		const confirmUrl = (await page.getByRole("link", { name: "Pay now" }).getAttribute("href"))!;
		expect((await confirmCard(confirmUrl, "4242424242424242")).body.status).toBe("authorized");
		await page.locator(".order-status").getByText("Paid", { exact: true }).waitFor({ timeout: 20_000 });
		expect(await page.evaluate("window.__sameDocument === true"), "the order page must update without a reload").toBe(true);
		const orderId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop()!);
		const order = await apiCall(shop.baseUrl, "GET", `/orders/${orderId}`, undefined, customer.token);
		expect(order.body.status).toBe("paid");
		expect([order.body.subtotal, order.body.discountTotal, order.body.shippingTotal, order.body.taxTotal, order.body.total]).toEqual([
			c.subtotal,
			c.discount,
			c.shipping,
			c.tax,
			c.total,
		]);
		expect(order.body.promotion).toEqual({ code, discount: c.discount });
		await expect.poll(() => shownTotals(page, ".order-detail")).toEqual(expectedRows);
		await page.locator(".order-detail").getByText("size: M, colour: blue").waitFor();
		await expectAccessible(page, "paid order with its breakdown");
		// The variant's own stock went down, the others' did not.
		const after = await apiCall(shop.baseUrl, "GET", `/products/${tee.id}`);
		expect(Object.fromEntries(after.body.variants.map((v: { id: string; stock: number }) => [v.id, v.stock]))).toMatchObject({
			[mBlue.id]: 2,
			[mRed.id]: 2,
		});
		// Both are still offered to PL; the cart is empty now.
		expect((await apiCall(shop.baseUrl, "GET", "/shipping-methods?country=PL")).body.map((m: { id: string }) => m.id)).toEqual([standard.id, express.id]);
		expect((await apiCall<CartAnswer>(shop.baseUrl, "GET", "/cart", undefined, customer.token)).body.items).toEqual([]);
		expect(tokensInUrls(tp.urls)).toEqual([]);
		expect(tp.errors).toEqual([]);
	});

	test("on a phone (390×844): search with facets, a product with variants and a cart with its breakdown fit the screen and pass axe", async () => {
		const { word, tee, sRed } = await catalogFixture();
		await admin("POST", "/shipping-methods", { name: `Post ${word}`, countries: ["CH"], price: 900, currency: "EUR", minDays: 2, maxDays: 3 }, 201);
		const tp = await open("additions-phone", { viewport: { width: 390, height: 844 }, isMobile: true });
		const { page } = tp;
		const fits = async (where: string) => {
			await expectAccessible(page, `${where} on a phone`);
			expect(await page.evaluate("document.documentElement.scrollWidth"), `${where} is no wider than the screen`).toBeLessThanOrEqual(390);
		};
		await registerInUi(page, "Pia");
		await gotoSignedIn(page, "/");
		await heading(page, "Welcome to the shop");
		await fits("home");
		await gotoSignedIn(page, `/search?q=${word.toLowerCase()}`);
		await expect.poll(() => page.locator(".product-card").count()).toBe(2);
		await page.getByRole("group", { name: "size" }).waitFor();
		await fits("search with facets");
		await gotoSignedIn(page, `/products/${tee.id}`);
		await heading(page, `${word} Trail Tee`);
		await page.getByRole("radio", { name: "S", exact: true }).check({ force: true });
		await page.getByRole("radio", { name: "red", exact: true }).check({ force: true });
		await page.getByText(sRed.sku).waitFor();
		await fits("product with variants");
		await page.getByRole("button", { name: "Add to cart" }).click();
		await page.getByRole("link", { name: "View cart" }).click();
		await heading(page, "Your cart");
		await page.getByLabel("Deliver to").selectOption("CH");
		await expect.poll(() => page.getByRole("radio", { name: new RegExp(`^Post ${word}`) }).isChecked()).toBe(true);
		await expect.poll(() => page.locator(".total-row dd").textContent()).toBe(eur(2500 + 900));
		await fits("cart with shipping");
		expect(tp.errors).toEqual([]);
	});

	test("back office: an admin adds a variant and adjusts its stock, creates a promotion, a shipping method and a tax rate, and sees each 422 at its field", async () => {
		const { word, tee } = await catalogFixture();
		const tp = await open("additions-admin");
		const { page } = tp;
		await page.goto("/login?next=/admin/products");
		await signInOnProviderPage(page, ADMIN_EMAIL, ADMIN_PASSWORD);
		await heading(page, "Products");

		/** A field shows the API's 422: aria-invalid, and its aria-describedby names the message. */
		async function fieldError(field: ReturnType<Page["getByLabel"]>): Promise<string> {
			await expect.poll(() => field.getAttribute("aria-invalid")).toBe("true");
			const id = ((await field.getAttribute("aria-describedby")) ?? "").split(" ").pop();
			return (await page.locator(`[id="${id}"]`).textContent()) ?? "";
		}

		// Variants: the missing combination S/blue is added, then its stock is set in its row.
		await gotoSignedIn(page, `/admin/products/${tee.id}`);
		await heading(page, `Edit ${word} Trail Tee`);
		await expect
			.poll(() =>
				page
					.locator("section", { has: page.getByRole("heading", { name: "Variants" }) })
					.locator("tbody tr")
					.count(),
			)
			.toBe(3);
		const newVariant = page.locator("form", { has: page.getByRole("heading", { name: "New variant" }) });
		const variantSku = `TEE-${word}-S-BLUE`.toUpperCase();
		await newVariant.getByLabel("SKU").fill(variantSku);
		await newVariant.getByLabel("size").selectOption("S");
		await newVariant.getByLabel("colour").selectOption("blue");
		await newVariant.getByLabel("Price").fill("25.50");
		await newVariant.getByLabel("Stock").fill("1");
		await newVariant.getByRole("button", { name: "Add variant" }).click();
		await page.getByRole("rowheader", { name: variantSku }).waitFor();
		await expectAccessible(page, "product with variants (admin)");
		const created = (await apiCall(shop.baseUrl, "GET", `/products/${tee.id}`)).body.variants.find((v: { sku: string }) => v.sku === variantSku);
		expect(created).toMatchObject({ options: { size: "S", colour: "blue" }, price: 2550, stock: 1, active: true });
		// The same combination again: the API's answer is shown in the form.
		await newVariant.getByLabel("SKU").fill(`${variantSku}-2`);
		await newVariant.getByLabel("size").selectOption("S");
		await newVariant.getByLabel("colour").selectOption("blue");
		await newVariant.getByRole("button", { name: "Add variant" }).click();
		await newVariant.getByRole("alert").waitFor(); // 409: that combination is sold already
		await page.getByLabel("Stock of size: S, colour: blue").fill("6");
		await page.getByRole("button", { name: "Save size: S, colour: blue" }).click();
		await eventually(
			async () => {
				const v = (await apiCall(shop.baseUrl, "GET", `/products/${tee.id}`)).body.variants.find((x: { id: string }) => x.id === created.id);
				return v.stock === 6 ? v : undefined;
			},
			10_000,
			"the variant's new stock",
		);
		await expect
			.poll(() =>
				page
					.getByRole("row", { name: new RegExp(variantSku) })
					.locator("td")
					.nth(3)
					.textContent(),
			)
			.toBe("6"); // available
		// The storefront sells it now.
		expect((await apiCall(shop.baseUrl, "GET", `/products?q=${word.toLowerCase()}&option=colour:blue&option=size:S`)).body.total).toBe(1);

		// Promotions: a percent over 100 is refused at its field, then created.
		await page
			.getByRole("navigation", { name: /back office/i })
			.getByRole("link", { name: "Promotions" })
			.click();
		await heading(page, "Promotions");
		const promoCode = `SPRING${Date.now().toString(36)}`.toUpperCase();
		await page.getByRole("textbox", { name: /^Code\b/ }).fill(promoCode);
		await page.getByLabel("Type").selectOption("percent");
		const percent = page.getByLabel("Percent (1–100)");
		await percent.fill("150");
		await page.getByRole("button", { name: "Create promotion" }).click();
		expect(await fieldError(percent)).toBe("A percent value is a whole number from 1 to 100.");
		await expectAccessible(page, "promotion form with a 422");
		await percent.fill("15");
		await page.getByLabel("Uses in all (optional)").fill("100");
		await page.getByRole("button", { name: "Create promotion" }).click();
		await page.getByRole("rowheader", { name: promoCode }).waitFor();
		const promos = await admin<{ rows: { code: string; value: number; maxRedemptions: number | null }[] }>(
			"GET",
			"/promotions?pageSize=100",
			undefined,
			200,
		);
		expect(promos.rows.find(p => p.code === promoCode)).toMatchObject({ value: 15, maxRedemptions: 100 });
		await expectAccessible(page, "promotions");

		// Shipping methods: maxDays before minDays is refused at maxDays, then created; it ships to the countries given.
		await page
			.getByRole("navigation", { name: /back office/i })
			.getByRole("link", { name: "Shipping" })
			.click();
		await heading(page, "Shipping methods");
		const name = `Colissimo ${word}`;
		await page.getByLabel("Name").fill(name);
		await page.getByLabel("Countries").fill("PT, IE");
		await page.getByLabel("Price").fill("5.90");
		await page.getByLabel("Minimum days").fill("4");
		const maxDays = page.getByLabel("Maximum days");
		await maxDays.fill("2");
		await page.getByRole("button", { name: "Create method" }).click();
		expect(await fieldError(maxDays)).toBe("maxDays must not be less than minDays.");
		await expectAccessible(page, "shipping form with a 422");
		await maxDays.fill("6");
		await page.getByRole("button", { name: "Create method" }).click();
		await page.getByRole("rowheader", { name }).waitFor();
		const toIreland = (await apiCall(shop.baseUrl, "GET", "/shipping-methods?country=IE")).body as {
			name: string;
			price: number;
			minDays: number;
			maxDays: number;
		}[];
		expect(toIreland.find(m => m.name === name)).toMatchObject({ price: 590, minDays: 4, maxDays: 6 });
		await expectAccessible(page, "shipping methods");

		// Tax rates: a negative rate is refused at its field, then Portugal is set to 23 %.
		await page
			.getByRole("navigation", { name: /back office/i })
			.getByRole("link", { name: "Tax rates" })
			.click();
		await heading(page, "Tax rates");
		await page.getByLabel("Country", { exact: true }).selectOption("PT");
		const rate = page.getByLabel("Rate (%)");
		await rate.fill("-5");
		await page.getByRole("button", { name: "Save" }).click();
		expect(await fieldError(rate)).toMatch(/rate/i);
		await expectAccessible(page, "tax form with a 422");
		await rate.fill("23");
		await page.getByRole("button", { name: "Save" }).click();
		await page.getByRole("rowheader", { name: /\(PT\)/ }).waitFor();
		const rates = await admin<{ country: string; rate: number }[]>("GET", "/tax-rates", undefined, 200);
		expect(rates.find(r => r.country === "PT")?.rate).toBe(2300);
		await expectAccessible(page, "tax rates");
		expect(tokensInUrls(tp.urls)).toEqual([]);
		expect(tp.errors).toEqual([]);
	});
});

function escape(s: string): string {
	return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
