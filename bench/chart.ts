/**
 * The ratio table as a picture: one SVG (no dependency), a row per scenario, grouped by mode and
 * store; on the left the throughput as a fraction of the baseline's, on the right the p99 latency
 * as a multiple of the baseline's, both on log scales (the figures span five decades).
 */
import { fmtRatio, storeName, type RatedRow } from "./report.js";

const COLOURS: Record<string, string> = {
	"one process|nedb": "#4c78a8",
	"cluster|nedb": "#f58518",
	"cluster|ferretdb": "#54a24b",
};
const colourOf = (r: RatedRow) => COLOURS[`${r.mode.startsWith("cluster") ? "cluster" : r.mode}|${r.store}`] ?? "#888888";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function text(x: number, y: number, s: string, attrs = ""): string {
	return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ` ${attrs}` : ""}>${esc(s)}</text>`;
}

/** 3,540 / 85 / 4.2 / 0.31 */
function fmtCount(n: number): string {
	if (n >= 100) return Math.round(n).toLocaleString("en-US");
	if (n >= 10) return n.toFixed(0);
	return n >= 1 ? n.toFixed(1) : n.toPrecision(2);
}

/** 0.97 ms / 18 ms / 2.8 s */
function fmtMs(ms: number): string {
	if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
	return `${ms >= 10 ? Math.round(ms) : ms.toFixed(1)} ms`;
}

/** Lines of at most `width` characters, broken at spaces. */
function wrap(line: string, width: number): string[] {
	const out: string[] = [];
	let rest = line;
	while (rest.length > width) {
		const cut = rest.lastIndexOf(" ", width);
		const at = cut > width / 2 ? cut : width;
		out.push(rest.slice(0, at));
		rest = `    ${rest.slice(at).trimStart()}`;
	}
	out.push(rest);
	return out;
}

function decadeLabel(exp: number, times: boolean): string {
	const sup = (n: number) =>
		String(n)
			.split("")
			.map(c => "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"["0123456789-".indexOf(c)])
			.join("");
	const v = Math.abs(exp) <= 3 ? String(10 ** exp) : `10${sup(exp)}`;
	return times ? `${v}×` : v;
}

export interface ChartInfo {
	title: string;
	subtitle: string;
	notes: string[];
}

export function ratioChart(rows: RatedRow[], info: ChartInfo): string {
	const data = rows.filter(r => r.mode !== "baseline");
	const W = 1240;
	const labelW = 290;
	const panelW = 330;
	const gap = 150;
	const x1 = 20 + labelW;
	const x2 = x1 + panelW + gap;
	const rowH = 20;
	const groupH = 26;
	const top = 118;

	const finite = (xs: number[]) => xs.filter(x => Number.isFinite(x) && x > 0);
	const tp = finite(data.map(r => r.rpsRatio));
	const lat = finite(data.map(r => r.p99Ratio));
	const tpMinExp = Math.min(-1, Math.floor(Math.log10(Math.min(1, ...tp))));
	const latMaxExp = Math.max(1, Math.ceil(Math.log10(Math.max(1, ...lat))));
	const sx1 = (v: number) => x1 + (Math.max(0, Math.log10(v) - tpMinExp) / -tpMinExp) * panelW;
	const sx2 = (v: number) => x2 + (Math.min(latMaxExp, Math.max(0, Math.log10(v))) / latMaxExp) * panelW;

	const out: string[] = [];
	let y = top;
	let group = "";
	const bars: string[] = [];
	for (const r of data) {
		// Checkout across the cluster also needs Kafka: the same group as the cluster's other rows.
		const g = `${r.mode.startsWith("cluster") ? "cluster (NATS; checkout also Kafka)" : r.mode} · ${storeName(r.store)}`;
		if (g !== group) {
			group = g;
			y += groupH;
			bars.push(`<rect x="20" y="${y - 15}" width="10" height="10" fill="${colourOf(r)}"/>`);
			bars.push(text(36, y - 6, g, `class="group"`));
		}
		const cy = y + rowH / 2;
		bars.push(text(20 + labelW - 10, cy + 4, r.scenario, `text-anchor="end"`));
		const colour = colourOf(r);
		if (Number.isFinite(r.rpsRatio) && r.rpsRatio > 0) {
			const w = Math.max(1, sx1(r.rpsRatio) - x1);
			bars.push(`<rect x="${x1}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colour}"/>`);
			const inverse = r.rpsRatio < 1 ? ` (1/${fmtCount(1 / r.rpsRatio)})` : "";
			bars.push(text(x1 + w + 4, cy + 4, `${fmtRatio(r.rpsRatio)}${inverse} · ${fmtCount(r.rps)} ${r.unit}`, `class="value"`));
		} else bars.push(text(x1 + 4, cy + 4, Number.isFinite(r.rps) ? `nothing answered in time (${r.errors} errors)` : "not measured", `class="value"`));
		if (Number.isFinite(r.p99Ratio) && r.p99Ratio > 0) {
			const w = Math.max(1, sx2(r.p99Ratio) - x2);
			bars.push(`<rect x="${x2}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colour}" fill-opacity="0.75"/>`);
			const times = r.p99Ratio >= 100 ? Math.round(r.p99Ratio).toLocaleString("en-US") : r.p99Ratio.toFixed(1);
			bars.push(text(x2 + w + 4, cy + 4, `${times}× · ${fmtMs(r.p99)}`, `class="value"`));
		} else bars.push(text(x2 + 4, cy + 4, Number.isFinite(r.rps) ? "-" : "not measured", `class="value"`));
		y += rowH;
	}
	const bottom = y + 8;

	// Axes and decade grid lines.
	out.push(text(x1, top - 10, "throughput ÷ baseline (log; 1 = hello world)", `class="axis-title"`));
	out.push(text(x2, top - 10, "p99 latency ÷ baseline (log)", `class="axis-title"`));
	for (let e = tpMinExp; e <= 0; e++) {
		const x = sx1(10 ** e);
		out.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" class="grid"/>`);
		out.push(text(x, bottom + 14, decadeLabel(e, false), `text-anchor="middle" class="tick"`));
	}
	for (let e = 0; e <= latMaxExp; e++) {
		const x = sx2(10 ** e);
		out.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" class="grid"/>`);
		out.push(text(x, bottom + 14, decadeLabel(e, true), `text-anchor="middle" class="tick"`));
	}
	let ny = bottom + 40;
	const notes = info.notes
		.flatMap(n => wrap(n, 190))
		.map(n => {
			const t = text(20, ny, n, `class="note" xml:space="preserve"`);
			ny += 16;
			return t;
		});
	const H = ny + 6;
	return [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
		`<style>.title{font-size:17px;font-weight:600}.subtitle{fill:#444}.group{font-weight:600}.axis-title{font-weight:600;fill:#333}.tick{fill:#666;font-size:11px}.value{fill:#222;font-size:11px}.note{fill:#444;font-size:11.5px}.grid{stroke:#ddd;stroke-width:1}</style>`,
		`<rect width="100%" height="100%" fill="#ffffff"/>`,
		text(20, 30, info.title, `class="title"`),
		text(20, 52, info.subtitle, `class="subtitle"`),
		...out,
		...bars,
		...notes,
		`</svg>`,
		"",
	].join("\n");
}
