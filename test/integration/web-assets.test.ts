/**
 * The gateway serves the built web shop outside /api (lib/http/web-assets.ts), through real HTTP
 * on the in-process shop: index.html for the app and its client routes (CSP, never cached),
 * hashed assets cached for good, and /api never falls back to the app.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startShop, type TestShop } from "../helpers/shop.js";
import { ensureWebBuild, WEB } from "../e2e/harness.js";

describe("web shop assets on the gateway", () => {
	let shop: TestShop;
	let asset: string;

	beforeAll(async () => {
		await ensureWebBuild();
		asset = fs.readdirSync(path.join(WEB, "dist", "assets")).find(f => f.endsWith(".js"))!;
		shop = await startShop();
	}, 240_000);
	afterAll(async () => {
		await shop?.stop();
	});

	const get = (url: string, init: RequestInit = {}) => fetch(shop.baseUrl + url, { redirect: "manual", ...init });

	test.each(["/", "/products/some-id", "/admin/orders", "/orders/abc?x=1"])("%s is index.html with the CSP, never cached", async url => {
		const res = await get(url);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/^text\/html/);
		expect(res.headers.get("cache-control")).toBe("no-cache");
		const csp = res.headers.get("content-security-policy") ?? "";
		expect(csp).toContain("script-src 'self'");
		expect(csp).toContain("style-src 'self'");
		expect(csp).toContain("frame-ancestors 'none'");
		expect(res.headers.get("x-content-type-options")).toBe("nosniff");
		const html = await res.text();
		expect(html).toContain('<div id="app"></div>');
		expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
		// No inline script or style (the CSP would block them).
		expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
		expect(html).not.toMatch(/<style|\sstyle=/);
	});

	test("a hashed asset is cached for a year as immutable", async () => {
		const res = await get(`/assets/${asset}`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/javascript/);
		expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
	});

	test("HEAD of a client route answers like GET without a body", async () => {
		const res = await get("/cart", { method: "HEAD" });
		expect(res.status).toBe(200);
		expect(res.headers.get("cache-control")).toBe("no-cache");
		expect(await res.text()).toBe("");
	});

	test("an unknown API route is a JSON 404, never the app", async () => {
		for (const url of ["/api/v1/nope", "/api/v1/products/x/nope", "/api/nope"]) {
			const res = await get(url);
			expect(res.status, url).toBe(404);
			expect(res.headers.get("content-type"), url).toMatch(/^application\/json/);
			const body = await res.json();
			expect(body, url).toMatchObject({ code: 404, type: "ROUTE_NOT_FOUND" });
		}
	});

	test("a missing asset is a 404, not index.html", async () => {
		for (const url of ["/assets/x.js", "/assets/index-missing.css", "/favicon.ico", "/assets/no-extension"]) {
			const res = await get(url);
			expect(res.status, url).toBe(404);
			expect(res.headers.get("content-type") ?? "", url).not.toMatch(/text\/html/);
		}
	});

	test("a file outside web/dist cannot be reached with ../", async () => {
		const res = await fetch(`${shop.baseUrl}/%2e%2e/package.json`);
		expect([400, 403, 404]).toContain(res.status);
		expect(await res.text()).not.toContain('"workspaces"');
	});
});
