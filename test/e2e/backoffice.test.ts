/**
 * The operators' back office in a real browser against the real shop (started as `npm start`
 * starts it, with WEBHOOKS_ALLOW_PRIVATE_TARGETS=true so that a receiver on 127.0.0.1 may be a
 * target): an order shipped in two parcels through the Ship dialog, seen by the customer with
 * both tracking links; a webhook endpoint created to a local receiver, its secret shown once, a
 * test event delivered (checked at the receiver with the Standard Webhooks library) and seen in
 * the endpoint's deliveries. axe-core on each new page; the customer's parcels in Spanish too.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from "vitest";
import type { Browser, Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
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
	uniqueEmail,
	type RunningShop,
	type TrackedPage,
} from "./harness.js";

const skip = skipWithoutChromium();
const PASSWORD = "correct-horse-battery-staple";

interface Received {
	headers: http.IncomingHttpHeaders;
	body: string;
}

describe.skipIf(skip)("back office: fulfilment and webhooks on the real server", { timeout: 150_000 }, () => {
	let shop: RunningShop;
	let browser: Browser;
	let adminToken: string;
	const pages: TrackedPage[] = [];
	let receiver: http.Server;
	let receiverUrl = "";
	const received: Received[] = [];

	beforeAll(async () => {
		receiver = http.createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on("data", c => chunks.push(c as Buffer));
			req.on("end", () => {
				received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
				res.statusCode = 204;
				res.end();
			});
		});
		await new Promise<void>(resolve => receiver.listen(0, "127.0.0.1", resolve));
		receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/shop`;
		await ensureWebBuild();
		[shop, browser] = await Promise.all([startShopProcess({ WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true" }), launchBrowser()]);
		adminToken = (await loginApi(shop.baseUrl, ADMIN_EMAIL, ADMIN_PASSWORD)).token;
	}, 240_000);

	afterAll(async () => {
		await Promise.allSettled(pages.map(p => p.close()));
		await browser?.close().catch(() => undefined);
		await shop?.stop();
		await new Promise(resolve => receiver?.close(resolve));
	}, 30_000);

	async function open(name: string): Promise<TrackedPage> {
		const tp = await openPage(browser, shop.baseUrl);
		pages.push(tp);
		onTestFailed(async () => {
			await saveArtifact(tp.page, name);
		});
		return tp;
	}

	async function admin<T = any>(method: string, url: string, body: unknown, expected: number, token = adminToken): Promise<T> {
		const res = await apiCall<T>(shop.baseUrl, method, url, body, token, method === "POST" ? { "idempotency-key": randomUUID() } : {});
		expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBe(expected);
		return res.body;
	}

	async function heading(page: Page, text: string) {
		await expect.poll(() => page.locator("main h1").first().textContent(), { timeout: 15_000 }).toBe(text);
	}

	async function signInInUi(page: Page, email: string, password: string, next: string, signOut = "Sign out") {
		await page.goto(`/login?next=${encodeURIComponent(next)}`);
		await signInOnProviderPage(page, email, password);
		await page.getByRole("button", { name: signOut }).waitFor();
	}

	/** A field shows the API's 422: aria-invalid, and its aria-describedby names the message. */
	async function fieldError(page: Page, field: ReturnType<Page["getByLabel"]>): Promise<string> {
		await expect.poll(() => field.getAttribute("aria-invalid")).toBe("true");
		const id = ((await field.getAttribute("aria-describedby")) ?? "").split(" ").pop();
		return (await page.locator(`[id="${id}"]`).textContent()) ?? "";
	}

	test("an admin ships an order in two parcels through the Ship dialog; the customer sees both parcels with their tracking links", async () => {
		const word = `Ship${Date.now().toString(36)}`;
		const mug = await admin("POST", "/products", { sku: `MUG-${word}`.toUpperCase(), name: `${word} Mug`, price: 1200, currency: "EUR", stock: 10 }, 201);
		const lamp = await admin(
			"POST",
			"/products",
			{ sku: `LAMP-${word}`.toUpperCase(), name: `${word} Lamp`, price: 3000, currency: "EUR", stock: 10 },
			201,
		);
		const email = uniqueEmail("sam");
		await admin("POST", "/auth/register", { email, password: PASSWORD, name: "Sam" }, 201, "");
		const sam = await loginApi(shop.baseUrl, email, PASSWORD);
		await admin("POST", "/cart/items", { productId: mug.id, quantity: 3 }, 200, sam.token);
		await admin("POST", "/cart/items", { productId: lamp.id, quantity: 1 }, 200, sam.token);
		const placed = await admin(
			"POST",
			"/orders",
			{
				shippingAddress: { name: "Sam Example", line1: "Calle Mayor 5", city: "Madrid", postalCode: "28013", country: "ES" },
				payment: { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" },
			},
			202,
			sam.token,
		);
		await eventually(
			async () => ((await apiCall(shop.baseUrl, "GET", `/orders/${placed.id}`, undefined, sam.token)).body.status === "paid" ? true : undefined),
			15_000,
			"order paid",
		);
		const short = String(placed.id).slice(0, 8).toUpperCase();

		const tp = await open("backoffice-ship");
		const { page } = tp;
		await signInInUi(page, ADMIN_EMAIL, ADMIN_PASSWORD, `/admin/orders/${placed.id}`);
		await heading(page, `Order ${short}`);

		// Parcel 1: two of the three mugs with DHL.
		await page.getByRole("button", { name: "Ship a parcel" }).click();
		const dialog = page.getByRole("dialog", { name: "Ship a parcel" });
		await dialog.waitFor();
		await expectAccessible(page, "ship dialog");
		const mugQty = dialog.getByLabel(`Quantity of ${word} Mug in this parcel`);
		const lampQty = dialog.getByLabel(`Quantity of ${word} Lamp in this parcel`);
		expect(await mugQty.inputValue()).toBe("3");
		expect(await lampQty.inputValue()).toBe("1");
		await mugQty.fill("2");
		await lampQty.fill("0");
		await dialog.getByLabel("Carrier").selectOption("dhl");
		await dialog.getByLabel("Tracking number").fill("JD0146000062");
		await dialog.getByRole("button", { name: "Ship parcel" }).click();
		await dialog.waitFor({ state: "detached" });
		await page.locator(".order-status").getByText("Partially shipped", { exact: true }).waitFor();
		const dhlLink = page.getByRole("link", { name: "Track parcel JD0146000062" });
		expect(await dhlLink.getAttribute("href")).toBe("https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id=JD0146000062");

		// Parcel 2: what is left (one mug, the lamp) with another carrier: without a URL the 422 shows at its field.
		await page.getByRole("button", { name: "Ship a parcel" }).click();
		await dialog.waitFor();
		expect(await mugQty.inputValue()).toBe("1");
		expect(await lampQty.inputValue()).toBe("1");
		await dialog.getByLabel("Carrier").selectOption("other");
		await dialog.getByLabel("Tracking number").fill("PKG-777");
		await dialog.getByRole("button", { name: "Ship parcel" }).click();
		const urlField = dialog.getByLabel("Tracking URL");
		expect(await fieldError(page, urlField)).toMatch(/trackingUrl/);
		expect((await apiCall(shop.baseUrl, "GET", `/orders/${placed.id}`, undefined, adminToken)).body.fulfilments).toHaveLength(1);
		await expectAccessible(page, "ship dialog with a field error");
		await urlField.fill("https://parcels.example.com/track/PKG-777");
		await dialog.getByRole("button", { name: "Ship parcel" }).click();
		await dialog.waitFor({ state: "detached" });
		await page.locator(".order-status").getByText("Shipped", { exact: true }).waitFor();
		expect(await page.getByRole("link", { name: "Track parcel PKG-777" }).getAttribute("href")).toBe("https://parcels.example.com/track/PKG-777");
		expect(await page.getByRole("link", { name: "Track parcel JD0146000062" }).count()).toBe(1);
		expect(await page.getByRole("button", { name: "Ship a parcel" }).count()).toBe(0);
		await expectAccessible(page, "admin order with parcels");

		const stored = (await apiCall(shop.baseUrl, "GET", `/orders/${placed.id}`, undefined, adminToken)).body;
		expect(stored.status).toBe("shipped");
		expect(stored.statusHistory.map((h: { status: string }) => h.status)).toEqual(["pending", "paid", "partially_shipped", "shipped"]);
		expect(stored.fulfilments.map((f: { items: unknown[] }) => f.items)).toEqual([
			[{ itemId: mug.id, quantity: 2 }],
			[
				{ itemId: mug.id, quantity: 1 },
				{ itemId: lamp.id, quantity: 1 },
			],
		]);
		expect(tp.errors).toEqual([]);

		// The customer's order page: both parcels, each with its carrier, number and link.
		const cust = await open("backoffice-ship-customer");
		await signInInUi(cust.page, email, PASSWORD, `/orders/${placed.id}`);
		await heading(cust.page, `Order ${short}`);
		const parcels = cust.page.locator(".parcel");
		await expect.poll(() => parcels.count()).toBe(2);
		expect(await parcels.nth(0).textContent()).toContain("DHL");
		expect(await parcels.nth(0).textContent()).toContain(`2 × ${word} Mug`);
		expect(await parcels.nth(1).textContent()).toContain("Other carrier");
		expect(await parcels.nth(1).textContent()).toContain(`1 × ${word} Lamp`);
		expect(await cust.page.getByRole("link", { name: "Track parcel JD0146000062" }).getAttribute("href")).toContain("tracking-id=JD0146000062");
		expect(await cust.page.getByRole("link", { name: "Track parcel PKG-777" }).getAttribute("href")).toBe("https://parcels.example.com/track/PKG-777");
		await expectAccessible(cust.page, "customer order with parcels");
		expect(cust.errors).toEqual([]);

		// In Spanish: the history names the partial shipment, the parcels their links.
		expect((await apiCall(shop.baseUrl, "PATCH", "/me", { preferences: { language: "es" } }, sam.token)).status).toBe(200);
		const es = await open("backoffice-ship-customer-es");
		await signInInUi(es.page, email, PASSWORD, `/orders/${placed.id}`, "Cerrar sesión");
		await es.page.locator(".timeline").getByText("Enviado en parte", { exact: true }).waitFor();
		expect(await es.page.getByRole("link", { name: "Seguir el paquete PKG-777" }).getAttribute("href")).toBe("https://parcels.example.com/track/PKG-777");
		expect(await es.page.locator(".parcel").nth(1).textContent()).toContain("Otro transportista");
		await expectAccessible(es.page, "customer order with parcels (es)");
		expect(es.errors).toEqual([]);
	});

	test("an admin creates a webhook endpoint to a local receiver, sees its secret once, sends a test event and sees it delivered", async () => {
		const tp = await open("backoffice-webhooks");
		const { page } = tp;
		await signInInUi(page, ADMIN_EMAIL, ADMIN_PASSWORD, "/admin/webhooks");
		await heading(page, "Webhooks");
		await expectAccessible(page, "webhooks page");

		// A URL that is no URL: the 422 at its field; nothing is created.
		const form = page.locator("form", { has: page.getByRole("heading", { name: "New endpoint" }) });
		await form.getByLabel("URL").fill("not a url");
		await form.getByLabel("order.paid").check();
		await form.getByRole("button", { name: "Create endpoint" }).click();
		expect(await fieldError(page, form.getByLabel("URL"))).toMatch(/url/);
		expect((await apiCall(shop.baseUrl, "GET", "/webhooks", undefined, adminToken)).body.total).toBe(0);

		await form.getByLabel("URL").fill(receiverUrl);
		await form.getByLabel("All events (*)").check();
		await form.getByLabel("Description").fill("ERP bridge");
		await form.getByRole("button", { name: "Create endpoint" }).click();
		const secret = (await page.locator("code.secret").textContent()) ?? "";
		expect(secret).toMatch(/^whsec_/);
		const row = page.locator("tbody tr", { has: page.getByRole("link", { name: receiverUrl }) });
		await row.waitFor();
		expect(await row.textContent()).toContain("ERP bridge");
		expect(await row.textContent()).toContain("All events (*)");
		await expectAccessible(page, "webhooks page with the secret");
		const listed = (await apiCall(shop.baseUrl, "GET", "/webhooks", undefined, adminToken)).body;
		expect(listed.rows).toHaveLength(1);
		expect(listed.rows[0]).toMatchObject({ url: receiverUrl, events: ["*"], description: "ERP bridge", enabled: true });
		expect(JSON.stringify(listed)).not.toContain(secret);

		// Once: after a reload the secret is gone from the page.
		await page.reload();
		await row.waitFor();
		expect(await page.locator("code.secret").count()).toBe(0);
		expect(await page.content()).not.toContain(secret);

		// The endpoint's page: a test event, delivered to the receiver, signed with that secret.
		await row.getByRole("link", { name: receiverUrl }).click();
		await heading(page, "Webhook endpoint");
		await page.getByRole("button", { name: "Send test event" }).click();
		const delivery = page.locator("table.deliveries tbody tr", { hasText: "webhook.test" });
		await delivery.getByText("Delivered", { exact: true }).waitFor({ timeout: 20_000 });
		expect(await delivery.textContent()).toMatch(/204 in \d+ ms/);
		const got = await eventually(async () => received.find(r => r.body.includes("webhook.test")), 5000, "the test event at the receiver");
		const verified = new Webhook(secret).verify(got.body, {
			"webhook-id": String(got.headers["webhook-id"]),
			"webhook-timestamp": String(got.headers["webhook-timestamp"]),
			"webhook-signature": String(got.headers["webhook-signature"]),
		}) as { type: string };
		expect(verified.type).toBe("webhook.test");
		expect(await delivery.textContent()).toContain(String(got.headers["webhook-id"]));
		await expectAccessible(page, "webhook endpoint with deliveries");

		// A manual retry sends the same message again (same webhook-id) and it is delivered again.
		const before = received.length;
		await delivery.getByRole("button", { name: "Retry now" }).click();
		await eventually(async () => (received.length > before ? true : undefined), 10_000, "the retried delivery");
		expect(received.at(-1)!.headers["webhook-id"]).toBe(got.headers["webhook-id"]);

		// Disable turns it off (stored), and the list says so.
		await page.getByRole("button", { name: "Disable" }).click();
		await page.getByRole("button", { name: "Enable" }).waitFor();
		expect((await apiCall(shop.baseUrl, "GET", "/webhooks", undefined, adminToken)).body.rows[0].enabled).toBe(false);
		expect(tp.errors).toEqual([]);
	});
});
