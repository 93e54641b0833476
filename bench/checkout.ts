/**
 * Checkout under load, two ways:
 *
 * - closed loop: BENCH_CONNECTIONS customers each add an item and POST /orders (202), again and
 *   again for BENCH_DURATION seconds; then the wait until every accepted order has settled;
 * - open loop: a fixed offered load (BENCH_OPEN_RATE, 100 checkouts/s, for BENCH_OPEN_SECONDS, 30),
 *   started by a timer whether or not earlier ones have been answered, each by an idle customer of
 *   a pool (a tick that finds none is counted as dropped: the shop fell that far behind).
 *
 * Each run buys its own products: eight with plenty of stock and two scarce ones that sell out
 * while the run goes on (every eighth checkout takes 1 to 3 of one), so the never-oversold rule
 * is tested where holds race. "Settled" is counted by the shop's own metric
 * (`shop_checkout_settle_seconds_count` on the orders node: accepted → paid or cancelled), or, when
 * that endpoint does not answer, by polling `GET /orders?all=true&status=pending`. Latencies after
 * acceptance come from each order's own statusHistory (pending → paid, the shop's clock, which
 * is this machine's), read back through `GET /orders?all=true`. Then the invariants are checked.
 */
import { randomUUID } from "node:crypto";
import { api, bearer, login, mapLimit, metricValue, newCustomer, scrape, seriesStartingWith } from "./http.js";
import { checkInventory, type BenchProduct, type InvariantReport, type OrderView } from "./invariants.js";
import { percentile } from "./load.js";
import { log, sleep } from "./processes.js";
import { ADMIN, type Shop } from "./shop.js";

export interface CheckoutResult {
	/** Accepted (202) per second during the load, and the latency of POST /orders. */
	acceptedRate: number;
	accepted: number;
	orderP50: number;
	orderP99: number;
	/** Paid orders per second, from the start of the load to the last order settling. */
	paidRate: number;
	paid: number;
	cancelledOutOfStock: number;
	cancelledOther: number;
	/** Accept → paid, from each order's statusHistory. */
	settleP50: number;
	settleP99: number;
	/** Request sent → paid (open loop: what a customer waits from clicking). */
	endToEndP99: number;
	failedRequests: number;
	/** Failed attempts by what failed ("order 422": 3). */
	failures: Record<string, number>;
	/** Open loop: ticks that found no idle customer. */
	dropped: number;
	offered: number;
	settleCountedBy: string;
	/** The metric's count of paid orders, to compare with the orders' own statuses. */
	metricPaid?: number;
	/** What one accepted order cost, from the shop's own counters (undefined when they could not be read). */
	perOrder?: OrderCost;
	invariants: InvariantReport;
}

/** Database writes and event traffic of the run divided by the orders accepted (the cart add included). */
export interface OrderCost {
	writes: number;
	/** Writes per order by service/collection, the largest first. */
	writesBy: Record<string, number>;
	/** Events the outbox relays published. */
	published: number;
	/** Deliveries of events to consumer groups (each group's delivery counts once). */
	deliveries: number;
}

export interface Counters {
	writesBy: Record<string, number>;
	published: number;
	deliveries: number;
}

/** The shop's write and event counters, summed over its metrics endpoints; undefined when one does not answer. */
export async function readCounters(shop: Shop): Promise<Counters | undefined> {
	const out: Counters = { writesBy: {}, published: 0, deliveries: 0 };
	for (const url of shop.metricsUrls) {
		const text = await scrape(url);
		if (text === undefined) return undefined;
		for (const [series, value] of Object.entries(seriesStartingWith(text, "shop_store_writes_total{"))) {
			const service = /service="([^"]*)"/.exec(series)?.[1] ?? "?";
			const collection = /collection="([^"]*)"/.exec(series)?.[1] ?? "?";
			const key = `${service}.${collection}`;
			out.writesBy[key] = (out.writesBy[key] ?? 0) + value;
		}
		out.published += metricValue(text, "shop_events_published_total", { result: "ok" }) ?? 0;
		out.deliveries += metricValue(text, "shop_events_consumed_total") ?? 0;
	}
	return out;
}

