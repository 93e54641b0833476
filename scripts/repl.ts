/**
 * npm run repl: join a running cluster as a node with no services and open the Moleculer REPL.
 *
 * It uses the cluster's TRANSPORTER and NAMESPACE (the same environment as the nodes), names
 * itself `repl-<host>-<pid>` (NODE_ID to change it) and keeps its metrics endpoint off
 * (METRICS_ENABLED=false unless set) so it never fights a node on the same host for port 3030.
 * docs/operations.md has examples; the commands `ready` and `shop-metrics` come from
 * lib/observability/operator.ts.
 */
import os from "node:os";
import { ServiceBroker } from "moleculer";

process.env.METRICS_ENABLED ??= "false";
process.env.LOG_LEVEL ??= "warn";
process.env.NODE_ID ??= `repl-${os.hostname()}-${process.pid}`;

const { config } = await import("../lib/config.js");
const { brokerOptions } = await import("../moleculer.config.js");

if (!config.transporter) {
	console.error(
		"TRANSPORTER is not set: there is no cluster to join. Set it as for the nodes (e.g. TRANSPORTER=nats://127.0.0.1:4222),\n" +
			"or run the one-process shop with its own REPL: npm start -- --repl",
	);
	process.exit(2);
}

const broker = new ServiceBroker(brokerOptions(config));
await broker.start();
console.log(`Joined namespace '${config.namespace}' as ${broker.nodeID}. Try: nodes, services, ready, shop-metrics, help.`);
broker.repl();
