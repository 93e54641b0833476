/**
 * The shop API's scopes: what an integrator's token (client credentials) may do at the gateway,
 * and which of them a signed-in user's token may carry (what the user's roles already allow).
 * A user's token is authorised by its roles, as before; a client's token only by its scopes,
 * and only on the actions listed here.
 */
import type { Role } from "../auth/access.js";

export const API_SCOPES = ["catalog:write", "inventory:write", "orders:read", "orders:write", "tickets:write"] as const;
export type ApiScope = (typeof API_SCOPES)[number];
/** The OpenID Connect scopes a client may ask for besides the API's. */
export const OIDC_SCOPES = ["openid", "profile", "email", "offline_access"] as const;

/** The gateway actions each scope opens to a client. */
const ACTIONS_BY_SCOPE: Record<ApiScope, readonly string[]> = {
	"catalog:write": [
		"products.create",
		"products.update",
		"products.remove",
		"products.createVariant",
		"products.updateVariant",
		"products.removeVariant",
		"products.createCategory",
		"products.updateCategory",
		"products.removeCategory",
	],
	"inventory:write": ["products.adjustInventory", "products.adjustVariantInventory"],
	"orders:read": ["orders.list", "orders.get"],
	"orders:write": ["orders.cancel", "orders.ship", "orders.deliver"],
	"tickets:write": ["tickets.list", "tickets.get", "tickets.reply", "tickets.update"],
};

/** The roles whose holders may carry a scope in their own tokens. */
const ROLES_BY_SCOPE: Record<ApiScope, readonly Role[]> = {
	"catalog:write": ["admin"],
	"inventory:write": ["admin"],
	"orders:read": ["admin"],
	"orders:write": ["admin"],
	"tickets:write": ["agent", "admin"],
};

export function isApiScope(s: string): s is ApiScope {
	return (API_SCOPES as readonly string[]).includes(s);
}

export function parseScope(scope: string | undefined): string[] {
	return (scope ?? "").split(" ").filter(Boolean);
}

/** Whether a client token with these scopes may call the action. */
export function scopeAllows(scopes: readonly string[], action: string): boolean {
	return scopes.some(s => isApiScope(s) && ACTIONS_BY_SCOPE[s].includes(action));
}

/** The API scopes a user with these roles may be granted (a customer: none). */
export function grantableScopes(roles: readonly string[], requested: readonly string[]): ApiScope[] {
	return requested.filter(isApiScope).filter(s => ROLES_BY_SCOPE[s].some(r => roles.includes(r)));
}

/**
 * The roles a client caller acts with inside the services once the gateway has let it through
 * (its scopes decide which actions; inside them it acts as the shop's staff would).
 */
export function rolesForClientScopes(scopes: readonly string[]): Role[] {
	if (scopes.some(s => s === "tickets:write") && !scopes.some(s => isApiScope(s) && s !== "tickets:write")) return ["agent"];
	return scopes.some(isApiScope) ? ["admin"] : [];
}
