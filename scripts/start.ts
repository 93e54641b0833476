/**
 * Starts one node. With SERVICES unset it is the whole shop in one process (npm start);
 * with SERVICES=users,api it is one node of a cluster (npm run node). Ctrl-C / SIGTERM stop it
 * cleanly, without failing a request:
 *   1. a gateway drains first: /api/ready says 503 while it keeps serving for DRAIN_DELAY_MS (a
 *      load balancer takes it out of rotation), then its listener closes and its requests finish;
 *   2. the node leaves the registry and its NATS queue groups (calls stop coming; those already
 *      handed to it are served), the calls it is running finish (at most 10 s), a call that still
 *      arrives is refused unrun (the caller sends it to another node);
 *   3. services stop: consumers finish their current event and commit, the outbox relay publishes
 *      what they wrote, databases close; then the process exits.
 * The whole stop is bounded by STOP_TIMEOUT_MS.
 */
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import type { Server } from "node:http";
import type { ServiceBroker } from "moleculer";
import { config } from "../lib/config.js";
import { PROJECT_ROOT } from "../lib/paths.js";
import { createShopBroker } from "../services/index.js";
import type { GatewayReadiness } from "../services/api/readiness.js";

/**
 * The gateway serves the web shop from web/dist: build it once if it is missing, so that a fresh
 * clone's `npm ci && npm start` shows the shop (WEB_BUILD=false skips this).
 */
function ensureWebBuild(): void {
	const root = PROJECT_ROOT;
	if (process.env.WEB_BUILD === "false" || fs.existsSync(path.join(root, "web", "dist", "index.html"))) return;
	if (!fs.existsSync(path.join(root, "web", "package.json"))) return;
	console.log("Building the web shop once (web/dist is missing) ...");
	const result = spawnSync("npm", ["run", "--silent", "build", "-w", "web"], { cwd: root, stdio: "inherit" });
	if (result.status !== 0) console.error("The web shop could not be built; the API still runs. See the output above.");
}

/** The gateway of this node, if it runs one: out of rotation, then its listener closed once its requests are done. */
async function drainGateway(broker: ServiceBroker): Promise<void> {
	const api = broker.getLocalService("api") as unknown as { gateway?: GatewayReadiness; server?: Server } | undefined;
	if (!api?.gateway) return;
	broker.logger.info(`Gateway draining: not ready, serving for ${config.stop.drainDelayMs} ms more, then closing its listener`);
	await api.gateway.drain(api.server, config.stop.drainDelayMs, Math.max(1000, config.stop.timeoutMs / 2));
}

async function main() {
	if (config.services.length === 0 || config.services.includes("api")) ensureWebBuild();
	const broker = createShopBroker();
	let stopping = false;
	const stop = async (signal: string) => {
		// A second signal changes nothing (tsx and a terminal may both deliver one); STOP_TIMEOUT_MS bounds the stop.
		if (stopping) return;
		stopping = true;
		broker.logger.info(`${signal} received, stopping...`);
		const timer = setTimeout(() => {
			broker.logger.error(`Not stopped within ${config.stop.timeoutMs} ms: exiting`);
			process.exit(1);
		}, config.stop.timeoutMs);
		try {
			// Without a transporter there is nobody to hand over to: no drain delay.
			if (broker.transit) await drainGateway(broker);
			await broker.stop();
			clearTimeout(timer);
			process.exit(0);
		} catch {
			process.exit(1);
		}
	};
	process.on("SIGINT", () => void stop("SIGINT"));
	process.on("SIGTERM", () => void stop("SIGTERM"));
	await broker.start();
	if (process.argv.includes("--repl")) broker.repl();
	if (broker.getLocalService("api")) broker.logger.info(`Shop is listening on http://${config.host}:${config.port}/api/v1`);
}

if (import.meta.url === `file://${process.argv[1]}` || /scripts\/start\.[jt]s$/.test(process.argv[1] ?? "")) {
	main().catch(err => {
		console.error("Failed to start:", err);
		process.exit(1);
	});
}
