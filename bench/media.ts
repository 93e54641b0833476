/**
 * npm run bench:media: what an image costs the media service, on this machine (no shop running):
 *   - normalising a 12-megapixel JPEG upload (decode, orient, strip, re-encode: the stored original);
 *   - the first `card` WebP made from that original (what the first request for it waits for),
 *     wall time and CPU (user + system of this process, libvips' threads included), p50/p99;
 *   - all nine renditions at once (what eager generation at upload would cost instead).
 * Then, against the shop started as `npm start` starts it (a child process, NeDB, files on disk),
 * with autocannon for BENCH_DURATION seconds (default 10) over 10 connections:
 *   - GET of a stored `card` WebP against a bare node:http serving the same bytes (the ratio);
 *   - GET /products/:id idle, and while 20 uploads of a 12 MP JPEG run at once (p99 against idle).
 * BENCH_MEDIA_RUNS (default 15) sets the number of runs. Nothing is asserted: it depends on the machine.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cannon, type Measured } from "./load.js";
import { freePort, startProcess, stopProcess, waitFor } from "./processes.js";
import sharp from "sharp";
import { normalizeImage } from "../services/media/uploads.js";
import { render } from "../services/media/renditions.js";
import { OUTPUT_FORMATS, PRESET_NAMES } from "../lib/media/presets.js";

const RUNS = Number(process.env.BENCH_MEDIA_RUNS ?? 15);

/** A 4000×3000 photo-like JPEG: gradients plus noise, so it compresses like a photo (a few MB). */
async function twelveMegapixelJpeg(): Promise<Buffer> {
	const width = 4000;
	const height = 3000;
	const raw = Buffer.alloc(width * height * 3);
	let seed = 42;
	for (let i = 0; i < raw.length; i += 3) {
		seed = (seed * 1103515245 + 12345) & 0x7fffffff;
		const px = i / 3;
		const x = px % width;
		const y = (px / width) | 0;
		const noise = seed % 24;
		raw[i] = ((x * 200) / width + noise) & 0xff;
		raw[i + 1] = ((y * 200) / height + noise) & 0xff;
		raw[i + 2] = (((x + y) * 100) / (width + height) + 60 + noise) & 0xff;
	}
	return sharp(raw, { raw: { width, height, channels: 3 } })
		.jpeg({ quality: 90 })
		.toBuffer();
}

async function measure(what: () => Promise<unknown>): Promise<{ ms: number; cpuMs: number }> {
	const cpu = process.cpuUsage();
	const started = performance.now();
	await what();
	const ms = performance.now() - started;
	const used = process.cpuUsage(cpu);
	return { ms, cpuMs: (used.user + used.system) / 1000 };
}

function quantile(values: number[], q: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function row(label: string, runs: { ms: number; cpuMs: number }[]): string {
	const ms = runs.map(r => r.ms);
	const cpu = runs.map(r => r.cpuMs);
	return `| ${label} | ${runs.length} | ${quantile(ms, 0.5).toFixed(0)} | ${quantile(ms, 0.99).toFixed(0)} | ${quantile(cpu, 0.5).toFixed(0)} | ${quantile(cpu, 0.99).toFixed(0)} |`;
}

const upload = await twelveMegapixelJpeg();
console.log(`12-megapixel JPEG: ${(upload.length / 1024 / 1024).toFixed(1)} MB; sharp concurrency ${sharp.concurrency()}, ${RUNS} runs`);
const normalised: { ms: number; cpuMs: number }[] = [];
let original = Buffer.alloc(0);
for (let i = 0; i < RUNS; i++)
	normalised.push(
		await measure(async () => {
			original = (await normalizeImage({ data: upload, format: "jpeg" })).data;
		}),
	);
const firstCard: { ms: number; cpuMs: number }[] = [];
for (let i = 0; i < RUNS; i++) firstCard.push(await measure(() => render(original, "card", "webp")));
const eager: { ms: number; cpuMs: number }[] = [];
for (let i = 0; i < Math.max(3, Math.ceil(RUNS / 5)); i++)
	eager.push(await measure(() => Promise.all(PRESET_NAMES.flatMap(p => OUTPUT_FORMATS.map(f => render(original, p, f))))));

console.log("\n| what | runs | wall p50 ms | wall p99 ms | CPU p50 ms | CPU p99 ms |\n| --- | --- | --- | --- | --- | --- |");
console.log(row("upload: normalise a 12 MP JPEG (the stored original)", normalised));
console.log(row("first `card` WebP from it (lazy, per first request)", firstCard));
console.log(row("all 9 renditions at once (eager, per upload)", eager));

// ---------------------------------------------------------------- over HTTP

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "shop-bench-media-"));
const ADMIN = { email: "bench-admin@shop.test", password: "bench-admin-password" };

