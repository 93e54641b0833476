/**
 * The findings of the security review, the fuzzer and the cold starts (issue "Hardening"): one
 * test per finding, each through real HTTP on an in-process shop, each failing before its fix.
 */
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { ADMIN_ENV, admin, customer, eventually, freePort, login, startShop, withRoles, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf, newProduct, settledOrder } from "../helpers/commerce.js";
import { API_PREFIX, ROUTES } from "../../lib/http/routes.js";
import { reloadConfig } from "../../lib/config.js";
import { brokerOptions } from "../../moleculer.config.js";
import { ALL_SERVICES } from "../../services/index.js";

const V1 = API_PREFIX;
let shop: TestShop;
let adm: Account;

beforeAll(async () => {
	shop = await startShop({ env: { ...ADMIN_ENV, ACCESS_TOKEN_TTL: "900" } });
	adm = await admin(shop);
});
afterAll(async () => {
	await shop?.stop();
});

const CARD = { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: 2099, cvc: "123" };
const ADDRESS = { name: "Ann", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };

describe("prototype pollution through ids", () => {
	const HOSTILE = ["__proto__", "constructor", "prototype", "$where", "a.b", "__proto__.quantity"];

	it("a customer cannot set Object.prototype through a cart line id, and another customer's cart is untouched", async () => {
		const mallory = await customer(shop, "Mallory");
		for (const key of HOSTILE) {
			const res = await mallory.http.patch(`${V1}/cart/items/${encodeURIComponent(key)}`, { quantity: 42 });
			expect(res.status, key).toBe(404);
		}
		expect(({} as Record<string, unknown>).quantity).toBeUndefined();
		// Before the fix, another customer's add without a quantity took the polluted 42.
		const ann = await customer(shop, "Ann");
		const p = await newProduct(adm);
		const res = await ann.http.post(`${V1}/cart/items`, { productId: p.id });
		expect(res.status).toBe(422);
		expect(fieldsOf(res.body)).toContain("quantity");
		expect((await ann.http.get(`${V1}/cart`)).body.items).toEqual([]);
	});

	it("every route that takes an id in its path answers 404 for every hostile key, and nothing is polluted", async () => {
		const withIds = ROUTES.filter(r => r.path.includes(":"));
		expect(withIds.length).toBeGreaterThan(15);
		for (const r of withIds) {
			for (const key of HOSTILE) {
				const url = V1 + r.path.replace(/:(\w+)/g, encodeURIComponent(key));
				const res = await adm.http.request(
					r.method,
					url,
					r.method === "GET" || r.method === "DELETE" ? undefined : { quantity: 42, status: "open", name: "x" },
				);
				expect(res.status, `${r.method} ${url}`).toBe(404);
			}
		}
		for (const probe of [{}, Object.create(Object.prototype)] as Record<string, unknown>[]) {
			for (const k of ["quantity", "status", "name", "0"]) expect(probe[k], k).toBeUndefined();
		}
	});

	it("ids in bodies are checked too: 422 naming the field", async () => {
		const ann = await customer(shop, "Ann");
		for (const key of HOSTILE) {
			const cart = await ann.http.post(`${V1}/cart/items`, { productId: key, quantity: 1 });
			expect(cart.status, key).toBe(422);
			expect(fieldsOf(cart.body)).toEqual(["productId"]);
			const ticket = await ann.http.post(`${V1}/tickets`, {
				type: "return",
				subject: "s",
				message: "m",
				orderId: key,
				items: [{ productId: key, quantity: 1 }],
			});
			expect(ticket.status, key).toBe(422);
			expect(fieldsOf(ticket.body)).toEqual(expect.arrayContaining(["orderId", "items[0].productId"]));
			const category = await adm.http.post(`${V1}/categories`, { slug: `c-${randomUUID().slice(0, 8)}`, name: "C", parentId: key });
			expect(category.status, key).toBe(422);
		}
	});
});

