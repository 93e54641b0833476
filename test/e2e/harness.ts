/**
 * The browser tests' harness: build the web shop when web/dist is missing or older than its
 * sources, start the whole shop as `npm start` does (a child process on a free port with its
 * own DATA_DIR), drive Debian's chromium through playwright-core, and check every page with
 * axe-core. Without /usr/bin/chromium the tests skip with a message; with REQUIRE_INFRA=1 (CI)
 * that is a failure instead.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";
import { freePort } from "../helpers/shop.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const WEB = path.join(ROOT, "web");
export const DIST_INDEX = path.join(WEB, "dist", "index.html");
export const ARTIFACTS = path.join(ROOT, "test", "e2e", "artifacts");
export const SCREENSHOTS = path.join(ROOT, "docs", "screenshots");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const ADMIN_EMAIL = "admin@shop.test";
export const ADMIN_PASSWORD = "admin-password-123";

/** True to skip (no chromium); throws under REQUIRE_INFRA=1. */
export function skipWithoutChromium(): boolean {
	if (fs.existsSync(CHROMIUM)) return false;
	const msg = `${CHROMIUM} not found: the browser tests need Debian's chromium ('apt-get install -y --no-install-recommends chromium').`;
	if (process.env.REQUIRE_INFRA === "1") throw new Error(`REQUIRE_INFRA=1 and ${msg}`);
	console.warn(`SKIPPED browser tests: ${msg}`);
	return true;
}

function newestMtime(dir: string): number {
	let newest = 0;
	for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, entry.name);
		newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
	}
	return newest;
}

function webIsStale(): boolean {
	if (!fs.existsSync(DIST_INDEX)) return true;
	const built = fs.statSync(DIST_INDEX).mtimeMs;
	const sources = Math.max(
		newestMtime(path.join(WEB, "src")),
		newestMtime(path.join(WEB, "public")),
		...["index.html", "vite.config.ts", "package.json"].map(f => fs.statSync(path.join(WEB, f)).mtimeMs),
	);
	return sources > built;
}

/**
 * Build web/dist once when it is missing or older than web/src. Test files that need it may run
 * side by side: one builds under a lock directory, the others wait for it (bounded).
 */
export async function ensureWebBuild(timeoutMs = 180_000): Promise<void> {
	if (!webIsStale()) return;
	const lock = path.join(os.tmpdir(), `shop-web-build-${Buffer.from(ROOT).toString("hex").slice(-16)}.lock`);
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			fs.mkdirSync(lock);
			break;
		} catch {
			// Someone else builds; a lock older than the timeout is left from a killed run.
			const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
			if (age > timeoutMs) fs.rmSync(lock, { recursive: true, force: true });
			if (Date.now() > deadline) throw new Error("timed out waiting for another web build");
			await new Promise(r => setTimeout(r, 500));
			if (!webIsStale()) return;
		}
	}
	try {
		if (!webIsStale()) return;
		// vitest sets NODE_ENV=test, which would make Vite build a development bundle: build as `npm run build -w web` does.
		const res = spawnSync("npm", ["run", "--silent", "build", "-w", "web"], {
			cwd: ROOT,
			encoding: "utf8",
			timeout: timeoutMs,
			env: { ...process.env, NODE_ENV: "production" },
		});
		if (res.status !== 0) throw new Error(`npm run build -w web failed (${res.status ?? res.signal}):\n${res.stdout}\n${res.stderr}`);
	} finally {
		fs.rmSync(lock, { recursive: true, force: true });
	}
}

export interface RunningShop {
	baseUrl: string;
	dataDir: string;
	output(): string;
	stop(): Promise<void>;
}

