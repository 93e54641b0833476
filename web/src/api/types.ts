/**
 * The public contract's resources (../shared/api-contract.md) as the server answers them: names for
 * the schemas of the OpenAPI document, generated into ./openapi.d.ts (`npm run generate:types`).
 * Nothing here states a shape of its own.
 */
import type { components } from "./openapi";

type Schemas = components["schemas"];

export type User = Schemas["User"];
export type Role = User["roles"][number];
export type Preferences = Schemas["User"]["preferences"];

/** A list answer; `rows` are the listed resource. */
export type Page<T> = Omit<Schemas["Page"], "rows" | "facets"> & { rows: T[] };

export type Product = Schemas["Product"];
export type ProductOption = Schemas["ProductOption"];
export type ProductImage = Schemas["ProductImage"];
export type Variant = Schemas["Variant"];
export type Facets = Schemas["Facets"];
export type ProductPage = Page<Product> & Pick<Schemas["Page"], "facets">;
export type Category = Schemas["Category"];

export type Cart = Schemas["Cart"];
export type CartLine = Cart["items"][number];
/** Why a cart cannot take a promotion code (the 422's `data[0].type` of PUT /cart/promotion, or `promotionRefusal` on the cart). */
export type PromotionRefusalReason = NonNullable<Cart["promotionRefusal"]>["reason"];

export type Address = Schemas["Address"];
export type AddressBookEntry = Schemas["AddressBookEntry"];
export type Order = Schemas["Order"];
export type OrderStatus = Schemas["OrderStatus"];
export type OrderItem = Order["items"][number];
export type Fulfilment = Order["fulfilments"][number];
export type Carrier = NonNullable<Fulfilment["carrier"]>;
export const CARRIERS = ["dhl", "ups", "fedex", "gls", "correos", "other"] as const satisfies readonly Carrier[];

export type Ticket = Schemas["Ticket"];
export type TicketType = Ticket["type"];
export type TicketStatus = Ticket["status"];
export type Priority = Ticket["priority"];
export type TicketMessage = Schemas["TicketMessage"];

export type Notification = Schemas["Notification"];
export type MailboxMessage = Schemas["MailboxMessage"];
/** GET /mailbox lists the emails without their texts. */
export type MailboxRow = Omit<MailboxMessage, "text" | "html" | "headers">;
export type Promotion = Schemas["Promotion"];
export type ShippingMethod = Schemas["ShippingMethod"];
export type TaxRate = Schemas["TaxRate"];
export type OAuthClient = Schemas["OAuthClient"];
export type OAuthClientSecret = Schemas["OAuthClientSecret"];

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

export type WebhookEndpoint = Schemas["WebhookEndpoint"];
export type WebhookEndpointWithSecret = Schemas["WebhookEndpointWithSecret"];
export type WebhookDelivery = Schemas["WebhookDelivery"];
export type WebhookAttempt = WebhookDelivery["attempts"][number];
export type WebhookDeliveryState = WebhookDelivery["state"];

export type SalesReport = Schemas["SalesReport"];
export type TopProducts = Schemas["TopProducts"];
export type ReportsOverview = Schemas["ReportsOverview"];

/** GET /products/import/:jobId: a catalog import's progress (`line` 0 with field `file`: the file as a whole). */
export type ImportJob = Schemas["ImportJob"];
