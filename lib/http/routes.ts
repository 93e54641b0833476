/**
 * The public REST contract (shared/api-contract.md), one row per route, under /api/v1.
 * The gateway's aliases and the OpenAPI document are both made from this table, and a test
 * checks it against the contract, so a route cannot exist in one and not the other.
 * Who may call a route is declared once, on the action (`auth`, `roles`), in the owning service;
 * the gateway and every node enforce it from there, and the OpenAPI document reads it from there.
 */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RouteSpec {
	method: HttpMethod;
	/** moleculer-web path syntax, relative to /api/v1. */
	path: string;
	action: string;
	tag: "Identity" | "Catalog" | "Product images" | "Cart and orders" | "Promotions, shipping and tax" | "Support" | "Notifications" | "Webhooks" | "Reports";
	summary: string;
	/** Status code of a successful answer. */
	status: 200 | 201 | 202 | 204;
	/** A multipart/form-data upload, streamed to the action (moleculer-web's busboy support) instead of a JSON body. */
	multipart?: true;
	/** What a successful answer is when it is not JSON (for the OpenAPI document). */
	produces?: readonly string[];
}

export const API_PREFIX = "/api/v1";

/** One row of the table: method, path, action, status of success, summary. */
type RouteRow = [HttpMethod, string, string, RouteSpec["status"], string, Pick<RouteSpec, "multipart" | "produces">?];

function routes(tag: RouteSpec["tag"], rows: RouteRow[]): RouteSpec[] {
	return rows.map(([method, path, action, status, summary, extra]) => ({ method, path, action, tag, summary, status, ...extra }));
}

