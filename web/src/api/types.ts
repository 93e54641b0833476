/** The public contract's resources (../shared/api-contract.md), including the "Additions to v1" as optional fields. */
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

export interface Variant {
	id: string;
	sku: string;
	options: Record<string, string>;
	price: number;
	stock: number;
	available: number;
	active: boolean;
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
	options?: ProductOption[];
	variants?: Variant[];
}

export interface Facets {
	categories: { slug: string; count: number }[];
	options: Record<string, { value: string; count: number }[]>;
	price: { min: number; max: number; count: number }[];
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

export interface CartLine {
	itemId?: string;
	productId: string;
	variantId?: string | null;
	options?: Record<string, string> | null;
	sku?: string;
	name: string;
	unitPrice: number;
	quantity: number;
	lineTotal: number;
}

export interface Cart {
	items: CartLine[];
	subtotal: number;
	currency: string;
	discount?: number;
	shipping?: number;
	tax?: number;
	total?: number;
	promotion?: { code: string } | null;
	shippingMethod?: { id: string; name: string; price: number } | null;
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

export type OrderStatus = "pending" | "paid" | "shipped" | "delivered" | "cancelled" | "refunded";

export interface OrderItem {
	itemId?: string;
	productId: string;
	variantId?: string | null;
	options?: Record<string, string> | null;
	sku: string;
	name: string;
	unitPrice: number;
	quantity: number;
	lineTotal: number;
	discount?: number;
	tax?: number;
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
	payment: { brand: string; last4: string; status: string } | null;
	refunds: { id: string; amount: number; reason: string; at: string }[];
	statusHistory: { status: OrderStatus; at: string; reason?: string }[];
	createdAt: string;
	updatedAt: string;
	discountTotal?: number;
	shippingTotal?: number;
	taxTotal?: number;
	promotion?: { code: string; discount: number } | null;
	shippingMethod?: { id: string; name: string; price: number } | null;
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
	items: { productId: string; quantity: number; variantId?: string | null; itemId?: string }[] | null;
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
	value: number;
	currency?: string | null;
	minSubtotal?: number | null;
	startsAt?: string | null;
	endsAt?: string | null;
	maxRedemptions?: number | null;
	perCustomerLimit?: number | null;
	active?: boolean;
	redemptions?: number;
	createdAt?: string;
	updatedAt?: string;
}

export interface ShippingMethod {
	id: string;
	name: string;
	countries: string[];
	price: number;
	currency: string;
	freeOver?: number | null;
	minDays: number;
	maxDays: number;
	active?: boolean;
}

export interface TaxRate {
	country: string;
	rate: number;
	id?: string;
	updatedAt?: string;
}
