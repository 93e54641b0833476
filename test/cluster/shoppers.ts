/**
 * Shoppers for the resilience tests (chaos, Kafka broker loss, rolling restart): each browses,
 * searches, fills a cart and checks out, again and again, for as long as the test says, the way a
 * well-behaved client does it: every write a client may repeat carries an Idempotency-Key (a cart
 * add too), and an operation that gets a 5xx, a 429, a "key in use" 409 or no answer is tried
 * again with the same key, four tries in all, with backoff.
 *
 * Every HTTP exchange is recorded (operation, try, status, start, duration), so a test can state
 * what clients saw: how many requests, how many failed on the first try, how many operations
 * failed after all tries, how slow the slowest was.
 *
 * `verifyOrders` then checks the outcome from the outside: every order settles (paid or
 * cancelled), none is lost, one order per Idempotency-Key, at most one capture per order on Kafka
 * (read with kcat) and one for each paid order, no valid card declined, the stock exact (initial
 * minus what paid orders took) and nothing left held.
 */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { kcat, poll, sleep, type KafkaRecord, type NodeSpec } from "../helpers/cluster.js";
import { customer, HttpClient, type Account, type TestShop } from "../helpers/shop.js";

const V1 = "/api/v1";
const ADDRESS = { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };
export const APPROVED = "4242424242424242";
export const DECLINED = "4000000000000002";
const payment = (cardNumber: string) => ({ method: "card", cardNumber, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" });
const SEARCH_TERMS = ["lamp", "mug", "chair", "desk", "resilient", "blue"];
const TRIES = 4;

/** Two nodes of each service (or of services that share nodes, like orders and pricing): `<service>-1`, `<service>-2`. */
export function replicated(services: (string | string[])[], replicas = 2): NodeSpec[] {
	return services.flatMap(entry => {
		const hosted = typeof entry === "string" ? [entry] : entry;
		return Array.from({ length: replicas }, (_, i) => ({ name: `${hosted[0]}-${i + 1}`, services: hosted }));
	});
}

export interface Exchange {
	op: string;
	try: number;
	/** HTTP status; 0 when no answer came (connection refused or reset, or the client's 30 s timeout). */
	status: number;
	type?: string;
	/** A 4xx's first offending field and its problem (`cart empty`), to tell one refusal from another. */
	detail?: string;
	/** The `Retry-After` header of a 503 or 429. */
	retryAfter?: string;
	start: number;
	ms: number;
}

export interface Attempt {
	key: string;
	account: Account;
	body: object;
	card: string;
	accepted?: string;
}

export interface ShopperRun {
	exchanges: Exchange[];
	/** Operations that failed on every try (op name and the statuses it got). */
	failedOps: { op: string; statuses: number[] }[];
	checkouts: Attempt[];
	accounts: Account[];
}

export interface Catalog {
	productIds: string[];
	stock: number;
}

/** Products with plenty of stock (an out-of-stock cancel would hide what the tests look for). */
export async function makeCatalog(boss: Account, count = 4, stock = 2000): Promise<Catalog> {
	const tag = randomUUID().slice(0, 6).toUpperCase();
	const productIds: string[] = [];
	for (let i = 0; i < count; i++) {
		const res = await boss.http.post(`${V1}/products`, {
			sku: `RS-${tag}-${i}`,
			name: `Resilient ${SEARCH_TERMS[i % SEARCH_TERMS.length]} ${i}`,
			description: "A product of the resilience tests",
			price: 1000 + i * 150,
			currency: "EUR",
			stock,
		});
		if (res.status !== 201) throw new Error(`product not created: ${res.status} ${JSON.stringify(res.body)}`);
		productIds.push(res.body.id);
	}
	return { productIds, stock };
}

/** Sign up `count` customers (before the stream: sign-up and sign-in are not what is measured). */
export async function makeShoppers(shop: TestShop, count: number): Promise<Account[]> {
	const accounts: Account[] = [];
	for (let i = 0; i < count; i++) accounts.push(await customer(shop, `Shopper${i}`));
	return accounts;
}

/** An HTTP client on another base URL (a load balancer) with the same token. */
export function via(baseUrl: string, acc: Account): Account {
	return { ...acc, http: new HttpClient(baseUrl, acc.accessToken) };
}

const retryable = (status: number, type?: string) =>
	status === 0 || status >= 500 || status === 429 || (status === 409 && (type === "IDEMPOTENCY_KEY_IN_USE" || type === "CONCURRENT_CHANGE"));

/**
 * Run the shoppers until `until` (a timestamp). `declinedShare` of the checkouts use a card that
 * is declined (to keep that path in the mix); the others a valid card. Between two requests a
 * shopper thinks for `thinkMs` on average (a person reading the page, not a load test).
 */
export async function runShoppers(
	accounts: Account[],
	catalog: Catalog,
	until: number,
	opts: { declinedShare?: number; seed?: number; thinkMs?: number; visit?: ("notifications" | "tickets")[]; stopWhen?: () => boolean } = {},
): Promise<ShopperRun> {
	const run: ShopperRun = { exchanges: [], failedOps: [], checkouts: [], accounts };
	let rnd = opts.seed ?? 7;
	const random = () => (rnd = (rnd * 48271) % 2147483647) / 2147483647;
	const pickProduct = () => catalog.productIds[Math.floor(random() * catalog.productIds.length)]!;
	const think = opts.thinkMs ?? 400;

	/** One operation, tried up to four times (same request, same key) while the answer says "try again". */
	async function op(
		name: string,
		call: () => Promise<{ status: number; body: unknown; headers?: Headers }>,
	): Promise<{ status: number; body: any } | undefined> {
		const statuses: number[] = [];
		let last: { status: number; body: any; headers?: Headers } | undefined;
		for (let t = 1; t <= TRIES; t++) {
			const start = Date.now();
			let type: string | undefined;
			let detail: string | undefined;
			let retryAfter: string | undefined;
			try {
				last = await call();
				retryAfter = last.headers?.get("retry-after") ?? undefined;
				type = (last.body as { type?: string } | null)?.type;
				const problem = (last.body as { data?: { field?: string; type?: string }[] } | null)?.data?.[0];
				if (last.status >= 400 && last.status < 500 && problem?.field) detail = `${problem.field} ${problem.type ?? ""}`.trim();
			} catch {
				last = { status: 0, body: null };
			}
			run.exchanges.push({ op: name, try: t, status: last.status, type, detail, retryAfter, start, ms: Date.now() - start });
			statuses.push(last.status);
			if (!retryable(last.status, type)) {
				await sleep(think * (0.5 + random()));
				return last;
			}
			if (t < TRIES) await sleep(250 * 2 ** (t - 1));
		}
		run.failedOps.push({ op: name, statuses });
		return undefined;
	}

	async function shopper(acc: Account): Promise<void> {
		const http = acc.http;
		const going = () => Date.now() < until && !opts.stopWhen?.();
		while (going()) {
			// Browse: a search and a product or two.
			await op("search", () => http.get(`${V1}/products?q=${SEARCH_TERMS[Math.floor(random() * SEARCH_TERMS.length)]}&pageSize=12`));
			await op("product", () => http.get(`${V1}/products/${pickProduct()}`));
			if (random() < 0.5) await op("product", () => http.get(`${V1}/products/${pickProduct()}`));
			if (random() < 0.2) await op("me", () => http.get(`${V1}/me`));
			if (opts.visit?.includes("notifications") && random() < 0.3) await op("notifications", () => http.get(`${V1}/me/notifications?pageSize=10`));
			if (opts.visit?.includes("tickets") && random() < 0.2) await op("tickets", () => http.get(`${V1}/tickets?pageSize=10`));
			// Fill the cart.
			const cleared = await op("cart.clear", () => http.delete(`${V1}/cart`));
			if (cleared?.status !== 200) continue;
			const lines = random() < 0.5 ? 1 : 2;
			let filled = true;
			for (let l = 0; l < lines && filled; l++) {
				const key = randomUUID();
				const item = { productId: pickProduct(), quantity: 1 + Math.floor(random() * 2) };
				const added = await op("cart.add", () => http.post(`${V1}/cart/items`, item, { "idempotency-key": key }));
				filled = added?.status === 200;
			}
			if (!filled) continue;
			await op("cart.view", () => http.get(`${V1}/cart`));
			if (!going()) break;
			// Check out.
			const card = random() < (opts.declinedShare ?? 0.1) ? DECLINED : APPROVED;
			const attempt: Attempt = { key: randomUUID(), account: acc, body: { shippingAddress: ADDRESS, payment: payment(card) }, card };
			run.checkouts.push(attempt);
			const placed = await op("checkout", () => http.post(`${V1}/orders`, attempt.body, { "idempotency-key": attempt.key }));
			if (placed?.status === 202 || placed?.status === 200) {
				attempt.accepted = placed.body.id;
				await op("order", () => http.get(`${V1}/orders/${attempt.accepted}`));
			}
		}
	}

	await Promise.all(accounts.map(shopper));
	return run;
}

// ---------------------------------------------------------------------------------------------
// What clients saw

export interface ClientFigures {
	requests: number;
	/** Durations (ms) at the 50th, 95th and 99th percentile. */
	p50: number;
	p95: number;
	p99: number;
	firstTry5xx: number;
	any5xx: number;
	noAnswer: number;
	failedOps: number;
	slowestMs: number;
	over2s: number;
	conflicts: number;
}

/** Answers other than 2xx, as `op status type: count` (what the shoppers met besides success). */
export function unexpectedAnswers(run: ShopperRun): string {
	const counts = new Map<string, number>();
	for (const e of run.exchanges) {
		if (e.status >= 200 && e.status < 300) continue;
		const k = `${e.op} ${e.status}${e.type ? ` ${e.type}` : ""}${e.detail ? ` (${e.detail})` : ""}`;
		counts.set(k, (counts.get(k) ?? 0) + 1);
	}
	return [...counts].map(([k, n]) => `${k}: ${n}`).join(", ") || "none";
}

export function clientFigures(run: ShopperRun): ClientFigures {
	const ex = run.exchanges;
	const ms = ex.map(e => e.ms).sort((a, b) => a - b);
	const pct = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))] ?? 0;
	return {
		requests: ex.length,
		p50: pct(50),
		p95: pct(95),
		p99: pct(99),
		firstTry5xx: ex.filter(e => e.try === 1 && (e.status >= 500 || e.status === 0)).length,
		any5xx: ex.filter(e => e.status >= 500).length,
		noAnswer: ex.filter(e => e.status === 0).length,
		failedOps: run.failedOps.length,
		slowestMs: Math.max(0, ...ex.map(e => e.ms)),
		over2s: ex.filter(e => e.ms > 2000).length,
		conflicts: ex.filter(e => e.status === 409).length,
	};
}

