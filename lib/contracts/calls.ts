/**
 * Payloads of the calls services make to each other (never routed by the gateway), stated once:
 * the answering service returns these types and the asking service reads them.
 */
import type { MinorUnits } from "../domain/money.js";
import type { Role } from "../auth/access.js";
import type { PromotionRefusal, PromotionRule } from "../domain/promotions.js";
import type { ShippingMethod } from "../domain/shipping.js";
import type { ORDER_STATUSES } from "./http/orders.js";

/** `orders.summaryForUser`: what the support service sees of an order. */
export interface OrderSummary {
	id: string;
	userId: string;
	status: (typeof ORDER_STATUSES)[number];
	total: MinorUnits;
	currency: string;
	createdAt: string;
	items: {
		itemId: string;
		productId: string;
		variantId: string | null;
		options: Record<string, string> | null;
		sku: string;
		name: string;
		quantity: number;
		unitPrice: MinorUnits;
	}[];
}

/** `products.byIds`: what the catalog says of a product now (the cart prices itself with these). */
export interface CatalogPrice {
	id: string;
	sku: string;
	name: string;
	/** For a product sold in variants: its lowest active variant price (each line takes its variant's). */
	price: MinorUnits;
	currency: string;
	active: boolean;
	available: number;
	/** Its variants not deleted (empty: sold as itself). */
	variants?: { id: string; sku: string; options: Record<string, string>; price: MinorUnits; available: number; active: boolean }[];
}

/** `users.summary`: who a user is, for support. */
export interface UserSummary {
	id: string;
	name: string;
	email: string;
	roles: Role[];
}

/** `users.notificationPreferences`: where and how to notify a user. */
export interface DeliveryPreferences {
	email: boolean;
	inApp: boolean;
	email_address: string;
	language: string;
	/** How emails greet them. */
	name: string;
	/** Signed, for the one-click unsubscribe link of their emails (RFC 8058); turns `email` off without a login. */
	unsubscribeToken: string;
}

/** `notifications.sendAccountEmail`: an email the users service has the users send whatever their preferences say. */
export interface AccountEmailRequest {
	kind: "verification" | "password_reset";
	/** Unique per request: the email's id derives from it (a repeated call sends nothing new). */
	requestId: string;
	userId: string;
	to: string;
	name: string;
	language: string;
	/** The link with its single-use token, under PUBLIC_URL. */
	url: string;
}

/** `pricing.terms`: what a cart of this customer is priced with now (orders prices it with lib/domain/pricing.ts). */
export interface PricingTermsRequest {
	userId: string;
	currency: string;
	/** The goods before any discount. */
	subtotal: MinorUnits;
	/** The destination; without it, no shipping and no tax are priced. */
	country?: string;
	shippingMethodId?: string;
	/** The code on the cart, if any. */
	code?: string;
}
export interface PricingTerms {
	/** The promotion the cart may take now, or null (no code, or refused: see `refusal`). */
	promotion: (PromotionRule & { id: string }) | null;
	refusal: PromotionRefusal | null;
	shippingMethod: ShippingMethod | null;
	/** Why the destination or the chosen method cannot be priced (null: it can). */
	shippingProblem: { field: "country" | "shippingMethodId"; message: string; type: string } | null;
	taxRateBp: number;
	pricesIncludeTax: boolean;
}

/** `pricing.redeem`: an order takes one use of a code, or is refused (422 with the reason). Once per order. */
export interface RedeemRequest {
	orderId: string;
	userId: string;
	code: string;
	subtotal: MinorUnits;
	currency: string;
}
