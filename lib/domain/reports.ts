/**
 * The reporting read model's rules (the reports service): which local day an instant belongs to
 * in the shop's time zone, how days add up into weeks and months, average order value and
 * refunds netting, top sellers, stock and ticket age bands. Money is integer minor units, so
 * every sum is exact to the cent.
 */
import type { Static } from "typebox";
import type { SalesFigures, TopProducts } from "../http/schemas.js";

export type ReportInterval = "day" | "week" | "month";
export const REPORT_INTERVALS: readonly ReportInterval[] = ["day", "week", "month"];
/** The longest range a report covers, in days (from and to included). */
export const MAX_REPORT_DAYS = 366;
export const TOP_PRODUCTS_LIMIT = 10;
/** Units available at or below which a product (or variant) is "low on stock". */
export const DEFAULT_LOW_STOCK_THRESHOLD = 5;
export const LOCAL_DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** A local calendar date, `YYYY-MM-DD`. */
export type LocalDate = string;

/** What one local day holds (the read model's per-day bucket). */
export interface DayFigures {
	date: LocalDate;
	/** Orders paid that day and what they charged (the order's total). */
	orders: number;
	revenue: number;
	/** Money returned that day, whatever order it belonged to. */
	refunds: number;
}

export type SalesBucket = Static<typeof SalesFigures>;

export interface SalesReport {
	interval: ReportInterval;
	buckets: SalesBucket[];
	totals: Omit<SalesBucket, "start">;
}

export type ProductSales = Static<typeof TopProducts>["products"][number];

