/**
 * JSON Schemas of the contract's resources (what the API answers), for the OpenAPI document.
 * Request schemas are generated from the actions' own validator schemas (lib/contracts/http).
 */
import { EMAIL_PATTERN } from "../contracts/http/identity.js";
import { PRIORITIES, TICKET_STATUSES, TICKET_TYPES } from "../contracts/http/support.js";
import { PROMOTION_REFUSAL_REASONS } from "../domain/promotions.js";
import { PAYMENT_STATUSES } from "../payments/payment.js";

type Schema = Record<string, unknown>;

const str = (extra: Schema = {}): Schema => ({ type: "string", ...extra });
const int = (extra: Schema = {}): Schema => ({ type: "integer", ...extra });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: "object", properties, required, additionalProperties: false });
/** An object whose every field is always there. */
const all = (properties: Record<string, Schema>): Schema => obj(properties, Object.keys(properties));
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: "null" }] });
const strMap: Schema = { type: "object", additionalProperties: str() };
const bool: Schema = { type: "boolean" };

export const preferences = all({
	language: str({ examples: ["en"] }),
	currency: str({ pattern: "^[A-Z]{3}$" }),
	notifications: all({ email: { type: "boolean" }, inApp: { type: "boolean" } }),
});

const oauthClient: Record<string, Schema> = {
	id: str(),
	clientId: str(),
	name: str(),
	type: { type: "string", enum: ["public", "confidential"] },
	redirectUris: { type: "array", items: str() },
	postLogoutRedirectUris: { type: "array", items: str() },
	grantTypes: { type: "array", items: str() },
	scopes: { type: "array", items: str() },
	firstParty: bool,
	createdAt: str(),
	updatedAt: str(),
};
const webhookEndpoint: Record<string, Schema> = {
	id: str(),
	url: str(),
	events: { type: "array", items: str() },
	description: nullable(str()),
	enabled: bool,
	disabledReason: nullable(str()),
	failingSince: nullable(str()),
	secretRotatedAt: nullable(str()),
	createdAt: str(),
	updatedAt: str(),
};

/** Money is integer minor units; `net` is revenue less refunds, `averageOrderValue` revenue per order (rounded). */
/** A cart line or an order item, with its share of the discount and its tax. */
const pricedLine = all({
	itemId: str(),
	productId: str(),
	variantId: nullable(str()),
	options: nullable(strMap),
	sku: str(),
	name: str(),
	unitPrice: int(),
	quantity: int(),
	lineTotal: int(),
	discount: int(),
	tax: int(),
});

const salesFigures: Record<string, Schema> = { orders: int(), revenue: int(), refunds: int(), net: int(), averageOrderValue: int() };

