/**
 * Catalog import (issue #22): a CSV of BENCH_IMPORT_ROWS new products (100,000 by default; one row
 * each, in the export's columns) uploaded to POST /products/import as a stream from disk, the job
 * followed to its end. Reports rows/s (from the first byte sent to the job's end), the peak RSS of
 * the process running the products service (sampled every 250 ms; in the cluster also the
 * gateway's, which the file passes through), and GET /products/:id measured on the idle shop just
 * before and while the import runs (autocannon for BENCH_DURATION s from 2 s into the import).
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { CSV_COLUMNS } from "../lib/domain/catalog-csv.js";
import { api, bearer, login } from "./http.js";
import { cannon, type Measured } from "./load.js";
import { log, memoryOf, sleep } from "./processes.js";
import { fmt, type Row } from "./report.js";
import { ADMIN, type Shop } from "./shop.js";

export interface ImportOptions {
	rows: number;
	connections: number;
	duration: number;
	/** Products GET /products/:id rotates over (the seeded catalog's). */
	ids: string[];
	workDir: string;
	catalog: string;
}

interface Job {
	state: "running" | "done" | "failed";
	rows: number;
	created: number;
	updated: number;
	unchanged: number;
	errors: { line: number; field: string; message: string }[];
}

const WORDS = (
	"oak walnut linen cotton wool steel brass ceramic glass leather canvas bamboo copper marble slate cedar " +
	"lamp chair table shelf rug mug bowl vase throw cushion basket mirror clock frame stool bench desk tray jar crate"
).split(" ");
const word = (i: number, k: number) => WORDS[(i * 31 + k * 17 + ((i >> k) & 7)) % WORDS.length]!;
const nameOf = (i: number) => `${word(i, 1)} ${word(i, 2)} ${word(i, 3)} ${i}`;
/** About 250 characters, as a shop's descriptions are (a CSV of 100,000 is then about 30 MB, over the images' 10 MB). */
const descriptionOf = (i: number) =>
	`A ${word(i, 4)} ${word(i, 5)} made of ${word(i, 6)} and ${word(i, 7)}, finished by hand; ` +
	`it goes with a ${word(i, 8)} ${word(i, 9)} or a ${word(i, 10)} ${word(i, 11)}, and it is sold with a two-year warranty. ` +
	`Care: wipe with a dry cloth, keep away from direct sunlight and heat. Item ${i}.`;

/** The CSV (written once per run and size): product rows `BIMP-<n>` with a name, a description, a price and stock. */
export function importFile(workDir: string, rows: number): string {
	const file = path.join(workDir, `import-${rows}.csv`);
	if (fs.existsSync(file)) return file;
	const fd = fs.openSync(file, "w");
	try {
		let chunk = `${CSV_COLUMNS.join(",")}\n`;
		for (let i = 1; i <= rows; i++) {
			// sku, variant_sku, name, description, categories, price, currency, stock, active, options, variant_options
			chunk += `BIMP-${i},,${nameOf(i)},"${descriptionOf(i)}",,${1000 + (i % 9000)},EUR,${i % 50},true,,\n`;
			if (chunk.length > 1 << 20) {
				fs.writeSync(fd, chunk);
				chunk = "";
			}
		}
		fs.writeSync(fd, chunk);
	} finally {
		fs.closeSync(fd);
	}
	return file;
}