export function costPerOrder(before: Counters | undefined, after: Counters | undefined, orders: number): OrderCost | undefined {
	if (!before || !after || orders === 0) return undefined;
	const writesBy: Record<string, number> = {};
	for (const [k, v] of Object.entries(after.writesBy)) {
		const d = (v - (before.writesBy[k] ?? 0)) / orders;
		if (d > 0) writesBy[k] = d;
	}
	const sorted = Object.fromEntries(Object.entries(writesBy).sort((a, b) => b[1] - a[1]));
	return {
		writes: Object.values(writesBy).reduce((a, b) => a + b, 0),
		writesBy: sorted,
		published: (after.published - before.published) / orders,
		deliveries: (after.deliveries - before.deliveries) / orders,
	};
}

const CHECKOUT_BODY = {
	shippingAddress: { name: "Bench", line1: "1 Load St", city: "Testville", postalCode: "12345", country: "US" },
	payment: { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 3, cvc: "123" },
};

/** Products for one run: eight with stock to spare, two that sell out. */
async function createProducts(shop: Shop, adminToken: string, tag: string): Promise<BenchProduct[]> {
	const plan = [...Array.from({ length: 8 }, () => ({ stock: 1_000_000, scarce: false })), { stock: 40, scarce: true }, { stock: 90, scarce: true }];
	return Promise.all(
		plan.map(async ({ stock, scarce }, i) => {
			const sku = `BENCH-${tag}-${i}`;
			const res = await api<{ id: string }>(
				shop.base,
				"POST",
				"/api/v1/products",
				{ sku, name: `Bench checkout item ${i}`, description: "Bought by npm run bench.", price: 1000 + i * 100, currency: "EUR", stock },
				bearer(adminToken),
			);
			if (res.status !== 201) throw new Error(`create product ${sku}: ${res.status} ${JSON.stringify(res.body)}`);
			return { id: res.body.id, sku, initial: stock, scarce };
		}),
	);
}

/** A shop that has shipping methods needs one for the address's country; one that has none of them answers 404 here. */
async function ensureShipping(shop: Shop, adminToken: string): Promise<void> {
	const listed = await api<unknown[]>(shop.base, "GET", "/api/v1/shipping-methods?country=US");
	if (listed.status !== 200 || (Array.isArray(listed.body) && listed.body.length > 0)) return;
	const made = await api(
		shop.base,
		"POST",
		"/api/v1/shipping-methods",
		{ name: "Bench standard", countries: ["*"], price: 0, currency: "EUR", minDays: 1, maxDays: 3 },
		bearer(adminToken),
	);
	if (made.status !== 201) log(`could not create a shipping method: ${made.status} ${JSON.stringify(made.body)}`);
}

/** The n-th checkout's item: every eighth one 1 to 3 units of a scarce product, the others one unit of a plentiful one, in turn. */
export function itemFor(products: BenchProduct[], n: number): { productId: string; quantity: number } {
	const plenty = products.filter(p => !p.scarce);
	const scarce = products.filter(p => p.scarce);
	const k = Math.floor(n / 8);
	if (n % 8 === 7) return { productId: scarce[k % scarce.length]!.id, quantity: 1 + (k % 3) };
	return { productId: plenty[(n - k) % plenty.length]!.id, quantity: 1 };
}

export interface Attempt {
	orderId?: string;
	/** Date.now() when the cart request left. */
	sentAt: number;
	orderMs?: number;
	/** What went wrong: "cart 404", "order 422", "order error"... */
	failure?: string;
}

