/**
 * Sales at a glance: the reports service's read model against the orders themselves. 200 real
 * orders (paid, cancelled after payment and so refunded, declined, partly returned) are placed
 * over 40 days of the shop's clock (Date alone is faked, and only moves forward); the figures
 * the admin API answers must equal a computation from GET /orders?all=true, in the shop's time
 * zone, to the cent. Then: a redelivered event changes nothing, and a backfill into an empty
 * read model gives the same figures.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ADMIN_ENV, admin, customer, eventually, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf } from "../helpers/commerce.js";
import { newEnvelope, type AnyEnvelope } from "../../lib/contracts/events.js";

const V1 = "/api/v1";
const TIME_ZONE = "America/New_York";
const DAYS = 40;
const ORDERS_PER_DAY = 5;
const DAY_MS = 86_400_000;

let shop: TestShop;
let boss: Account;
let buyers: Account[];
let products: { id: string; price: number }[];
let firstDay: string;
let lastDay: string;

interface PublicOrder {
	id: string;
	status: string;
	total: number;
	currency: string;
	items: { itemId: string; productId: string; variantId: string | null; quantity: number; lineTotal: number; discount: number }[];
	statusHistory: { status: string; at: string }[];
	refunds: { id: string; amount: number; at: string }[];
}

const day = (instant: string | number) => new Date(instant).toLocaleDateString("en-CA", { timeZone: TIME_ZONE });
const checkoutBody = (cardNumber: string) => ({
	shippingAddress: { name: "Ann", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" },
	payment: { method: "card", cardNumber, expMonth: 12, expYear: 2035, cvc: "123" },
});
const GOOD_CARD = "4242424242424242";
const DECLINED_CARD = "4000000000000002";

async function ok<T = any>(res: Promise<{ status: number; body: T }>, status = 200): Promise<T> {
	const r = await res;
	expect(r.status, JSON.stringify(r.body)).toBe(status);
	return r.body;
}

async function settled(buyer: Account, id: string): Promise<PublicOrder> {
	return eventually(
		async () => {
			const o = (await buyer.http.get(`${V1}/orders/${id}`)).body as PublicOrder & { payment: { status: string } };
			const open = o.status === "pending" || (o.status === "cancelled" && o.payment.status === "authorized");
			return open ? undefined : o;
		},
		15_000,
		`order ${id} to settle`,
	);
}

/** One order of `buyer`, taken to the outcome chosen by `n`. */
async function placeOrder(buyer: Account, n: number): Promise<void> {
	const lines = [products[n % products.length]!, products[(n * 7 + 1) % products.length]!];
	for (const [i, p] of lines.entries()) await ok(buyer.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 1 + ((n + i) % 3) }));
	const outcome = n % 10; // 0-5 paid, 6-7 cancelled after payment, 8 declined, 9 partly returned
	const placed = await ok(buyer.http.post(`${V1}/orders`, checkoutBody(outcome === 8 ? DECLINED_CARD : GOOD_CARD), { "idempotency-key": randomUUID() }), 202);
	const order = await settled(buyer, placed.id);
	if (outcome === 8) return expect(order.status).toBe("cancelled");
	expect(order.status).toBe("paid");
	if (outcome === 6 || outcome === 7) {
		await ok(buyer.http.post(`${V1}/orders/${order.id}/cancel`, {}));
		await eventually(async () => ((await settled(buyer, order.id)).status === "refunded" ? true : undefined), 15_000, "the refund");
	}
	if (outcome === 9) {
		for (const step of ["ship", "deliver"]) await ok(boss.http.post(`${V1}/orders/${order.id}/${step}`, {}));
		const line = order.items[0]!;
		const ticket = await ok(
			buyer.http.post(`${V1}/tickets`, {
				type: "return",
				subject: "Return",
				message: "One back please",
				orderId: order.id,
				items: [{ productId: line.productId, quantity: 1 }],
			}),
			201,
		);
		await ok(boss.http.post(`${V1}/tickets/${ticket.id}/return/approve`, {}));
		await eventually(async () => ((await settled(buyer, order.id)).refunds.length === 1 ? true : undefined), 15_000, "the return's refund");
	}
}

