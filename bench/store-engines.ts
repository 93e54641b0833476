/**
 * What one order's writes cost in the embedded store, NeDB (lib/store/nedb.ts, as the shop runs it:
 * its indexes, the kept-open data file) against an embedded SQLite (`node:sqlite`, WAL), before
 * writing a whole store adapter on SQLite: run by hand, under the CPU lock,
 *
 *   sh scripts/with-node.sh npx tsx bench/store-engines.ts --orders 3000 --existing 20000
 *
 * The work is the order document's own life in a checkout, done `--concurrency` orders at a time
 * against a collection that already holds `--existing` orders: insert it (with its event in the
 * outbox), read it, the compare-and-set to paid (read, decide, write if unchanged, read back), and
 * the relay's pull of each of its two events. The SQLite side keeps the documents as JSON text with
 * the indexed fields in columns, and applies the same MongoDB-style updates with NeDB's own
 * `modify` (what a SQLite adapter would have to do too), each compare-and-set in one transaction.
 * Figures: CPU time (user + system) per order and orders per second of wall time, one process.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { DatabaseSync } from "node:sqlite";
import { Collection, createNedbAdapter } from "../lib/store/index.js";

const nedbModel = createRequire(createRequire(import.meta.url).resolve("moleculer-db"))("@seald-io/nedb/lib/model.js") as {
	modify(doc: object, update: object): Record<string, unknown>;
};

function arg(name: string, fallback: number): number {
	const at = process.argv.indexOf(`--${name}`);
	const v = at >= 0 ? Number(process.argv[at + 1]) : fallback;
	if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive whole number`);
	return v;
}

interface OrderDoc {
	_id: string;
	userId: string;
	status: string;
	createdAt: string;
	items: { productId: string; name: string; quantity: number; unitPrice: number }[];
	shippingAddress: Record<string, string>;
	payment: Record<string, unknown>;
	statusHistory: { status: string; at: string }[];
	outbox: { id: string; type: string; payload: unknown }[];
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

const paidUpdate = (at: string) => ({
	$set: { status: "paid", updatedAt: at, "payment.status": "captured", "payment.captured": 5997 },
	$push: { statusHistory: { $each: [{ status: "paid", at }] }, outbox: { $each: [{ id: `paid-${at}`, type: "order.paid", payload: {} }] } },
});

interface Store {
	insert(doc: OrderDoc): Promise<void>;
	get(id: string): Promise<OrderDoc | null>;
	/** Write `update` if the document still has `status`; true when written. */
	changeIf(id: string, status: string, update: object): Promise<boolean>;
	pullOutbox(id: string, eventIds: string[]): Promise<void>;
	close(): Promise<void>;
}

async function nedbStore(dir: string): Promise<Store> {
	const adapter = createNedbAdapter(dir, "bench", "orders", {
		indexes: [
			{ fields: { userId: 1, createdAt: -1 } },
			{ fields: { status: 1, createdAt: 1 } },
			{ fields: { createdAt: -1 } },
			{ fields: { "pendingRefund.key": 1 }, sparse: true },
		],
	});
	await adapter.connect();
	const c = new Collection<OrderDoc>("orders", adapter, "nedb");
	return {
		insert: async doc => void (await c.insert(doc)),
		get: id => c.findById(id),
		changeIf: async (id, status, update) => (await c.updateWhere({ _id: id, status }, update)) === 1,
		pullOutbox: async (id, eventIds) => void (await c.updateWhere({ _id: id }, { $pull: { outbox: { id: { $in: eventIds } } } })),
		close: () => adapter.disconnect(),
	};
}

