/**
 * What one order's document life costs in each embedded store adapter as the shop runs it
 * (lib/store: SQLite and NeDB, with the orders collection's indexes), run by hand under the CPU lock:
 *
 *   sh scripts/with-node.sh npx tsx bench/store-adapters.ts --orders 3000 --existing 20000
 *
 * Per order: insert with its event in the outbox, read, compare-and-set to paid with a second
 * event, read back, and the relay's two pulls of its outbox. Figures: CPU µs per order and
 * orders per second of wall time, `--concurrency` orders at a time.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Collection, createNedbAdapter, createSqliteAdapter, type CollectionSpec } from "../lib/store/index.js";

function arg(name: string, fallback: number): number {
	const at = process.argv.indexOf(`--${name}`);
	const v = at >= 0 ? Number(process.argv[at + 1]) : fallback;
	if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive whole number`);
	return v;
}

const ORDERS: CollectionSpec = {
	indexes: [
		{ fields: { userId: 1, createdAt: -1 } },
		{ fields: { status: 1, createdAt: 1 } },
		{ fields: { createdAt: -1 } },
		{ fields: { "pendingRefund.key": 1 }, sparse: true },
	],
};

interface OrderDoc {
	_id: string;
	userId: string;
	status: string;
	createdAt: string;
	items: { productId: string; name: string; quantity: number; unitPrice: number }[];
	shippingAddress: Record<string, string>;
	payment: Record<string, unknown>;
	statusHistory: { status: string; at: string }[];
	outbox?: { id: string; type: string; payload: unknown }[];
	total: number;
}

function order(i: number): OrderDoc {
	const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
	const id = `order-${i.toString().padStart(8, "0")}`;
	return {
		_id: id,
		userId: `user-${i % 500}`,
		status: "pending",
		createdAt: at,
		items: [1, 2].map(n => ({ productId: `product-${(i * 7 + n) % 1000}`, name: `A product name ${n}`, quantity: n, unitPrice: 1999 })),
		shippingAddress: { name: "Bench", line1: "1 Load St", city: "Testville", postalCode: "12345", country: "US" },
		payment: { provider: "simulated", status: "authorized", amount: 5997, currency: "EUR", authorizationId: `auth-${i}`, captured: 0 },
		statusHistory: [{ status: "pending", at }],
		outbox: [{ id: `evt-${i}-placed`, type: "order.placed", payload: { orderId: id, items: [{ productId: "p", quantity: 1 }] } }],
		total: 5997,
	};
}

async function lifeOf(c: Collection<OrderDoc>, i: number): Promise<void> {
	const doc = order(i);
	await c.insert(doc);
	await c.findById(doc._id);
	await c.updateWhere({ _id: doc._id }, { $pull: { outbox: { id: { $in: [`evt-${i}-placed`] } } } });
	const at = new Date().toISOString();
	const n = await c.updateWhere(
		{ _id: doc._id, status: "pending" },
		{
			$set: { status: "paid", updatedAt: at, "payment.status": "captured" },
			$push: { statusHistory: { status: "paid", at }, outbox: { $each: [{ id: `evt-${i}-paid`, type: "order.paid", payload: {} }] } },
		},
	);
	if (n !== 1) throw new Error("compare-and-set lost");
	await c.findById(doc._id);
	await c.updateWhere({ _id: doc._id }, { $pull: { outbox: { id: { $in: [`evt-${i}-paid`] } } } });
}

async function measure(kind: "sqlite" | "nedb", existing: number, orders: number, concurrency: number) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), `store-adapters-${kind}-`));
	try {
		const adapter = (kind === "sqlite" ? createSqliteAdapter : createNedbAdapter)(dir, "bench", "orders", ORDERS);
		await adapter.connect();
		const c = new Collection<OrderDoc>("orders", adapter, kind);
		for (let i = 0; i < existing; i++) await c.insert({ ...order(i), status: "paid", outbox: [] });
		const cpu0 = process.cpuUsage();
		const t0 = performance.now();
		let next = existing;
		await Promise.all(
			Array.from({ length: concurrency }, async () => {
				while (next < existing + orders) await lifeOf(c, next++);
			}),
		);
		const wall = (performance.now() - t0) / 1000;
		const cpu = process.cpuUsage(cpu0);
		await adapter.disconnect();
		console.log(
			`${kind}: ${((cpu.user + cpu.system) / orders).toFixed(0)} µs CPU per order, ${(orders / wall).toFixed(0)} orders/s (${existing} existing)`,
		);
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

const existing = arg("existing", 20_000);
const orders = arg("orders", 3000);
const concurrency = arg("concurrency", 10);
for (const kind of process.env.ONLY ? [process.env.ONLY as "sqlite"] : (["sqlite", "nedb"] as const)) await measure(kind, existing, orders, concurrency);
