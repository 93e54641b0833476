/**
 * An in-process shop for tests: one ServiceBroker with no transporter, the chosen services,
 * The embedded store (SQLite) in a fresh temporary DATA_DIR, in-process events, the gateway on a free port.
 * Everything goes through real HTTP on the gateway.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import type { ServiceBroker } from "moleculer";
import { reloadConfig } from "../../lib/config.js";

export interface TestShop {
	broker: ServiceBroker;
	baseUrl: string;
	dataDir: string;
	http: HttpClient;
	stop(): Promise<void>;
	/** Stop and start again on the same DATA_DIR (a restart). */
	restart(): Promise<TestShop>;
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

export interface StartOptions {
	services?: string[];
	env?: Record<string, string>;
	dataDir?: string;
}

/** Environment every test shop gets unless a test overrides it. */
const TEST_ENV: Record<string, string> = {
	BCRYPT_COST: "4", // the production default (12) is covered by a unit test; 4 keeps tests fast
	METRICS_ENABLED: "false",
	LOG_LEVEL: "warn",
	SEED_DEMO: "false",
	OUTBOX_POLL_MS: "200",
	// Tests make many requests from one address; the limits themselves are tested with low values.
	RATE_LIMIT_PER_MINUTE: "1000000",
	AUTH_RATE_LIMIT_PER_MINUTE: "1000000",
};

export async function startShop(opts: StartOptions = {}): Promise<TestShop> {
	const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "shop-test-"));
	const port = await freePort();
	// A shop of some services only: its gateway routes to those (and is ready once they are).
	const gatewayServices = opts.services?.filter(s => s !== "api").join(",") ?? "";
	const env = { ...TEST_ENV, API_SERVICES: gatewayServices, ...opts.env, DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1" };
	const saved: Record<string, string | undefined> = {};
	for (const [k, v] of Object.entries(env)) {
		saved[k] = process.env[k];
		process.env[k] = v;
	}
	for (const k of ["MONGO_URL", "KAFKA_BROKERS", "TRANSPORTER", "SERVICES", "NODE_ID"]) {
		if (!(k in env)) delete process.env[k];
	}
	reloadConfig();
	// Imported after the environment is set: services read the config when they are created.
	const { createShopBroker } = await import("../../services/index.js");
	const broker = createShopBroker(opts.services ?? []);
	await broker.start();
	const baseUrl = `http://127.0.0.1:${port}`;
	const shop: TestShop = {
		broker,
		baseUrl,
		dataDir,
		http: new HttpClient(baseUrl),
		async stop() {
			await broker.stop();
		},
		async restart() {
			await broker.stop();
			return startShop({ ...opts, dataDir });
		},
	};
	return shop;
}

export interface HttpResponse<T = any> {
	status: number;
	headers: Headers;
	body: T;
}

export class HttpClient {
	constructor(
		readonly baseUrl: string,
		private readonly token?: string,
	) {}

	as(token: string | undefined): HttpClient {
		return new HttpClient(this.baseUrl, token);
	}

	async request<T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResponse<T>> {
		const h: Record<string, string> = { ...headers };
		if (this.token && !("authorization" in h)) h.authorization = `Bearer ${this.token}`;
		let payload: string | undefined;
		if (body !== undefined) {
			h["content-type"] ??= "application/json";
			payload = typeof body === "string" ? body : JSON.stringify(body);
		}
		const res = await fetch(this.baseUrl + url, { method, headers: h, body: payload });
		const text = await res.text();
		let parsed: unknown = text;
		try {
			parsed = text ? JSON.parse(text) : null;
		} catch {
			/* not JSON */
		}
		return { status: res.status, headers: res.headers, body: parsed as T };
	}
	get<T = any>(url: string, headers?: Record<string, string>) {
		return this.request<T>("GET", url, undefined, headers);
	}
	post<T = any>(url: string, body?: unknown, headers?: Record<string, string>) {
		return this.request<T>("POST", url, body ?? {}, headers);
	}
	put<T = any>(url: string, body?: unknown, headers?: Record<string, string>) {
		return this.request<T>("PUT", url, body ?? {}, headers);
	}
	patch<T = any>(url: string, body?: unknown, headers?: Record<string, string>) {
		return this.request<T>("PATCH", url, body ?? {}, headers);
	}
	delete<T = any>(url: string, headers?: Record<string, string>) {
		return this.request<T>("DELETE", url, undefined, headers);
	}
}

let counter = 0;
export function uniqueEmail(prefix = "user"): string {
	return `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}@example.com`;
}

export interface Account {
	id: string;
	email: string;
	password: string;
	accessToken: string;
	refreshToken: string;
	http: HttpClient;
}

/** Register a customer and log in. */
export async function customer(shop: TestShop, name = "Customer"): Promise<Account> {
	const email = uniqueEmail(name.toLowerCase());
	const password = "correct-horse-battery";
	const reg = await shop.http.post("/api/v1/auth/register", { email, password, name });
	if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
	return login(shop, email, password);
}

export async function login(shop: TestShop, email: string, password: string): Promise<Account> {
	const res = await shop.http.post("/api/v1/auth/login", { email, password });
	if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
	return {
		id: res.body.user.id,
		email,
		password,
		accessToken: res.body.accessToken,
		refreshToken: res.body.refreshToken,
		http: shop.http.as(res.body.accessToken),
	};
}

/** A user with the given roles: registered, promoted by the built-in admin, logged in again. */
export async function withRoles(shop: TestShop, roles: ("customer" | "agent" | "admin")[], name = "Staff"): Promise<Account> {
	const adm = await admin(shop);
	const acc = await customer(shop, name);
	const res = await adm.http.patch(`/api/v1/users/${acc.id}`, { roles });
	if (res.status !== 200) throw new Error(`promote failed: ${res.status} ${JSON.stringify(res.body)}`);
	return login(shop, acc.email, acc.password);
}

export const ADMIN_EMAIL = "admin@shop.test";
export const ADMIN_PASSWORD = "admin-password-123";
export const ADMIN_ENV = { ADMIN_EMAIL, ADMIN_PASSWORD };

/** The ADMIN_EMAIL account (start the shop with `env: ADMIN_ENV`). */
export function admin(shop: TestShop): Promise<Account> {
	return login(shop, ADMIN_EMAIL, ADMIN_PASSWORD);
}

/** Poll until `check` returns a value that is not undefined, or fail after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = "condition", intervalMs = 50): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	while (Date.now() < deadline) {
		try {
			const v = await check();
			if (v !== undefined) return v;
		} catch (err) {
			last = err;
		}
		await new Promise(r => setTimeout(r, intervalMs));
	}
	throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}