export const ROUTES: RouteSpec[] = [
	...routes("Identity", [
		["POST", "/auth/register", "users.register", 201, "Create a customer account"],
		["POST", "/auth/login", "users.login", 200, "Sign in: access and refresh tokens"],
		["POST", "/auth/refresh", "users.refresh", 200, "Rotate a refresh token for a new pair"],
		["POST", "/auth/logout", "users.logout", 204, "End the session of a refresh token"],
		["GET", "/auth/jwks", "users.jwks", 200, "Public keys that verify access tokens"],
		["POST", "/auth/password-reset", "users.requestPasswordReset", 202, "Email a password-reset link (202 whatever the address)"],
		["POST", "/auth/password-reset/confirm", "users.confirmPasswordReset", 204, "Set a new password with a reset link's token; every session ends"],
		["POST", "/auth/verify-email", "users.verifyEmail", 204, "Confirm the email address with a verification link's token"],
		["POST", "/me/verify-email", "users.resendVerification", 202, "Send the verification email again"],
		["POST", "/email/unsubscribe", "users.unsubscribe", 204, "One-click unsubscribe (RFC 8058): turn email notifications off"],
		["GET", "/me", "users.me", 200, "Own profile"],
		["PATCH", "/me", "users.updateMe", 200, "Change own name or preferences"],
		["POST", "/me/password", "users.changePassword", 204, "Change own password; other sessions end"],
		["GET", "/me/export", "users.exportMe", 200, "All of one's data from every service, as one JSON document"],
		["DELETE", "/me", "users.eraseMe", 202, "Erase one's account across every service (password confirmed)"],
		["GET", "/me/addresses", "users.listAddresses", 200, "Own address book, the default first"],
		["POST", "/me/addresses", "users.addAddress", 201, "Add an address (at most 20)"],
		["PATCH", "/me/addresses/:id", "users.updateAddress", 200, "Change an address, or make it the default"],
		["DELETE", "/me/addresses/:id", "users.removeAddress", 204, "Remove an address"],
		["GET", "/users", "users.list", 200, "List users"],
		["GET", "/users/:id", "users.get", 200, "One user"],
		["PATCH", "/users/:id", "users.update", 200, "Change a user's name, roles or active flag"],
		["DELETE", "/users/:id", "users.remove", 204, "Erase a user across every service (orders kept without their name and address)"],
		["POST", "/oauth-clients", "users.createOAuthClient", 201, "Register an OAuth client (a confidential client's secret is shown once)"],
		["GET", "/oauth-clients", "users.listOAuthClients", 200, "OAuth clients"],
		["PATCH", "/oauth-clients/:id", "users.updateOAuthClient", 200, "Change an OAuth client"],
		["DELETE", "/oauth-clients/:id", "users.removeOAuthClient", 204, "Delete an OAuth client; its tokens stop working"],
		["POST", "/oauth-clients/:id/rotate-secret", "users.rotateOAuthClientSecret", 200, "A new secret for a confidential client (shown once)"],
	]),
	...routes("Catalog", [
		["GET", "/products", "products.search", 200, "Search and browse products"],
		[
			"GET",
			"/products/export",
			"products.exportCsv",
			200,
			"The catalog as CSV, one row per product and per variant (columns in the README); streamed",
			{ produces: ["text/csv"] },
		],
		[
			"POST",
			"/products/import",
			"products.importCsv",
			202,
			"Import products and variants from CSV (multipart `file`, the export's columns): creates or updates by SKU, as a job",
			{ multipart: true },
		],
		["GET", "/products/import/:jobId", "products.importStatus", 200, "An import job's progress: rows, created, updated, unchanged, errors"],
		["GET", "/products/:id", "products.get", 200, "One product"],
		["POST", "/products", "products.create", 201, "Create a product"],
		["PATCH", "/products/:id", "products.update", 200, "Change a product"],
		["DELETE", "/products/:id", "products.remove", 204, "Delete (deactivate) a product"],
		["PATCH", "/products/:id/inventory", "products.adjustInventory", 200, "Adjust stock by a delta or set it"],
		["POST", "/products/:id/variants", "products.createVariant", 201, "Add a variant (one combination of the product's options)"],
		["PATCH", "/products/:id/variants/:variantId", "products.updateVariant", 200, "Change a variant's SKU, options, price or active flag"],
		["DELETE", "/products/:id/variants/:variantId", "products.removeVariant", 204, "Delete a variant"],
		["PATCH", "/products/:id/variants/:variantId/inventory", "products.adjustVariantInventory", 200, "Adjust a variant's stock by a delta or set it"],
		["GET", "/categories", "products.categoryTree", 200, "The category tree"],
		["POST", "/categories", "products.createCategory", 201, "Create a category"],
		["PATCH", "/categories/:id", "products.updateCategory", 200, "Change a category"],
		["DELETE", "/categories/:id", "products.removeCategory", 204, "Delete a category"],
	]),
	...routes("Product images", [
		[
			"POST",
			"/products/:id/images",
			"media.upload",
			201,
			"Upload an image of a product (multipart: `alt`, `variantId`, then `file`; JPEG, PNG, WebP or AVIF, at most 10 MB and 40 megapixels)",
			{ multipart: true },
		],
		["PATCH", "/products/:id/images/:imageId", "media.updateImage", 200, "Change an image's alt text, position or variant"],
		["DELETE", "/products/:id/images/:imageId", "media.removeImage", 204, "Delete an image and its files"],
		[
			"GET",
			"/media/:imageId/:preset.:format",
			"media.rendition",
			200,
			"An image resized to a preset (thumb 160, card 480, large 1200 px) in WebP, AVIF or JPEG; cacheable for ever",
			{ produces: ["image/webp", "image/avif", "image/jpeg"] },
		],
	]),
	...routes("Cart and orders", [
		["GET", "/cart", "orders.getCart", 200, "Own cart with current prices"],
		["POST", "/cart/items", "orders.addCartItem", 200, "Add a product (or one of its variants) to the cart"],
		["PATCH", "/cart/items/:itemId", "orders.updateCartItem", 200, "Change a line's quantity"],
		["DELETE", "/cart/items/:itemId", "orders.removeCartItem", 200, "Remove a line"],
		["DELETE", "/cart", "orders.clearCart", 200, "Empty the cart"],
		["PUT", "/cart/promotion", "orders.applyPromotion", 200, "Apply a promotion code to the cart"],
		["DELETE", "/cart/promotion", "orders.removePromotion", 200, "Remove the cart's promotion code"],
		["POST", "/orders", "orders.checkout", 202, "Check out the cart (Idempotency-Key header)"],
		["GET", "/orders", "orders.list", 200, "Own order history, newest first"],
		["GET", "/orders/:id", "orders.get", 200, "One order with history and payment summary"],
		["POST", "/orders/:id/cancel", "orders.cancel", 200, "Cancel a pending or paid order"],
		["POST", "/orders/:id/refunds", "orders.refund", 201, "Refund part of a captured payment (Idempotency-Key header)"],
		["POST", "/orders/:id/ship", "orders.ship", 200, "Mark a paid order shipped"],
		["POST", "/orders/:id/fulfilments", "orders.createFulfilment", 201, "Ship a parcel (some lines or all left) with carrier and tracking"],
		["POST", "/orders/:id/deliver", "orders.deliver", 200, "Mark a shipped order delivered"],
	]),
	...routes("Promotions, shipping and tax", [
		["POST", "/promotions", "pricing.createPromotion", 201, "Create a promotion code"],
		["GET", "/promotions", "pricing.listPromotions", 200, "List promotions, newest first"],
		["GET", "/promotions/:id", "pricing.getPromotion", 200, "One promotion with its redemptions"],
		["PATCH", "/promotions/:id", "pricing.updatePromotion", 200, "Change a promotion"],
		["DELETE", "/promotions/:id", "pricing.removePromotion", 204, "Delete a promotion (its code is free again)"],
		["POST", "/shipping-methods", "pricing.createShippingMethod", 201, "Create a shipping method"],
		["GET", "/shipping-methods", "pricing.listShippingMethods", 200, "Shipping methods (to `country`), cheapest first"],
		["PATCH", "/shipping-methods/:id", "pricing.updateShippingMethod", 200, "Change a shipping method"],
		["DELETE", "/shipping-methods/:id", "pricing.removeShippingMethod", 204, "Delete a shipping method"],
		["GET", "/tax-rates", "pricing.listTaxRates", 200, "Tax rates by country"],
		["PUT", "/tax-rates/:country", "pricing.setTaxRate", 200, "Set a country's tax rate (basis points)"],
	]),
	...routes("Support", [
		["POST", "/tickets", "tickets.create", 201, "Open a ticket"],
		["GET", "/tickets", "tickets.list", 200, "Own tickets; agents and admins see all"],
		["GET", "/tickets/:id", "tickets.get", 200, "A ticket with a page of its thread (newest first; `before` pages back), customer and order"],
		["POST", "/tickets/:id/messages", "tickets.reply", 201, "Reply to a ticket"],
		["PATCH", "/tickets/:id", "tickets.update", 200, "Change status, priority or assignee"],
		["POST", "/tickets/:id/return/approve", "tickets.approveReturn", 200, "Approve a return: refund and restock"],
		["POST", "/tickets/:id/return/reject", "tickets.rejectReturn", 200, "Reject a return"],
	]),
	...routes("Notifications", [
		["GET", "/me/notifications", "notifications.list", 200, "Own notifications, newest first"],
		["POST", "/me/notifications/:id/read", "notifications.markRead", 204, "Mark a notification read"],
		["GET", "/mailbox", "notifications.mailbox", 200, "Emails the shop sent or is sending, newest first (the development mailbox without SMTP_URL)"],
		["GET", "/mailbox/:id", "notifications.mailboxMessage", 200, "One email with its HTML, text and headers"],
	]),
	...routes("Webhooks", [
		["POST", "/webhooks", "webhooks.create", 201, "Register an endpoint; the answer shows its signing secret, once"],
		["GET", "/webhooks", "webhooks.list", 200, "List endpoints (never their secrets)"],
		["PATCH", "/webhooks/:id", "webhooks.update", 200, "Change an endpoint's URL, events, description or enabled flag"],
		["DELETE", "/webhooks/:id", "webhooks.remove", 204, "Delete an endpoint and its delivery log"],
		["GET", "/webhooks/:id/deliveries", "webhooks.deliveries", 200, "An endpoint's deliveries, newest first, with their attempts"],
		["POST", "/webhooks/:id/deliveries/:deliveryId/retry", "webhooks.retryDelivery", 200, "Send a delivery again now"],
		["POST", "/webhooks/:id/rotate-secret", "webhooks.rotateSecret", 200, "New signing secret; the old one signs too for 24 hours"],
		["POST", "/webhooks/:id/test", "webhooks.sendTest", 202, "Send a test event to the endpoint"],
	]),
	...routes("Reports", [
		["GET", "/reports/sales", "reports.sales", 200, "Orders, revenue, refunds and net per day, week or month (shop's time zone)"],
		["GET", "/reports/top-products", "reports.topProducts", 200, "The 10 products and variants that earned most in a range"],
		["GET", "/reports/overview", "reports.overview", 200, "Products low on stock and open tickets by age"],
		["POST", "/reports/backfill", "reports.backfill", 200, "Rebuild the reporting read model from the owning services"],
	]),
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
	return Object.fromEntries(routes.map(r => [`${r.method} ${r.path}`, r.multipart ? `multipart:${r.action}` : r.action]));
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
