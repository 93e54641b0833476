/**
 * The contract's resources (what the API answers), each stated once as a TypeBox schema: it is the
 * JSON Schema of the OpenAPI document (`RESOURCES`, its components) and, through `Static<>`, the
 * TypeScript type of what the services answer (PublicOrder, PublicProduct … are aliases of these),
 * so a field added here is a type error until the code fills it. The web shop's types are generated
 * from the document (scripts/generate-web-types.ts).
 * Request schemas are generated from the actions' own validator schemas (lib/contracts/http).
 */
import { Type, type Static, type TSchema } from "typebox";
import { closed as obj, nullable, oneOf, stringMap as strMap, stringOrNull as strOrNull } from "../contracts/typebox.js";
import type { Role } from "../auth/access.js";
import { EMAIL_PATTERN } from "../contracts/http/identity.js";
import { ORDER_STATUSES } from "../contracts/http/orders.js";
import { PRIORITIES, TICKET_STATUSES, TICKET_TYPES } from "../contracts/http/support.js";
import { CARRIERS } from "../domain/fulfilment.js";
import { PROMOTION_REFUSAL_REASONS } from "../domain/promotions.js";
import { PAYMENT_STATUSES } from "../payments/payment.js";

const str = Type.String;
const int = Type.Integer;
const bool = Type.Boolean;
const opt = Type.Optional;
const list = Type.Array;
/** A reference to another component, typed as that component. */
const ref = <T extends TSchema>(name: string, _schema: T) => Type.Unsafe<Static<T>>({ $ref: `#/components/schemas/${name}` });

const ErrorBody = obj({ name: str(), message: str(), code: int(), type: str(), data: opt(Type.Unknown()) });

export const Preferences = obj({
	language: str({ examples: ["en"] }),
	currency: str({ pattern: "^[A-Z]{3}$" }),
	notifications: obj({ email: bool(), inApp: bool() }),
});

const ROLES = ["customer", "agent", "admin"] as const satisfies readonly Role[];

export const User = obj({
	id: str(),
	// The pattern the server checks addresses with at registration (the same rule as the request's), not JSON Schema's `email` format, which is stricter.
	email: str({ pattern: EMAIL_PATTERN.source }),
	name: str(),
	roles: list(oneOf(ROLES)),
	active: bool(),
	preferences: Preferences,
	emailVerified: bool(),
	// GET /users/:id (admin): the account's erasure, when one was asked for.
	erasure: opt(nullable(obj({ requestedAt: opt(str()), acknowledged: opt(list(str())), completedAt: opt(strOrNull()) }))),
	createdAt: str({ format: "date-time" }),
	updatedAt: str({ format: "date-time" }),
});

export const Registration = obj({ user: ref("User", User) });
export const TokenPair = obj({ accessToken: str(), refreshToken: str(), tokenType: Type.Literal("Bearer"), expiresIn: int(), user: ref("User", User) });

export const ProductImage = obj({
	id: str(),
	url: str({ description: "The large JPEG; thumb/card/large in webp/avif/jpg differ in the last path segment" }),
	alt: strMap({ description: "Alt text per language" }),
	width: int({ minimum: 1 }),
	height: int({ minimum: 1 }),
	variantId: nullable(str()),
	position: int({ minimum: 0 }),
});
export const ProductOption = obj({ name: str(), values: list(str()) });
export const Variant = obj({
	id: str(),
	sku: str(),
	options: strMap(),
	price: int({ minimum: 0 }),
	stock: int(),
	available: int(),
	active: bool(),
	images: opt(list(ref("ProductImage", ProductImage))),
});
export const Product = obj({
	id: str(),
	sku: str(),
	name: str(),
	description: str(),
	price: int({ minimum: 0 }),
	currency: str(),
	categories: list(str()),
	stock: int(),
	available: int(),
	active: bool(),
	options: list(ref("ProductOption", ProductOption)),
	variants: list(ref("Variant", Variant)),
	images: list(ref("ProductImage", ProductImage)),
	// Search results only: the first image's small rendition.
	thumbnail: opt(nullable(str())),
	createdAt: str(),
	updatedAt: str(),
});