function sqliteStore(dir: string): Store {
	const db = new DatabaseSync(path.join(dir, "orders.sqlite"));
	db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
	db.exec(
		"CREATE TABLE orders (id TEXT PRIMARY KEY, userId TEXT, status TEXT, createdAt TEXT, body TEXT NOT NULL);" +
			"CREATE INDEX orders_user ON orders (userId, createdAt DESC); CREATE INDEX orders_status ON orders (status, createdAt);" +
			"CREATE INDEX orders_created ON orders (createdAt DESC);",
	);
	const insert = db.prepare("INSERT INTO orders (id, userId, status, createdAt, body) VALUES (?, ?, ?, ?, ?)");
	const select = db.prepare("SELECT body FROM orders WHERE id = ?");
	const write = db.prepare("UPDATE orders SET status = ?, body = ? WHERE id = ?");
	const read = (id: string): OrderDoc | null => {
		const row = select.get(id) as { body: string } | undefined;
		return row ? (JSON.parse(row.body) as OrderDoc) : null;
	};
	/** Read, apply the MongoDB-style update, write: in one transaction (a compare-and-set without a retry loop). */
	const change = (id: string, accept: (doc: OrderDoc) => boolean, update: object): boolean => {
		db.exec("BEGIN IMMEDIATE");
		try {
			const doc = read(id);
			if (!doc || !accept(doc)) {
				db.exec("COMMIT");
				return false;
			}
			const next = nedbModel.modify(doc, update) as unknown as OrderDoc;
			write.run(next.status, JSON.stringify(next), id);
			db.exec("COMMIT");
			return true;
		} catch (err) {
			db.exec("ROLLBACK");
			throw err;
		}
	};
	return {
		insert: async doc => void insert.run(doc._id, doc.userId, doc.status, doc.createdAt, JSON.stringify(doc)),
		get: async id => read(id),
		changeIf: async (id, status, update) => change(id, d => d.status === status, update),
		pullOutbox: async (id, eventIds) => void change(id, () => true, { $pull: { outbox: { id: { $in: eventIds } } } }),
		close: async () => db.close(),
	};
}

/** One order's life as the orders service writes it. */
async function lifeOf(store: Store, i: number): Promise<void> {
	const doc = order(i);
	await store.insert(doc);
	await store.pullOutbox(doc._id, [doc.outbox[0]!.id]);
	const read = await store.get(doc._id);
	if (!read) throw new Error(`order ${doc._id} not found`);
	const at = new Date().toISOString();
	if (!(await store.changeIf(doc._id, "pending", paidUpdate(at)))) throw new Error(`order ${doc._id}: compare-and-set lost`);
	const after = await store.get(doc._id);
	if (after?.status !== "paid") throw new Error(`order ${doc._id} not paid`);
	await store.pullOutbox(doc._id, [`paid-${at}`]);
}

async function measure(name: string, store: Store, existing: number, orders: number, concurrency: number) {
	for (let i = 0; i < existing; i++) await store.insert(order(i));
	let next = existing;
	const end = existing + orders;
	const cpu0 = process.cpuUsage();
	const t0 = performance.now();
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (next < end) await lifeOf(store, next++);
		}),
	);
	const wallS = (performance.now() - t0) / 1000;
	const cpu = process.cpuUsage(cpu0);
	await store.close();
	return { name, perOrderCpuUs: (cpu.user + cpu.system) / orders, ordersPerSecond: orders / wallS };
}

async function main(): Promise<void> {
	const orders = arg("orders", 3000);
	const existing = arg("existing", 20000);
	const concurrency = arg("concurrency", 10);
	const results = [];
	for (const name of ["nedb", "sqlite"] as const) {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), `shop-store-${name}-`));
		try {
			const store = name === "nedb" ? await nedbStore(dir) : sqliteStore(dir);
			results.push(await measure(name, store, existing, orders, concurrency));
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	}
	process.stdout.write(`${orders} orders (6 store operations each) over ${existing} existing, ${concurrency} at a time, Node ${process.version}\n`);
	process.stdout.write("| store | CPU per order µs | orders/s (wall) |\n| --- | --: | --: |\n");
	for (const r of results) process.stdout.write(`| ${r.name} | ${r.perOrderCpuUs.toFixed(0)} | ${r.ordersPerSecond.toFixed(0)} |\n`);
}

await main();
