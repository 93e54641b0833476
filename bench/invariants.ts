/**
 * What a checkout run must leave true, checked against the shop's own answers once the orders
 * have settled: never oversold, stock exact, availability exact, nothing held.
 *
 *   stock      = initial stock − units in paid orders
 *   available  = stock − units held by pending orders
 *   held       = 0 once every order is paid or cancelled
 *
 * Sales and releases reach the catalog by events after the order changed, so a mismatch is
 * re-checked until `timeoutMs` has passed; an oversold product (stock or availability below zero,
 * or more units paid than there were) is never a matter of waiting. Orders still pending, or a
 * product the shop does not answer, are not violations but a check that could not be completed
 * (`pendingOrders`, `unreadable`): the caller reports those as not measured.
 */
import { api, bearer } from "./http.js";
import { sleep } from "./processes.js";

export interface BenchProduct {
	id: string;
	sku: string;
	initial: number;
	/** Little stock: it sells out during the run, so holds race for the last units. */
	scarce: boolean;
}

export interface OrderView {
	id: string;
	status: string;
	items: { productId: string; quantity: number }[];
	statusHistory: { status: string; at: string; reason?: string }[];
	createdAt: string;
}

export interface InventoryState {
	sku: string;
	initial: number;
	stock: number;
	available: number;
	paidUnits: number;
	heldUnits: number;
}

export interface InvariantReport {
	/** No violation, every product read, no order left pending. */
	ok: boolean;
	violations: string[];
	/** Products the shop did not answer (GET /products/:id), with what it said. */
	unreadable: string[];
	products: InventoryState[];
	pendingOrders: number;
}

const PAID = new Set(["paid", "shipped", "delivered"]);

function evaluate(products: BenchProduct[], shown: Map<string, { stock: number; available: number } | string>, orders: OrderView[]) {
	const violations: string[] = [];
	const unreadable: string[] = [];
	let permanent = false;
	const states: InventoryState[] = [];
	const pending = orders.filter(o => o.status === "pending");
	for (const p of products) {
		const units = (list: OrderView[]) => list.reduce((s, o) => s + o.items.filter(i => i.productId === p.id).reduce((t, i) => t + i.quantity, 0), 0);
		const paidUnits = units(orders.filter(o => PAID.has(o.status)));
		const heldUnits = units(pending);
		const now = shown.get(p.id);
		if (now === undefined || typeof now === "string") {
			unreadable.push(`${p.sku}: GET /products/${p.id} answered ${now ?? "nothing"}`);
			continue;
		}
		states.push({ sku: p.sku, initial: p.initial, stock: now.stock, available: now.available, paidUnits, heldUnits });
		if (now.stock < 0 || now.available < 0 || paidUnits > p.initial) {
			permanent = true;
			violations.push(
				`OVERSOLD ${p.sku}: ${p.initial} in stock at the start, ${paidUnits} units in paid orders, the shop shows stock ${now.stock}, available ${now.available}`,
			);
			continue;
		}
		if (now.stock !== p.initial - paidUnits)
			violations.push(
				`stock of ${p.sku} is ${now.stock}, expected ${p.initial - paidUnits} (${p.initial} at the start − ${paidUnits} units in paid orders)`,
			);
		if (now.available !== now.stock - heldUnits)
			violations.push(
				`available of ${p.sku} is ${now.available}, expected ${now.stock - heldUnits} (stock ${now.stock} − ${heldUnits} units held by pending orders)`,
			);
	}
	return { violations, unreadable, permanent, states, pending: pending.length };
}

export async function checkInventory(
	base: string,
	adminToken: string,
	products: BenchProduct[],
	listOrders: () => Promise<OrderView[]>,
	timeoutMs: number,
): Promise<InvariantReport> {
	const deadline = Date.now() + timeoutMs;
	let orders: OrderView[] | undefined;
	for (;;) {
		// Settled orders stay settled: the list is read again only while some are pending.
		if (!orders || orders.some(o => o.status === "pending")) orders = await listOrders();
		const shown = new Map<string, { stock: number; available: number } | string>();
		for (const p of products) {
			try {
				const res = await api<{ stock: number; available: number }>(base, "GET", `/api/v1/products/${p.id}`, undefined, bearer(adminToken));
				shown.set(p.id, res.status === 200 ? { stock: res.body.stock, available: res.body.available } : `${res.status} ${JSON.stringify(res.body)}`);
			} catch (err) {
				shown.set(p.id, (err as Error).message);
			}
		}
		const r = evaluate(products, shown, orders);
		const done = r.violations.length === 0 && r.unreadable.length === 0 && r.pending === 0;
		if (done || r.permanent || Date.now() > deadline)
			return { ok: done, violations: r.violations, unreadable: r.unreadable, products: r.states, pendingOrders: r.pending };
		await sleep(500);
	}
}
