/**
 * Product images in a real browser against the real shop (`npm start`, demo catalog): the
 * storefront shows the demo pictures through <picture> (AVIF/WebP/JPEG, lazy, sized, alt text);
 * the product page's gallery follows the chosen colour; the back office uploads an image, sets
 * its alt text, and the storefront shows it with that alt text. axe-core on each page.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from "vitest";
import type { Browser } from "playwright-core";
import sharp from "sharp";
import {
	ADMIN_EMAIL,
	ADMIN_PASSWORD,
	apiCall,
	ensureWebBuild,
	expectAccessible,
	launchBrowser,
	loginApi,
	openPage,
	saveArtifact,
	signInOnProviderPage,
	saveDocScreenshot,
	skipWithoutChromium,
	startShopProcess,
	type RunningShop,
	type TrackedPage,
} from "./harness.js";

const skip = skipWithoutChromium();

describe.skipIf(skip)("web shop: product images on the real server", { timeout: 150_000 }, () => {
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

	async function open(name: string): Promise<TrackedPage> {
		const tp = await openPage(browser, shop.baseUrl);
		pages.push(tp);
		onTestFailed(async () => {
			await saveArtifact(tp.page, name);
		});
		return tp;
	}

	test("the storefront shows the demo pictures: AVIF/WebP/JPEG, lazy, sized, with alt text; the gallery follows the colour", async () => {
		const tp = await open("media-storefront");
		const { page } = tp;
		await page.goto("/search");
		const cards = page.locator(".product-card picture img");
		await expect.poll(() => cards.count(), { timeout: 30_000 }).toBeGreaterThan(5);
		const first = cards.first();
		expect(await first.getAttribute("loading")).toBe("lazy");
		expect(Number(await first.getAttribute("width"))).toBeGreaterThan(0);
		expect(Number(await first.getAttribute("height"))).toBeGreaterThan(0);
		expect(await first.getAttribute("alt")).toBeTruthy();
		const types = await page
			.locator(".product-card picture")
			.first()
			.locator("source")
			.evaluateAll(s => s.map(e => e.getAttribute("type")));
		expect(types).toEqual(["image/avif", "image/webp"]);
		await first.scrollIntoViewIfNeeded();
		await expect.poll(() => first.evaluate(img => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
		await expectAccessible(page, "search with pictures");
		await saveDocScreenshot(page, "storefront-images.png");

		const found = await apiCall<{ rows: { id: string; sku: string }[] }>(shop.baseUrl, "GET", "/products?q=t-shirt");
		await page.goto(`/products/${found.body.rows.find(r => r.sku === "APP-TEE")!.id}`);
		const main = page.locator(".product-main-picture img");
		await expect.poll(() => main.getAttribute("alt")).toBe("Black organic cotton T-shirt");
		await page.getByLabel("White").check();
		await expect.poll(() => main.getAttribute("alt")).toBe("White organic cotton T-shirt");
		await expectAccessible(page, "product page with a gallery");
		await saveDocScreenshot(page, "product-gallery.png");
		expect(tp.errors).toEqual([]);
	});

	test("back office: an admin uploads an image, sets its alt text, and the storefront shows it with that alt text", async () => {
		const word = randomUUID().slice(0, 6);
		const created = await apiCall<{ id: string }>(
			shop.baseUrl,
			"POST",
			"/products",
			{ sku: `IMG-${word}`, name: `Vase ${word}`, price: 3900, currency: "EUR", stock: 4 },
			adminToken,
			{ "idempotency-key": randomUUID() },
		);
		expect(created.status).toBe(201);
		const productId = created.body.id;
		const tp = await open("media-admin");
		const { page } = tp;
		await page.goto(`/login?next=/admin/products/${productId}`);
		await signInOnProviderPage(page, ADMIN_EMAIL, ADMIN_PASSWORD);
		await page.getByRole("heading", { name: "Images" }).waitFor();

		await page.getByLabel("Alt text (en)").fill("A blue vase");
		const png = await sharp({ create: { width: 300, height: 400, channels: 3, background: "#2b6cb0" } })
			.png()
			.toBuffer();
		await page.getByLabel("Image files").setInputFiles({ name: "vase.png", mimeType: "image/png", buffer: png });
		const altEn = page.getByLabel("Image 1: alt text (en)");
		await expect.poll(() => altEn.inputValue(), { timeout: 20_000 }).toBe("A blue vase");
		await altEn.fill("A tall blue vase");
		await page.getByLabel("Image 1: alt text (es)").fill("Un jarrón azul alto");
		await page.getByRole("button", { name: "Save the alt text of Image 1" }).click();
		await expect
			.poll(async () => (await apiCall<{ images: { alt: Record<string, string> }[] }>(shop.baseUrl, "GET", `/products/${productId}`)).body.images[0]?.alt)
			.toEqual({ en: "A tall blue vase", es: "Un jarrón azul alto" });
		await expectAccessible(page, "back office images");

		await page.goto(`/products/${productId}`);
		const main = page.locator(".product-main-picture img");
		await expect.poll(() => main.getAttribute("alt")).toBe("A tall blue vase");
		await expect.poll(() => main.evaluate(img => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
		expect(tp.errors).toEqual([]);
	});
});
