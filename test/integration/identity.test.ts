import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ENV, admin, customer, login, startShop, uniqueEmail, type TestShop } from "../helpers/shop.js";

let shop: TestShop;
beforeAll(async () => {
	shop = await startShop({ services: ["users", "api"], env: ADMIN_ENV });
});
afterAll(async () => {
	await shop?.stop();
});

describe("registration", () => {
	it("creates a customer and never returns the hash", async () => {
		const email = uniqueEmail();
		const res = await shop.http.post("/api/v1/auth/register", { email, password: "long-enough-pw", name: "Ann" });
		expect(res.status).toBe(201);
		expect(res.body.user).toMatchObject({ email, name: "Ann", roles: ["customer"] });
		expect(typeof res.body.user.id).toBe("string");
		expect(JSON.stringify(res.body)).not.toMatch(/passwordHash|\$2[aby]\$/);
	});
});