describe("credential throttling", () => {
	it("15 parallel wrong passwords check at most 5; the account is then locked, even for the right password", async () => {
		const victim = await customer(shop, "Victim");
		const guesses = await Promise.all(
			Array.from({ length: 15 }, (_, i) => shop.http.post(`${V1}/auth/login`, { email: victim.email, password: `wrong-guess-${i}-xyz` })),
		);
		const statuses = guesses.map(g => g.status);
		expect(statuses.filter(s => s === 401).length).toBeLessThanOrEqual(5);
		expect(statuses.filter(s => s === 429).length).toBeGreaterThanOrEqual(10);
		expect(statuses.every(s => s === 401 || s === 429)).toBe(true);
		for (const g of guesses.filter(g => g.status === 429)) expect(Number(g.headers.get("retry-after"))).toBeGreaterThan(0);
		const right = await shop.http.post(`${V1}/auth/login`, { email: victim.email, password: victim.password });
		expect(right.status).toBe(429);
	});

	it("POST /me/password is behind the same counter: 5 wrong current passwords lock it, and login with it", async () => {
		const ann = await customer(shop, "Ann");
		const tries = [];
		for (let i = 0; i < 8; i++)
			tries.push((await ann.http.post(`${V1}/me/password`, { currentPassword: `not-it-${i}-abcdef`, newPassword: "a-new-password-42" })).status);
		expect(tries.slice(0, 5)).toEqual([422, 422, 422, 422, 422]);
		expect(tries.slice(5)).toEqual([429, 429, 429]);
		expect((await ann.http.post(`${V1}/me/password`, { currentPassword: ann.password, newPassword: "a-new-password-42" })).status).toBe(429);
		expect((await shop.http.post(`${V1}/auth/login`, { email: ann.email, password: ann.password })).status).toBe(429);
	});

	it("the 72-byte limit of bcrypt holds at login and password change: a 72-byte password plus a suffix does not log in", async () => {
		const long = `${"p".repeat(62)}-long-1234`; // 72 bytes
		expect(Buffer.byteLength(long)).toBe(72);
		const email = `long-${randomUUID()}@example.com`;
		expect((await shop.http.post(`${V1}/auth/register`, { email, password: long, name: "Long" })).status).toBe(201);
		expect((await shop.http.post(`${V1}/auth/login`, { email, password: long })).status).toBe(200);
		const suffixed = await shop.http.post(`${V1}/auth/login`, { email, password: `${long}anything` });
		expect(suffixed.status).toBe(422);
		expect(fieldsOf(suffixed.body)).toEqual(["password"]);
		const acc = await login(shop, email, long);
		const change = await acc.http.post(`${V1}/me/password`, { currentPassword: `${long}x`, newPassword: "another-long-one-77" });
		expect(change.status).toBe(422);
		expect(fieldsOf(change.body)).toEqual(["currentPassword"]);
	});

	it("refuses the most common passwords at registration and at a password change", async () => {
		const reg = await shop.http.post(`${V1}/auth/register`, { email: `c-${randomUUID()}@example.com`, password: "password123", name: "C" });
		expect(reg.status).toBe(422);
		expect(reg.body.data).toEqual([expect.objectContaining({ field: "password", message: expect.stringMatching(/most commonly used/) })]);
		const ann = await customer(shop, "Ann");
		const change = await ann.http.post(`${V1}/me/password`, { currentPassword: ann.password, newPassword: "qwertyuiop" });
		expect(change.status).toBe(422);
		expect(fieldsOf(change.body)).toEqual(["newPassword"]);
	});
});

