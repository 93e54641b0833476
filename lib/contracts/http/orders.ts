/** Request shapes of the cart and order routes (orders service). See lib/contracts/params.ts. */
import { pageParams } from "../../paging.js";
import { countryRule } from "../countries.js";
import { idRule } from "../ids.js";
import { text, type ParamsOf, type ParamsSchema } from "../params.js";
import { CARRIERS } from "../../domain/fulfilment.js";

export const MAX_QUANTITY = 99;
export const MAX_CART_LINES = 50;
export const ORDER_STATUSES = ["pending", "paid", "partially_shipped", "shipped", "delivered", "cancelled", "refunded"] as const;

/** The Idempotency-Key header: 1 to 255 printable ASCII characters. */
export const IDEMPOTENCY_KEY_PATTERN = /^[!-~]{1,255}$/;

const quantity = { type: "number", integer: true, min: 1, max: MAX_QUANTITY } as const;

export const shippingAddressRule = {
	type: "object",
	strict: true,
	props: {
		name: text(100),
		line1: text(200),
		line2: { type: "string", max: 200, optional: true },
		city: text(100),
		region: { type: "string", max: 100, optional: true },
		postalCode: {
			type: "string",
			pattern: /^[A-Za-z0-9][A-Za-z0-9 -]{0,19}$/,
			messages: { stringPattern: "The '{field}' field must be 1 to 20 letters, digits, spaces or '-'." },
		},
		country: countryRule,
	},
} as const;

/** The card as typed: 12 to 19 digits, single spaces or dashes between them allowed. The Luhn check and the expiry are the orders service's. */
export const CARD_NUMBER_PATTERN = /^[0-9](?:[ -]?[0-9]){11,18}$/;

/**
 * `session`: the card is confirmed with the provider (the answer carries the session to confirm).
 * `card` (v1): the card itself, served by the simulated provider only.
 */
export const paymentRule = {
	type: "object",
	strict: true,
	props: {
		method: { type: "enum", values: ["card", "session"] },
		cardNumber: {
			type: "string",
			optional: true,
			pattern: CARD_NUMBER_PATTERN,
			messages: { stringPattern: "The card number must have 12 to 19 digits." },
			description: "Test cards: 4242424242424242 approved, 4000000000000002 declined",
		},
		expMonth: { type: "number", integer: true, min: 1, max: 12, optional: true },
		expYear: { type: "number", integer: true, min: 2000, max: 2100, optional: true },
		cvc: { type: "string", pattern: /^[0-9]{3,4}$/, messages: { stringPattern: "The security code must have 3 or 4 digits." }, optional: true },
	},
} as const;

export const ORDERS = {
	"orders.getCart": {
		country: { ...countryRule, optional: true, description: "Price shipping and tax for this destination (ISO 3166-1 alpha-2)" },
		shippingMethodId: { ...idRule, optional: true, description: "Default: the cheapest method that ships to `country`" },
	},
	"orders.addCartItem": {
		$$strict: true,
		productId: idRule,
		variantId: { ...idRule, optional: true, description: "Which variant, for a product sold in variants" },
		quantity,
	},
	"orders.updateCartItem": { $$strict: true, itemId: idRule, quantity },
	"orders.removeCartItem": { itemId: idRule },
	"orders.clearCart": {},
	"orders.applyPromotion": { $$strict: true, code: { type: "string", min: 1, max: 64, description: "Case does not matter" } },
	"orders.removePromotion": {},
	"orders.checkout": {
		$$strict: true,
		shippingAddress: { ...shippingAddressRule, optional: true, description: "The address to ship to; or `shippingAddressId`" },
		shippingAddressId: { ...idRule, optional: true, description: "An address of one's address book (GET /me/addresses); the order keeps a copy" },
		shippingMethodId: { ...idRule, optional: true, description: "Default: the cheapest method that ships to the address's country" },
		payment: paymentRule,
	},
	"orders.list": {
		...pageParams,
		all: { type: "boolean", convert: true, optional: true, description: "Admins: everyone's orders" },
		status: { type: "enum", values: ORDER_STATUSES, optional: true },
	},
	"orders.get": { id: idRule },
	"orders.cancel": { $$strict: true, id: idRule },
	"orders.ship": { $$strict: true, id: idRule },
	"orders.createFulfilment": {
		$$strict: true,
		id: idRule,
		items: {
			type: "array",
			optional: true,
			min: 1,
			max: 100,
			items: { type: "object", strict: true, props: { itemId: idRule, quantity: { type: "number", integer: true, min: 1, max: 999 } } },
			description: "The lines and quantities in this parcel; left out: everything not yet shipped",
		},
		carrier: { type: "enum", values: CARRIERS, description: "`other` needs a `trackingUrl`" },
		trackingNumber: {
			type: "string",
			pattern: /^[A-Za-z0-9][A-Za-z0-9 -]{0,63}$/,
			messages: { stringPattern: "The '{field}' field must be 1 to 64 letters, digits, spaces or '-'." },
		},
		trackingUrl: {
			type: "string",
			optional: true,
			max: 2000,
			pattern: /^https?:\/\/[^\t\n\r ]+$/,
			messages: { stringPattern: "The '{field}' field must be an http(s) URL." },
			description: "Required for carrier `other`; otherwise the carrier's tracking page is used",
		},
		$$allOf: [{ if: { properties: { carrier: { const: "other" } } }, then: { required: ["trackingUrl"] } }],
	},
	"orders.deliver": { $$strict: true, id: idRule },
	"orders.refund": {
		$$strict: true,
		id: idRule,
		amount: { type: "number", integer: true, min: 1, max: 1_000_000_000_000, description: "In the order currency's minor unit" },
		reason: text(200),
	},
} as const satisfies Record<string, ParamsSchema>;

export type ShippingAddress = ParamsOf<typeof shippingAddressRule.props>;
export type CheckoutBody = ParamsOf<(typeof ORDERS)["orders.checkout"]>;
