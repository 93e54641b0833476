import { describe, expect, it } from "vitest";
import { confirmationPage, isReturnPath } from "../../lib/payments/confirmation-page.js";

const session = { sessionId: "sim_pi_1", clientSecret: "sim_pi_1_secret_x", amount: "€25.00", status: "requires_confirmation", declineReason: null };

describe("the simulated confirmation page's way back to the shop", () => {
	it("accepts only a path on the same origin", () => {
		for (const ok of ["/orders/abc", "/orders/a%2Fb?x=1#top", "/"]) expect(isReturnPath(ok), ok).toBe(true);
		for (const bad of [
			"//evil.example/x",
			"/\\evil.example",
			"https://evil.example/",
			"javascript:alert(1)",
			"orders/abc",
			"/a b",
			"/a\nb",
			"",
			`/${"a".repeat(500)}`,
		])
			expect(isReturnPath(bad), bad).toBe(false);
	});

	it("carries returnTo through the form and links back to it, escaped; a bad one is dropped", () => {
		const html = confirmationPage({ ...session, returnTo: '/orders/1?a="b"' });
		expect(html).toContain('<input type="hidden" name="returnTo" value="/orders/1?a=&#34;b&#34;">');
		expect(html).toContain('<a href="/orders/1?a=&#34;b&#34;">Return to the shop</a>');
		const authorized = confirmationPage({ ...session, status: "authorized", returnTo: "/orders/1" });
		expect(authorized).toContain('<a href="/orders/1">Return to the shop</a>');
		const bad = confirmationPage({ ...session, returnTo: "//evil.example/" });
		expect(bad).not.toContain("evil.example");
		expect(bad).not.toContain("Return to the shop");
	});
});