describe("revoked access stops working within a second", () => {
	const me = (acc: Account) => acc.http.get(`${V1}/me`);
	const deniedWithin1s = async (acc: Account) => {
		const started = Date.now();
		await eventually(async () => ((await me(acc)).status === 401 ? true : undefined), 1000, "the old access token to be refused", 20);
		return Date.now() - started;
	};

	it("after logout", async () => {
		const ann = await customer(shop, "Ann");
		expect((await me(ann)).status).toBe(200);
		expect((await ann.http.post(`${V1}/auth/logout`, { refreshToken: ann.refreshToken })).status).toBe(204);
		await deniedWithin1s(ann);
	});

	it("after refresh-token reuse ends the session", async () => {
		const ann = await customer(shop, "Ann");
		expect((await shop.http.post(`${V1}/auth/refresh`, { refreshToken: ann.refreshToken })).status).toBe(200);
		expect((await shop.http.post(`${V1}/auth/refresh`, { refreshToken: ann.refreshToken })).status).toBe(401);
		await deniedWithin1s(ann);
	});

	it("after a password change (the other sessions; the changing one goes on)", async () => {
		const ann = await customer(shop, "Ann");
		const phone = await login(shop, ann.email, ann.password);
		expect((await ann.http.post(`${V1}/me/password`, { currentPassword: ann.password, newPassword: "a-fresh-password-9" })).status).toBe(204);
		await deniedWithin1s(phone);
		expect((await me(ann)).status).toBe(200);
	});

	it("after demotion from agent: the old agent token can no longer act as an agent, or at all", async () => {
		const agent = await withRoles(shop, ["customer", "agent"], "Agent");
		expect((await agent.http.get(`${V1}/tickets?status=open`)).status).toBe(200);
		expect((await adm.http.patch(`${V1}/users/${agent.id}`, { roles: ["customer"] })).status).toBe(200);
		await deniedWithin1s(agent);
		const again = await login(shop, agent.email, agent.password);
		expect((await again.http.patch(`${V1}/tickets/${randomUUID()}`, { status: "pending" })).status).toBe(403);
	});

	it("after deactivation", async () => {
		const ann = await customer(shop, "Ann");
		expect((await adm.http.patch(`${V1}/users/${ann.id}`, { active: false })).status).toBe(200);
		await deniedWithin1s(ann);
	});

	it("after deletion: a deleted user cannot place an order", async () => {
		const ann = await customer(shop, "Ann");
		const p = await newProduct(adm);
		expect((await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 1 })).status).toBe(200);
		expect((await adm.http.delete(`${V1}/users/${ann.id}`)).status).toBe(204);
		await deniedWithin1s(ann);
		const order = await ann.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment: CARD }, { "idempotency-key": randomUUID() });
		expect(order.status).toBe(401);
	});

	it("a gateway that starts later reads the revocations it missed", async () => {
		const ann = await customer(shop, "Ann");
		expect((await ann.http.post(`${V1}/auth/logout`, { refreshToken: ann.refreshToken })).status).toBe(204);
		// The same shop restarted: the new gateway was not there for the broadcast.
		const restarted = await shop.restart();
		shop = restarted;
		expect((await restarted.http.as(ann.accessToken).get(`${V1}/me`)).status).toBe(401);
		adm = await admin(shop);
	});
});

describe("bounded ticket threads", () => {
	it("caps a message's length and a thread's size, and pages through the thread newest first", async () => {
		const ann = await customer(shop, "Ann");
		const t = (await ann.http.post(`${V1}/tickets`, { type: "inquiry", subject: "Long talk", message: "m0" })).body;
		const tooLong = await ann.http.post(`${V1}/tickets/${t.id}/messages`, { message: "x".repeat(5001) });
		expect(tooLong.status).toBe(422);
		expect(fieldsOf(tooLong.body)).toEqual(["message"]);
		for (let i = 1; i < 100; i++) expect((await ann.http.post(`${V1}/tickets/${t.id}/messages`, { message: `m${i}` })).status).toBe(201);
		const full = await ann.http.post(`${V1}/tickets/${t.id}/messages`, { message: "one more" });
		expect(full.status).toBe(422);
		expect(full.body.data).toEqual([expect.objectContaining({ field: "message", type: "threadFull", message: expect.stringContaining("100") })]);

		const newest = (await ann.http.get(`${V1}/tickets/${t.id}`)).body;
		expect(newest.messagesTotal).toBe(100);
		expect(newest.messages.map((m: { body: string }) => m.body)).toEqual(Array.from({ length: 20 }, (_, i) => `m${80 + i}`));
		const bodies: string[] = [];
		for (let cursor: string | null = newest.olderMessages, pages = 0; cursor && pages < 10; pages++) {
			const older = await ann.http.get(`${V1}/tickets/${t.id}?before=${cursor}&limit=30`);
			expect(older.status).toBe(200);
			bodies.unshift(...older.body.messages.map((m: { body: string }) => m.body));
			cursor = older.body.olderMessages;
		}
		expect(bodies).toEqual(Array.from({ length: 80 }, (_, i) => `m${i}`));
		expect((await ann.http.get(`${V1}/tickets/${t.id}?before=${randomUUID()}`)).status).toBe(422);
		const listed = (await ann.http.get(`${V1}/tickets`)).body.rows.find((r: { id: string }) => r.id === t.id);
		expect(listed.messages.map((m: { body: string }) => m.body)).toEqual(["m99"]);
		// The stored document is bounded: at most 100 messages of at most 5,000 characters.
		const tickets = shop.broker.getLocalService("tickets") as unknown as { collection(name: string): { findById(id: string): Promise<unknown> } };
		expect(JSON.stringify(await tickets.collection("tickets").findById(t.id)).length).toBeLessThan(100 * 5000 * 1.2);
	});
});