/** Add an item and check out; failures are counted, not thrown. */
export async function checkoutOnce(shop: Shop, token: string, item: { productId: string; quantity: number }): Promise<Attempt> {
	const auth = bearer(token);
	const sentAt = Date.now();
	const cart = await api(shop.base, "POST", "/api/v1/cart/items", item, auth).catch(() => ({ status: 0, body: null }));
	if (cart.status < 200 || cart.status >= 300) return { sentAt, failure: `cart ${cart.status || "error"}` };
	const t0 = performance.now();
	const res = await api<{ id: string }>(shop.base, "POST", "/api/v1/orders", CHECKOUT_BODY, { ...auth, "idempotency-key": randomUUID() }).catch(() => ({
		status: 0,
		body: { id: "" },
	}));
	const orderMs = performance.now() - t0;
	return res.status === 202 ? { orderId: res.body.id, sentAt, orderMs } : { sentAt, orderMs, failure: `order ${res.status || "error"}` };
}

/** Orders settled so far (paid or cancelled), by the orders node's metric. */
const settledCount = (text: string): number => metricValue(text, "shop_checkout_settle_seconds_count") ?? 0;

/** Waits until `accepted` more orders have settled than at `before`; answers how it counted. */
async function waitSettled(shop: Shop, adminToken: string, accepted: number, before: string | undefined, timeoutMs: number): Promise<string> {
	const deadline = Date.now() + timeoutMs;
	if (before !== undefined) {
		const base = settledCount(before);
		for (;;) {
			const text = await scrape(shop.ordersMetrics);
			if (text === undefined) break;
			if (settledCount(text) - base >= accepted) return "shop_checkout_settle_seconds_count (orders node)";
			if (Date.now() > deadline) return "shop_checkout_settle_seconds_count (orders node), timed out";
			await sleep(250);
		}
	}
	for (;;) {
		const res = await api<{ total: number }>(shop.base, "GET", "/api/v1/orders?all=true&status=pending&pageSize=1", undefined, bearer(adminToken));
		if (res.status === 200 && res.body.total === 0) return "polling GET /orders?all=true&status=pending";
		if (Date.now() > deadline) return "polling GET /orders?all=true&status=pending, timed out";
		await sleep(500);
	}
}

/** Every order created since `since` (admin, newest first, pages of 100). */
async function ordersSince(shop: Shop, adminToken: string, since: number): Promise<OrderView[]> {
	const out: OrderView[] = [];
	for (let page = 1; ; page++) {
		const res = await api<{ rows: OrderView[]; totalPages: number }>(
			shop.base,
			"GET",
			`/api/v1/orders?all=true&pageSize=100&page=${page}`,
			undefined,
			bearer(adminToken),
		);
		if (res.status !== 200) throw new Error(`GET /orders?all=true: ${res.status} ${JSON.stringify(res.body)}`);
		let older = false;
		for (const o of res.body.rows) {
			if (Date.parse(o.createdAt) < since) older = true;
			else out.push(o);
		}
		if (older || page >= res.body.totalPages || res.body.rows.length === 0) return out;
	}
}

const at = (o: OrderView, status: string) => {
	const s = o.statusHistory.find(h => h.status === status);
	return s ? Date.parse(s.at) : undefined;
};

