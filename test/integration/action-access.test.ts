/**
 * Access enforced on the action (lib/broker/access-middleware.ts), not only at the gateway: a
 * call straight to the broker, as another node would send it, is refused without the user the
 * action needs (401) or without one of its roles (403), and nothing is written; with the role it
 * runs. Actions only services call, public ones and Moleculer's own stay open.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { customer, startShop, type Account, type TestShop } from "../helpers/shop.js";

let shop: TestShop;
let ann: Account;

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products"] });
	ann = await customer(shop, "Ann");
});
afterAll(async () => {
	await shop?.stop();
});

const newProduct = (sku: string) => ({ sku, name: "Desk Lamp", price: 2500, currency: "EUR", stock: 3 });
const refusal = (call: Promise<unknown>) =>
	call.then(
		() => null,
		(err: { code?: number; type?: string }) => ({ code: err.code, type: err.type }),
	);

describe("an admin action called past the gateway", () => {
	it("is refused to a caller without a user (401) and to a customer (403), and writes nothing", async () => {
		expect(await refusal(shop.broker.call("products.create", newProduct("ACC-1")))).toMatchObject({ code: 401 });
		const asCustomer = { meta: { user: { id: ann.id, roles: ["customer"] } } };
		expect(await refusal(shop.broker.call("products.create", newProduct("ACC-2"), asCustomer))).toMatchObject({ code: 403 });
		expect(await refusal(shop.broker.call("products.adjustInventory", { id: "x", delta: 1 }, asCustomer))).toMatchObject({ code: 403 });
		const found = (await shop.http.get("/api/v1/products?q=ACC")).body as { total: number };
		expect(found.total).toBe(0);
	});

	it("runs for an admin", async () => {
		const asAdmin = { meta: { user: { id: "someone", roles: ["admin"] } } };
		const made = (await shop.broker.call("products.create", newProduct("ACC-3"), asAdmin)) as { id: string; sku: string };
		expect(made.sku).toBe("ACC-3");
		expect((await shop.http.get(`/api/v1/products/${made.id}`)).status).toBe(200);
	});

	it("leaves open what services call each other with, public actions and Moleculer's own", async () => {
		expect(await shop.broker.call("products.byIds", { ids: ["none"] })).toEqual([]);
		expect(await shop.broker.call("products.search", {})).toMatchObject({ rows: expect.any(Array) });
		expect(await shop.broker.call("$node.health")).toMatchObject({ cpu: expect.anything() });
	});
});