const card = await render(original, "card", "webp");
fs.writeFileSync(path.join(work, "card.webp"), card);
const basePort = await freePort();
const base = startProcess(
	"baseline",
	[
		"-e",
		`const b=require("node:fs").readFileSync(${JSON.stringify(path.join(work, "card.webp"))});require("node:http").createServer((q,s)=>{s.writeHead(200,{"content-type":"image/webp","content-length":b.length});s.end(b)}).listen(${basePort},"127.0.0.1")`,
	],
	{},
	path.join(work, "baseline.log"),
);
const port = await freePort();
const shop = startProcess(
	"shop",
	["--import", "tsx", "scripts/start.ts"],
	{
		PORT: String(port),
		HOST: "127.0.0.1",
		DATA_DIR: path.join(work, "data"),
		METRICS_PORT: String(await freePort()),
		ADMIN_EMAIL: ADMIN.email,
		ADMIN_PASSWORD: ADMIN.password,
		SEED_DEMO: "false",
		WEB_BUILD: "false",
		LOG_LEVEL: "warn",
		RATE_LIMIT_PER_MINUTE: "100000000",
		AUTH_RATE_LIMIT_PER_MINUTE: "100000000",
		MONGO_URL: "",
		TRANSPORTER: "",
		KAFKA_BROKERS: "",
	},
	path.join(work, "shop.log"),
);
const url = `http://127.0.0.1:${port}/api/v1`;
try {
	await waitFor("baseline", async () => (await fetch(`http://127.0.0.1:${basePort}/`)).ok, 10_000, [base]);
	await waitFor("shop", async () => (await fetch(`http://127.0.0.1:${port}/api/ready`)).ok, 120_000, [shop]);
	const login = (await (
		await fetch(`${url}/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ADMIN) })
	).json()) as {
		accessToken: string;
	};
	const auth = { authorization: `Bearer ${login.accessToken}` };
	const product = (await (
		await fetch(`${url}/products`, {
			method: "POST",
			headers: { ...auth, "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
			body: JSON.stringify({ sku: `BENCH-${Date.now()}`, name: "Bench lamp", price: 1000, currency: "EUR", stock: 5 }),
		})
	).json()) as { id: string };
	const uploadOnce = async () => {
		const form = new FormData();
		form.append("file", new Blob([new Uint8Array(upload)], { type: "image/jpeg" }), "photo.jpg");
		const res = await fetch(`${url}/products/${product.id}/images`, { method: "POST", headers: auth, body: form });
		if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
		return (await res.json()) as { id: string };
	};
	const image = await uploadOnce();
	const rendition = `${url}/media/${image.id}/card.webp`;
	if ((await fetch(rendition)).status !== 200) throw new Error("the rendition did not answer");
	const measured = (label: string, m: Measured) => `| ${label} | ${m.rps.toFixed(0)} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ${m.errors} |`;
	const baseline = await cannon({ url: `http://127.0.0.1:${basePort}/`, connections: 10, duration: DURATION });
	const stored = await cannon({ url: rendition, connections: 10, duration: DURATION });
	const idle = await cannon({ url: `${url}/products/${product.id}`, connections: 10, duration: DURATION });
	const burst = Promise.all(Array.from({ length: 20 }, uploadOnce));
	const during = await cannon({ url: `${url}/products/${product.id}`, connections: 10, duration: DURATION });
	const started = performance.now();
	await burst;
	console.log(
		`\n${card.length} bytes per card WebP; 20 uploads of ${(upload.length / 1024 / 1024).toFixed(1)} MB finished ${((performance.now() - started) / 1000).toFixed(1)} s after the read run`,
	);
	console.log("\n| what | req/s | p50 ms | p99 ms | errors |\n| --- | --- | --- | --- | --- |");
	console.log(measured("node:http, the same bytes (baseline)", baseline));
	console.log(measured(`GET stored card WebP (${(stored.rps / baseline.rps).toFixed(2)}× baseline)`, stored));
	console.log(measured("GET /products/:id, idle", idle));
	console.log(measured(`GET /products/:id during 20 uploads at once (p99 ${(during.p99 / idle.p99).toFixed(1)}× idle)`, during));
} finally {
	await stopProcess(shop.child);
	await stopProcess(base.child);
	fs.rmSync(work, { recursive: true, force: true });
}
