/**
 * Payloads of the calls services make to each other (never routed by the gateway), stated once:
 * the answering service returns these types and the asking service reads them.
 */
import type { MinorUnits } from "../domain/money.js";
import type { Role } from "../auth/access.js";

/** `orders.summaryForUser`: what the support service sees of an order. */
export interface OrderSummary {
	id: string;
	userId: string;
	status: string;
	total: MinorUnits;
	currency: string;
	createdAt: string;
	items: { productId: string; sku: string; name: string; quantity: number; unitPrice: MinorUnits }[];
}

/** `products.byIds`: what the catalog says of a product now (the cart prices itself with these). */
export interface CatalogPrice {
	id: string;
	sku: string;
	name: string;
	price: MinorUnits;
	currency: string;
	active: boolean;
	available: number;
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
}