describe("lists are never read deeper than 10,000 rows", () => {
	it.each([["page=1e308"], ["page=501&pageSize=20"], ["page=101&pageSize=100"], ["page=10001"]])("refuses %s with 422 on page", async query => {
		const res = await shop.http.get(`${V1}/products?${query}`);
		expect(res.status).toBe(422);
		expect(fieldsOf(res.body)).toEqual(["page"]);
	});
	it("takes the deepest page allowed", async () => {
		expect((await shop.http.get(`${V1}/products?page=500&pageSize=20`)).status).toBe(200);
		expect((await shop.http.get(`${V1}/products?page=100&pageSize=100`)).status).toBe(200);
	});
});

describe("headers", () => {
	it("token and profile answers are never cached; every answer says nosniff; errors are JSON", async () => {
		const ann = await customer(shop, "Ann");
		const loginRes = await shop.http.post(`${V1}/auth/login`, { email: ann.email, password: ann.password });
		for (const res of [
			loginRes,
			await shop.http.post(`${V1}/auth/refresh`, { refreshToken: loginRes.body.refreshToken }),
			await ann.http.get(`${V1}/me`),
			await shop.http.post(`${V1}/auth/login`, { email: ann.email, password: "wrong-password-xyz" }),
		]) {
			expect(res.headers.get("cache-control")).toBe("no-store");
		}
		for (const res of [
			await shop.http.get(`${V1}/products`),
			await shop.http.get(`${V1}/nope`),
			await shop.http.get("/api/health"),
			await shop.http.request("PUT", `${V1}/me`, {}),
			await shop.http.get(`${V1}/me`),
		]) {
			expect(res.headers.get("x-content-type-options")).toBe("nosniff");
			if (res.status >= 400) expect(res.headers.get("content-type")).toMatch(/^application\/json/);
		}
	});
});

describe("the signing key", () => {
	it("lives owner-only on disk: DATA_DIR 0700, the key file 0600", () => {
		expect(fs.statSync(shop.dataDir).mode & 0o777).toBe(0o700);
		expect(fs.statSync(path.join(shop.dataDir, "users")).mode & 0o777).toBe(0o700);
		expect(fs.statSync(path.join(shop.dataDir, "users", "keys.sqlite")).mode & 0o777).toBe(0o600);
		// The store's other files too (every collection's database, its write-ahead log and shared memory).
		for (const f of fs.readdirSync(path.join(shop.dataDir, "users"))) expect(fs.statSync(path.join(shop.dataDir, "users", f)).mode & 0o077, f).toBe(0);
	});

	it("rotates: a new key signs, the old one stays in the JWKS so tokens it signed still work", async () => {
		const before = await customer(shop, "Before");
		const oldKid = (await shop.http.get(`${V1}/auth/jwks`)).body.keys[0].kid;
		const { kid } = await shop.broker.call<{ kid: string }>("users.rotateSigningKey");
		expect(kid).not.toBe(oldKid);
		const jwks = (await shop.http.get(`${V1}/auth/jwks`)).body.keys.map((k: { kid: string }) => k.kid);
		expect(jwks).toEqual(expect.arrayContaining([kid, oldKid]));
		expect((await before.http.get(`${V1}/me`)).status).toBe(200);
		const after = await customer(shop, "After");
		expect(JSON.parse(Buffer.from(after.accessToken.split(".")[0]!, "base64url").toString()).kid).toBe(kid);
		expect((await after.http.get(`${V1}/me`)).status).toBe(200);
	});
});