export async function settleAndCheck(
	shop: Shop,
	adminToken: string,
	products: BenchProduct[],
	attempts: Attempt[],
	startedAt: number,
	/** Orders on these products since then count for the invariants (the smoke checkout included). */
	since: number,
	metricsBefore: string | undefined,
	countersBefore: Counters | undefined,
	timeoutMs: number,
): Promise<Omit<CheckoutResult, "acceptedRate" | "orderP50" | "orderP99" | "failedRequests" | "failures" | "dropped" | "offered">> {
	const accepted = attempts.filter(a => a.orderId);
	log(`${accepted.length} orders accepted; waiting for them to settle...`);
	const countedBy = await waitSettled(shop, adminToken, accepted.length, metricsBefore, timeoutMs);
	const metricsAfter = metricsBefore === undefined ? undefined : await scrape(shop.ordersMetrics);
	const perOrder = costPerOrder(countersBefore, await readCounters(shop), accepted.length);
	const ids = new Set(products.map(p => p.id));
	const list = async () => (await ordersSince(shop, adminToken, since - 1000)).filter(o => o.items.some(i => ids.has(i.productId)));
	const orders = await list();
	const byId = new Map(orders.map(o => [o.id, o]));
	const ours = accepted.map(a => ({ a, o: byId.get(a.orderId!) }));
	const paid = ours.filter(x => x.o?.status === "paid");
	const cancelled = ours.filter(x => x.o?.status === "cancelled");
	const reasonOf = (o: OrderView) => o.statusHistory.find(h => h.status === "cancelled")?.reason;
	const settledAts = ours.map(x => (x.o ? (at(x.o, "paid") ?? at(x.o, "cancelled")) : undefined)).filter((t): t is number => t !== undefined);
	const lastSettled = settledAts.length ? Math.max(...settledAts) : Date.now();
	const settle = paid.map(x => at(x.o!, "paid")! - at(x.o!, "pending")!).filter(Number.isFinite);
	const endToEnd = paid.map(x => at(x.o!, "paid")! - x.a.sentAt).filter(Number.isFinite);
	const metricPaid =
		metricsBefore !== undefined && metricsAfter !== undefined
			? (metricValue(metricsAfter, "shop_checkout_settle_seconds_count", { result: "paid" }) ?? 0) -
				(metricValue(metricsBefore, "shop_checkout_settle_seconds_count", { result: "paid" }) ?? 0)
			: undefined;
	log(`checking the inventory invariants on ${products.length} products...`);
	const invariants = await checkInventory(shop.base, adminToken, products, list, 60_000);
	if (!invariants.ok) for (const v of invariants.violations) log(`INVARIANT VIOLATED: ${v}`);
	const paidCount = metricPaid ?? paid.length;
	return {
		accepted: accepted.length,
		paid: paidCount,
		paidRate: paidCount / Math.max(0.001, (lastSettled - startedAt) / 1000),
		cancelledOutOfStock: cancelled.filter(x => reasonOf(x.o!) === "out_of_stock").length,
		cancelledOther: cancelled.filter(x => reasonOf(x.o!) !== "out_of_stock").length + ours.filter(x => !x.o || x.o.status === "pending").length,
		settleP50: percentile(settle, 50),
		settleP99: percentile(settle, 99),
		endToEndP99: percentile(endToEnd, 99),
		settleCountedBy: countedBy,
		metricPaid,
		perOrder,
		invariants,
	};
}

function failuresOf(attempts: Attempt[]): Record<string, number> {
	const out: Record<string, number> = {};
	for (const a of attempts) if (a.failure) out[a.failure] = (out[a.failure] ?? 0) + 1;
	return out;
}

/**
 * One checkout first, alone: it must be accepted and paid within the shop's own deadlines before
 * any load is put on (a shop that cannot do one would only be buried under a backlog it never
 * works off, and the next scenarios with it).
 */
async function smokeCheckout(shop: Shop, token: string, productId: string): Promise<void> {
	const a = await checkoutOnce(shop, token, { productId, quantity: 1 });
	if (!a.orderId) throw new Error(`a single checkout was refused (${a.failure}) before any load`);
	const deadline = Date.now() + 60_000;
	for (;;) {
		const res = await api<OrderView>(shop.base, "GET", `/api/v1/orders/${a.orderId}`, undefined, bearer(token));
		if (res.status === 200 && res.body.status === "paid") return;
		if (res.status === 200 && res.body.status === "cancelled")
			throw new Error(`a single checkout before any load ended cancelled (${res.body.statusHistory.at(-1)?.reason ?? "no reason"})`);
		if (Date.now() > deadline) throw new Error(`a single checkout before any load was not paid within 60 s (${res.status} ${res.body?.status ?? ""})`);
		await sleep(200);
	}
}

