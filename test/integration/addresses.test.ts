/**
 * The address book (/me/addresses) and checkout from it: at most 20, one default, private to
 * its owner; an order copies the address, so a later edit leaves the order as it was.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, startShop, type Account, type TestShop } from "../helpers/shop.js";
import { fieldsOf, newProduct } from "../helpers/commerce.js";

const V1 = "/api/v1";
let shop: TestShop;
let boss: Account;

beforeAll(async () => {
	shop = await startShop({ services: ["users", "api", "products", "orders", "pricing"], env: ADMIN_ENV });
	boss = await admin(shop);
	expect(
		(await boss.http.post(`${V1}/shipping-methods`, { name: "Standard", countries: ["*"], price: 0, currency: "EUR", minDays: 1, maxDays: 3 })).status,
	).toBe(201);
});
afterAll(async () => {
	await shop?.stop();
});

const home = { name: "Ann Lee", line1: "Main St 1", city: "Berlin", postalCode: "10115", country: "DE", label: "Home" };
const card = { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123" };

describe("address book", () => {
	it("adds, lists the default first, changes the default, edits, removes; others see nothing", async () => {
		const ann = await customer(shop, "Ann");
		const first = await ann.http.post(`${V1}/me/addresses`, home);
		expect(first.status).toBe(201);
		expect(first.body).toMatchObject({ ...home, isDefault: true, id: expect.any(String) });
		const office = await ann.http.post(`${V1}/me/addresses`, { ...home, label: "Office", line1: "Work Rd 9", isDefault: true });
		expect(office.body.isDefault).toBe(true);
		let list = (await ann.http.get(`${V1}/me/addresses`)).body.rows as { id: string; isDefault: boolean; label: string }[];
		expect(list.map(a => [a.label, a.isDefault])).toEqual([
			["Office", true],
			["Home", false],
		]);
		const edited = await ann.http.patch(`${V1}/me/addresses/${first.body.id}`, { city: "Hamburg", isDefault: true });
		expect(edited.status).toBe(200);
		expect(edited.body).toMatchObject({ city: "Hamburg", isDefault: true });
		expect((await ann.http.delete(`${V1}/me/addresses/${first.body.id}`)).status).toBe(204);
		list = (await ann.http.get(`${V1}/me/addresses`)).body.rows;
		expect(list.map(a => [a.label, a.isDefault])).toEqual([["Office", true]]);

		const bob = await customer(shop, "Bob");
		expect((await bob.http.get(`${V1}/me/addresses`)).body.rows).toEqual([]);
		expect((await bob.http.patch(`${V1}/me/addresses/${office.body.id}`, { city: "X" })).status).toBe(404);
		expect((await bob.http.delete(`${V1}/me/addresses/${office.body.id}`)).status).toBe(404);
		const bad = await ann.http.post(`${V1}/me/addresses`, { ...home, country: "XX" });
		expect(bad.status).toBe(422);
		expect(fieldsOf(bad.body)).toEqual(["country"]);
	});

	it("holds at most 20 addresses, also when added at once", async () => {
		const cy = await customer(shop, "Cy");
		const answers = await Promise.all(Array.from({ length: 23 }, (_, i) => cy.http.post(`${V1}/me/addresses`, { ...home, label: `A${i}` })));
		expect(answers.filter(a => a.status === 201)).toHaveLength(20);
		const refused = answers.filter(a => a.status !== 201);
		expect(refused.every(a => a.status === 422 && fieldsOf(a.body).includes("addresses"))).toBe(true);
		const rows = (await cy.http.get(`${V1}/me/addresses`)).body.rows as { isDefault: boolean }[];
		expect(rows).toHaveLength(20);
		expect(rows.filter(r => r.isDefault)).toHaveLength(1);
	});
});

describe("checkout from the address book", () => {
	async function checkout(acc: Account, body: Record<string, unknown>) {
		const product = await newProduct(boss);
		expect((await acc.http.post(`${V1}/cart/items`, { productId: product.id, quantity: 1 })).status).toBe(200);
		return acc.http.post(`${V1}/orders`, { ...body, payment: card }, { "idempotency-key": randomUUID() });
	}

	it("the order keeps a copy of the address: a later edit does not change it", async () => {
		const dee: Account = await customer(shop, "Dee");
		const entry = (await dee.http.post(`${V1}/me/addresses`, home)).body;
		const placed = await checkout(dee, { shippingAddressId: entry.id });
		expect(placed.status, JSON.stringify(placed.body)).toBe(202);
		const { label: _l, ...address } = home;
		expect(placed.body.shippingAddress).toEqual(address);
		expect((await dee.http.patch(`${V1}/me/addresses/${entry.id}`, { line1: "Elsewhere 5" })).status).toBe(200);
		expect((await dee.http.get(`${V1}/orders/${placed.body.id}`)).body.shippingAddress).toEqual(address);
	});

	it("an unknown or another customer's address id, both fields or neither: 422 naming the field", async () => {
		const eve = await customer(shop, "Eve");
		const other = (await (await customer(shop, "Fay")).http.post(`${V1}/me/addresses`, home)).body;
		for (const [body, field] of [
			[{ shippingAddressId: other.id }, "shippingAddressId"],
			[{ shippingAddressId: other.id, shippingAddress: { ...home, label: undefined } }, "shippingAddressId"],
			[{}, "shippingAddress"],
		] as const) {
			const res = await checkout(eve, body);
			expect(res.status, JSON.stringify(res.body)).toBe(422);
			expect(fieldsOf(res.body)).toContain(field);
		}
	});
});
