/**
 * The products service reports its search index's memory and build time on the node's /metrics
 * (shop_search_index_bytes, shop_search_index_build_seconds): one process with the demo catalog.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRICS } from "../../lib/observability/metrics.js";
import { freePort, startShop, type TestShop } from "../helpers/shop.js";

/** The value of a series in a Prometheus text exposition (its only labels are the node's). */
function valueOf(text: string, name: string): number | undefined {
	const line = text.split("\n").find(l => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
	return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("search index metrics", () => {
	let shop: TestShop;
	let metricsPort: number;

	beforeAll(async () => {
		metricsPort = await freePort();
		shop = await startShop({ env: { SEED_DEMO: "true", METRICS_ENABLED: "true", METRICS_PORT: String(metricsPort) } });
	}, 60_000);
	afterAll(async () => shop?.stop());

	it("shows the index's estimated bytes and its last build time, both plausible", async () => {
		const page = (await (await fetch(`${shop.baseUrl}/api/v1/products?pageSize=1`)).json()) as { total: number };
		expect(page.total).toBeGreaterThan(0);
		const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
		const bytes = valueOf(text, METRICS.searchIndexBytes);
		const seconds = valueOf(text, METRICS.searchIndexBuildSeconds);
		// At least a few hundred bytes a product (its id, name, terms and postings), far below a megabyte each.
		expect(bytes).toBeGreaterThan(page.total * 200);
		expect(bytes).toBeLessThan(page.total * 1_000_000 + 50_000_000);
		expect(seconds).toBeGreaterThan(0);
	});
});
