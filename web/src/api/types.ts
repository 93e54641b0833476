/** The public contract's resources (../shared/api-contract.md) as the server answers them, "Additions to v1" included. */
export type Role = "customer" | "agent" | "admin";

export interface Preferences {
	language: string;
	currency: string;
	notifications: { email: boolean; inApp: boolean };
}

export interface User {
	id: string;
	email: string;
	name: string;
	roles: Role[];
	active?: boolean;
	preferences: Preferences;
	emailVerified?: boolean;
	createdAt: string;
	updatedAt?: string;
}

export interface Page<T> {
	rows: T[];
	total: number;
	page: number;
	pageSize: number;
	totalPages: number;
}

export interface ProductOption {
	name: string;
	values: string[];
}

/** An image of a product (media service): `url` is the large JPEG; other renditions differ in the path's last segment. */
export interface ProductImage {
	id: string;
	url: string;
	/** Alt text per language. */
	alt: Record<string, string>;
	width: number;
	height: number;
	variantId: string | null;
	position?: number;
}

export interface Variant {
	id: string;
	sku: string;
	options: Record<string, string>;
	price: number;
	stock: number;
	available: number;
	active: boolean;
	/** This variant's own images. */
	images?: ProductImage[];
}

export interface Product {
	id: string;
	sku: string;
	name: string;
	description: string;
	price: number;
	currency: string;
	categories: string[];
	stock: number;
	available: number;
	active: boolean;
	createdAt: string;
	updatedAt: string;
	/** What the variants are combinations of ([] for a product sold as itself). */
	options: ProductOption[];
	/** The variants sold (deleted ones are gone); [] for a product sold as itself. */
	variants: Variant[];
	/** In position order (absent from servers before product images). */
	images?: ProductImage[];
	/** Search results: the first image's small rendition, or null. */
	thumbnail?: string | null;
}

export interface Facets {
	categories: { slug: string; count: number }[];
	options: Record<string, { value: string; count: number }[]>;
	/** Price buckets; the last one is open (`max: null`). */
	price: { min: number; max: number | null; count: number }[];
	inStock: number;
}

export interface ProductPage extends Page<Product> {
	facets?: Facets;
}

export interface Category {
	id: string;
	slug: string;
	name: string;
	parentId: string | null;
	children?: Category[];
}

/** Why a cart cannot take a promotion code (the 422's `data[0].type` of PUT /cart/promotion, or `promotionRefusal` on the cart). */
export type PromotionRefusalReason = "unknown" | "inactive" | "not_active_yet" | "expired" | "min_subtotal" | "currency" | "used_up" | "already_used";

export interface CartLine {
	/** The variant's id, or the product's for a product sold as itself: PATCH/DELETE /cart/items/:itemId. */
	itemId: string;
	productId: string;
	variantId: string | null;
	options: Record<string, string> | null;
	sku: string;
	name: string;
	unitPrice: number;
	quantity: number;
	lineTotal: number;
	discount: number;
	tax: number;
}

export interface Cart {
	items: CartLine[];
	subtotal: number;
	discount: number;
	shipping: number;
	/** The tax on the shipping charge, part of `tax`: the items' taxes plus this make `tax` exactly. */
	shippingTax: number;
	tax: number;
	total: number;
	currency: string;
	promotion: { code: string } | null;
	/** The cart keeps a code that no longer applies (checkout would refuse it): why. */
	promotionRefusal: { reason: PromotionRefusalReason; message: string } | null;
	shippingMethod: { id: string; name: string; price: number } | null;
}

export interface Address {
	name: string;
	line1: string;
	line2?: string;
	city: string;
	region?: string;
	postalCode: string;
	country: string;
}

export type OrderStatus = "pending" | "paid" | "partially_shipped" | "shipped" | "delivered" | "cancelled" | "refunded";

export const CARRIERS = ["dhl", "ups", "fedex", "gls", "correos", "other"] as const;
export type Carrier = (typeof CARRIERS)[number];

/** A parcel of an order: which lines and how many of each, with its carrier's tracking (null for a v1 ship step). */
export interface Fulfilment {
	id: string;
	items: { itemId: string; quantity: number }[];
	carrier: Carrier | null;
	trackingNumber: string | null;
	trackingUrl: string | null;
	shippedAt: string;
}

export interface OrderItem {
	itemId: string;
	productId: string;
	variantId: string | null;
	options: Record<string, string> | null;
	sku: string;
	name: string;
	unitPrice: number;
	quantity: number;
	lineTotal: number;
	/** This line's share of the discount, and its tax: they add up exactly to the order's totals. */
	discount: number;
	tax: number;
}

export interface Order {
	id: string;
	userId: string;
	status: OrderStatus;
	items: OrderItem[];
	subtotal: number;
	total: number;
	currency: string;
	shippingAddress: Address;
	payment: {
		brand?: string;
		last4?: string;
		status: string;
		provider?: string;
		sessionId?: string | null;
		clientSecret?: string | null;
		expiresAt?: string;
		/** Stripe: the Payment Element is mounted with it and clientSecret. */
		publishableKey?: string;
		/** The simulated payment service's confirmation page. */
		confirmUrl?: string;
		declineReason?: string;
	} | null;
	refunds: { id: string; amount: number; reason: string; at: string }[];
	statusHistory: { status: OrderStatus; at: string; reason?: string }[];
	createdAt: string;
	updatedAt: string;
	discountTotal: number;
	shippingTotal: number;
	/** The tax on the shipping charge, part of `taxTotal`: the items' taxes plus this make `taxTotal` exactly. */
	shippingTax: number;
	taxTotal: number;
	promotion: { code: string; discount: number } | null;
	shippingMethod: { id: string; name: string; price: number } | null;
	/** The parcels shipped so far, oldest first (absent from servers before fulfilments). */
	fulfilments?: Fulfilment[];
}

