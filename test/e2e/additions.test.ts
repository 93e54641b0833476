/**
 * The storefront's parts for the contract's "Additions to v1" (variants, facets, promotions,
 * shipping methods, cart totals), in a real browser. Where the server does not serve an addition
 * yet, the browser's requests for it are answered by a stand-in that follows the contract to the
 * letter (request and answer shapes from ../shared/api-contract.md), so the UI is checked today;
 * the requests the UI makes are asserted against the contract too. Where the server has the
 * addition, that part is left to the real server.
 */
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from "vitest";
import type { Browser, Route } from "playwright-core";
import {
	apiCall,
	ensureWebBuild,
	expectAccessible,
	launchBrowser,
	openPage,
	saveArtifact,
	serverFeatures,
	skipWithoutChromium,
	startShopProcess,
	tokensInUrls,
	uniqueEmail,
	type RunningShop,
	type TrackedPage,
} from "./harness.js";

const skip = skipWithoutChromium();
const PASSWORD = "correct-horse-battery-staple";

describe.skipIf(skip)("web shop: the contract's additions", { timeout: 120_000 }, () => {
	let shop: RunningShop;
	let browser: Browser;
	let served: Awaited<ReturnType<typeof serverFeatures>>;
	const pages: TrackedPage[] = [];

	beforeAll(async () => {
		await ensureWebBuild();
		[shop, browser] = await Promise.all([startShopProcess(), launchBrowser()]);
		served = await serverFeatures(shop.baseUrl);
	}, 240_000);

	afterAll(async () => {
		await Promise.allSettled(pages.map(p => p.close()));
		await browser?.close().catch(() => undefined);
		await shop?.stop();
	}, 30_000);

	test("variant pickers, facets, a promotion code, a shipping method and the tax/total breakdown, through to the order", async () => {
		if (served.variants && served.promotions && served.shipping) {
			console.warn("the server serves every addition: the stand-in is not needed (the flows of shop.test.ts use the real ones)");
			return;
		}
		const tp = await openPage(browser, shop.baseUrl);
		pages.push(tp);
		onTestFailed(async () => saveArtifact(tp.page, "additions"));
		const { page } = tp;

		// A signed-in customer and the demo kettle.
		const found = await apiCall(shop.baseUrl, "GET", "/products?q=gooseneck");
		const kettle = found.body.rows[0];
		expect(kettle?.sku).toBe("KIT-KETTLE");
		const variants = [
			{ id: "var-black-1l", sku: "KIT-KETTLE-B1", options: { colour: "black", size: "1 l" }, price: 6900, stock: 5, available: 5, active: true },
			{ id: "var-black-15", sku: "KIT-KETTLE-B15", options: { colour: "black", size: "1.5 l" }, price: 7900, stock: 0, available: 0, active: true },
			{ id: "var-white-1l", sku: "KIT-KETTLE-W1", options: { colour: "white", size: "1 l" }, price: 7400, stock: 9, available: 9, active: true },
		];
		const withVariants = {
			...kettle,
			options: [
				{ name: "colour", values: ["black", "white"] },
				{ name: "size", values: ["1 l", "1.5 l"] },
			],
			variants,
			price: 6900,
			stock: 14,
			available: 14,
		};
		const methods = [
			{ id: "ship-std", name: "Standard", countries: ["*"], price: 490, currency: "EUR", freeOver: 10000, minDays: 2, maxDays: 4 },
			{ id: "ship-exp", name: "Express", countries: ["DE", "AT"], price: 1290, currency: "EUR", freeOver: null, minDays: 1, maxDays: 1 },
		];
		let cartLine: Record<string, unknown> | null = null;
		let promotion: string | null = null;
		const cartQueries: URLSearchParams[] = [];
		const searchQueries: URLSearchParams[] = [];
		const posted: { path: string; body: any; headers: Record<string, string> }[] = [];
		const patchedLines: string[] = [];
		let placedOrder: Record<string, unknown> | null = null;

		const json = (route: Route, status: number, body: unknown) =>
			route.fulfill({ status, contentType: "application/json; charset=utf-8", body: JSON.stringify(body) });
		/** The contract's `GET /cart?country&shippingMethodId` for one line, prices including tax (19 % in DE). */
		const cart = (q: URLSearchParams) => {
			const items = cartLine ? [cartLine] : [];
			const subtotal = items.reduce((n, l) => n + (l.lineTotal as number), 0);
			const discount = promotion ? Math.round(subtotal * 0.1) : 0;
			const method = methods.find(m => m.id === q.get("shippingMethodId")) ?? (q.get("country") ? methods[0] : undefined);
			const shipping = method ? (method.freeOver && subtotal - discount >= method.freeOver ? 0 : method.price) : 0;
			const total = subtotal - discount + shipping;
			const tax = Math.round((total * 1900) / 11900);
			return {
				items,
				subtotal,
				discount,
				shipping,
				tax,
				total,
				currency: "EUR",
				promotion: promotion ? { code: promotion } : null,
				shippingMethod: method ? { id: method.id, name: method.name, price: shipping } : null,
			};
		};

		await page.route("**/api/**", async route => {
			const req = route.request();
			const url = new URL(req.url());
			const path = url.pathname;
			const method = req.method();
			if (path === "/api/openapi.json") {
				const res = await route.fetch();
				const doc = await res.json();
				const op = { responses: { 200: { description: "OK" } } };
				Object.assign(doc.paths, {
					"/api/v1/products/{id}/variants": { post: op },
					"/api/v1/cart/promotion": { put: op, delete: op },
					"/api/v1/shipping-methods": { get: op, post: op },
					"/api/v1/tax-rates": { get: op },
				});
				return json(route, 200, doc);
			}
			if (path === "/api/v1/products" && method === "GET") {
				searchQueries.push(url.searchParams);
				const res = await route.fetch();
				const body = await res.json();
				body.rows = body.rows.map((p: { id: string }) => (p.id === kettle.id ? withVariants : p));
				if (url.searchParams.get("facets") === "true") {
					body.facets = {
						categories: [{ slug: "kitchen", count: 1 }],
						options: {
							colour: [
								{ value: "black", count: 1 },
								{ value: "white", count: 1 },
							],
						},
						price: [{ min: 5000, max: 10000, count: 1 }],
						inStock: 1,
					};
				}
				if (url.searchParams.getAll("option").includes("colour:white")) body.rows = body.rows.filter((p: { id: string }) => p.id === kettle.id);
				return json(route, 200, body);
			}
			if (path === `/api/v1/products/${kettle.id}` && method === "GET") return json(route, 200, withVariants);
			if (path === "/api/v1/shipping-methods" && method === "GET") {
				const country = url.searchParams.get("country");
				return json(
					route,
					200,
					methods.filter(m => m.countries.includes("*") || (country && m.countries.includes(country))),
				);
			}
			if (path === "/api/v1/cart" && method === "GET") {
				cartQueries.push(url.searchParams);
				return json(route, 200, cart(url.searchParams));
			}
			if (path === "/api/v1/cart/items" && method === "POST") {
				const body = req.postDataJSON();
				posted.push({ path, body, headers: req.headers() });
				const v = variants.find(x => x.id === body.variantId);
				if (!v)
					return json(route, 422, {
						name: "ValidationError",
						message: "Choose a variant",
						code: 422,
						type: "VALIDATION_ERROR",
						data: [{ field: "variantId", message: "The product has variants: variantId is required." }],
					});
				cartLine = {
					itemId: v.id,
					productId: kettle.id,
					variantId: v.id,
					options: v.options,
					sku: v.sku,
					name: kettle.name,
					unitPrice: v.price,
					quantity: body.quantity,
					lineTotal: v.price * body.quantity,
				};
				return json(route, 200, cart(new URLSearchParams()));
			}
			if (path.startsWith("/api/v1/cart/items/") && method === "PATCH") {
				patchedLines.push(decodeURIComponent(path.split("/").pop()!));
				const q = req.postDataJSON().quantity;
				cartLine = { ...cartLine!, quantity: q, lineTotal: (cartLine!.unitPrice as number) * q };
				return json(route, 200, cart(new URLSearchParams()));
			}
			if (path === "/api/v1/cart/promotion" && method === "PUT") {
				const code = req.postDataJSON().code;
				if (code !== "WELCOME10")
					return json(route, 422, {
						name: "ValidationError",
						message: "The code cannot be applied",
						code: 422,
						type: "VALIDATION_ERROR",
						data: [{ field: "code", message: "This code has expired." }],
					});
				promotion = code;
				return json(route, 200, cart(new URLSearchParams()));
			}
			if (path === "/api/v1/cart/promotion" && method === "DELETE") {
				promotion = null;
				return json(route, 200, cart(new URLSearchParams()));
			}
			if (path === "/api/v1/orders" && method === "POST") {
				const body = req.postDataJSON();
				posted.push({ path, body, headers: req.headers() });
				const c = cart(new URLSearchParams({ country: body.shippingAddress.country, shippingMethodId: body.shippingMethodId }));
				const at = new Date().toISOString();
				const order = {
					id: "ord-additions-1",
					userId: "me",
					status: "paid",
					items: c.items.map(l => ({ ...l, discount: c.discount, tax: c.tax })),
					subtotal: c.subtotal,
					discountTotal: c.discount,
					shippingTotal: c.shipping,
					taxTotal: c.tax,
					total: c.total,
					currency: "EUR",
					promotion: c.promotion ? { code: c.promotion.code, discount: c.discount } : null,
					shippingMethod: c.shippingMethod,
					shippingAddress: body.shippingAddress,
					payment: { brand: "visa", last4: "4242", status: "captured" },
					refunds: [],
					statusHistory: [
						{ status: "pending", at },
						{ status: "paid", at },
					],
					createdAt: at,
					updatedAt: at,
				};
				placedOrder = order;
				return json(route, 202, { ...order, status: "pending" });
			}
			if (path === "/api/v1/orders/ord-additions-1") return json(route, 200, placedOrder);
			return route.continue();
		});

		// Register (the real server).
		await page.goto("/register");
		await page.getByLabel("Name").fill("Vera");
		await page.getByLabel("Email").fill(uniqueEmail("vera"));
		await page.getByLabel("Password").fill(PASSWORD);
		await page.getByRole("button", { name: "Create account" }).click();
		await page.getByRole("button", { name: "Sign out" }).waitFor();

		// Facets: counts next to the filters; an option facet becomes option=name:value.
		await page.goto("/search?q=gooseneck");
		await page.getByRole("group", { name: "colour" }).waitFor();
		await page.getByLabel(/^white/).check();
		await expect.poll(() => page.url()).toContain("option=colour%3Awhite");
		await expect.poll(() => searchQueries.at(-1)?.getAll("option")).toEqual(["colour:white"]);
		expect(searchQueries.at(-1)?.get("facets")).toBe("true");
		await page.locator(".product-price").getByText("from").waitFor(); // a product with variants is "from" its lowest price
		await expectAccessible(page, "search with facets");

		// Variant pickers: a combination that is not sold cannot be chosen; the price and availability follow the choice.
		await page.getByRole("link", { name: "Gooseneck Kettle" }).click();
		await page.getByRole("group", { name: "colour" }).waitFor();
		await expect.poll(() => page.locator(".product-price-big").textContent()).toBe("€69.00");
		await page.getByRole("radio", { name: "1.5 l" }).check({ force: true });
		await page.getByText("Out of stock").waitFor();
		expect(await page.getByRole("button", { name: "Add to cart" }).isDisabled()).toBe(true);
		await page.getByRole("radio", { name: "white" }).check({ force: true });
		// white comes only in 1 l: the size follows
		await expect.poll(() => page.getByRole("radio", { name: "1 l", exact: true }).isChecked()).toBe(true);
		await expect.poll(() => page.locator(".product-price-big").textContent()).toBe("€74.00");
		await page.getByText("KIT-KETTLE-W1").waitFor();
		await expectAccessible(page, "product with variants");
		await page.getByRole("button", { name: "Add to cart" }).click();
		await page.getByText("Added to your cart.").waitFor();
		const add = posted.find(p => p.path === "/api/v1/cart/items")!;
		expect(add.body).toEqual({ productId: kettle.id, variantId: "var-white-1l", quantity: 1 });
		expect(add.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);

		// Cart: quantity by itemId, a refused code shown at its field, the good one applied, shipping, and the breakdown.
		await page.goto("/cart");
		await page.getByText("colour: white, size: 1 l").waitFor();
		await page.getByLabel("Quantity of Gooseneck Kettle").fill("2");
		await page.getByLabel("Quantity of Gooseneck Kettle").press("Tab");
		// 2 × 74.00, Standard shipping free over 100.00
		await expect.poll(() => page.locator(".total-row dd").textContent()).toBe("€148.00");
		expect(patchedLines).toEqual(["var-white-1l"]); // lines are keyed by itemId
		await page.getByLabel("Deliver to").selectOption("DE");
		await page.getByRole("radio", { name: /Express/ }).check();
		await expect.poll(() => cartQueries.at(-1)?.get("shippingMethodId")).toBe("ship-exp");
		expect(cartQueries.at(-1)?.get("country")).toBe("DE");
		await page.getByLabel("Promotion code").fill("OLD2020");
		await page.getByRole("button", { name: "Apply" }).click();
		const code = page.getByLabel("Promotion code");
		await expect.poll(() => code.getAttribute("aria-invalid")).toBe("true");
		await page.getByText("This code has expired.").waitFor();
		await code.fill("WELCOME10");
		await page.getByRole("button", { name: "Apply" }).click();
		await page.getByText("Code WELCOME10 applied.").waitFor();
		// 2 × 74.00 = 148.00, −14.80, Express 12.90 → 146.10, of which 19 % tax 23.33
		await expect.poll(() => page.locator(".total-row dd").textContent()).toBe("€146.10");
		const totals = await page.locator(".cart-summary .totals").textContent();
		expect(totals).toContain("Discount (WELCOME10)−€14.80");
		expect(totals).toContain("Shipping (Express)€12.90");
		expect(totals).toContain("Tax included€23.33");
		await expectAccessible(page, "cart with totals");

		// Checkout: the chosen method goes with the order; the order shows its breakdown.
		await page.getByRole("link", { name: "Check out" }).click();
		await page.getByRole("radio", { name: /Express/ }).waitFor();
		expect(await page.getByRole("radio", { name: /Express/ }).isChecked()).toBe(true);
		await page.getByLabel("Full name").fill("Vera Variant");
		await page.getByRole("textbox", { name: "Address", exact: true }).fill("Hauptstraße 1");
		await page.getByLabel("Postal code").fill("10115");
		await page.getByLabel("City").fill("Berlin");
		await page.getByLabel("Country").selectOption("DE");
		await page.getByLabel("Card number").fill("4242424242424242");
		await page.getByLabel("Security code (CVC)").fill("123");
		await expectAccessible(page, "checkout with shipping methods");
		await page.getByRole("button", { name: "Place order" }).click();
		await page.locator(".order-status").getByText("Paid", { exact: true }).waitFor({ timeout: 15_000 });
		const order = posted.find(p => p.path === "/api/v1/orders")!;
		expect(order.body.shippingMethodId).toBe("ship-exp");
		expect(order.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);
		const orderTotals = await page.locator(".order-detail .totals").textContent();
		expect(orderTotals).toContain("Discount (WELCOME10)−€14.80");
		expect(orderTotals).toContain("Shipping (Express)€12.90");
		expect(orderTotals).toContain("Tax included€23.33");
		await page.getByText("colour: white, size: 1 l").waitFor();
		await expectAccessible(page, "order with totals");
		expect(tokensInUrls(tp.urls)).toEqual([]);
		expect(tp.errors).toEqual([]);
	});

	test("back office pages of the additions say plainly when the server does not have them", async () => {
		const tp = await openPage(browser, shop.baseUrl);
		pages.push(tp);
		onTestFailed(async () => saveArtifact(tp.page, "additions-admin"));
		const { page } = tp;
		await page.goto("/login?next=/admin/promotions");
		await page.getByLabel("Email").fill("admin@shop.test");
		await page.getByLabel("Password").fill("admin-password-123");
		await page.getByRole("button", { name: "Sign in" }).click();
		for (const [path, title, has] of [
			["/admin/promotions", "Promotions", served.promotions],
			["/admin/shipping", "Shipping methods", served.shipping],
			["/admin/tax", "Tax rates", served.taxRates],
		] as const) {
			await page.goto(path);
			await expect.poll(() => page.locator("main h1").textContent()).toBe(title);
			if (!has) await page.getByText("This part of the back office needs a newer version of the shop's API.").waitFor();
			else
				await page
					.getByRole("button", { name: /Create|Save/ })
					.first()
					.waitFor();
			await expectAccessible(page, path);
		}
		expect(tp.errors).toEqual([]);
	});
});