/** What the reports should say, computed from the orders as the orders service lists them. */
async function expectedFigures() {
	const orders: PublicOrder[] = [];
	for (let page = 1; ; page++) {
		const body = await ok(boss.http.get(`${V1}/orders?all=true&pageSize=100&page=${page}`));
		orders.push(...body.rows);
		if (orders.length >= body.total) break;
	}
	const days = new Map<string, { orders: number; revenue: number; refunds: number }>();
	const at = (d: string) => days.get(d) ?? days.set(d, { orders: 0, revenue: 0, refunds: 0 }).get(d)!;
	const productRevenue = new Map<string, number>();
	for (const o of orders) {
		const paid = o.statusHistory.find(h => h.status === "paid");
		if (paid) {
			at(day(paid.at)).orders += 1;
			at(day(paid.at)).revenue += o.total;
			for (const i of o.items) productRevenue.set(i.productId, (productRevenue.get(i.productId) ?? 0) + i.lineTotal - i.discount);
		}
		for (const r of o.refunds) at(day(r.at)).refunds += r.amount;
	}
	return { orders, days, productRevenue };
}

const salesOf = (query = `from=${firstDay}&to=${lastDay}`) => ok(boss.http.get(`${V1}/reports/sales?${query}`));
const topOf = () => ok(boss.http.get(`${V1}/reports/top-products?from=${firstDay}&to=${lastDay}`));

beforeAll(async () => {
	const start = Date.now() - (DAYS - 1) * DAY_MS;
	vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
	vi.setSystemTime(start);
	shop = await startShop({
		services: ["users", "api", "products", "orders", "pricing", "tickets", "reports"],
		env: { ...ADMIN_ENV, SHOP_TIMEZONE: TIME_ZONE, ACCESS_TOKEN_TTL: String(60 * 86_400) },
	});
	boss = await admin(shop);
	buyers = await Promise.all(Array.from({ length: ORDERS_PER_DAY }, (_, i) => customer(shop, `buyer${i}`)));
	products = [];
	for (const [i, price] of [1999, 2500, 349, 12_000, 799, 4550, 101, 3333, 15_999, 650, 2200, 999].entries()) {
		const sku = `R-${i}-${randomUUID().slice(0, 6)}`;
		products.push(await ok(boss.http.post(`${V1}/products`, { sku, name: `Report ${i}`, price, currency: "EUR", stock: 10_000 }), 201));
	}
	firstDay = day(Date.now());
	for (let d = 0; d < DAYS; d++) {
		// Through each day at a different hour, so some orders fall near the shop's midnight.
		vi.setSystemTime(start + d * DAY_MS + ((d * 5) % 24) * 3_600_000);
		await Promise.all(buyers.map((b, i) => placeOrder(b, d * ORDERS_PER_DAY + i)));
	}
	// The last day's hour may lie past the real clock's day: the range ends on the fake clock's last day.
	lastDay = day(Date.now());
	vi.useRealTimers();
}, 600_000);

afterAll(async () => {
	vi.useRealTimers();
	await shop?.stop();
});