export function describeClients(f: ClientFigures): string {
	return (
		`requests ${f.requests}; first-try 5xx or no answer ${f.firstTry5xx}; 5xx on any try ${f.any5xx}; no answer ${f.noAnswer}; ` +
		`409 ${f.conflicts}; operations failed after ${TRIES} tries ${f.failedOps}; ` +
		`p50 ${f.p50} ms, p95 ${f.p95} ms, p99 ${f.p99} ms, slowest ${(f.slowestMs / 1000).toFixed(2)} s, ${f.over2s} over 2 s`
	);
}

/** The exchanges that failed on the first try, for a failure message. */
export function firstTryFailures(run: ShopperRun, since = run.exchanges[0]?.start ?? 0): string {
	return run.exchanges
		.filter(e => e.try === 1 && (e.status >= 500 || e.status === 0))
		.slice(0, 10)
		.map(e => `${e.op} ${e.status}${e.type ? ` ${e.type}` : ""} sent at +${((e.start - since) / 1000).toFixed(1)} s, after ${e.ms} ms`)
		.join("; ");
}

/** The slowest exchanges, as `op status ms` (figures). */
export function slowest(run: ShopperRun, n = 5): string {
	return [...run.exchanges]
		.sort((a, b) => b.ms - a.ms)
		.slice(0, n)
		.map(e => `${e.op}#${e.try} ${e.status} ${e.ms} ms`)
		.join(", ");
}

