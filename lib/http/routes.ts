/**
 * The public REST contract (shared/api-contract.md), one row per route, under /api/v1.
 * The gateway's aliases and the OpenAPI document are both made from this table, and a test
 * checks it against the contract, so a route cannot exist in one and not the other.
 * Who may call a route is declared on the action (`auth`, `roles`), in the owning service.
 */
export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

export interface RouteSpec {
	method: HttpMethod;
	/** moleculer-web path syntax, relative to /api/v1. */
	path: string;
	action: string;
	tag: "Identity" | "Catalog" | "Cart and orders" | "Support" | "Notifications";
	summary: string;
	/** Status code of a successful answer. */
	status: 200 | 201 | 202 | 204;
	/** Who may call it, for the OpenAPI document; enforced from the action's own metadata. */
	access: "anyone" | "signed in" | "admin" | "agent or admin" | "owner or admin" | "owner, agent or admin";
}

export const API_PREFIX = "/api/v1";

export const ROUTES: RouteSpec[] = [
	{ method: "POST", path: "/auth/register", action: "users.register", tag: "Identity", summary: "Create a customer account", status: 201, access: "anyone" },
	{
		method: "POST",
		path: "/auth/login",
		action: "users.login",
		tag: "Identity",
		summary: "Sign in: access and refresh tokens",
		status: 200,
		access: "anyone",
	},
	{
		method: "POST",
		path: "/auth/refresh",
		action: "users.refresh",
		tag: "Identity",
		summary: "Rotate a refresh token for a new pair",
		status: 200,
		access: "anyone",
	},
	{
		method: "POST",
		path: "/auth/logout",
		action: "users.logout",
		tag: "Identity",
		summary: "End the session of a refresh token",
		status: 204,
		access: "signed in",
	},
	{
		method: "GET",
		path: "/auth/jwks",
		action: "users.jwks",
		tag: "Identity",
		summary: "Public keys that verify access tokens",
		status: 200,
		access: "anyone",
	},
	{ method: "GET", path: "/me", action: "users.me", tag: "Identity", summary: "Own profile", status: 200, access: "signed in" },
	{ method: "PATCH", path: "/me", action: "users.updateMe", tag: "Identity", summary: "Change own name or preferences", status: 200, access: "signed in" },
	{
		method: "POST",
		path: "/me/password",
		action: "users.changePassword",
		tag: "Identity",
		summary: "Change own password; other sessions end",
		status: 204,
		access: "signed in",
	},
	{ method: "GET", path: "/users", action: "users.list", tag: "Identity", summary: "List users", status: 200, access: "admin" },
	{ method: "GET", path: "/users/:id", action: "users.get", tag: "Identity", summary: "One user", status: 200, access: "admin" },
	{
		method: "PATCH",
		path: "/users/:id",
		action: "users.update",
		tag: "Identity",
		summary: "Change a user's name, roles or active flag",
		status: 200,
		access: "admin",
	},
	{ method: "DELETE", path: "/users/:id", action: "users.remove", tag: "Identity", summary: "Delete a user", status: 204, access: "admin" },

	{ method: "GET", path: "/products", action: "products.search", tag: "Catalog", summary: "Search and browse products", status: 200, access: "anyone" },
	{ method: "GET", path: "/products/:id", action: "products.get", tag: "Catalog", summary: "One product", status: 200, access: "anyone" },
	{ method: "POST", path: "/products", action: "products.create", tag: "Catalog", summary: "Create a product", status: 201, access: "admin" },
	{ method: "PATCH", path: "/products/:id", action: "products.update", tag: "Catalog", summary: "Change a product", status: 200, access: "admin" },
	{
		method: "DELETE",
		path: "/products/:id",
		action: "products.remove",
		tag: "Catalog",
		summary: "Delete (deactivate) a product",
		status: 204,
		access: "admin",
	},
	{
		method: "PATCH",
		path: "/products/:id/inventory",
		action: "products.adjustInventory",
		tag: "Catalog",
		summary: "Adjust stock by a delta or set it",
		status: 200,
		access: "admin",
	},
	{ method: "GET", path: "/categories", action: "products.categoryTree", tag: "Catalog", summary: "The category tree", status: 200, access: "anyone" },
	{ method: "POST", path: "/categories", action: "products.createCategory", tag: "Catalog", summary: "Create a category", status: 201, access: "admin" },
	{ method: "PATCH", path: "/categories/:id", action: "products.updateCategory", tag: "Catalog", summary: "Change a category", status: 200, access: "admin" },
	{
		method: "DELETE",
		path: "/categories/:id",
		action: "products.removeCategory",
		tag: "Catalog",
		summary: "Delete a category",
		status: 204,
		access: "admin",
	},

	{
		method: "GET",
		path: "/cart",
		action: "orders.getCart",
		tag: "Cart and orders",
		summary: "Own cart with current prices",
		status: 200,
		access: "signed in",
	},
	{
		method: "POST",
		path: "/cart/items",
		action: "orders.addCartItem",
		tag: "Cart and orders",
		summary: "Add a product to the cart",
		status: 200,
		access: "signed in",
	},
	{
		method: "PATCH",
		path: "/cart/items/:productId",
		action: "orders.updateCartItem",
		tag: "Cart and orders",
		summary: "Change a line's quantity",
		status: 200,
		access: "signed in",
	},
	{
		method: "DELETE",
		path: "/cart/items/:productId",
		action: "orders.removeCartItem",
		tag: "Cart and orders",
		summary: "Remove a line",
		status: 200,
		access: "signed in",
	},
	{ method: "DELETE", path: "/cart", action: "orders.clearCart", tag: "Cart and orders", summary: "Empty the cart", status: 200, access: "signed in" },
	{
		method: "POST",
		path: "/orders",
		action: "orders.checkout",
		tag: "Cart and orders",
		summary: "Check out the cart (Idempotency-Key header)",
		status: 202,
		access: "signed in",
	},
	{
		method: "GET",
		path: "/orders",
		action: "orders.list",
		tag: "Cart and orders",
		summary: "Own order history, newest first",
		status: 200,
		access: "signed in",
	},
	{
		method: "GET",
		path: "/orders/:id",
		action: "orders.get",
		tag: "Cart and orders",
		summary: "One order with history and payment summary",
		status: 200,
		access: "owner or admin",
	},
	{
		method: "POST",
		path: "/orders/:id/cancel",
		action: "orders.cancel",
		tag: "Cart and orders",
		summary: "Cancel a pending or paid order",
		status: 200,
		access: "owner or admin",
	},
	{
		method: "POST",
		path: "/orders/:id/ship",
		action: "orders.ship",
		tag: "Cart and orders",
		summary: "Mark a paid order shipped",
		status: 200,
		access: "admin",
	},
	{
		method: "POST",
		path: "/orders/:id/deliver",
		action: "orders.deliver",
		tag: "Cart and orders",
		summary: "Mark a shipped order delivered",
		status: 200,
		access: "admin",
	},

	{ method: "POST", path: "/tickets", action: "tickets.create", tag: "Support", summary: "Open a ticket", status: 201, access: "signed in" },
	{
		method: "GET",
		path: "/tickets",
		action: "tickets.list",
		tag: "Support",
		summary: "Own tickets; agents and admins see all",
		status: 200,
		access: "signed in",
	},
	{
		method: "GET",
		path: "/tickets/:id",
		action: "tickets.get",
		tag: "Support",
		summary: "A ticket with a page of its thread (newest first; `before` pages back), customer and order",
		status: 200,
		access: "owner, agent or admin",
	},
	{
		method: "POST",
		path: "/tickets/:id/messages",
		action: "tickets.reply",
		tag: "Support",
		summary: "Reply to a ticket",
		status: 201,
		access: "owner, agent or admin",
	},
	{
		method: "PATCH",
		path: "/tickets/:id",
		action: "tickets.update",
		tag: "Support",
		summary: "Change status, priority or assignee",
		status: 200,
		access: "agent or admin",
	},
	{
		method: "POST",
		path: "/tickets/:id/return/approve",
		action: "tickets.approveReturn",
		tag: "Support",
		summary: "Approve a return: refund and restock",
		status: 200,
		access: "agent or admin",
	},
	{
		method: "POST",
		path: "/tickets/:id/return/reject",
		action: "tickets.rejectReturn",
		tag: "Support",
		summary: "Reject a return",
		status: 200,
		access: "agent or admin",
	},

	{
		method: "GET",
		path: "/me/notifications",
		action: "notifications.list",
		tag: "Notifications",
		summary: "Own notifications, newest first",
		status: 200,
		access: "signed in",
	},
	{
		method: "POST",
		path: "/me/notifications/:id/read",
		action: "notifications.markRead",
		tag: "Notifications",
		summary: "Mark a notification read",
		status: 204,
		access: "signed in",
	},
];

