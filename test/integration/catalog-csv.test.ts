/**
 * Catalog import and export as CSV (#22, point 3): through the gateway's multipart route, as a job
 * in the products service, through the API's write path; the export streamed in the same columns.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { CSV_COLUMNS } from "../../lib/domain/catalog-csv.js";

let shop: TestShop;
let adm: Account;
const HEADER = CSV_COLUMNS.join(",");
const MB = 1024 * 1024;
/** The import's own limit in this shop: above the images' 10 MB, small enough to send in a test. */
const IMPORT_MAX_BYTES = 16 * MB;

beforeAll(async () => {
	shop = await startShop({ env: { ...ADMIN_ENV, IMPORT_MAX_BYTES: String(IMPORT_MAX_BYTES) } });
	adm = await admin(shop);
});
afterAll(async () => {
	await shop?.stop();
});

interface Job {
	id: string;
	state: "running" | "done" | "failed";
	rows: number;
	created: number;
	updated: number;
	unchanged: number;
	errors: { line: number; field: string; message: string }[];
}

async function upload(file: Buffer | string, token = adm.accessToken): Promise<{ status: number; body: { jobId?: string } }> {
	const form = new FormData();
	form.append("file", new Blob([typeof file === "string" ? Buffer.from(file) : file], { type: "text/csv" }), "catalog.csv");
	const res = await fetch(`${shop.baseUrl}/api/v1/products/import`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form });
	return { status: res.status, body: (await res.json()) as { jobId?: string } };
}

/** The file imported, and its job once finished. */
async function imported(file: Buffer | string, timeoutMs = 20_000): Promise<Job> {
	const started = await upload(file);
	expect(started.status).toBe(202);
	return eventually(
		async () => {
			const res = await shop.http.as(adm.accessToken).get<Job>(`/api/v1/products/import/${started.body.jobId}`);
			expect(res.status).toBe(200);
			return res.body.state === "running" ? undefined : res.body;
		},
		timeoutMs,
		"the import to end",
		100,
	);
}

/**
 * A multipart upload of `size` bytes of `fill` after `start`, sent as it is made; with
 * `declareLength` false it goes chunked (no Content-Length), so only the limit on what is read
 * can stop it. Answers the status and body the gateway sends (it may answer before all is sent). `start` is
 * taken byte for byte (latin1), so it can hold a JPEG's first bytes.
 */
function uploadStream(
	path: string,
	file: { start: string; fill: string; size: number; filename: string; contentType: string },
	declareLength: boolean,
): Promise<{ status: number; body: string }> {
	const boundary = "----csvtest";
	const head = Buffer.from(
		`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename}"\r\nContent-Type: ${file.contentType}\r\n\r\n${file.start}`,
		"latin1",
	);
	const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
	const url = new URL(`${shop.baseUrl}/api/v1${path}`);
	return new Promise((resolve, reject) => {
		let sent = 0;
		const req = http.request(
			{
				method: "POST",
				host: url.hostname,
				port: url.port,
				path: url.pathname,
				headers: {
					"content-type": `multipart/form-data; boundary=${boundary}`,
					authorization: `Bearer ${adm.accessToken}`,
					...(declareLength && { "content-length": head.length + file.size + tail.length }),
				},
			},
			res => {
				let body = "";
				res.setEncoding("utf8");
				res.on("data", d => (body += d));
				res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
			},
		);
		req.on("error", err => (sent > 0 ? undefined : reject(err)));
		req.write(head);
		const piece = Buffer.alloc(64 * 1024, file.fill);
		const pump = () => {
			while (sent < file.size) {
				const n = Math.min(piece.length, file.size - sent);
				sent += n;
				if (!req.write(piece.subarray(0, n))) return void req.once("drain", pump);
			}
			req.end(tail);
		};
		pump();
	});
}

async function exported(): Promise<string> {
	const res = await fetch(`${shop.baseUrl}/api/v1/products/export`, { headers: { authorization: `Bearer ${adm.accessToken}` } });
	expect(res.status).toBe(200);
	expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
	return res.text();
}

const productLine = (sku: string, name: string, price = 1999, stock = 5) => `${sku},,${name},A thing,,${price},EUR,${stock},true,,`;