// ---------------------------------------------------------------------------------------------
// What the shop did

interface SeenOrder {
	id: string;
	status: string;
	items: { productId: string; quantity: number }[];
	payment: { status: string; last4?: string };
	statusHistory: { status: string; reason?: string }[];
}

export interface OrderFigures {
	orders: number;
	accepted: number;
	paid: number;
	cancelled: Record<string, number>;
	validDeclined: number;
	captures: number;
	paymentEvents: number;
	duplicateEvents: number;
	unitsSold: number;
	settleMs: number;
}

/** The order ids of a topic's records, by event type. */
function byType(records: KafkaRecord[]): Map<string, KafkaRecord[]> {
	const m = new Map<string, KafkaRecord[]>();
	for (const r of records) m.set(r.value.type, [...(m.get(r.value.type) ?? []), r]);
	return m;
}

/**
 * Every order settles and adds up; asserts with vitest's `expect` and answers the figures.
 * `topic(family)` names a Kafka topic of the cluster, `brokers` where to read it.
 */
export async function verifyOrders(
	run: ShopperRun,
	catalog: Catalog,
	boss: Account,
	kafka: { brokers: string; topic: (family: string) => string },
	settleTimeoutMs = 120_000,
): Promise<OrderFigures> {
	const started = Date.now();
	const existing = new Map<string, SeenOrder>();
	const owner = new Map<string, Account>();
	await poll(
		async () => {
			existing.clear();
			for (const acc of run.accounts) {
				for (let page = 1; ; page++) {
					const res = await acc.http.get(`${V1}/orders?pageSize=100&page=${page}`);
					if (res.status !== 200) return undefined;
					for (const o of res.body.rows as SeenOrder[]) {
						existing.set(o.id, o);
						owner.set(o.id, acc);
					}
					if (page >= res.body.totalPages) break;
				}
			}
			return [...existing.values()].every(o => o.status === "paid" || o.status === "cancelled") ? true : undefined;
		},
		settleTimeoutMs,
		"every order to be paid or cancelled",
		1000,
	).catch(err => {
		const stuck = [...existing.values()].filter(o => o.status !== "paid" && o.status !== "cancelled");
		throw new Error(`${(err as Error).message}; ${stuck.length} not settled (stuck), e.g. ${JSON.stringify(stuck.slice(0, 3))}`);
	});
	const settleMs = Date.now() - started;

	// None lost: every accepted order exists; each key made at most one order, and every order has its key.
	const accepted = run.checkouts.filter(a => a.accepted);
	for (const a of accepted) expect(existing.has(a.accepted!), `accepted order ${a.accepted} is missing`).toBe(true);
	expect(new Set(accepted.map(a => a.accepted)).size, "two accepted checkouts answered the same order").toBe(accepted.length);
	// Replayed with an empty cart, a key that made no order can make none now.
	for (const acc of run.accounts) expect((await acc.http.delete(`${V1}/cart`)).status).toBe(200);
	const perKey = new Map<string, number>();
	for (const a of run.checkouts) {
		const res = await a.account.http.post(`${V1}/orders`, a.body, { "idempotency-key": a.key });
		if (res.status === 200 || res.status === 202) {
			if (a.accepted) expect(res.body.id, `key ${a.key} answers another order`).toBe(a.accepted);
			expect(existing.has(res.body.id), `key ${a.key} answers an order that does not exist`).toBe(true);
			perKey.set(res.body.id, (perKey.get(res.body.id) ?? 0) + 1);
		} else {
			// No order for this key: the cart is empty now (422). A 409 "in use": a checkout that died with its node still holds the key.
			expect(a.accepted, `accepted key ${a.key} now answers ${res.status} ${JSON.stringify(res.body)}`).toBeUndefined();
			expect(res.status, JSON.stringify(res.body)).toBe(422);
		}
	}
	for (const [id, n] of perKey) expect(n, `order ${id} answered for ${n} keys`).toBe(1);
	const orphans = [...existing.keys()].filter(id => !perKey.has(id));
	expect(orphans, "orders no Idempotency-Key answers (a duplicate order)").toEqual([]);

	// Kafka, read from the outside: every order placed, every paid order captured once and paid, no order captured twice.
	const paidIds = [...existing.values()].filter(o => o.status === "paid").map(o => o.id);
	let ordersTopic: Map<string, KafkaRecord[]> = new Map();
	let payments: KafkaRecord[] = [];
	const captures = new Map<string, Set<string>>();
	await poll(
		async () => {
			ordersTopic = byType(await kcat(kafka.brokers, kafka.topic("orders")));
			payments = await kcat(kafka.brokers, kafka.topic("payments"));
			captures.clear();
			for (const r of payments)
				if (r.value.type === "payment.captured") {
					const id = r.value.payload.orderId as string;
					captures.set(id, (captures.get(id) ?? new Set()).add(r.value.payload.paymentId as string));
				}
			const placed = new Set((ordersTopic.get("order.placed") ?? []).map(r => r.key));
			const paidOnTopic = new Set((ordersTopic.get("order.paid") ?? []).map(r => r.key));
			return [...existing.keys()].every(id => placed.has(id)) && paidIds.every(id => captures.has(id) && paidOnTopic.has(id)) ? true : undefined;
		},
		60_000,
		"order.placed of every order, payment.captured and order.paid of every paid order, on Kafka",
		1000,
	);
	const refunded = new Set(payments.filter(r => r.value.type === "payment.refunded").map(r => r.value.payload.orderId as string));
	for (const o of existing.values()) {
		const caps = captures.get(o.id)?.size ?? 0;
		expect(caps, `captures of order ${o.id}`).toBeLessThanOrEqual(1);
		if (o.status === "paid") expect(o.payment.status).toBe("captured");
		else if (caps > 0) expect(refunded.has(o.id), `cancelled order ${o.id} was captured and not refunded`).toBe(true);
	}

	// No valid card declined: every checkout with a valid card that made an order is paid.
	const cancelled: Record<string, number> = {};
	let validDeclined = 0;
	const cardOf = new Map(accepted.map(a => [a.accepted!, a.card]));
	for (const o of existing.values()) {
		if (o.status !== "cancelled") continue;
		const reason = o.statusHistory.at(-1)?.reason ?? "?";
		cancelled[reason] = (cancelled[reason] ?? 0) + 1;
		if (cardOf.get(o.id) !== DECLINED && reason === "payment_declined") validDeclined++;
	}
	for (const a of accepted) {
		const o = existing.get(a.accepted!)!;
		if (a.card === APPROVED)
			expect(`${o.id} ${o.status} ${o.statusHistory.at(-1)?.reason ?? ""}`.trim(), "an order with a valid card").toBe(`${o.id} paid`);
	}

	// Stock: initial minus what paid orders took, exactly; nothing held.
	const sold = new Map<string, number>();
	for (const o of existing.values()) if (o.status === "paid") for (const it of o.items) sold.set(it.productId, (sold.get(it.productId) ?? 0) + it.quantity);
	await poll(
		async () => {
			for (const id of catalog.productIds) {
				const p = (await boss.http.get(`${V1}/products/${id}`)).body;
				if (p.stock !== catalog.stock - (sold.get(id) ?? 0) || p.available !== p.stock) return undefined;
			}
			return true;
		},
		30_000,
		"stock = initial - paid units, nothing held",
	).catch(async err => {
		const now = await Promise.all(catalog.productIds.map(async id => (await boss.http.get(`${V1}/products/${id}`)).body));
		throw new Error(
			`${(err as Error).message}: ${JSON.stringify(now.map((p, i) => ({ stock: p.stock, available: p.available, expected: catalog.stock - (sold.get(catalog.productIds[i]!) ?? 0) })))}`,
		);
	});

	const allEvents = [...ordersTopic.values()].flat().concat(payments);
	return {
		orders: existing.size,
		accepted: accepted.length,
		paid: paidIds.length,
		cancelled,
		validDeclined,
		captures: captures.size,
		paymentEvents: payments.length,
		duplicateEvents: allEvents.length - new Set(allEvents.map(r => r.value.id)).size,
		unitsSold: [...sold.values()].reduce((a, b) => a + b, 0),
		settleMs,
	};
}

export function describeOrders(f: OrderFigures): string {
	const reasons = Object.entries(f.cancelled)
		.map(([r, n]) => `${r} ${n}`)
		.join(", ");
	return (
		`orders ${f.orders} (accepted ${f.accepted}): paid ${f.paid}, cancelled ${Object.values(f.cancelled).reduce((a, b) => a + b, 0)}${reasons ? ` (${reasons})` : ""}; ` +
		`valid cards declined ${f.validDeclined}; orders captured ${f.captures}, payment events ${f.paymentEvents}, redelivered copies on Kafka ${f.duplicateEvents}; ` +
		`units sold ${f.unitsSold}; settled ${(f.settleMs / 1000).toFixed(1)} s after the stream`
	);
}
