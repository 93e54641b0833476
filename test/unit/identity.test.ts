import { describe, expect, it } from "vitest";
import { grantableScopes, rolesForClientScopes, scopeAllows } from "../../lib/identity/scopes.js";
import { grantProblem, providerMetadata, redirectUriProblem, type OAuthClientRecord } from "../../lib/identity/clients.js";
import { escapeHtml, loginPage, pickLang } from "../../lib/identity/pages.js";

describe("API scopes", () => {
	it("open only their own actions to a client", () => {
		expect(scopeAllows(["catalog:write"], "products.create")).toBe(true);
		expect(scopeAllows(["catalog:write"], "products.adjustInventory")).toBe(false);
		expect(scopeAllows(["inventory:write"], "products.adjustInventory")).toBe(true);
		expect(scopeAllows(["orders:read"], "orders.cancel")).toBe(false);
		expect(scopeAllows(["openid", "profile"], "users.me")).toBe(false);
		expect(scopeAllows([], "products.create")).toBe(false);
	});

	it("are granted to a user only as far as the user's roles go", () => {
		const all = ["catalog:write", "inventory:write", "orders:read", "orders:write", "tickets:write"];
		expect(grantableScopes(["customer"], all)).toEqual([]);
		expect(grantableScopes(["agent"], all)).toEqual(["tickets:write"]);
		expect(grantableScopes(["admin"], all)).toEqual(all);
		expect(grantableScopes(["admin"], ["openid", "catalog:write"])).toEqual(["catalog:write"]);
	});

	it("make a client act as staff inside the actions it may reach, an agent for tickets alone", () => {
		expect(rolesForClientScopes(["tickets:write"])).toEqual(["agent"]);
		expect(rolesForClientScopes(["catalog:write"])).toEqual(["admin"]);
		expect(rolesForClientScopes([])).toEqual([]);
	});
});

describe("client registration rules", () => {
	it("take https, http on loopback only, and reverse-DNS schemes for public clients; no wildcards or fragments", () => {
		expect(redirectUriProblem("https://shop.example/cb", "public")).toBeUndefined();
		expect(redirectUriProblem("http://127.0.0.1:8080/cb", "public")).toBeUndefined();
		expect(redirectUriProblem("http://localhost/cb", "confidential")).toBeUndefined();
		expect(redirectUriProblem("http://[::1]/cb", "public")).toBeUndefined();
		expect(redirectUriProblem("com.example.app:/oauth", "public")).toBeUndefined();
		expect(redirectUriProblem("com.example.app:/oauth", "confidential")).toBeDefined();
		expect(redirectUriProblem("http://shop.example/cb", "public")).toBeDefined();
		expect(redirectUriProblem("http://127.0.0.1.evil.example/cb", "public")).toBeDefined();
		expect(redirectUriProblem("https://*.example/cb", "public")).toBeDefined();
		expect(redirectUriProblem("https://shop.example/cb#frag", "public")).toBeDefined();
		expect(redirectUriProblem("/relative", "public")).toBeDefined();
		expect(redirectUriProblem("javascript:alert(1)", "public")).toBeDefined();
	});

	it("refuse client credentials without a secret and the code grant without a redirect URI", () => {
		expect(grantProblem("public", ["client_credentials"], [])).toBeDefined();
		expect(grantProblem("confidential", ["client_credentials"], [])).toBeUndefined();
		expect(grantProblem("public", ["authorization_code"], [])).toBeDefined();
		expect(grantProblem("public", ["refresh_token"], [])).toBeDefined();
		expect(grantProblem("public", ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"], [])).toBeUndefined();
	});

	it("give the provider a public client without a secret, and a confidential one only its secret's hash for Basic auth", () => {
		const base: OAuthClientRecord = {
			_id: "c",
			clientId: "c",
			name: "C",
			type: "public",
			redirectUris: ["com.example.app:/cb"],
			postLogoutRedirectUris: [],
			grantTypes: ["authorization_code", "refresh_token"],
			scopes: ["catalog:write"],
			firstParty: false,
			createdAt: "",
			updatedAt: "",
		};
		expect(providerMetadata(base)).toMatchObject({ token_endpoint_auth_method: "none", application_type: "native", shop_api_scopes: ["catalog:write"] });
		expect(providerMetadata(base).client_secret).toBeUndefined();
		const confidential = providerMetadata({ ...base, type: "confidential", redirectUris: [], grantTypes: ["client_credentials"], secretHash: "ab" });
		expect(confidential).toMatchObject({ token_endpoint_auth_method: "client_secret_basic", client_secret: "ab", response_types: [] });
		expect(String(confidential.scope)).not.toContain("offline_access");
	});
});

describe("identity pages", () => {
	it("speak Spanish when asked and English otherwise", () => {
		expect(pickLang(undefined, "es-ES,es;q=0.9,en;q=0.5")).toBe("es");
		expect(pickLang("en", "es")).toBe("en");
		expect(pickLang(undefined, "fr-FR")).toBe("en");
	});

	it("escape what they show", () => {
		expect(escapeHtml(`<script>"x"&'y'`)).toBe("&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;");
		const html = loginPage("en", "/oidc/interaction/u/login", "tok", `<b>Evil</b>`, `"><img>`);
		expect(html).not.toContain("<b>Evil</b>");
		expect(html).not.toContain(`"><img>`);
	});
});