describe("importing a large file", () => {
	it("imports 10,000 rows with 3 bad ones as 9,997 products, reports the 3 by line, and a second import changes nothing", async () => {
		const lines = [HEADER];
		for (let i = 1; i <= 10_000; i++) lines.push(productLine(`BULK-${i}`, `Bulk product ${i}`, 1000 + i));
		// Line n of the file is lines[n - 1] (the header is line 1).
		lines[101 - 1] = "BULK-100,,Bulk product 100,A thing,,12x,EUR,5,true,,";
		lines[5001 - 1] = "BULK-5000,,Bulk product 5000,A thing,,100,XXX,5,true,,";
		lines[9001 - 1] = ",,No SKU,A thing,,100,EUR,5,true,,";
		const file = lines.join("\n") + "\n";

		const started = Date.now();
		const first = await imported(file, 240_000);
		const seconds = (Date.now() - started) / 1000;
		console.log(`CSV import: 10,000 rows in ${seconds.toFixed(1)} s (${Math.round(10_000 / seconds)} rows/s)`);
		expect(first).toMatchObject({ state: "done", rows: 10_000, created: 9_997, updated: 0, unchanged: 0 });
		expect(first.errors.map(e => [e.line, e.field])).toEqual([
			[101, "price"],
			[5001, "currency"],
			[9001, "sku"],
		]);
		const search = await shop.http.get<{ total: number }>("/api/v1/products?q=Bulk&pageSize=1");
		expect(search.body.total).toBe(9_997);

		const second = await imported(file, 240_000);
		expect(second).toMatchObject({ state: "done", rows: 10_000, created: 0, updated: 0, unchanged: 9_997 });
	}, 600_000);
});

describe("round trip", () => {
	it("creates products with variants and categories, exports them, and the export re-imported is a no-op", async () => {
		const cat = await shop.http.as(adm.accessToken).post("/api/v1/categories", { slug: "csv-mugs", name: "Mugs" });
		expect(cat.status).toBe(201);
		const file = [
			HEADER,
			`RT-TEE,,"Tee, cotton","Soft, ""organic""\nand warm",csv-mugs,,EUR,,true,size=S|M;colour=Red|Blue,`,
			"RT-TEE,RT-TEE-S-RED,,,,1500,,3,true,,size=S;colour=Red",
			"RT-TEE,RT-TEE-M-BLUE,,,,1700,,0,false,,size=M;colour=Blue",
			`RT-FORMULA,,"=HYPERLINK(""http://x"",""y"")",-1 thing,,250,EUR,7,false,,`,
		].join("\r\n");
		const first = await imported(file);
		expect(first).toMatchObject({ state: "done", rows: 4, created: 4, errors: [] });

		const csv = await exported();
		expect(csv.split("\n")[0]).toBe(HEADER);
		// A cell a spreadsheet would run is written with a leading quote mark.
		expect(csv).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
		expect(csv).toContain(`'-1 thing`);
		expect(csv).toContain("RT-TEE,RT-TEE-M-BLUE,,,,1700,,0,false,,size=M;colour=Blue");

		const again = await imported(csv, 240_000);
		expect(again.state).toBe("done");
		expect(again.errors).toEqual([]);
		expect(again.created + again.updated).toBe(0);

		// What the catalog holds now is exported the same, value for value.
		expect(await exported()).toBe(csv);
		const lines = csv.split("\n");
		expect(lines).toContain(`RT-TEE,,"Tee, cotton","Soft, ""organic""`);
		expect(lines).toContain("RT-TEE,RT-TEE-S-RED,,,,1500,,3,true,,size=S;colour=Red");
		expect(csv).toContain(",csv-mugs,,EUR,,true,size=S|M;colour=Red|Blue,");
	}, 300_000);

	it("updates what a row changes, by SKU, and adds a variant to a product already there", async () => {
		await imported([HEADER, productLine("UPD-1", "Before", 100, 1)].join("\n"));
		const job = await imported(
			[HEADER, productLine("UPD-1", "After", 200, 9), `UPD-1,UPD-1-X,,,,300,,4,true,,size=X`, productLine("UPD-2", "New")].join("\n"),
		);
		// The variant row is refused: UPD-1 has no options.
		expect(job).toMatchObject({ state: "done", rows: 3, created: 1, updated: 1 });
		expect(job.errors.map(e => [e.line, e.field])).toEqual([[3, "options"]]);
		const csv = await exported();
		expect(csv).toContain("UPD-1,,After,A thing,,200,EUR,9,true,,");
		expect(csv).not.toContain("UPD-1-X");
	});
});