export type TicketType = "inquiry" | "return" | "complaint" | "feedback";
export type TicketStatus = "open" | "pending" | "resolved" | "closed";
export type Priority = "low" | "normal" | "high" | "urgent";

export interface TicketMessage {
	id: string;
	authorId: string;
	authorRole: Role;
	body: string;
	at: string;
}

export interface Ticket {
	id: string;
	userId: string;
	type: TicketType;
	subject: string;
	status: TicketStatus;
	priority: Priority;
	assigneeId: string | null;
	orderId: string | null;
	/** A return's items, each naming its order line by `itemId`. */
	items: { itemId: string; productId: string; variantId: string | null; quantity: number }[] | null;
	rating: number | null;
	messages: TicketMessage[];
	/** A bounded thread: GET /tickets/:id answers its newest page; `olderMessages` pages back (`?before=`). */
	messagesTotal?: number;
	olderMessages?: string | null;
	return: { status: "requested" | "approved" | "rejected"; reason?: string | null } | null;
	createdAt: string;
	updatedAt: string;
	customer?: { id: string; name: string; email: string };
	order?: { id: string; status: OrderStatus; total: number; currency: string; createdAt: string } | null;
}

export interface Notification {
	id: string;
	type: string;
	title: string;
	body: string;
	read: boolean;
	createdAt: string;
	ref: { kind: string; id: string };
}

export interface Promotion {
	id: string;
	code: string;
	type: "percent" | "fixed";
	/** percent: 1..100; fixed: minor units of `currency`. */
	value: number;
	currency: string | null;
	minSubtotal: number | null;
	startsAt: string | null;
	endsAt: string | null;
	maxRedemptions: number | null;
	perCustomerLimit: number | null;
	active: boolean;
	/** Orders that hold the code now (an order cancelled before payment gives its use back). */
	redemptions: number;
	createdAt: string;
	updatedAt: string;
}

/** GET /shipping-methods answers the active ones, cheapest first (a plain array). */
export interface ShippingMethod {
	id: string;
	name: string;
	/** ISO 3166-1 alpha-2 codes, or ["*"]. */
	countries: string[];
	price: number;
	currency: string;
	freeOver: number | null;
	minDays: number;
	maxDays: number;
	active: boolean;
	createdAt: string;
	updatedAt: string;
}

/** GET /tax-rates answers every rate (a plain array); `rate` in basis points (1900 = 19 %). */
export interface TaxRate {
	country: string;
	rate: number;
	updatedAt: string;
}

/** An OAuth client of the shop's OpenID provider (GET /oauth-clients). */
export interface OAuthClient {
	id: string;
	clientId: string;
	name: string;
	type: "public" | "confidential";
	redirectUris: string[];
	postLogoutRedirectUris: string[];
	grantTypes: string[];
	scopes: string[];
	firstParty: boolean;
	createdAt: string;
	updatedAt: string;
}

/** A confidential client's secret, answered once (at creation and by rotate-secret). */
export interface OAuthClientSecret {
	clientId: string;
	clientSecret: string;
}

/** The event types an endpoint can subscribe to (README "Webhooks for integrators"), or `*` for all of them. */
export const WEBHOOK_EVENT_TYPES = [
	"order.placed",
	"order.paid",
	"order.cancelled",
	"order.shipped",
	"order.delivered",
	"order.refunded",
	"payment.captured",
	"payment.refunded",
	"product.created",
	"product.updated",
	"product.deleted",
	"stock.changed",
	"return.approved",
	"return.rejected",
] as const;
export const ALL_WEBHOOK_EVENTS = "*";

/** An outgoing webhook endpoint (GET /webhooks never answers its secret). */
export interface WebhookEndpoint {
	id: string;
	url: string;
	/** Event types, or ["*"]. */
	events: string[];
	description: string | null;
	enabled: boolean;
	/** Why the shop turned it off (failing for 3 days), or null. */
	disabledReason?: string | null;
	failingSince?: string | null;
	secretRotatedAt?: string | null;
	createdAt: string;
	updatedAt?: string;
}

/** Creation and rotation answer the signing secret (`whsec_…`), that once. */
export interface WebhookEndpointWithSecret extends WebhookEndpoint {
	secret: string;
}

export type WebhookDeliveryState = "pending" | "delivered" | "failed";

export interface WebhookAttempt {
	at: string;
	/** The receiver's HTTP status, or null when there was no answer (timeout, refused). */
	status: number | null;
	durationMs: number;
	error: string | null;
}

export interface WebhookDelivery {
	id: string;
	/** The `webhook-id` header: the same on every attempt. */
	webhookId: string;
	eventId: string;
	eventType: string;
	state: WebhookDeliveryState;
	attempts: WebhookAttempt[];
	nextAttemptAt?: string | null;
	createdAt?: string;
}

/** GET /products/import/:jobId: a catalog import's progress (`line` 0 with field `file`: the file as a whole). */
export interface ImportJob {
	id: string;
	state: "running" | "done" | "failed";
	rows: number;
	created: number;
	updated: number;
	unchanged: number;
	errors: { line: number; field: string; message: string }[];
	startedAt: string;
	finishedAt: string | null;
}