/** The routes a gateway serves when it routes to `services` only (empty: all of them). */
export function routesFor(services: readonly string[]): RouteSpec[] {
	return services.length === 0 ? ROUTES : ROUTES.filter(r => services.includes(serviceOf(r)));
}

export function serviceOf(route: RouteSpec): string {
	return route.action.split(".")[0]!;
}

/** The aliases object moleculer-web takes, e.g. `{ "POST /auth/register": "users.register" }`. */
export function aliasesOf(routes: RouteSpec[]): Record<string, string> {
	return Object.fromEntries(routes.map(r => [`${r.method} ${r.path}`, r.action]));
}

/** A route path as a regular expression over a request path relative to /api/v1 (`:id` is one segment). */
function pathPattern(path: string): RegExp {
	const source = path
		.split("/")
		.map(seg => (seg.startsWith(":") ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
		.join("/");
	return new RegExp(`^${source}/?$`);
}
/** The methods `routes` take on a path under /api/v1 (empty: an unknown path). For 405 and `Allow`. */
export function allowedMethods(routes: readonly RouteSpec[], pathUnderPrefix: string): HttpMethod[] {
	const methods = new Set(routes.filter(r => pathPattern(r.path).test(pathUnderPrefix)).map(r => r.method));
	return [...methods].sort();
}