export const RESOURCES: Record<string, Schema> = {
	Error: obj({ name: str(), message: str(), code: int(), type: str(), data: {} }, ["name", "message", "code", "type"]),
	User: obj(
		{
			id: str(),
			// The pattern the server checks addresses with at registration (the same rule as the request's), not JSON Schema's `email` format, which is stricter.
			email: str({ pattern: EMAIL_PATTERN.source }),
			name: str(),
			roles: { type: "array", items: str({ enum: ["customer", "agent", "admin"] }) },
			active: { type: "boolean" },
			preferences,
			emailVerified: { type: "boolean" },
			// GET /users/:id (admin): the account's erasure, when one was asked for.
			erasure: nullable(obj({ requestedAt: str(), acknowledged: { type: "array", items: str() }, completedAt: { type: ["string", "null"] } })),
			createdAt: str({ format: "date-time" }),
			updatedAt: str({ format: "date-time" }),
		},
		["id", "email", "name", "roles", "active", "preferences", "emailVerified", "createdAt", "updatedAt"],
	),
	Registration: obj({ user: ref("User") }, ["user"]),
	TokenPair: obj({ accessToken: str(), refreshToken: str(), tokenType: str({ const: "Bearer" }), expiresIn: int(), user: ref("User") }, [
		"accessToken",
		"refreshToken",
		"tokenType",
		"expiresIn",
	]),
	Product: obj(
		{
			id: str(),
			sku: str(),
			name: str(),
			description: str(),
			price: int({ minimum: 0 }),
			currency: str(),
			categories: { type: "array", items: str() },
			stock: int(),
			available: int(),
			active: { type: "boolean" },
			options: { type: "array", items: ref("ProductOption") },
			variants: { type: "array", items: ref("Variant") },
			images: { type: "array", items: ref("ProductImage") },
			// Search results only: the first image's small rendition.
			thumbnail: nullable(str()),
			createdAt: str(),
			updatedAt: str(),
		},
		[
			"id",
			"sku",
			"name",
			"description",
			"price",
			"currency",
			"categories",
			"stock",
			"available",
			"active",
			"options",
			"variants",
			"images",
			"createdAt",
			"updatedAt",
		],
	),
	ProductImage: obj(
		{
			id: str(),
			url: str({ description: "The large JPEG; thumb/card/large in webp/avif/jpg differ in the last path segment" }),
			alt: { ...strMap, description: "Alt text per language" },
			width: int({ minimum: 1 }),
			height: int({ minimum: 1 }),
			variantId: nullable(str()),
			position: int({ minimum: 0 }),
		},
		["id", "url", "alt", "width", "height", "variantId"],
	),
	ProductOption: obj({ name: str(), values: { type: "array", items: str() } }, ["name", "values"]),
	Variant: obj(
		{
			id: str(),
			sku: str(),
			options: strMap,
			price: int({ minimum: 0 }),
			stock: int(),
			available: int(),
			active: bool,
			images: { type: "array", items: ref("ProductImage") },
		},
		["id", "sku", "options", "price", "stock", "available", "active"],
	),
	ImportStarted: obj({ jobId: str() }, ["jobId"]),
	ImportJob: obj(
		{
			id: str(),
			state: str({ enum: ["running", "done", "failed"] }),
			rows: int({ minimum: 0 }),
			created: int({ minimum: 0 }),
			updated: int({ minimum: 0 }),
			unchanged: int({ minimum: 0 }),
			errors: {
				type: "array",
				maxItems: 1001,
				description: "Rows refused (line of the file, the column, why), the first 1000; a failed job's reason has field 'file'",
				items: obj({ line: int({ minimum: 0 }), field: str(), message: str() }, ["line", "field", "message"]),
			},
			startedAt: str({ format: "date-time" }),
			finishedAt: nullable(str({ format: "date-time" })),
		},
		["id", "state", "rows", "created", "updated", "unchanged", "errors", "startedAt", "finishedAt"],
	),
	Promotion: obj(
		{
			id: str(),
			code: str(),
			type: str({ enum: ["percent", "fixed"] }),
			value: int(),
			currency: nullable(str()),
			minSubtotal: nullable(int()),
			startsAt: nullable(str()),
			endsAt: nullable(str()),
			maxRedemptions: nullable(int()),
			perCustomerLimit: nullable(int()),
			active: bool,
			redemptions: int(),
			createdAt: str(),
			updatedAt: str(),
		},
		["id", "code", "type", "value", "active", "redemptions", "createdAt", "updatedAt"],
	),
	ShippingMethod: all({
		id: str(),
		name: str(),
		countries: { type: "array", items: str() },
		price: int(),
		currency: str(),
		freeOver: nullable(int()),
		minDays: int(),
		maxDays: int(),
		active: bool,
		createdAt: str(),
		updatedAt: str(),
	}),
	ShippingMethods: { type: "array", items: ref("ShippingMethod") },
	TaxRate: all({ country: str(), rate: int(), updatedAt: str() }),
	TaxRates: { type: "array", items: ref("TaxRate") },
	OAuthClient: obj(oauthClient, Object.keys(oauthClient)),
	// A confidential client's secret is in the answer to its creation and to a rotation only (shown once).
	OAuthClientCreated: obj({ ...oauthClient, clientSecret: str() }, Object.keys(oauthClient)),
	OAuthClientSecret: obj({ id: str(), clientId: str(), clientSecret: str() }, ["id", "clientId", "clientSecret"]),
	OAuthClients: obj({ items: { type: "array", items: ref("OAuthClient") } }, ["items"]),
	WebhookEndpoint: obj(webhookEndpoint, Object.keys(webhookEndpoint)),
	// The only answers that carry the signing secret: creation and rotation (shown once).
	WebhookEndpointWithSecret: all({ ...webhookEndpoint, secret: str({ pattern: "^whsec_" }) }),
	WebhookDelivery: obj(
		{
			id: str(),
			webhookId: str(),
			eventId: str(),
			eventType: str(),
			state: str({ enum: ["pending", "delivered", "failed"] }),
			attempts: {
				type: "array",
				items: obj({ at: str(), status: nullable(int()), durationMs: int(), error: nullable(str()) }, ["at", "status", "durationMs", "error"]),
			},
			nextAttemptAt: nullable(str()),
			createdAt: str(),
		},
		["id", "webhookId", "eventId", "eventType", "state", "attempts", "nextAttemptAt", "createdAt"],
	),
	// `children` in the tree only.
	Category: obj({ id: str(), slug: str(), name: str(), parentId: { type: ["string", "null"] }, children: { type: "array", items: ref("Category") } }, [
		"id",
		"slug",
		"name",
		"parentId",
	]),
	CategoryTree: { type: "array", items: ref("Category") },
	Cart: all({
		items: {
			type: "array",
			items: pricedLine,
		},
		subtotal: int(),
		discount: int(),
		shipping: int(),
		shippingTax: int(),
		tax: int(),
		total: int(),
		currency: str(),
		promotion: nullable(all({ code: str() })),
		promotionRefusal: nullable(all({ reason: str({ enum: [...PROMOTION_REFUSAL_REASONS] }), message: str() })),
		shippingMethod: nullable(all({ id: str(), name: str(), price: int() })),
	}),
	OrderStatus: str({ enum: ["pending", "paid", "partially_shipped", "shipped", "delivered", "cancelled", "refunded"] }),
	Order: all({
		id: str(),
		userId: str(),
		status: ref("OrderStatus"),
		items: {
			type: "array",
			items: pricedLine,
		},
		subtotal: int(),
		discountTotal: int(),
		shippingTotal: int(),
		shippingTax: int(),
		taxTotal: int(),
		promotion: nullable(all({ code: str(), discount: int() })),
		shippingMethod: nullable(all({ id: str(), name: str(), price: int() })),
		total: int(),
		currency: str(),
		shippingAddress: ref("Address"),
		payment: obj(
			{
				brand: str(),
				last4: str(),
				status: str({ enum: [...PAYMENT_STATUSES] }),
				provider: str(),
				sessionId: nullable(str()),
				clientSecret: nullable(str()),
				expiresAt: str(),
				publishableKey: str(),
				confirmUrl: str(),
				declineReason: str(),
			},
			["brand", "last4", "status"],
		),
		refunds: { type: "array", items: all({ id: str(), amount: int(), reason: str(), at: str() }) },
		statusHistory: { type: "array", items: obj({ status: str(), at: str(), reason: str() }, ["status", "at"]) },
		fulfilments: {
			type: "array",
			items: obj(
				{
					id: str(),
					items: { type: "array", items: obj({ itemId: str(), quantity: int({ minimum: 1 }) }, ["itemId", "quantity"]) },
					carrier: nullable(str({ enum: ["dhl", "ups", "fedex", "gls", "correos", "other"] })),
					trackingNumber: nullable(str()),
					trackingUrl: nullable(str()),
					shippedAt: str(),
				},
				["id", "items", "carrier", "trackingNumber", "trackingUrl", "shippedAt"],
			),
		},
		createdAt: str(),
		updatedAt: str(),
	}),
	Refund: obj({ id: str(), orderId: str(), amount: int(), reason: str(), at: str() }),
	Address: obj({ name: str(), line1: str(), line2: str(), city: str(), region: str(), postalCode: str(), country: str({ pattern: "^[A-Z]{2}$" }) }, [
		"name",
		"line1",
		"city",
		"postalCode",
		"country",
	]),
	AddressBookEntry: obj(
		{
			id: str(),
			label: { type: ["string", "null"] },
			isDefault: bool,
			name: str(),
			line1: str(),
			line2: str(),
			city: str(),
			region: str(),
			postalCode: str(),
			country: str({ pattern: "^[A-Z]{2}$" }),
			createdAt: str({ format: "date-time" }),
			updatedAt: str({ format: "date-time" }),
		},
		["id", "label", "isDefault", "name", "line1", "city", "postalCode", "country", "createdAt", "updatedAt"],
	),
	AddressBook: obj({ rows: { type: "array", items: ref("AddressBookEntry") } }, ["rows"]),
	Ticket: obj(
		{
			id: str(),
			userId: str(),
			type: str({ enum: [...TICKET_TYPES] }),
			subject: str(),
			status: str({ enum: [...TICKET_STATUSES] }),
			priority: str({ enum: [...PRIORITIES] }),
			assigneeId: { type: ["string", "null"] },
			orderId: { type: ["string", "null"] },
			// A return's items, each naming its order line by `itemId`.
			items: { type: "array", items: all({ itemId: str(), productId: str(), variantId: nullable(str()), quantity: int({ minimum: 1 }) }) },
			rating: { type: ["integer", "null"] },
			messages: { type: "array", items: ref("TicketMessage") },
			messagesTotal: int(),
			olderMessages: { type: ["string", "null"] },
			return: nullable(all({ status: str({ enum: ["requested", "approved", "rejected"] }), reason: nullable(str()) })),
			// GET /tickets/:id only, each marked `unavailable` when its service did not answer in time.
			customer: {
				anyOf: [all({ id: str(), name: nullable(str()), email: nullable(str()) }), all({ id: str(), unavailable: { const: true } })],
			},
			order: nullable({
				anyOf: [
					all({ id: str(), status: ref("OrderStatus"), total: int(), currency: str(), createdAt: str() }),
					all({ id: str(), unavailable: { const: true } }),
				],
			}),
			createdAt: str(),
			updatedAt: str(),
		},
		[
			"id",
			"userId",
			"type",
			"subject",
			"status",
			"priority",
			"assigneeId",
			"orderId",
			"items",
			"rating",
			"messages",
			"messagesTotal",
			"olderMessages",
			"return",
			"createdAt",
			"updatedAt",
		],
	),
	TicketMessage: obj({ id: str(), authorId: str(), authorRole: str({ enum: ["customer", "agent", "admin"] }), body: str(), at: str() }, [
		"id",
		"authorId",
		"authorRole",
		"body",
		"at",
	]),
	Readiness: obj({ status: str({ enum: ["ready", "not ready"] }), failing: { type: "array", items: str() } }, ["status", "failing"]),
	Notification: all({ id: str(), type: str(), title: str(), body: str(), read: { type: "boolean" }, createdAt: str(), ref: all({ kind: str(), id: str() }) }),
	MailboxMessage: obj(
		{
			id: str(),
			kind: str(),
			to: str(),
			subject: str(),
			messageId: str(),
			state: str({ enum: ["pending", "sent", "dead"] }),
			attempts: int(),
			lastError: { type: ["string", "null"] },
			createdAt: str({ format: "date-time" }),
			sentAt: { type: ["string", "null"] },
			text: str(),
			html: str(),
			headers: { type: "object", additionalProperties: str() },
		},
		["id", "kind", "to", "subject", "messageId", "state", "attempts", "createdAt", "text", "html", "headers"],
	),
	// `facets` only on GET /products?facets=true (the contract's "Search and facets").
	Page: obj({ rows: { type: "array", items: {} }, total: int(), page: int(), pageSize: int(), totalPages: int(), facets: ref("Facets") }, [
		"rows",
		"total",
		"page",
		"pageSize",
		"totalPages",
	]),
	// Counted over the whole result, not the page; the last price bucket is open (`max: null`).
	Facets: all({
		categories: { type: "array", items: all({ slug: str(), count: int() }) },
		options: { type: "object", additionalProperties: { type: "array", items: all({ value: str(), count: int() }) } },
		price: { type: "array", items: all({ min: int(), max: nullable(int()), count: int() }) },
		inStock: int(),
	}),
	SalesReport: obj(
		{
			currency: str({ pattern: "^[A-Z]{3}$" }),
			interval: str({ enum: ["day", "week", "month"] }),
			timeZone: str({ examples: ["Europe/Madrid"] }),
			buckets: { type: "array", items: ref("SalesFigures") },
			totals: obj(salesFigures, Object.keys(salesFigures)),
		},
		["currency", "interval", "timeZone", "buckets", "totals"],
	),
	SalesFigures: obj({ start: str({ format: "date" }), ...salesFigures }, ["start", ...Object.keys(salesFigures)]),
	TopProducts: obj(
		{
			currency: str({ pattern: "^[A-Z]{3}$" }),
			timeZone: str(),
			from: str({ format: "date" }),
			to: str({ format: "date" }),
			products: {
				type: "array",
				maxItems: 10,
				items: obj({ productId: str(), variantId: nullable(str()), name: str(), sku: str(), revenue: int(), units: int() }, [
					"productId",
					"variantId",
					"name",
					"sku",
					"revenue",
					"units",
				]),
			},
		},
		["currency", "timeZone", "from", "to", "products"],
	),
	ReportsOverview: obj(
		{
			lowStockThreshold: int(),
			lowStock: {
				type: "array",
				items: obj({ productId: str(), variantId: nullable(str()), name: str(), sku: str(), available: int() }, [
					"productId",
					"variantId",
					"name",
					"sku",
					"available",
				]),
			},
			openTickets: obj({ total: int(), byAge: obj(Object.fromEntries(["under1d", "1to3d", "3to7d", "over7d"].map(b => [b, int()]))) }, [
				"total",
				"byAge",
			]),
		},
		["lowStockThreshold", "lowStock", "openTickets"],
	),
	ReportsBackfill: obj({ orders: int(), products: int(), tickets: int(), startedAt: str(), finishedAt: str() }, [
		"orders",
		"products",
		"tickets",
		"startedAt",
		"finishedAt",
	]),
};
