/**
 * The OpenAPI document's response schemas say what the server answers: a walk through the routes
 * of the contract's additions (variants, promotions, shipping, tax, the cart's breakdown, an order
 * with its charges, search with facets), each answer validated against its documented schema. The
 * schemathesis run (test/contract) finds the same drift at random; this finds it at once.
 */
import { randomUUID } from "node:crypto";
import { it, expect } from "vitest";
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { ADMIN_ENV, admin, customer, startShop } from "../helpers/shop.js";
import { settledOrder } from "../helpers/commerce.js";

it("answers what the document says, on every route of the additions", async () => {
	const shop = await startShop({ env: { ...ADMIN_ENV, SEED_DEMO: "true" } });
	const doc = (await shop.http.get("/api/openapi.json")).body;
	const ajv = new Ajv2020({ strict: false, allErrors: true });
	(formats as unknown as { default: (a: Ajv2020) => void }).default(ajv);
	ajv.addSchema(doc, "doc");
	const bad: string[] = [];
	const check = (path: string, method: string, res: { status: number; body: unknown }) => {
		const ptr = "doc#/paths/" + path.replace(/~/g, "~0").replace(/\//g, "~1") + `/${method}/responses/${res.status}/content/application~1json/schema`;
		if (!doc.paths[path]?.[method]?.responses?.[res.status]?.content) {
			bad.push(`${method} ${path} ${res.status}: no schema`);
			return;
		}
		const v = ajv.compile({ $ref: ptr });
		if (!v(res.body)) bad.push(`${method} ${path} ${res.status}: ${JSON.stringify(v.errors).slice(0, 400)}`);
	};
	const adm = await admin(shop);
	const email = `shapes-${randomUUID().slice(0, 8)}@example.com`;
	check("/api/v1/auth/register", "post", await shop.http.post("/api/v1/auth/register", { email, password: "correct-horse-battery", name: "Shapes" }));
	const signedIn = await shop.http.post("/api/v1/auth/login", { email, password: "correct-horse-battery" });
	check("/api/v1/auth/login", "post", signedIn);
	check("/api/v1/auth/refresh", "post", await shop.http.post("/api/v1/auth/refresh", { refreshToken: signedIn.body.refreshToken }));
	const list = await shop.http.get("/api/v1/products?pageSize=50&facets=true&q=shirt");
	check("/api/v1/products", "get", list);
	const tee = (await shop.http.get("/api/v1/products?pageSize=50")).body.rows.find((p: { sku: string }) => p.sku === "APP-TEE");
	check("/api/v1/products/{id}", "get", await shop.http.get(`/api/v1/products/${tee.id}`));
	const np = await adm.http.post("/api/v1/products", {
		sku: "P-" + randomUUID().slice(0, 6),
		name: "P",
		price: 100,
		currency: "EUR",
		stock: 0,
		options: [{ name: "size", values: ["S"] }],
	});
	check("/api/v1/products", "post", np);
	const v = await adm.http.post(`/api/v1/products/${np.body.id}/variants`, {
		sku: "X-" + randomUUID().slice(0, 6),
		options: { size: "S" },
		price: 100,
		stock: 1,
	});
	if (v.status === 201) {
		check("/api/v1/products/{id}/variants", "post", v);
		check(
			"/api/v1/products/{id}/variants/{variantId}",
			"patch",
			await adm.http.patch(`/api/v1/products/${np.body.id}/variants/${v.body.id}`, { price: 200 }),
		);
		check(
			"/api/v1/products/{id}/variants/{variantId}/inventory",
			"patch",
			await adm.http.patch(`/api/v1/products/${np.body.id}/variants/${v.body.id}/inventory`, { delta: 1 }),
		);
	} else bad.push("variant " + v.status + JSON.stringify(v.body));
	const pr = await adm.http.post("/api/v1/promotions", { code: "ZZ" + randomUUID().slice(0, 4), type: "fixed", value: 100, currency: "EUR" });
	check("/api/v1/promotions", "post", pr);
	check("/api/v1/promotions", "get", await adm.http.get("/api/v1/promotions"));
	check("/api/v1/promotions/{id}", "get", await adm.http.get(`/api/v1/promotions/${pr.body.id}`));
	check("/api/v1/promotions/{id}", "patch", await adm.http.patch(`/api/v1/promotions/${pr.body.id}`, { value: 150 }));
	const sm = await adm.http.post("/api/v1/shipping-methods", { name: "ZZ", countries: ["PL"], price: 100, currency: "EUR", minDays: 1, maxDays: 2 });
	check("/api/v1/shipping-methods", "post", sm);
	check("/api/v1/shipping-methods", "get", await adm.http.get("/api/v1/shipping-methods"));
	check("/api/v1/shipping-methods/{id}", "patch", await adm.http.patch(`/api/v1/shipping-methods/${sm.body.id}`, { price: 120 }));
	check("/api/v1/tax-rates", "get", await adm.http.get("/api/v1/tax-rates"));
	check("/api/v1/tax-rates/{country}", "put", await adm.http.put("/api/v1/tax-rates/PL", { rate: 2300 }));
	const ann = await customer(shop, "Ann");
	const m = tee.variants.find((x: { options: Record<string, string> }) => x.options.size === "M");
	check("/api/v1/cart/items", "post", await ann.http.post("/api/v1/cart/items", { productId: tee.id, variantId: m.id, quantity: 1 }));
	check("/api/v1/cart/promotion", "put", await ann.http.put("/api/v1/cart/promotion", { code: "WELCOME10" }));
	check("/api/v1/cart", "get", await ann.http.get("/api/v1/cart?country=DE"));
	const placed = await ann.http.post(
		"/api/v1/orders",
		{
			shippingAddress: { name: "A", line1: "x", city: "B", postalCode: "1", country: "DE" },
			payment: { method: "card", cardNumber: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123" },
		},
		{ "idempotency-key": randomUUID() },
	);
	check("/api/v1/orders", "post", placed);
	await settledOrder(ann, placed.body.id);
	check("/api/v1/orders/{id}", "get", await ann.http.get(`/api/v1/orders/${placed.body.id}`));
	check("/api/v1/me", "get", await ann.http.get("/api/v1/me"));
	check("/api/v1/categories", "get", await shop.http.get("/api/v1/categories"));
	const ticket = await ann.http.post("/api/v1/tickets", { type: "inquiry", subject: "Where is it", message: "Hello", orderId: placed.body.id });
	check("/api/v1/tickets", "post", ticket);
	// With the customer's and the order's details.
	check("/api/v1/tickets/{id}", "get", await ann.http.get(`/api/v1/tickets/${ticket.body.id}`));
	const mail = (await adm.http.get("/api/v1/mailbox")).body.rows[0];
	check("/api/v1/mailbox/{id}", "get", await adm.http.get(`/api/v1/mailbox/${mail.id}`));
	check("/api/v1/reports/overview", "get", await adm.http.get("/api/v1/reports/overview"));
	await ann.http.post("/api/v1/cart/items", { productId: tee.id, variantId: m.id, quantity: 1 });
	await ann.http.put("/api/v1/cart/promotion", { code: pr.body.code });
	check("/api/v1/cart/promotion", "delete", await ann.http.delete("/api/v1/cart/promotion"));
	check("/api/v1/cart", "delete", await ann.http.delete("/api/v1/cart"));
	await shop.stop();
	expect(bad).toEqual([]);
}, 60_000);
