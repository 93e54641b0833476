/**
 * The catalog under test and what a run leaves behind. The catalog is seeded by `scripts/seed.ts
 * --products N` itself, in a child process (the same generator as `npm run seed`: bench/catalog-
 * generator.ts, seed 7): into the embedded store's files (SQLite or NeDB), copied for each shop that runs on them, or into FerretDB
 * under the run's own DB_PREFIX. The run's FerretDB databases and Kafka topics and consumer groups
 * are removed at the end.
 */
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { EmbeddedStore } from "./config.js";
import { log, runToEnd } from "./processes.js";
import { storeName } from "./report.js";

export interface Seeded {
	products: number;
	seconds: number;
}

/** Seeds the demo catalog plus `count` generated products, with the given storage environment. */
export async function seedCatalog(count: number, env: Record<string, string>, logFile: string, where: string): Promise<Seeded> {
	const started = performance.now();
	log(`seeding ${count} generated products into ${where}...`);
	await runToEnd(
		"seed",
		["--max-old-space-size=8192", "--import", "tsx", "scripts/seed.ts", "--products", String(count)],
		{ LOG_LEVEL: "warn", ...env },
		logFile,
		60 * 60_000,
	);
	const seconds = (performance.now() - started) / 1000;
	log(`seeded in ${seconds.toFixed(1)} s`);
	return { products: count, seconds };
}

export function seedEmbedded(store: EmbeddedStore, count: number, dataDir: string, logDir: string): Promise<Seeded> {
	fs.mkdirSync(dataDir, { recursive: true });
	return seedCatalog(
		count,
		{ DATA_DIR: dataDir, MONGO_URL: "", EMBEDDED_STORE: store },
		path.join(logDir, `seed-${store}-${count}.log`),
		`${storeName(store)} files in ${dataDir}`,
	);
}

export function seedFerretdb(count: number, mongoUrl: string, dbPrefix: string, logDir: string): Promise<Seeded> {
	return seedCatalog(count, { MONGO_URL: mongoUrl, DB_PREFIX: dbPrefix }, path.join(logDir, `seed-ferretdb-${count}.log`), `FerretDB (${dbPrefix}products)`);
}

/** A fresh DATA_DIR holding a copy of a seeded catalog (checkout changes stock, so each shop gets its own). */
export function copyCatalog(seededDir: string, dataDir: string): void {
	fs.mkdirSync(dataDir, { recursive: true });
	fs.cpSync(path.join(seededDir, "products"), path.join(dataDir, "products"), { recursive: true });
}

const within = <T>(ms: number, p: Promise<T>): Promise<T> =>
	Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms))]);

/** Drops every database whose name starts with `prefix` (the run's own). */
export async function dropDatabases(mongoUrl: string, prefix: string): Promise<string[]> {
	const { default: mongoose } = await import("mongoose");
	const conn = mongoose.createConnection(mongoUrl, { serverSelectionTimeoutMS: 5000 });
	try {
		await within(15_000, conn.asPromise());
		const { databases } = await within(15_000, conn.db!.admin().listDatabases());
		const ours = databases.map(d => d.name).filter(n => n.startsWith(prefix));
		for (const name of ours) await within(60_000, conn.useDb(name).dropDatabase());
		return ours;
	} finally {
		await conn.close().catch(() => undefined);
	}
}

/** Deletes the Kafka topics and consumer groups of a namespace (`<ns>.orders`, `<ns>.products`, ...). */
export async function deleteKafkaNamespace(brokers: string, namespace: string): Promise<{ topics: string[]; groups: string[] }> {
	const { Admin } = await import("@platformatic/kafka");
	const admin = new Admin({ clientId: "shop-bench", bootstrapBrokers: brokers.split(",").map(s => s.trim()) });
	const prefix = `${namespace}.`;
	try {
		const groups: string[] = [];
		const problems: string[] = [];
		for (const group of [...(await within(15_000, admin.listGroups())).keys()].filter(g => g.startsWith(prefix))) {
			// One at a time: a group the broker still counts as active is left, the others go.
			await within(15_000, admin.deleteGroups({ groups: [group] })).then(
				() => groups.push(group),
				(err: { message: string; errors?: { message: string }[] }) =>
					problems.push(`${group}: ${err.errors?.map(e => e.message).join("; ") ?? err.message}`),
			);
		}
		if (problems.length) log(`consumer groups not deleted: ${problems.join(" | ")}`);
		const topics = (await within(15_000, admin.listTopics())).filter(t => t.startsWith(prefix));
		if (topics.length) await within(30_000, admin.deleteTopics({ topics }));
		return { topics, groups };
	} finally {
		await admin.close().catch(() => undefined);
	}
}
