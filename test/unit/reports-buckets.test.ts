/**
 * The reports' read model on the embedded store: a day's figures are split over buckets by the
 * fact's key, so no bucket keeps every key of its day, and the figures still add up exactly, once
 * per fact, also for facts counted before the split (in the day's one bucket).
 */
import { describe, expect, it } from "vitest";
import { Collection, createSqliteAdapter, type Doc } from "../../lib/store/index.js";
import {
	BUCKET_SHARDS,
	REPORT_COLLECTIONS,
	ReportsReadModel,
	marker,
	shardOf,
	type DayBucket,
	type OrderFacts,
	type ProductDay,
} from "../../services/reports/read-model.js";

async function collection<T extends Doc>(name: keyof typeof REPORT_COLLECTIONS): Promise<Collection<T>> {
	const adapter = createSqliteAdapter(null, "reports", name, REPORT_COLLECTIONS[name]);
	await adapter.connect();
	return new Collection<T>(name, adapter, "sqlite");
}

async function readModel() {
	const days = await collection<DayBucket>("sales_days");
	const productDays = await collection<ProductDay>("product_days");
	const model = new ReportsReadModel(days, productDays, await collection("low_stock"), await collection("open_tickets"), "UTC");
	return { model, days, productDays };
}

const order = (i: number): OrderFacts => ({
	id: `order-${i}`,
	currency: "EUR",
	total: 1000 + i,
	items: [{ productId: "p1", variantId: null, name: "Mug", sku: "MUG", unitPrice: 500 + i, quantity: 2, discount: i }],
	statusHistory: [
		{ status: "pending", at: "2026-03-10T09:00:00.000Z" },
		{ status: "paid", at: `2026-03-10T10:${String(i % 60).padStart(2, "0")}:00.000Z` },
	],
	refunds: [],
});

describe("reports: day buckets split by fact", () => {
	it("adds up 400 paid orders exactly, once each when all are delivered again, with no bucket holding every key", async () => {
		const { model, days, productDays } = await readModel();
		const orders = Array.from({ length: 400 }, (_, i) => order(i));
		for (const o of orders) await model.recordPaid(o);
		for (const o of orders) await model.recordPaid(o); // redelivered
		const revenue = orders.reduce((n, o) => n + o.total, 0);
		const report = await model.sales("EUR", "2026-03-10", "2026-03-10", "day");
		expect(report.totals).toMatchObject({ orders: 400, revenue });
		const top = await model.topProducts("EUR", "2026-03-10", "2026-03-10");
		expect(top.products).toEqual([
			expect.objectContaining({
				productId: "p1",
				units: 800,
				revenue: orders.reduce((n, o) => n + (500 + Number(o.id.slice(6))) * 2 - Number(o.id.slice(6)), 0),
			}),
		]);
		const buckets = await days.find({});
		expect(buckets.length).toBeGreaterThan(BUCKET_SHARDS / 2);
		expect(Math.max(...buckets.map(b => Object.keys(b.applied).length))).toBeLessThan(400 / 4);
		expect(Math.max(...(await productDays.find({})).map(b => Object.keys(b.applied).length))).toBeLessThan(400 / 4);
	});

	it("does not count again a fact counted before the split, and adds the old bucket's figures in", async () => {
		const { model, days } = await readModel();
		const counted = order(7);
		await days.insert({
			_id: "EUR|2026-03-10",
			currency: "EUR",
			date: "2026-03-10",
			orders: 1,
			revenue: counted.total,
			refunds: 0,
			applied: { [marker("paid", counted.id)]: true },
		});
		await model.recordPaid(counted);
		await model.recordPaid(order(8));
		const report = await model.sales("EUR", "2026-03-10", "2026-03-10", "day");
		expect(report.totals).toMatchObject({ orders: 2, revenue: counted.total + order(8).total });
	});

	it("spreads keys over every bucket, each within range", () => {
		const shards = Array.from({ length: 1000 }, (_, i) => shardOf(marker("paid", `order-${i}`)));
		expect(shards.every(s => Number.isInteger(s) && s >= 0 && s < BUCKET_SHARDS)).toBe(true);
		expect(new Set(shards).size).toBe(BUCKET_SHARDS);
	});
});