export function isTimeZone(timeZone: string): boolean {
	try {
		new Intl.DateTimeFormat("en-US", { timeZone });
		return true;
	} catch {
		return false;
	}
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The shop's calendar date of an instant, in `timeZone` (DST included: Intl knows the rules). */
export function localDate(instant: string | Date, timeZone: string): LocalDate {
	let f = formatters.get(timeZone);
	if (!f) {
		f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
		formatters.set(timeZone, f);
	}
	const parts = Object.fromEntries(f.formatToParts(new Date(instant)).map(p => [p.type, p.value]));
	return `${parts.year}-${parts.month}-${parts.day}`;
}

const DAY_MS = 86_400_000;
const toUtc = (date: LocalDate) => Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
const fromUtc = (ms: number): LocalDate => new Date(ms).toISOString().slice(0, 10);

/** A real calendar date in `YYYY-MM-DD` form. */
export function isLocalDate(value: string): boolean {
	return LOCAL_DATE_PATTERN.test(value) && fromUtc(toUtc(value)) === value;
}

export function addDays(date: LocalDate, days: number): LocalDate {
	return fromUtc(toUtc(date) + days * DAY_MS);
}

/** Days from `from` to `to`, both included. */
export function daysBetween(from: LocalDate, to: LocalDate): number {
	return Math.round((toUtc(to) - toUtc(from)) / DAY_MS) + 1;
}

/** The first day of the bucket a day falls in: itself, the Monday of its ISO week, or the 1st of its month. */
export function bucketStart(date: LocalDate, interval: ReportInterval): LocalDate {
	if (interval === "day") return date;
	if (interval === "month") return `${date.slice(0, 7)}-01`;
	const weekday = (new Date(toUtc(date)).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
	return addDays(date, -weekday);
}

/** Average order value, rounded half up to the minor unit; 0 without orders. */
export function averageOrderValue(revenue: number, orders: number): number {
	return orders > 0 ? Math.round(revenue / orders) : 0;
}

function bucketOf(start: LocalDate, figures: { orders: number; revenue: number; refunds: number }): SalesBucket {
	const { orders, revenue, refunds } = figures;
	return { start, orders, revenue, refunds, net: revenue - refunds, averageOrderValue: averageOrderValue(revenue, orders) };
}

/**
 * The sales report of `from`..`to` (local dates, included): one bucket per day, week or month
 * (empty ones too, so a chart has no gaps), refunds netted against revenue in the bucket they
 * happened in. The first and last week or month are cut to the range.
 */
export function salesReport(days: readonly DayFigures[], from: LocalDate, to: LocalDate, interval: ReportInterval): SalesReport {
	const sums = new Map<LocalDate, { orders: number; revenue: number; refunds: number }>();
	for (let d = from; d <= to; d = addDays(d, 1)) {
		const start = bucketStart(d, interval);
		if (!sums.has(start)) sums.set(start, { orders: 0, revenue: 0, refunds: 0 });
	}
	const total = { orders: 0, revenue: 0, refunds: 0 };
	for (const day of days) {
		if (day.date < from || day.date > to) continue;
		const sum = sums.get(bucketStart(day.date, interval))!;
		for (const k of ["orders", "revenue", "refunds"] as const) {
			sum[k] += day[k];
			total[k] += day[k];
		}
	}
	const buckets = [...sums].map(([start, sum]) => bucketOf(start, sum));
	const { start: _start, ...totals } = bucketOf(from, total);
	return { interval, buckets, totals };
}

/** The best sellers by revenue (then units, then id, so ties have one order), rows of the same product and variant added up. */
export function topProducts(rows: readonly ProductSales[], limit = TOP_PRODUCTS_LIMIT): ProductSales[] {
	const byLine = new Map<string, ProductSales>();
	for (const row of rows) {
		const key = `${row.productId}|${row.variantId ?? ""}`;
		const seen = byLine.get(key);
		if (seen) {
			seen.revenue += row.revenue;
			seen.units += row.units;
		} else byLine.set(key, { ...row });
	}
	return [...byLine.values()]
		.sort((a, b) => b.revenue - a.revenue || b.units - a.units || (a.productId + (a.variantId ?? "")).localeCompare(b.productId + (b.variantId ?? "")))
		.slice(0, limit);
}

/** What an order line earned: its price times its quantity, less its share of a discount. */
export function lineRevenue(line: { unitPrice: number; quantity: number; discount?: number }): number {
	return line.unitPrice * line.quantity - (line.discount ?? 0);
}

export interface ReportQuery {
	from?: string;
	to?: string;
}
export interface FieldProblem {
	field: string;
	message: string;
}

/**
 * The range a report query asks for, in local dates: `to` defaults to today, `from` to 29 days
 * before `to` (the last 30 days). Problems name the field.
 */
export function reportRange(query: ReportQuery, today: LocalDate): { from: LocalDate; to: LocalDate } | { problems: FieldProblem[] } {
	const problems: FieldProblem[] = [];
	for (const field of ["from", "to"] as const) {
		const value = query[field];
		if (value !== undefined && !isLocalDate(value)) problems.push({ field, message: `'${field}' must be a date, YYYY-MM-DD` });
	}
	if (problems.length) return { problems };
	const to = query.to ?? today;
	const from = query.from ?? addDays(to, -29);
	if (from > to) return { problems: [{ field: "from", message: "'from' must not be after 'to'" }] };
	if (daysBetween(from, to) > MAX_REPORT_DAYS) return { problems: [{ field: "to", message: `A report covers at most ${MAX_REPORT_DAYS} days` }] };
	return { from, to };
}

/** Ticket statuses that still wait for someone. */
export const OPEN_TICKET_STATUSES: readonly string[] = ["open", "pending"];

export type TicketAgeBand = "under1d" | "1to3d" | "3to7d" | "over7d";
export const TICKET_AGE_BANDS: readonly TicketAgeBand[] = ["under1d", "1to3d", "3to7d", "over7d"];

export function ticketAgeBand(openedAt: string, now: Date): TicketAgeBand {
	const days = (now.getTime() - new Date(openedAt).getTime()) / DAY_MS;
	if (days < 1) return "under1d";
	if (days < 3) return "1to3d";
	if (days < 7) return "3to7d";
	return "over7d";
}

/** Open tickets counted by how long they have been open. */
export function ticketsByAge(openedAt: readonly string[], now: Date): Record<TicketAgeBand, number> {
	const counts = Object.fromEntries(TICKET_AGE_BANDS.map(b => [b, 0])) as Record<TicketAgeBand, number>;
	for (const at of openedAt) counts[ticketAgeBand(at, now)] += 1;
	return counts;
}

export function isLowOnStock(available: number, threshold = DEFAULT_LOW_STOCK_THRESHOLD): boolean {
	return available <= threshold;
}
