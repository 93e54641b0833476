/**
 * Where the project's files are, found the same way whether the code runs from its sources (tsx)
 * or compiled into dist/ (plain node): the nearest folder above this module that holds the
 * shop's package.json.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(from: string): string {
	for (let dir = from; ; dir = path.dirname(dir)) {
		const manifest = path.join(dir, "package.json");
		if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string }).name === "moleculer-shop") return dir;
		if (path.dirname(dir) === dir) throw new Error(`No moleculer-shop package.json above ${from}`);
	}
}

export const PROJECT_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));
/** The built web shop the gateway serves. */
export const WEB_DIST = path.join(PROJECT_ROOT, "web", "dist");