/** The whole shop as `npm start` runs it: `node --import tsx scripts/start.ts`, ready when /api/ready says so. */
export async function startShopProcess(env: Record<string, string> = {}, readyTimeoutMs = 60_000): Promise<RunningShop> {
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-e2e-"));
	const port = await freePort();
	const metricsPort = await freePort();
	const childEnv: Record<string, string | undefined> = { ...process.env };
	delete childEnv.NODE_ENV; // as `npm start` runs it (vitest sets NODE_ENV=test)
	const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
		cwd: ROOT,
		env: {
			...childEnv,
			HOST: "127.0.0.1",
			PORT: String(port),
			METRICS_PORT: String(metricsPort),
			DATA_DIR: dataDir,
			ADMIN_EMAIL,
			ADMIN_PASSWORD,
			BCRYPT_COST: "4",
			RATE_LIMIT_PER_MINUTE: "1000000",
			AUTH_RATE_LIMIT_PER_MINUTE: "1000000",
			LOGIN_MAX_FAILURES: "1000",
			OUTBOX_POLL_MS: "200",
			LOG_LEVEL: "warn",
			WEB_BUILD: "false",
			MONGO_URL: "",
			KAFKA_BROKERS: "",
			TRANSPORTER: "",
			SERVICES: "",
			...env,
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	let out = "";
	const keep = (b: Buffer) => {
		out = (out + b.toString()).slice(-20_000);
	};
	child.stdout?.on("data", keep);
	child.stderr?.on("data", keep);
	const exited = new Promise<void>(resolve => child.once("exit", () => resolve()));
	const baseUrl = `http://127.0.0.1:${port}`;
	const stop = async () => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		child.kill("SIGTERM");
		const killed = await Promise.race([exited.then(() => true), new Promise<boolean>(r => setTimeout(() => r(false), 15_000))]);
		if (!killed) {
			child.kill("SIGKILL");
			await Promise.race([exited, new Promise(r => setTimeout(r, 5000))]);
		}
		fs.rmSync(dataDir, { recursive: true, force: true });
	};
	const deadline = Date.now() + readyTimeoutMs;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`the shop exited with ${child.exitCode}:\n${out}`);
		try {
			const res = await fetch(`${baseUrl}/api/ready`, { signal: AbortSignal.timeout(2000) });
			// The web shop signs in through /oidc, which is built once the users service answers.
			const oidc = res.status === 200 && (await fetch(`${baseUrl}/oidc/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2000) }));
			if (oidc && oidc.status === 200) break;
		} catch {
			/* not listening yet */
		}
		if (Date.now() > deadline) {
			await stop();
			throw new Error(`the shop was not ready within ${readyTimeoutMs} ms:\n${out}`);
		}
		await new Promise(r => setTimeout(r, 250));
	}
	return { baseUrl, dataDir, output: () => out, stop };
}

export function launchBrowser(): Promise<Browser> {
	return chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		timeout: 30_000,
		args: [
			"--no-sandbox",
			"--disable-gpu",
			"--disable-quic",
			"--no-first-run",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
		],
	});
}

export interface TrackedPage {
	context: BrowserContext;
	page: Page;
	/** Every request URL the page made. */
	urls: string[];
	/** Console errors and uncaught exceptions. */
	errors: string[];
	close(): Promise<void>;
}

export async function openPage(
	browser: Browser,
	baseUrl: string,
	opts: { locale?: string; viewport?: { width: number; height: number }; isMobile?: boolean } = {},
): Promise<TrackedPage> {
	const context = await browser.newContext({
		baseURL: baseUrl,
		locale: opts.locale ?? "en-US",
		viewport: opts.viewport ?? { width: 1280, height: 900 },
		isMobile: opts.isMobile,
		hasTouch: opts.isMobile,
		extraHTTPHeaders: opts.locale ? { "Accept-Language": opts.locale } : undefined,
	});
	context.setDefaultTimeout(15_000);
	context.setDefaultNavigationTimeout(20_000);
	const page = await context.newPage();
	const urls: string[] = [];
	const errors: string[] = [];
	page.on("request", r => urls.push(r.url()));
	page.on("pageerror", e => errors.push(`pageerror: ${e.message}`));
	page.on("console", m => {
		// A failed request is reported by the browser as a console error too; those are expected in some flows (a 401, a 422).
		if (m.type() === "error" && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
	});
	return { context, page, urls, errors, close: () => context.close() };
}

/** Save a full-page screenshot of what the page shows (git-ignored artifacts). */
export async function saveArtifact(page: Page, name: string): Promise<void> {
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	await page
		.screenshot({ path: path.join(ARTIFACTS, `${name.replace(/[^A-Za-z0-9_-]+/g, "-").slice(0, 80)}.png`), fullPage: true, timeout: 5000 })
		.catch(() => undefined);
}

export async function saveDocScreenshot(page: Page, file: string): Promise<void> {
	fs.mkdirSync(SCREENSHOTS, { recursive: true });
	await page.screenshot({ path: path.join(SCREENSHOTS, file), fullPage: false, timeout: 5000 });
}

/** axe-core on the page as it is: no serious or critical violation. */
export async function expectAccessible(page: Page, where: string): Promise<void> {
	const result = await new AxeBuilder({ page }).analyze();
	const bad = result.violations.filter(v => v.impact === "serious" || v.impact === "critical");
	if (bad.length > 0) {
		const detail = bad
			.map(
				v =>
					`${v.id} (${v.impact}): ${v.help}\n${v.nodes
						.slice(0, 5)
						.map(n => `    ${n.target.join(" ")}`)
						.join("\n")}`,
			)
			.join("\n");
		throw new Error(`axe found ${bad.length} serious/critical violation(s) on ${where} (${page.url()}):\n${detail}`);
	}
}

/** No access or refresh token (a JWT or the refresh token's value) ever appears in a URL. */
export function tokensInUrls(urls: string[], secrets: string[] = []): string[] {
	return urls.filter(u => /eyJ[A-Za-z0-9_-]{10,}\./.test(u) || /[?&](access_?token|refresh_?token|token)=/i.test(u) || secrets.some(s => s && u.includes(s)));
}

/** JSON over HTTP for setting things up and checking them (the same public API the shop uses). */
export async function apiCall<T = any>(
	baseUrl: string,
	method: string,
	url: string,
	body?: unknown,
	token?: string,
	headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
	const res = await fetch(`${baseUrl}/api/v1${url}`, {
		method,
		headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
		body: body === undefined ? undefined : JSON.stringify(body),
		signal: AbortSignal.timeout(10_000),
	});
	const text = await res.text();
	return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export async function loginApi(baseUrl: string, email: string, password: string): Promise<{ token: string; refreshToken: string; userId: string }> {
	const res = await apiCall(baseUrl, "POST", "/auth/login", { email, password });
	if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(res.body)}`);
	return { token: res.body.accessToken, refreshToken: res.body.refreshToken, userId: res.body.user.id };
}

let n = 0;
export function uniqueEmail(prefix: string): string {
	return `${prefix}-${Date.now().toString(36)}-${(n++).toString(36)}@example.com`;
}

export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string, intervalMs = 100): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	while (Date.now() < deadline) {
		try {
			const v = await fn();
			if (v !== undefined) return v;
		} catch (err) {
			last = err;
		}
		await new Promise(r => setTimeout(r, intervalMs));
	}
	throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

/**
 * The provider's sign-in page (/oidc/interaction/…, where the shop's "Sign in" leads): fill it in
 * and submit; the shop comes back signed in at the page the sign-in began from.
 */
export async function signInOnProviderPage(page: Page, email: string, password: string): Promise<void> {
	await page.waitForURL(/\/oidc\/interaction\//);
	await page.getByLabel(/^(Email|Correo electrónico)$/).fill(email);
	await page.getByLabel(/^(Password|Contraseña)$/).fill(password);
	await page.getByRole("button", { name: /^(Continue|Continuar)$/ }).click();
	await page.getByRole("button", { name: /^(Sign out|Cerrar sesión)$/ }).waitFor();
}

/**
 * A full load while signed in: the tokens (memory only) are gone, so the shop first signs in again
 * without a form (`prompt=none` through /oidc); wait until it is back at the page, signed in.
 */
export async function gotoSignedIn(page: Page, path: string): Promise<void> {
	await page.goto(path);
	await page.getByRole("button", { name: /^(Sign out|Cerrar sesión)$/ }).waitFor();
}
