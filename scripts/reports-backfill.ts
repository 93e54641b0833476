/**
 * npm run reports:backfill [-- --reset]: rebuild the reports service's read model through the
 * owning services' actions (orders, products, tickets), never their databases.
 *
 * It joins the running cluster as a node without services (TRANSPORTER and NAMESPACE as for the
 * nodes), waits for the reports service and calls `reports.backfill` as the reports service's
 * own admin. `--reset` forgets the read model first (when it is wrong); without it, what is
 * missing is added and nothing is counted twice. The one-process shop (no TRANSPORTER) has the
 * same as an admin route: POST /api/v1/reports/backfill {"reset": true}.
 */
import os from "node:os";
import { ServiceBroker } from "moleculer";

process.env.METRICS_ENABLED ??= "false";
process.env.LOG_LEVEL ??= "warn";
process.env.NODE_ID ??= `reports-backfill-${os.hostname()}-${process.pid}`;

const { config } = await import("../lib/config.js");
const { brokerOptions } = await import("../moleculer.config.js");
const { REPORTS_SERVICE_USER } = await import("../services/reports/backfill.js");

if (!config.transporter) {
	console.error(
		"TRANSPORTER is not set: there is no cluster to join. Set it as for the nodes (e.g. TRANSPORTER=nats://127.0.0.1:4222),\n" +
			'or, on the one-process shop, POST /api/v1/reports/backfill {"reset": true} as an admin.',
	);
	process.exit(2);
}

const reset = process.argv.includes("--reset");
const broker = new ServiceBroker(brokerOptions(config));
await broker.start();
try {
	await broker.waitForServices(["reports", "orders", "products", "tickets"], 60_000);
	const outcome = await broker.call("reports.backfill", { reset }, { meta: { user: REPORTS_SERVICE_USER }, timeout: 0 });
	console.log(JSON.stringify(outcome));
} catch (err) {
	console.error(`Backfill failed: ${(err as Error).message}`);
	process.exitCode = 1;
} finally {
	await broker.stop();
}
