/**
 * npm run bench:media: what an image costs the media service, on this machine (no shop running):
 *   - normalising a 12-megapixel JPEG upload (decode, orient, strip, re-encode: the stored original);
 *   - the first `card` WebP made from that original (what the first request for it waits for),
 *     wall time and CPU (user + system of this process, libvips' threads included), p50/p99;
 *   - all nine renditions at once (what eager generation at upload would cost instead).
 * BENCH_MEDIA_RUNS (default 15) sets the number of runs. Nothing is asserted: it depends on the machine.
 */
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
const card: { ms: number; cpuMs: number }[] = [];
for (let i = 0; i < RUNS; i++) card.push(await measure(() => render(original, "card", "webp")));
const eager: { ms: number; cpuMs: number }[] = [];
for (let i = 0; i < Math.max(3, Math.ceil(RUNS / 5)); i++)
	eager.push(await measure(() => Promise.all(PRESET_NAMES.flatMap(p => OUTPUT_FORMATS.map(f => render(original, p, f))))));

console.log("\n| what | runs | wall p50 ms | wall p99 ms | CPU p50 ms | CPU p99 ms |\n| --- | --- | --- | --- | --- | --- |");
console.log(row("upload: normalise a 12 MP JPEG (the stored original)", normalised));
console.log(row("first `card` WebP from it (lazy, per first request)", card));
console.log(row("all 9 renditions at once (eager, per upload)", eager));