describe("docker-compose.yml", () => {
	it("has no default password: each one is required from the environment", () => {
		const compose = fs.readFileSync(path.resolve(import.meta.dirname, "../../docker-compose.yml"), "utf8");
		for (const v of ["NATS_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "NATS_USER", "OIDC_COOKIE_KEYS"]) {
			expect(compose).toMatch(new RegExp(`\\$\\{${v}:\\?`));
			expect(compose).not.toMatch(new RegExp(`\\$\\{${v}:-`));
		}
		expect(compose).not.toMatch(/ADMIN_PASSWORD:\s*admin\b/);
	});
});

describe("readiness that does not lie", () => {
	it("a gateway whose services are still starting answers 503 with Retry-After, then serves; no request fails halfway", async () => {
		const dataDir = fs.mkdtempSync(path.join(await import("node:os").then(os => os.tmpdir()), "shop-slow-"));
		const port = await freePort();
		Object.assign(process.env, {
			DATA_DIR: dataDir,
			PORT: String(port),
			API_SERVICES: "",
			SEED_DEMO: "false",
			METRICS_ENABLED: "false",
			BCRYPT_COST: "4",
			LOG_LEVEL: "warn",
		});
		const cfg = reloadConfig();
		const broker = new ServiceBroker(brokerOptions(cfg));
		// The products service takes two seconds longer to start than the others.
		const slow = ALL_SERVICES.products as ServiceSchema & { mixins?: Partial<ServiceSchema>[] };
		for (const [name, schema] of Object.entries(ALL_SERVICES)) {
			broker.createService(
				name === "products" ? { ...slow, mixins: [...(slow.mixins ?? []), { started: () => new Promise(r => setTimeout(r, 2000)) }] } : schema,
			);
		}
		const starting = broker.start();
		const seen: { status: number; retryAfter: string | null; type?: string; at: number }[] = [];
		let firstOk = Infinity;
		try {
			const deadline = Date.now() + 20_000;
			let startedAt: number | undefined;
			void starting.then(() => (startedAt = Date.now()));
			while (Date.now() < deadline && (startedAt === undefined || Date.now() < startedAt + 1000)) {
				const res = await fetch(`http://127.0.0.1:${port}${V1}/products`).catch(() => null);
				if (res) {
					const body = (await res.json().catch(() => ({}))) as { type?: string };
					seen.push({ status: res.status, retryAfter: res.headers.get("retry-after"), type: body.type, at: Date.now() });
					if (res.status === 200) firstOk = Math.min(firstOk, Date.now());
				}
				await new Promise(r => setTimeout(r, 50));
			}
			await starting;
		} finally {
			await broker.stop();
		}
		expect(
			seen.some(s => s.status === 503),
			"the gateway was up before products",
		).toBe(true);
		expect(seen.some(s => s.status === 200)).toBe(true);
		for (const s of seen) {
			expect([200, 503]).toContain(s.status);
			if (s.status === 503) {
				expect(s.retryAfter).toBe("2");
				expect(s.type).toBe("SERVICE_UNAVAILABLE");
				expect(s.at).toBeLessThan(firstOk);
			}
		}
	});

	it("a settled order still settles after all this (the shop works end to end)", async () => {
		const ann = await customer(shop, "Ann");
		const p = await newProduct(adm);
		await ann.http.post(`${V1}/cart/items`, { productId: p.id, quantity: 1 });
		const placed = await ann.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment: CARD }, { "idempotency-key": randomUUID() });
		expect(placed.status).toBe(202);
		expect((await settledOrder(ann, placed.body.id)).status).toBe("paid");
	});
});