export async function prepare(shop: Shop, tag: string, customers: number) {
	const since = Date.now();
	const adminToken = await login(shop.base, ADMIN.email, ADMIN.password);
	await ensureShipping(shop, adminToken);
	const products = await createProducts(shop, adminToken, tag);
	log(`signing up ${customers} customers...`);
	const tokens = await mapLimit(
		Array.from({ length: customers }, (_, i) => i),
		10,
		() => newCustomer(shop.base),
	);
	await smokeCheckout(shop, tokens[0]!, products[0]!.id);
	return { since, adminToken, products, tokens };
}

export async function checkoutClosedLoop(shop: Shop, connections: number, durationSeconds: number): Promise<CheckoutResult> {
	const { since, adminToken, products, tokens } = await prepare(shop, `C${randomUUID().slice(0, 6)}`, connections);
	log(`checkout, closed loop: ${connections} customers for ${durationSeconds} s...`);
	const metricsBefore = await scrape(shop.ordersMetrics);
	const countersBefore = await readCounters(shop);
	const attempts: Attempt[] = [];
	const startedAt = Date.now();
	const until = performance.now() + durationSeconds * 1000;
	let n = 0;
	await Promise.all(
		tokens.map(async token => {
			while (performance.now() < until) {
				const a = await checkoutOnce(shop, token, itemFor(products, n++));
				attempts.push(a);
				if (!a.orderId) await sleep(20);
			}
		}),
	);
	const loadSeconds = (Date.now() - startedAt) / 1000;
	const orderMs = attempts.filter(a => a.orderId).map(a => a.orderMs!);
	const rest = await settleAndCheck(
		shop,
		adminToken,
		products,
		attempts,
		startedAt,
		since,
		metricsBefore,
		countersBefore,
		Math.max(180_000, durationSeconds * 20_000),
	);
	return {
		...rest,
		acceptedRate: rest.accepted / loadSeconds,
		orderP50: percentile(orderMs, 50),
		orderP99: percentile(orderMs, 99),
		failedRequests: attempts.length - rest.accepted,
		failures: failuresOf(attempts),
		dropped: 0,
		offered: attempts.length,
	};
}

export async function checkoutOpenLoop(shop: Shop, rate: number, seconds: number): Promise<CheckoutResult> {
	const poolSize = Math.max(20, Math.ceil(rate * 2));
	const { since, adminToken, products, tokens } = await prepare(shop, `O${randomUUID().slice(0, 6)}`, poolSize);
	const total = Math.round(rate * seconds);
	log(`checkout, open loop: ${rate} checkouts/s offered for ${seconds} s (${total}, ${poolSize} customers)...`);
	const metricsBefore = await scrape(shop.ordersMetrics);
	const countersBefore = await readCounters(shop);
	const idle = [...tokens];
	const attempts: Attempt[] = [];
	const inFlight: Promise<void>[] = [];
	let dropped = 0;
	const startedAt = Date.now();
	const t0 = performance.now();
	for (let i = 0; i < total; i++) {
		const due = t0 + (i * 1000) / rate;
		const wait = due - performance.now();
		if (wait > 0) await sleep(wait);
		const token = idle.pop();
		if (!token) {
			dropped++;
			continue;
		}
		inFlight.push(
			checkoutOnce(shop, token, itemFor(products, i)).then(a => {
				attempts.push(a);
				idle.push(token);
			}),
		);
	}
	const offeredSeconds = (performance.now() - t0) / 1000;
	await Promise.all(inFlight);
	const orderMs = attempts.filter(a => a.orderId).map(a => a.orderMs!);
	const rest = await settleAndCheck(shop, adminToken, products, attempts, startedAt, since, metricsBefore, countersBefore, 180_000);
	return {
		...rest,
		acceptedRate: rest.accepted / offeredSeconds,
		orderP50: percentile(orderMs, 50),
		orderP99: percentile(orderMs, 99),
		failedRequests: attempts.length - rest.accepted,
		failures: failuresOf(attempts),
		dropped,
		offered: total,
	};
}
