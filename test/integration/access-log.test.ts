/**
 * The logs an operator and an auditor get with the default settings (LOG_LEVEL info, ACCESS_LOG
 * unset): one access line per request carrying its request id, security events at warn with the
 * request id, and never a password, token or card number in any line.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogRecord } from "../../lib/observability/logging.js";
import { captureLogs, type LogCapture } from "../helpers/logs.js";
import { TEST_CARDS } from "../../lib/payments/simulated.js";
import { ADMIN_ENV, admin, customer, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { newProduct, settledOrder } from "../helpers/commerce.js";

const V1 = "/api/v1";
const ADDRESS = { name: "Ann Example", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE" };

interface AccessData {
	method: string;
	route: string;
	status: number;
	durationMs: number;
	userId: string | null;
}

describe("access and security logs at the default level", () => {
	let shop: TestShop;
	let capture: LogCapture;
	let user: Account;
	const secrets = new Set<string>();

	beforeAll(async () => {
		capture = captureLogs();
		shop = await startShop({ env: { ...ADMIN_ENV, LOG_LEVEL: "info" } });
		user = await customer(shop, "Logged");
		secrets.add(user.password).add(user.accessToken).add(user.refreshToken);
	});
	afterAll(async () => {
		await shop?.stop();
		capture?.stop();
	});

	const records = (): LogRecord[] => capture.records();
	const accessLines = (requestId: string) => records().filter(r => r.mod === "access" && r.requestId === requestId && r.level === "info");
	const security = (kind: string) => records().filter(r => r.level === "warn" && (r.data as { security?: string } | undefined)?.security === kind);

	it("writes one access line per request, with the route pattern, status, user and request id", async () => {
		const requestId = `acc-${randomUUID()}`;
		const res = await user.http.get(`${V1}/me`, { "x-request-id": requestId });
		expect(res.status).toBe(200);
		const [line, ...more] = accessLines(requestId);
		expect(more).toHaveLength(0);
		expect(line).toMatchObject({ method: "GET", route: "/api/v1/me", status: 200, userId: user.id } satisfies Partial<AccessData>);
		expect(typeof (line as unknown as AccessData).durationMs).toBe("number");

		// The pattern, not the path: an id in the URL and a query string stay out of the line.
		const missing = `acc-${randomUUID()}`;
		const product = await shop.http.get(`${V1}/products/${randomUUID()}?token=s3cr3t-query-value`, { "x-request-id": missing });
		expect(product.status).toBe(404);
		const [notFound] = accessLines(missing);
		expect(notFound).toMatchObject({ method: "GET", route: "/api/v1/products/:id", status: 404, userId: null });
		expect(JSON.stringify(notFound)).not.toContain("s3cr3t-query-value");
	});

	it("logs a failed login at warn with the request id of the attempt", async () => {
		const requestId = `acc-login-${randomUUID()}`;
		const wrong = "not-the-password-42";
		secrets.add(wrong);
		const res = await shop.http.post(`${V1}/auth/login`, { email: user.email, password: wrong }, { "x-request-id": requestId });
		expect(res.status).toBe(401);
		const failed = security("login_failed").filter(r => r.requestId === requestId);
		expect(failed).toHaveLength(1);
		expect(failed[0]?.svc).toBe("users");
		expect(accessLines(requestId)[0]).toMatchObject({ route: "/api/v1/auth/login", status: 401 });
	});

	it("logs a permission denial (403) with the request id and the user", async () => {
		const requestId = `acc-403-${randomUUID()}`;
		const res = await user.http.get(`${V1}/users`, { "x-request-id": requestId });
		expect(res.status).toBe(403);
		const denied = security("permission_denied").filter(r => r.requestId === requestId);
		expect(denied).toHaveLength(1);
		expect(denied[0]?.data).toMatchObject({ route: "/api/v1/users", userId: user.id });
	});

	it("logs a refresh-token reuse with the request id of the replay", async () => {
		const first = await shop.http.post(`${V1}/auth/refresh`, { refreshToken: user.refreshToken });
		expect(first.status).toBe(200);
		secrets.add(first.body.accessToken).add(first.body.refreshToken);
		const requestId = `acc-reuse-${randomUUID()}`;
		const replay = await shop.http.post(`${V1}/auth/refresh`, { refreshToken: user.refreshToken }, { "x-request-id": requestId });
		expect(replay.status).toBe(401);
		expect(security("refresh_token_reuse").filter(r => r.requestId === requestId)).toHaveLength(1);
	});

	it("never writes a password, a token or a card number, through a whole checkout", async () => {
		const adm = await admin(shop);
		secrets.add(adm.accessToken).add(adm.refreshToken);
		const buyer = await customer(shop, "Buyer");
		secrets.add(buyer.password).add(buyer.accessToken).add(buyer.refreshToken);
		const product = await newProduct(adm, { price: 990 });
		expect((await buyer.http.post(`${V1}/cart/items`, { productId: product.id, quantity: 1 })).status).toBe(200);
		const year = new Date().getUTCFullYear() + 3;
		const payment = { method: "card", cardNumber: TEST_CARDS.approved, expMonth: 12, expYear: year, cvc: "123" };
		const res = await buyer.http.post(`${V1}/orders`, { shippingAddress: ADDRESS, payment }, { "idempotency-key": `acc-${randomUUID()}` });
		expect(res.status, JSON.stringify(res.body)).toBe(202);
		await settledOrder(buyer, res.body.id);
		const text = capture.lines.join("\n");
		expect(capture.lines.length).toBeGreaterThan(10);
		for (const secret of secrets) expect(text, "a secret in the logs").not.toContain(secret);
		expect(text).not.toContain(TEST_CARDS.approved);
		expect(text).not.toMatch(/"cvc":"123"/);
	});

	it("ACCESS_LOG=false turns the access lines off", async () => {
		const quiet = await startShop({ services: ["api", "users"], env: { LOG_LEVEL: "info", ACCESS_LOG: "false" } });
		try {
			const requestId = `acc-off-${randomUUID()}`;
			expect((await quiet.http.get("/api/health", { "x-request-id": requestId })).status).toBe(200);
			expect(records().filter(r => r.requestId === requestId && r.mod === "access")).toHaveLength(0);
		} finally {
			await quiet.stop();
		}
	});
});