const ImportStarted = obj({ jobId: str() });
export const ImportJob = obj({
	id: str(),
	state: oneOf(["running", "done", "failed"]),
	rows: int({ minimum: 0 }),
	created: int({ minimum: 0 }),
	updated: int({ minimum: 0 }),
	unchanged: int({ minimum: 0 }),
	errors: list(obj({ line: int({ minimum: 0 }), field: str(), message: str() }), {
		maxItems: 1001,
		description: "Rows refused (line of the file, the column, why), the first 1000; a failed job's reason has field 'file'",
	}),
	startedAt: str({ format: "date-time" }),
	finishedAt: nullable(str({ format: "date-time" })),
});

export const Promotion = obj({
	id: str(),
	code: str(),
	type: oneOf(["percent", "fixed"]),
	value: int(),
	currency: nullable(str()),
	minSubtotal: nullable(int()),
	startsAt: nullable(str()),
	endsAt: nullable(str()),
	maxRedemptions: nullable(int()),
	perCustomerLimit: nullable(int()),
	active: bool(),
	redemptions: int(),
	createdAt: str(),
	updatedAt: str(),
});
export const ShippingMethod = obj({
	id: str(),
	name: str(),
	countries: list(str()),
	price: int(),
	currency: str(),
	freeOver: nullable(int()),
	minDays: int(),
	maxDays: int(),
	active: bool(),
	createdAt: str(),
	updatedAt: str(),
});
export const TaxRate = obj({ country: str(), rate: int(), updatedAt: str() });

const oauthClient = {
	id: str(),
	clientId: str(),
	name: str(),
	type: oneOf(["public", "confidential"]),
	redirectUris: list(str()),
	postLogoutRedirectUris: list(str()),
	grantTypes: list(str()),
	scopes: list(str()),
	firstParty: bool(),
	createdAt: str(),
	updatedAt: str(),
};
export const OAuthClient = obj(oauthClient);
// A confidential client's secret is in the answer to its creation and to a rotation only (shown once).
const OAuthClientCreated = obj({ ...oauthClient, clientSecret: opt(str()) });
const OAuthClientSecret = obj({ id: str(), clientId: str(), clientSecret: str() });
const OAuthClients = obj({ items: list(ref("OAuthClient", OAuthClient)) });

const webhookEndpoint = {
	id: str(),
	url: str(),
	events: list(str()),
	description: nullable(str()),
	enabled: bool(),
	disabledReason: nullable(str()),
	failingSince: nullable(str()),
	secretRotatedAt: nullable(str()),
	createdAt: str(),
	updatedAt: str(),
};
export const WebhookEndpoint = obj(webhookEndpoint);
// The only answers that carry the signing secret: creation and rotation (shown once).
const WebhookEndpointWithSecret = obj({ ...webhookEndpoint, secret: str({ pattern: "^whsec_" }) });
export const WebhookDelivery = obj({
	id: str(),
	webhookId: str(),
	eventId: str(),
	eventType: str(),
	state: oneOf(["pending", "delivered", "failed"]),
	attempts: list(obj({ at: str(), status: nullable(int()), durationMs: int(), error: nullable(str()) })),
	nextAttemptAt: nullable(str()),
	createdAt: str(),
});

const categoryFields = { id: str(), slug: str(), name: str(), parentId: strOrNull() };
/** A category by itself (POST and PATCH answer it without children). */
export const CategoryFields = obj(categoryFields);
/** A category; in the tree (GET /categories) with its children. */
export type CategoryNode = Static<typeof CategoryFields> & { children?: CategoryNode[] };
export const Category = obj({ ...categoryFields, children: opt(list(Type.Unsafe<CategoryNode>({ $ref: "#/components/schemas/Category" }))) });
const CategoryTree = list(ref("Category", Category));

/** A cart line or an order item, with its share of the discount and its tax. */
export const PricedLine = obj({
	itemId: str(),
	productId: str(),
	variantId: nullable(str()),
	options: nullable(strMap()),
	sku: str(),
	name: str(),
	unitPrice: int(),
	quantity: int(),
	lineTotal: int(),
	discount: int(),
	tax: int(),
});
const shippingMethodChosen = () => nullable(obj({ id: str(), name: str(), price: int() }));

