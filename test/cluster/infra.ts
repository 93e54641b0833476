/**
 * Cluster tests need the real servers (npm run infra:up). Without them they skip with a clear
 * message; with REQUIRE_INFRA=1 (CI) a missing server is a failure instead.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

export const INFRA = {
	nats: process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222",
	mongo: process.env.TEST_MONGO_URL ?? "mongodb://127.0.0.1:27017",
	kafka: process.env.TEST_KAFKA_BROKERS ?? "127.0.0.1:9092",
	stripe: process.env.TEST_STRIPE_API_BASE ?? "http://127.0.0.1:12111",
	/** Mailpit: SMTP and its HTTP API. */
	mailpitSmtp: process.env.TEST_MAILPIT_SMTP ?? "127.0.0.1:1025",
	mailpitHttp: process.env.TEST_MAILPIT_HTTP ?? "127.0.0.1:8025",
};

type Server = "nats" | "mongo" | "kafka" | "stripe" | "mailpit";

function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
	return new Promise(resolve => {
		const socket = net.connect({ host, port });
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(timeoutMs, () => done(false));
		socket.on("connect", () => done(true));
		socket.on("error", () => done(false));
	});
}

function hostPort(url: string, defaultPort: number): [string, number] {
	const m = /^(?:\w+:\/\/)?([^:/]+)(?::(\d+))?/.exec(url);
	return [m?.[1] ?? "127.0.0.1", Number(m?.[2] ?? defaultPort)];
}

/** Which servers are missing: empty when all answer. */
export async function missingInfra(needs: Server[] = ["nats", "mongo", "kafka"]): Promise<string[]> {
	const missing: string[] = [];
	const addresses = (n: Server): [string, number][] =>
		n === "nats"
			? [hostPort(INFRA.nats, 4222)]
			: n === "mongo"
				? [hostPort(INFRA.mongo, 27017)]
				: n === "kafka"
					? [hostPort(INFRA.kafka.split(",")[0]!, 9092)]
					: n === "stripe"
						? [hostPort(INFRA.stripe, 12111)]
						: [hostPort(INFRA.mailpitSmtp, 1025), hostPort(INFRA.mailpitHttp, 8025)];
	for (const n of needs) {
		for (const [h, p] of addresses(n)) if (!(await reachable(h, p))) missing.push(`${n} (${h}:${p})`);
	}
	return missing;
}

/** Command-line tools (e.g. `kcat`) that are not on PATH. */
export function missingTools(tools: string[]): string[] {
	const dirs = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
	return tools.filter(t => !dirs.some(d => fs.existsSync(path.join(d, t))));
}

/**
 * Decides whether this cluster test file runs. Returns true to skip. Throws when REQUIRE_INFRA=1
 * and a server (or a tool the file uses, such as `kcat`) is missing.
 */
export async function skipWithoutInfra(needs?: Server[], tools: string[] = [], files: string[] = []): Promise<boolean> {
	const missing = [
		...(await missingInfra(needs)),
		...missingTools(tools).map(t => `the '${t}' command`),
		...files.filter(f => !fs.existsSync(f)).map(f => `the file ${f}`),
	];
	if (missing.length === 0) return false;
	const msg = `cluster servers not reachable or tools not found: ${missing.join(", ")}. Start (and install) them with 'npm run infra:up'.`;
	if (process.env.REQUIRE_INFRA === "1") throw new Error(`REQUIRE_INFRA=1 and ${msg}`);
	console.warn(`SKIPPED cluster tests: ${msg}`);
	return true;
}