describe("reports: sales at a glance", () => {
	it("daily revenue, orders and refunds equal the orders' own figures, in the shop's time zone, to the cent", async () => {
		const { orders, days } = await expectedFigures();
		expect(orders).toHaveLength(DAYS * ORDERS_PER_DAY);
		expect(orders.some(o => o.refunds.length === 1 && o.status !== "refunded")).toBe(true); // partly returned
		const report = await eventually(
			async () => {
				const r = await salesOf();
				return r.totals.orders === [...days.values()].reduce((n, d) => n + d.orders, 0) &&
					r.totals.refunds === [...days.values()].reduce((n, d) => n + d.refunds, 0)
					? r
					: undefined;
			},
			15_000,
			"the read model to catch up",
		);
		expect(report.timeZone).toBe(TIME_ZONE);
		expect(report.currency).toBe("EUR");
		expect(report.buckets.length).toBeGreaterThanOrEqual(DAYS);
		for (const bucket of report.buckets) {
			const want = days.get(bucket.start) ?? { orders: 0, revenue: 0, refunds: 0 };
			expect(bucket, bucket.start).toEqual({
				start: bucket.start,
				...want,
				net: want.revenue - want.refunds,
				averageOrderValue: want.orders ? Math.round(want.revenue / want.orders) : 0,
			});
		}
		const weeks = await salesOf(`from=${firstDay}&to=${lastDay}&interval=week`);
		expect(weeks.totals).toEqual(report.totals);
		expect(weeks.buckets.length).toBeLessThan(report.buckets.length);
	});

	it("top products are the 10 that earned most, with what each earned", async () => {
		const { productRevenue } = await expectedFigures();
		const want = [...productRevenue].sort((a, b) => b[1] - a[1]).slice(0, 10);
		const top = await topOf();
		expect(top.products.map((p: { productId: string; revenue: number }) => [p.productId, p.revenue])).toEqual(want);
	});

	it("a redelivered event, or the same fact in a new event, changes nothing", async () => {
		const before = [await salesOf(), await topOf()];
		const { orders } = await expectedFigures();
		const refunded = orders.find(o => o.refunds.length > 0)!;
		const paid = newEnvelope("orders", "order.paid", { orderId: refunded.id, userId: "u", items: [], total: refunded.total, currency: "EUR" });
		const refund = refunded.refunds[0]!;
		const refundEvent = newEnvelope("orders", "order.refunded", {
			orderId: refunded.id,
			userId: "u",
			refundId: refund.id,
			amount: refund.amount,
			currency: "EUR",
			reason: "x",
			items: [],
			full: false,
		});
		const reports = shop.broker.getLocalService("reports") as unknown as { applyIntegrationEvent(e: AnyEnvelope): Promise<void> };
		for (const event of [paid, paid, refundEvent, refundEvent, { ...paid, id: randomUUID() }]) await reports.applyIntegrationEvent(event as AnyEnvelope);
		expect([await salesOf(), await topOf()]).toEqual(before);
	});

	it("a backfill into an empty read model gives the same figures", async () => {
		const before = [await salesOf(), await topOf()];
		const outcome = await ok(boss.http.post(`${V1}/reports/backfill`, { reset: true }));
		expect(outcome.orders).toBe(DAYS * ORDERS_PER_DAY);
		expect([await salesOf(), await topOf()]).toEqual(before);
	});

	it("answers 422 naming the field for a bad date, an inverted or too long range, an unknown interval", async () => {
		const cases: [string, string][] = [
			["from=2026-02-30", "from"],
			["to=yesterday", "to"],
			["from=2026-03-02&to=2026-03-01", "from"],
			["from=2025-01-01&to=2026-01-02", "to"],
			["interval=year", "interval"],
		];
		for (const [query, field] of cases) {
			const res = await boss.http.get(`${V1}/reports/sales?${query}`);
			expect(res.status, query).toBe(422);
			expect(fieldsOf(res.body), query).toContain(field);
		}
		const top = await boss.http.get(`${V1}/reports/top-products?from=2026-05-01&to=2026-04-01`);
		expect(top.status).toBe(422);
		expect(fieldsOf(top.body)).toContain("from");
	});

	it("is for admins: a customer gets 403, nobody signed in 401", async () => {
		for (const path of ["/reports/sales", "/reports/top-products", "/reports/overview"]) {
			expect((await buyers[0]!.http.get(`${V1}${path}`)).status, path).toBe(403);
			expect((await shop.http.get(`${V1}${path}`)).status, path).toBe(401);
		}
		expect((await buyers[0]!.http.post(`${V1}/reports/backfill`, {})).status).toBe(403);
	});

	it("the overview lists products low on stock and open tickets by age", async () => {
		const low = await ok(
			boss.http.post(`${V1}/products`, { sku: `LOW-${randomUUID().slice(0, 6)}`, name: "Nearly gone", price: 500, currency: "EUR", stock: 2 }),
			201,
		);
		await ok(boss.http.patch(`${V1}/products/${low.id}/inventory`, { delta: 1 }));
		await ok(buyers[1]!.http.post(`${V1}/tickets`, { type: "inquiry", subject: "Where is it?", message: "Hello" }), 201);
		const overview = await eventually(
			async () => {
				const o = await ok(boss.http.get(`${V1}/reports/overview`));
				return o.lowStock.some((r: { productId: string }) => r.productId === low.id) && o.openTickets.byAge.under1d > 0 ? o : undefined;
			},
			10_000,
			"the overview",
		);
		expect(overview.lowStock.find((r: { productId: string }) => r.productId === low.id)).toMatchObject({ available: 3, variantId: null });
		expect(overview.openTickets.total).toBeGreaterThanOrEqual(1);
	});
});