export const Cart = obj({
	items: list(PricedLine),
	subtotal: int(),
	discount: int(),
	shipping: int(),
	shippingTax: int(),
	tax: int(),
	total: int(),
	currency: str(),
	promotion: nullable(obj({ code: str() })),
	promotionRefusal: nullable(obj({ reason: oneOf(PROMOTION_REFUSAL_REASONS), message: str() })),
	shippingMethod: shippingMethodChosen(),
});

const OrderStatus = oneOf(ORDER_STATUSES);
export const Address = obj({
	name: str(),
	line1: str(),
	line2: opt(str()),
	city: str(),
	region: opt(str()),
	postalCode: str(),
	country: str({ pattern: "^[A-Z]{2}$" }),
});
export const PaymentSummary = obj({
	brand: str(),
	last4: str(),
	status: oneOf(PAYMENT_STATUSES),
	provider: opt(str()),
	sessionId: opt(nullable(str())),
	clientSecret: opt(nullable(str())),
	expiresAt: opt(str()),
	publishableKey: opt(str()),
	confirmUrl: opt(str()),
	declineReason: opt(str()),
});
export const Order = obj({
	id: str(),
	userId: str(),
	status: ref("OrderStatus", OrderStatus),
	items: list(PricedLine),
	subtotal: int(),
	discountTotal: int(),
	shippingTotal: int(),
	shippingTax: int(),
	taxTotal: int(),
	promotion: nullable(obj({ code: str(), discount: int() })),
	shippingMethod: shippingMethodChosen(),
	total: int(),
	currency: str(),
	shippingAddress: ref("Address", Address),
	payment: PaymentSummary,
	refunds: list(obj({ id: str(), amount: int(), reason: str(), at: str() })),
	statusHistory: list(obj({ status: str(), at: str(), reason: opt(str()) })),
	fulfilments: list(
		obj({
			id: str(),
			items: list(obj({ itemId: str(), quantity: int({ minimum: 1 }) })),
			carrier: nullable(oneOf(CARRIERS)),
			trackingNumber: nullable(str()),
			trackingUrl: nullable(str()),
			shippedAt: str(),
		}),
	),
	createdAt: str(),
	updatedAt: str(),
});
const Refund = obj({ id: opt(str()), orderId: opt(str()), amount: opt(int()), reason: opt(str()), at: opt(str()) });
export const AddressBookEntry = obj({
	id: str(),
	label: strOrNull(),
	isDefault: bool(),
	name: str(),
	line1: str(),
	line2: opt(str()),
	city: str(),
	region: opt(str()),
	postalCode: str(),
	country: str({ pattern: "^[A-Z]{2}$" }),
	createdAt: str({ format: "date-time" }),
	updatedAt: str({ format: "date-time" }),
});
const AddressBook = obj({ rows: list(ref("AddressBookEntry", AddressBookEntry)) });

export const TicketMessage = obj({ id: str(), authorId: str(), authorRole: oneOf(ROLES), body: str(), at: str() });
export const Ticket = obj({
	id: str(),
	userId: str(),
	type: oneOf(TICKET_TYPES),
	subject: str(),
	status: oneOf(TICKET_STATUSES),
	priority: oneOf(PRIORITIES),
	assigneeId: strOrNull(),
	orderId: strOrNull(),
	// A return's items, each naming its order line by `itemId`.
	items: list(obj({ itemId: str(), productId: str(), variantId: nullable(str()), quantity: int({ minimum: 1 }) })),
	rating: Type.Unsafe<number | null>({ type: ["integer", "null"] }),
	messages: list(ref("TicketMessage", TicketMessage)),
	messagesTotal: int(),
	olderMessages: strOrNull(),
	return: nullable(obj({ status: oneOf(["requested", "approved", "rejected"]), reason: nullable(str()) })),
	// GET /tickets/:id only, each marked `unavailable` when its service did not answer in time.
	customer: opt(Type.Union([obj({ id: str(), name: nullable(str()), email: nullable(str()) }), obj({ id: str(), unavailable: Type.Literal(true) })])),
	order: opt(
		nullable(
			Type.Union([
				obj({ id: str(), status: ref("OrderStatus", OrderStatus), total: int(), currency: str(), createdAt: str() }),
				obj({ id: str(), unavailable: Type.Literal(true) }),
			]),
		),
	),
	createdAt: str(),
	updatedAt: str(),
});

