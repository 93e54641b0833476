/**
 * Search at BENCH_PRODUCTS_LARGE products (default 1,000,000), in one process on NeDB: p50/p99 of
 * the rotating query log, and what the catalog costs the products service in memory and start-up
 * time:
 *
 * - memory: the shop reports no figure of its own, so: the RSS of the process after its first
 *   search over the whole catalog, minus the RSS of the same shop started on an empty catalog
 *   (NeDB's copy of the documents plus the search index: the two are not told apart);
 * - time: from spawning the process to /api/ready, and to the first search answered; and the
 *   build time of the index as the products service logs it ("Search index built: ... in N ms").
 *
 * Whatever the products node says itself is shown beside: every `shop_search*` series on its
 * metrics endpoint, and the lines of its log (LOG_LEVEL=info here) that speak of an index.
 */
import fs from "node:fs";
import path from "node:path";
import { scrape, seriesStartingWith } from "./http.js";
import { log } from "./processes.js";
import { missingRow, type Row } from "./report.js";
import { calibrateIdle, catalogLabel, search, spreadIds, waitIdle } from "./reads.js";
import { seedEmbedded } from "./catalog.js";
import { startOneProcess, type Startup } from "./shop.js";

export interface LargeResult {
	products: number;
	seedSeconds: number;
	startup: Startup;
	emptyRss?: number;
	/** RSS after the first search minus the empty shop's RSS (bytes). */
	catalogRss?: number;
	/** `shop_search*` series of the products node, as the shop reported them. */
	shopMetrics: Record<string, number>;
	/** Log lines of the products service that mention an index. */
	shopLog: string[];
	/** Where the memory and time figures come from. */
	method: string;
}

export interface LargeOptions {
	products: number;
	connections: number;
	duration: number;
	queries: string[];
	probeQuery: string;
	facets: boolean;
	workDir: string;
	logDir: string;
}

/** RSS of the shop in one process on an empty catalog: the part of the memory that is not the catalog. */
export async function emptyShopRss(workDir: string, logDir: string, probeQuery: string): Promise<number | undefined> {
	const dataDir = path.join(workDir, "empty");
	fs.mkdirSync(dataDir, { recursive: true });
	const shop = await startOneProcess({ dataDir, logDir, probeQuery, readyTimeoutMs: 120_000 }, "shop-empty");
	try {
		return shop.startup.rssAfterFirstSearch;
	} finally {
		await shop.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	}
}

export async function searchLarge(o: LargeOptions, emptyRss: number | undefined): Promise<{ rows: Row[]; result: LargeResult }> {
	const dataDir = path.join(o.workDir, "catalog-large");
	try {
		const seeded = await seedEmbedded("sqlite", o.products, dataDir, o.logDir);
		log(`starting the shop on ${o.products} products (SQLite; the products service builds its search index, then gets ready)...`);
		const shop = await startOneProcess(
			{ dataDir, logDir: o.logDir, logLevel: "info", probeQuery: o.probeQuery, readyTimeoutMs: 45 * 60_000 },
			"shop-large",
		);
		const rows: Row[] = [];
		let shopMetrics: Record<string, number> = {};
		try {
			shopMetrics = seriesStartingWith((await scrape(shop.productsMetrics)) ?? "", "shop_search");
			const label = catalogLabel(o.products);
			await calibrateIdle(shop, spreadIds(o.products, 1)[0]!);
			for (const facets of o.facets ? [false, true] : [false]) {
				try {
					rows.push(await search(shop, { ...o, catalog: label, facets, timeoutSeconds: 60 }));
				} catch (err) {
					log(`search at ${label}${facets ? " + facets" : ""}: ${(err as Error).message}`);
					rows.push(missingRow(`search ${label}${facets ? " + facets" : ""}`, shop.mode, shop.store, "req/s", (err as Error).message));
				}
				await waitIdle(shop);
			}
		} finally {
			await shop.stop();
		}
		const shopLog = shop.startup.indexLog ?? [];
		const catalogRss = emptyRss !== undefined && shop.startup.rssAfterFirstSearch !== undefined ? shop.startup.rssAfterFirstSearch - emptyRss : undefined;
		const method =
			"memory: RSS of the process after its first search minus the RSS of an empty shop (the shop reports no index memory); time: from spawning it to /api/ready and to the first search answered" +
			(shop.startup.indexBuildSeconds !== undefined ? ", and the build time the products service logs" : "");
		return {
			rows,
			result: { products: o.products, seedSeconds: seeded.seconds, startup: shop.startup, emptyRss, catalogRss, shopMetrics, shopLog, method },
		};
	} finally {
		fs.rmSync(dataDir, { recursive: true, force: true });
	}
}