/** The file as multipart field `file`, streamed from disk with its length declared; the gateway's answer. */
function upload(base: string, token: string, file: string): Promise<{ status: number; body: string }> {
	const boundary = "----benchimport";
	const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="catalog.csv"\r\nContent-Type: text/csv\r\n\r\n`);
	const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
	const url = new URL(`${base}/api/v1/products/import`);
	return new Promise((resolve, reject) => {
		const req = http.request(
			{
				method: "POST",
				host: url.hostname,
				port: url.port,
				path: url.pathname,
				headers: {
					"content-type": `multipart/form-data; boundary=${boundary}`,
					"content-length": head.length + fs.statSync(file).size + tail.length,
					authorization: `Bearer ${token}`,
				},
			},
			res => {
				let body = "";
				res.setEncoding("utf8");
				res.on("data", d => (body += d));
				res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
			},
		);
		req.on("error", reject);
		req.write(head);
		const data = fs.createReadStream(file);
		data.on("error", reject);
		data.on("end", () => req.end(tail));
		data.pipe(req, { end: false });
	});
}

/** The highest RSS of each process, sampled until stopped. */
function sampleRss(procs: { name: string; pid: number | undefined }[]): { stop(): Record<string, number> } {
	const peak: Record<string, number> = {};
	const take = () => {
		for (const p of procs) {
			const rss = memoryOf(p.pid)?.rss;
			if (rss !== undefined && Number.isFinite(rss)) peak[p.name] = Math.max(peak[p.name] ?? 0, rss);
		}
	};
	take();
	const timer = setInterval(take, 250);
	return {
		stop() {
			clearInterval(timer);
			take();
			return peak;
		},
	};
}

const mb = (bytes: number | undefined) => (bytes === undefined ? "-" : `${fmt(bytes / 2 ** 20, 0)} MB`);

export async function importScenario(shop: Shop, o: ImportOptions): Promise<Row[]> {
	const file = importFile(o.workDir, o.rows);
	const bytes = fs.statSync(file).size;
	let token = await login(shop.base, ADMIN.email, ADMIN.password);
	let i = 0;
	const read = (duration: number) =>
		cannon({
			url: `${shop.base}/api/v1/products/${o.ids[0]}`,
			connections: o.connections,
			duration,
			nextPath: () => `/api/v1/products/${o.ids[i++ % o.ids.length]}`,
		});
	log(`import: GET /products/:id on the idle shop for ${o.duration} s`);
	const idle = await read(o.duration);

	const gateway = shop.nodes.find(n => n !== shop.products && /api$/.test(n.name));
	const watched = [{ name: "products", pid: shop.products.child.pid }, ...(gateway ? [{ name: "gateway", pid: gateway.child.pid }] : [])];
	const before = Object.fromEntries(watched.map(p => [p.name, memoryOf(p.pid)?.rss ?? NaN]));
	const rss = sampleRss(watched);
	log(`import: ${o.rows} rows (${mb(bytes)}) to POST /products/import`);
	const started = performance.now();
	let acceptedAfter = NaN;
	const answered = upload(shop.base, token, file).then(res => {
		acceptedAfter = (performance.now() - started) / 1000;
		if (res.status !== 202) throw new Error(`POST /products/import: ${res.status} ${res.body.slice(0, 300)}`);
		return (JSON.parse(res.body) as { jobId: string }).jobId;
	});
	let finished = false;
	let during: Measured | undefined;
	let duringEndedBeforeImport = false;
	const reads = (async () => {
		await sleep(2000);
		if (finished) return;
		during = await read(o.duration);
		duringEndedBeforeImport = !finished;
	})();
	let job: Job;
	try {
		const jobId = await answered;
		const deadline = Date.now() + 60 * 60_000;
		for (;;) {
			let res = await api<Job>(shop.base, "GET", `/api/v1/products/import/${jobId}`, undefined, bearer(token));
			if (res.status === 401) {
				// The import outlasts an access token (15 minutes): sign in again.
				token = await login(shop.base, ADMIN.email, ADMIN.password);
				res = await api<Job>(shop.base, "GET", `/api/v1/products/import/${jobId}`, undefined, bearer(token));
			}
			if (res.status !== 200) throw new Error(`GET /products/import/${jobId}: ${res.status}`);
			job = res.body;
			if (job.state !== "running") break;
			if (Date.now() > deadline) throw new Error(`the import was still running after an hour (${job.rows} rows done)`);
			await sleep(500);
		}
	} finally {
		finished = true;
		await reads;
	}
	const seconds = (performance.now() - started) / 1000;
	const peak = rss.stop();
	const hwm = memoryOf(shop.products.child.pid)?.peak;
	log(`import: ${job.state}, ${job.rows} rows in ${fmt(seconds, 1)} s; peak RSS ${watched.map(p => `${p.name} ${mb(peak[p.name])}`).join(", ")}`);
	if (job.state !== "done") throw new Error(`the import ended ${job.state}: ${JSON.stringify(job.errors.slice(-3))}`);
	const memory = watched
		.map(p => `${p.name === "products" ? "products process" : "gateway process"} peak RSS ${mb(peak[p.name])} (${mb(before[p.name])} before)`)
		.join(", ");
	const rows: Row[] = [
		{
			scenario: `import ${o.catalog} products (CSV)`,
			mode: shop.mode,
			store: shop.store,
			unit: "rows/s",
			rps: job.rows / seconds,
			p50: NaN,
			p99: NaN,
			errors: job.errors.length,
			note:
				`${fmt(job.rows, 0)} rows (${mb(bytes)}) in ${fmt(seconds, 1)} s from the first byte sent to the job's end, 202 after ${fmt(acceptedAfter, 1)} s` +
				` (once the upload is received, written to a file that the job then reads); created ${job.created}, updated ${job.updated}, unchanged ${job.unchanged}; ` +
				`${memory}; the products process's high-water mark since its start ${mb(hwm)}`,
		},
		{
			scenario: "GET /products/:id, idle (before the import)",
			mode: shop.mode,
			store: shop.store,
			unit: "req/s",
			rps: idle.rps,
			p50: idle.p50,
			p99: idle.p99,
			errors: idle.errors,
			note: "rotating over 1000 products",
		},
	];
	if (during)
		rows.push({
			scenario: "GET /products/:id during the import",
			mode: shop.mode,
			store: shop.store,
			unit: "req/s",
			rps: during.rps,
			p50: during.p50,
			p99: during.p99,
			errors: during.errors,
			note:
				`p99 ${fmt(during.p99 / idle.p99, 2)}× idle, rate ${fmt(during.rps / idle.rps, 2)}× idle` +
				(duringEndedBeforeImport ? "" : "; the import ended before the reads did, so part of the run was idle"),
		});
	return rows;
}