export const Readiness = obj({ status: oneOf(["ready", "not ready"]), failing: list(str()) });
export const Notification = obj({
	id: str(),
	type: str(),
	title: str(),
	body: str(),
	read: bool(),
	createdAt: str(),
	ref: obj({ kind: str(), id: str() }),
});
export const MailboxMessage = obj({
	id: str(),
	kind: str(),
	to: str(),
	subject: str(),
	messageId: str(),
	state: oneOf(["pending", "sent", "dead"]),
	attempts: int(),
	lastError: strOrNull(),
	createdAt: str({ format: "date-time" }),
	sentAt: strOrNull(),
	text: str(),
	html: str(),
	headers: strMap(),
});

// Counted over the whole result, not the page; the last price bucket is open (`max: null`).
export const Facets = obj({
	// Result products per category slug, most first (then by slug).
	categories: list(obj({ slug: str(), count: int() })),
	// Folded option name ("size") → value → result products with an active variant having that value, most first (then by value).
	options: Type.Unsafe<Record<string, { value: string; count: number }[]>>({
		type: "object",
		additionalProperties: list(obj({ value: str(), count: int() })),
	}),
	// Non-empty price buckets: `min` inclusive, `max` exclusive (null: no upper bound).
	price: list(obj({ min: int(), max: nullable(int()), count: int() })),
	// Result products with available > 0.
	inStock: int(),
});
// `facets` only on GET /products?facets=true (the contract's "Search and facets").
const Page = obj({
	rows: list(Type.Unknown()),
	total: int(),
	page: int(),
	pageSize: int(),
	totalPages: int(),
	facets: opt(ref("Facets", Facets)),
});

/** Money is integer minor units; `net` is revenue less refunds, `averageOrderValue` revenue per order (rounded). */
const salesFigures = { orders: int(), revenue: int(), refunds: int(), net: int(), averageOrderValue: int() };
export const SalesFigures = obj({ start: str({ format: "date" }), ...salesFigures });
export const SalesReport = obj({
	currency: str({ pattern: "^[A-Z]{3}$" }),
	interval: oneOf(["day", "week", "month"]),
	timeZone: str({ examples: ["Europe/Madrid"] }),
	buckets: list(ref("SalesFigures", SalesFigures)),
	totals: obj(salesFigures),
});
export const TopProducts = obj({
	currency: str({ pattern: "^[A-Z]{3}$" }),
	timeZone: str(),
	from: str({ format: "date" }),
	to: str({ format: "date" }),
	products: list(obj({ productId: str(), variantId: nullable(str()), name: str(), sku: str(), revenue: int(), units: int() }), { maxItems: 10 }),
});
export const ReportsOverview = obj({
	lowStockThreshold: int(),
	lowStock: list(obj({ productId: str(), variantId: nullable(str()), name: str(), sku: str(), available: int() })),
	openTickets: obj({
		total: int(),
		byAge: obj({ under1d: int(), "1to3d": int(), "3to7d": int(), over7d: int() }),
	}),
});
export const ReportsBackfill = obj({ orders: int(), products: int(), tickets: int(), startedAt: str(), finishedAt: str() });

/** The OpenAPI document's components, by the name each is published under (lib/http/responses.ts names them per action). */
export const RESOURCES: Record<string, TSchema> = {
	Error: ErrorBody,
	User,
	Registration,
	TokenPair,
	Product,
	ProductImage,
	ProductOption,
	Variant,
	ImportStarted,
	ImportJob,
	Promotion,
	ShippingMethod,
	ShippingMethods: list(ref("ShippingMethod", ShippingMethod)),
	TaxRate,
	TaxRates: list(ref("TaxRate", TaxRate)),
	OAuthClient,
	OAuthClientCreated,
	OAuthClientSecret,
	OAuthClients,
	WebhookEndpoint,
	WebhookEndpointWithSecret,
	WebhookDelivery,
	Category,
	CategoryTree,
	Cart,
	OrderStatus,
	Order,
	Refund,
	Address,
	AddressBookEntry,
	AddressBook,
	Ticket,
	TicketMessage,
	Readiness,
	Notification,
	MailboxMessage,
	Page,
	Facets,
	SalesReport,
	SalesFigures,
	TopProducts,
	ReportsOverview,
	ReportsBackfill,
};
