import { describe, expect, it } from "vitest";
import {
	averageOrderValue,
	bucketStart,
	isLocalDate,
	lineRevenue,
	localDate,
	reportRange,
	salesReport,
	ticketsByAge,
	topProducts,
	type DayFigures,
} from "../../lib/domain/reports.js";

describe("reports: local dates in the shop's time zone", () => {
	it("maps an instant to the local day, across the DST changes of Europe/Madrid", () => {
		// Winter: UTC+1. 23:30Z on 2026-01-10 is already the 11th in Madrid.
		expect(localDate("2026-01-10T23:30:00Z", "Europe/Madrid")).toBe("2026-01-11");
		expect(localDate("2026-01-10T22:59:59Z", "Europe/Madrid")).toBe("2026-01-10");
		// Summer (after 29 March 2026): UTC+2, so 22:30Z is past midnight.
		expect(localDate("2026-03-29T22:30:00Z", "Europe/Madrid")).toBe("2026-03-30");
		expect(localDate("2026-03-28T22:30:00Z", "Europe/Madrid")).toBe("2026-03-28");
		// Back to winter on 25 October: 22:30Z is 23:30 local, still the 25th.
		expect(localDate("2026-10-25T22:30:00Z", "Europe/Madrid")).toBe("2026-10-25");
		expect(localDate("2026-10-25T23:30:00Z", "Europe/Madrid")).toBe("2026-10-26");
	});

	it("is the UTC date in UTC, and the previous day west of Greenwich", () => {
		expect(localDate("2026-05-01T02:00:00Z", "UTC")).toBe("2026-05-01");
		expect(localDate("2026-05-01T02:00:00Z", "America/New_York")).toBe("2026-04-30");
	});

	it("accepts only real calendar dates", () => {
		expect(isLocalDate("2026-02-28")).toBe(true);
		expect(isLocalDate("2026-02-30")).toBe(false);
		expect(isLocalDate("2026-2-3")).toBe(false);
		expect(isLocalDate("yesterday")).toBe(false);
	});
});

describe("reports: intervals", () => {
	it("starts a week on its Monday and a month on its 1st", () => {
		expect(bucketStart("2026-12-05", "week")).toBe("2026-11-30"); // a Saturday
		expect(bucketStart("2026-11-30", "week")).toBe("2026-11-30"); // a Monday
		expect(bucketStart("2026-12-06", "week")).toBe("2026-11-30"); // a Sunday
		expect(bucketStart("2027-01-01", "week")).toBe("2026-12-28"); // across the year
		expect(bucketStart("2026-12-05", "month")).toBe("2026-12-01");
		expect(bucketStart("2026-12-05", "day")).toBe("2026-12-05");
	});

	const days: DayFigures[] = [
		{ date: "2026-11-29", orders: 2, revenue: 3000, refunds: 0 },
		{ date: "2026-11-30", orders: 1, revenue: 1001, refunds: 500 },
		{ date: "2026-12-02", orders: 3, revenue: 2000, refunds: 0 },
		{ date: "2026-12-20", orders: 0, revenue: 0, refunds: 1000 },
	];

	it("has one bucket per day of the range, empty days included, and totals that add up", () => {
		const r = salesReport(days, "2026-11-29", "2026-12-02", "day");
		expect(r.buckets.map(b => b.start)).toEqual(["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02"]);
		expect(r.buckets[1]).toEqual({ start: "2026-11-30", orders: 1, revenue: 1001, refunds: 500, net: 501, averageOrderValue: 1001 });
		expect(r.buckets[2]).toMatchObject({ orders: 0, revenue: 0, averageOrderValue: 0 });
		expect(r.totals).toEqual({ orders: 6, revenue: 6001, refunds: 500, net: 5501, averageOrderValue: 1000 });
	});

	it("adds days into weeks and months, leaving out days outside the range", () => {
		const weeks = salesReport(days, "2026-11-29", "2026-12-31", "week");
		expect(weeks.buckets[0]).toMatchObject({ start: "2026-11-23", orders: 2, revenue: 3000 });
		expect(weeks.buckets[1]).toMatchObject({ start: "2026-11-30", orders: 4, revenue: 3001, refunds: 500, net: 2501 });
		expect(weeks.buckets.find(b => b.start === "2026-12-14")).toMatchObject({ refunds: 1000, net: -1000 });
		const months = salesReport(days, "2026-11-30", "2026-12-31", "month");
		expect(months.buckets.map(b => [b.start, b.revenue])).toEqual([
			["2026-11-01", 1001],
			["2026-12-01", 2000],
		]);
		expect(months.totals).toMatchObject({ revenue: 3001, refunds: 1500, net: 1501 });
	});

	it("rounds the average order value half up to the cent, and is 0 without orders", () => {
		expect(averageOrderValue(1000, 3)).toBe(333);
		expect(averageOrderValue(1001, 2)).toBe(501);
		expect(averageOrderValue(500, 0)).toBe(0);
	});
});

describe("reports: query ranges", () => {
	it("defaults to the last 30 days up to today", () => {
		expect(reportRange({}, "2026-12-05")).toEqual({ from: "2026-11-06", to: "2026-12-05" });
	});
	it("names the field of a bad date, an inverted range and one too long", () => {
		expect(reportRange({ from: "2026-13-01" }, "2026-12-05")).toEqual({ problems: [expect.objectContaining({ field: "from" })] });
		expect(reportRange({ to: "x" }, "2026-12-05")).toEqual({ problems: [expect.objectContaining({ field: "to" })] });
		expect(reportRange({ from: "2026-12-05", to: "2026-12-04" }, "2026-12-05")).toEqual({ problems: [expect.objectContaining({ field: "from" })] });
		expect(reportRange({ from: "2025-01-01", to: "2026-01-02" }, "2026-12-05")).toEqual({ problems: [expect.objectContaining({ field: "to" })] });
		expect(reportRange({ from: "2025-01-01", to: "2026-01-01" }, "2026-12-05")).toEqual({ from: "2025-01-01", to: "2026-01-01" });
	});
});

describe("reports: products and tickets", () => {
	it("ranks products and variants by revenue, adding up the days of one line", () => {
		const row = (productId: string, variantId: string | null, revenue: number, units: number) => ({
			productId,
			variantId,
			name: productId,
			sku: productId,
			revenue,
			units,
		});
		const top = topProducts([row("a", null, 100, 1), row("b", "v1", 300, 3), row("a", null, 250, 2), row("b", "v2", 50, 1)], 2);
		expect(top.map(t => [t.productId, t.variantId, t.revenue, t.units])).toEqual([
			["a", null, 350, 3],
			["b", "v1", 300, 3],
		]);
	});
	it("a line earns its price times quantity less its discount", () => {
		expect(lineRevenue({ unitPrice: 1999, quantity: 3, discount: 600 })).toBe(5397);
	});
	it("counts open tickets by age band", () => {
		const now = new Date("2026-12-05T12:00:00Z");
		expect(ticketsByAge(["2026-12-05T00:00:00Z", "2026-12-03T12:00:00Z", "2026-11-30T12:00:00Z", "2026-11-01T00:00:00Z"], now)).toEqual({
			under1d: 1,
			"1to3d": 1,
			"3to7d": 1,
			over7d: 1,
		});
	});
});
