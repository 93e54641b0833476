/**
 * Starts one node. With SERVICES unset it is the whole shop in one process (npm start);
 * with SERVICES=users,api it is one node of a cluster (npm run node). Ctrl-C / SIGTERM stop it
 * cleanly: the gateway stops taking requests, in-flight calls finish, databases close.
 */
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { config } from "../lib/config.js";
import { PROJECT_ROOT } from "../lib/paths.js";
import { createShopBroker } from "../services/index.js";

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

async function main() {
	if (config.services.length === 0 || config.services.includes("api")) ensureWebBuild();
	const broker = createShopBroker();
	let stopping = false;
	const stop = async (signal: string) => {
		if (stopping) return;
		stopping = true;
		broker.logger.info(`${signal} received, stopping...`);
		const timer = setTimeout(() => process.exit(1), 15_000);
		try {
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