describe("hostile files", () => {
	it("ends the job failed, with the reason, for a file that is not UTF-8", async () => {
		const latin1 = Buffer.from(`${HEADER}\nENC-1,,Caf\xe9,,,100,EUR,1,true,,\n`, "latin1");
		const job = await imported(latin1);
		expect(job.state).toBe("failed");
		expect(job.errors.at(-1)).toMatchObject({ field: "file", message: expect.stringMatching(/not UTF-8/) });
	});

	it("ends the job failed for a single field of 12 MB (over the images' 10 MB, under the import's limit)", async () => {
		const job = await imported(`${HEADER}\nBIG-1,,"${"x".repeat(12 * MB)}",,,100,EUR,1,true,,\n`, 60_000);
		expect(job.state).toBe("failed");
		expect(job.errors.at(-1)).toMatchObject({ field: "file", message: expect.stringMatching(/longer than 256 KiB/) });
	});

	it("refuses a file over IMPORT_MAX_BYTES with 413: unread when its length is declared, cut at the limit when it is sent chunked", async () => {
		const file = { start: `${HEADER}\nBIG-2,,"`, fill: "x", size: IMPORT_MAX_BYTES + MB, filename: "big.csv", contentType: "text/csv" };
		for (const declareLength of [true, false]) {
			const tooLarge = await uploadStream("/products/import", file, declareLength);
			expect(tooLarge.status, `declared length: ${declareLength}`).toBe(413);
			expect(JSON.parse(tooLarge.body)).toMatchObject({ code: 413, type: "PAYLOAD_TOO_LARGE" });
		}
		expect((await uploadStream("/products/import", file, true)).body).toMatch(/larger than 16 MB/);
	});

	it("keeps the images' 10 MB limit: an 11 MB image is refused with 413, declared or chunked", async () => {
		const created = await shop.http.as(adm.accessToken).post<{ id: string }>("/api/v1/products", {
			sku: "IMG-LIMIT-1",
			name: "Image limit",
			price: 100,
			currency: "EUR",
		});
		expect(created.status).toBe(201);
		const image = { start: "\xff\xd8\xff", fill: "A", size: 11 * MB, filename: "big.jpg", contentType: "image/jpeg" };
		for (const declareLength of [true, false]) {
			const res = await uploadStream(`/products/${created.body.id}/images`, image, declareLength);
			expect(res.status, `declared length: ${declareLength}`).toBe(413);
		}
	});

	it("ends the job failed for unbalanced quotes", async () => {
		const job = await imported(`${HEADER}\nQ-1,,"Open quote,,,,100,EUR,1,true,,\nQ-2,,Fine,,,100,EUR,1,true,,\n`);
		expect(job.state).toBe("failed");
		expect(job.errors.at(-1)).toMatchObject({ field: "file", message: expect.stringMatching(/quote/i) });
	});

	it("refuses at once (422 naming file, no job) a file whose header is not the catalog's, or that is empty", async () => {
		for (const file of ["id,title\n1,x\n", "null", ""]) {
			const res = (await upload(file)) as { status: number; body: { jobId?: string; data?: { field: string; message: string }[] } };
			expect(res.status, JSON.stringify(file)).toBe(422);
			expect(res.body.jobId).toBeUndefined();
			expect(res.body.data?.[0]?.field).toBe("file");
		}
		const res = (await upload("id,title\n1,x\n")) as { body: { data?: { message: string }[] } };
		expect(res.body.data?.[0]?.message).toMatch(/Unknown column 'id'/);
	});
});

describe("access", () => {
	it("refuses a customer (403) and answers 404 for an unknown job", async () => {
		const c = await customer(shop);
		expect((await upload(`${HEADER}\n`, c.accessToken)).status).toBe(403);
		expect((await shop.http.as(c.accessToken).get("/api/v1/products/export")).status).toBe(403);
		expect((await shop.http.as(adm.accessToken).get("/api/v1/products/import/00000000-0000-4000-8000-000000000000")).status).toBe(404);
		expect((await shop.http.as(adm.accessToken).get("/api/v1/products/import/not-an-id")).status).toBe(404);
	});
});
