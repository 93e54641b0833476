/**
 * The back office's catalog import page in a real browser against the real shop (started as
 * `npm start` starts it): a small CSV with a bad row is chosen and uploaded, the page follows the
 * job to its end and shows the counts and the refused row with its line and field (the same as
 * GET /products/import/:jobId says); the same file again changes nothing; the export is downloaded
 * with the catalog's header and the imported products; the page in Spanish. axe-core on each state.
 */
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from "vitest";
import type { Browser, Page } from "playwright-core";
import { CSV_COLUMNS } from "../../lib/domain/catalog-csv.js";
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
	skipWithoutChromium,
	startShopProcess,
	type RunningShop,
	type TrackedPage,
} from "./harness.js";

const skip = skipWithoutChromium();
const HEADER = CSV_COLUMNS.join(",");

/** Four data rows (lines 2 to 5): a product, a product with two variants, and on line 5 a price that is no number. */
const FILE = [
	HEADER,
	"E2E-IMP-1,,Import mug,A mug,,1299,EUR,7,true,,",
	"E2E-IMP-2,,Import shirt,A shirt,,,EUR,,true,size=S|M,",
	"E2E-IMP-2,E2E-IMP-2-S,,,,2500,,3,true,,size=S",
	"E2E-IMP-3,,Import cap,A cap,,12x,EUR,2,true,,",
	"E2E-IMP-2,E2E-IMP-2-M,,,,2600,,4,true,,size=M",
].join("\n");

interface Job {
	state: string;
	rows: number;
	created: number;
	updated: number;
	unchanged: number;
	errors: { line: number; field: string; message: string }[];
}

describe.skipIf(skip)("back office: catalog import and export on the real server", { timeout: 150_000 }, () => {
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

	/** The counts the page shows, by their label. */
	async function counts(page: Page): Promise<Record<string, string>> {
		const items = page.locator("dl.import-counts > div");
		const out: Record<string, string> = {};
		for (let i = 0; i < (await items.count()); i++) {
			out[((await items.nth(i).locator("dt").textContent()) ?? "").trim()] = ((await items.nth(i).locator("dd").textContent()) ?? "").trim();
		}
		return out;
	}

	async function importFile(page: Page, name: string): Promise<Job> {
		const jobOf = () => new URL(page.url()).searchParams.get("job");
		const before = jobOf();
		await page.getByLabel("CSV file").setInputFiles({ name, mimeType: "text/csv", buffer: Buffer.from(FILE) });
		await page.getByRole("button", { name: "Import", exact: true }).click();
		await expect.poll(jobOf).not.toBe(before);
		await page.getByText(/^Import finished/).waitFor({ timeout: 30_000 });
		const jobId = jobOf();
		const job = await apiCall<Job>(shop.baseUrl, "GET", `/products/import/${jobId}`, undefined, adminToken);
		expect(job.status).toBe(200);
		return job.body;
	}

	test("an admin imports a small file with a bad row, sees the counts and the row's line and field, imports it again to no change, and downloads the export", async () => {
		const tp = await open("catalog-import");
		const { page } = tp;
		await page.goto(`/login?next=${encodeURIComponent("/admin/products/import")}`);
		await signInOnProviderPage(page, ADMIN_EMAIL, ADMIN_PASSWORD);
		await expect.poll(() => page.locator("main h1").first().textContent()).toBe("Catalog import and export");
		await expect.poll(() => page.locator('.admin-nav [aria-current="page"]').allTextContents()).toEqual(["Import / export"]);
		await expectAccessible(page, "import page");

		const first = await importFile(page, "catalog.csv");
		expect(first).toMatchObject({ state: "done", rows: 5, created: 4, updated: 0, unchanged: 0 });
		expect(first.errors.map(e => [e.line, e.field])).toEqual([[5, "price"]]);
		expect(await counts(page)).toEqual({ "Rows done": "5", Created: "4", Updated: "0", Unchanged: "0", Errors: "1" });
		const errorRows = page.locator("table.import-errors tbody tr");
		expect(await errorRows.count()).toBe(1);
		expect(await errorRows.first().locator("th").textContent()).toBe("5");
		expect(await errorRows.first().locator("td").first().textContent()).toBe("price");
		expect(await errorRows.first().textContent()).toContain(first.errors[0]!.message);
		await expectAccessible(page, "import page with its job and errors");
		// Stored: the products the good rows describe, the shirt with both variants.
		const shirt = await apiCall<{ rows: { sku: string; variants: { sku: string; price: number; stock: number }[] }[] }>(
			shop.baseUrl,
			"GET",
			"/products?q=Import%20shirt",
		);
		const stored = shirt.body.rows.find(p => p.sku === "E2E-IMP-2");
		expect(stored?.variants.map(v => [v.sku, v.price, v.stock]).sort()).toEqual([
			["E2E-IMP-2-M", 2600, 4],
			["E2E-IMP-2-S", 2500, 3],
		]);

		// The same file again: nothing created or changed, the bad row reported again.
		const second = await importFile(page, "catalog-again.csv");
		expect(second).toMatchObject({ state: "done", rows: 5, created: 0, updated: 0, unchanged: 4 });
		await expect.poll(() => counts(page)).toEqual({ "Rows done": "5", Created: "0", Updated: "0", Unchanged: "4", Errors: "1" });

		// The export, downloaded: the catalog's header and the imported rows.
		const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download the catalog (CSV)" }).click()]);
		expect(download.suggestedFilename()).toBe("catalog.csv");
		const stream = await download.createReadStream();
		const chunks: Buffer[] = [];
		for await (const c of stream) chunks.push(c as Buffer);
		const csv = Buffer.concat(chunks).toString("utf8");
		expect(csv.split("\n")[0]).toBe(HEADER);
		expect(csv).toContain("E2E-IMP-1,,Import mug,A mug,,1299,EUR,7,true,,");
		expect(csv).toContain("E2E-IMP-2,E2E-IMP-2-M,,,,2600,,4,true,,size=M");
		expect(csv).not.toContain("E2E-IMP-3");
		expect(tp.errors).toEqual([]);
	});

	test("a file that is not a catalog's is refused at the file field; the page in Spanish", async () => {
		const tp = await open("catalog-import-es");
		const { page } = tp;
		const me = await loginApi(shop.baseUrl, ADMIN_EMAIL, ADMIN_PASSWORD);
		expect((await apiCall(shop.baseUrl, "PATCH", "/me", { preferences: { language: "es" } }, me.token)).status).toBe(200);
		try {
			await page.goto(`/login?next=${encodeURIComponent("/admin/products/import")}`);
			await signInOnProviderPage(page, ADMIN_EMAIL, ADMIN_PASSWORD);
			await expect.poll(() => page.locator("main h1").first().textContent()).toBe("Importar y exportar el catálogo");
			await page.getByLabel("Archivo CSV").setInputFiles({ name: "people.csv", mimeType: "text/csv", buffer: Buffer.from("id,title\n1,x\n") });
			await page.getByRole("button", { name: "Importar", exact: true }).click();
			const field = page.getByLabel("Archivo CSV");
			await expect.poll(() => field.getAttribute("aria-invalid")).toBe("true");
			expect(await page.locator("#imp-file-error").textContent()).toMatch(/Unknown column 'id'/);
			expect(new URL(page.url()).searchParams.get("job")).toBeNull();
			await expectAccessible(page, "import page in Spanish with a refused file");
		} finally {
			await apiCall(shop.baseUrl, "PATCH", "/me", { preferences: { language: "en" } }, me.token);
		}
		expect(tp.errors).toEqual([]);
	});
});
