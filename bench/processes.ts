/**
 * Child processes of the benchmark: the baseline server, the shop's nodes, the seeder. Every one
 * started is remembered, so that an error or Ctrl-C stops them all (SIGTERM, then SIGKILL after a
 * bounded wait).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
export const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

const children = new Set<ChildProcess>();

export interface Started {
	name: string;
	child: ChildProcess;
	logFile: string;
	/** performance.now() at spawn. */
	spawnedAt: number;
}

export function startProcess(name: string, args: string[], env: Record<string, string>, logFile: string): Started {
	const out = fs.openSync(logFile, "a");
	const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", out, out] });
	const spawnedAt = performance.now();
	fs.closeSync(out);
	children.add(child);
	child.on("exit", () => children.delete(child));
	log(`started ${name} (pid ${child.pid}), log in ${logFile}`);
	return { name, child, logFile, spawnedAt };
}

export function exited(child: ChildProcess): boolean {
	return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(child: ChildProcess, graceMs = 20_000): Promise<void> {
	if (exited(child)) return;
	const gone = new Promise<void>(resolve => child.once("exit", () => resolve()));
	child.kill("SIGTERM");
	const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
	await gone;
	clearTimeout(timer);
}

export async function stopAll(graceMs = 10_000): Promise<void> {
	await Promise.all([...children].map(c => stopProcess(c, graceMs)));
}

export function killAll(): void {
	for (const c of children) c.kill("SIGKILL");
}

/** Runs a command to its end (bounded); rejects with the tail of its log when it fails. */
export async function runToEnd(name: string, args: string[], env: Record<string, string>, logFile: string, timeoutMs: number): Promise<void> {
	const p = startProcess(name, args, env, logFile);
	const code = await new Promise<number | null>(resolve => {
		const timer = setTimeout(() => p.child.kill("SIGKILL"), timeoutMs);
		p.child.once("exit", c => {
			clearTimeout(timer);
			resolve(c);
		});
	});
	if (code !== 0) throw new Error(`${name} failed (exit ${code ?? "killed"}); the end of ${logFile}:\n${tail(logFile, 15)}`);
}

export function tail(file: string, lines: number): string {
	try {
		return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
	} catch {
		return "(no log)";
	}
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, watch: Started[] = []): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const dead = watch.find(s => exited(s.child));
		if (dead) throw new Error(`${what}: ${dead.name} exited with code ${dead.child.exitCode}; the end of ${dead.logFile}:\n${tail(dead.logFile, 15)}`);
		try {
			if (await check()) return;
		} catch {
			/* not yet */
		}
		await sleep(250);
	}
	throw new Error(`${what}: not ready within ${Math.round(timeoutMs / 1000)} s`);
}

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.listen(0, "127.0.0.1", () => {
			const port = (srv.address() as net.AddressInfo).port;
			srv.close(() => resolve(port));
		});
		srv.on("error", reject);
	});
}

/** Whether something accepts TCP connections at the host and port of `url` (the first of a comma list). */
export function reachable(url: string, defaultPort: number): Promise<boolean> {
	const m = /^(?:\w+:\/\/)?(?:[^@/]*@)?([^:/,]+)(?::(\d+))?/.exec(url.split(",")[0]!.trim());
	const host = m?.[1] ?? "127.0.0.1";
	const port = Number(m?.[2] ?? defaultPort);
	return new Promise(resolve => {
		const socket = net.connect({ host, port });
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(1000, () => done(false));
		socket.on("connect", () => done(true));
		socket.on("error", () => done(false));
	});
}

/** Resident set size and its peak (bytes), from /proc; undefined where there is no /proc. */
export function memoryOf(pid: number | undefined): { rss: number; peak: number } | undefined {
	if (pid === undefined) return undefined;
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
		const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
		return { rss: kb("VmRSS"), peak: kb("VmHWM") };
	} catch {
		return undefined;
	}
}
