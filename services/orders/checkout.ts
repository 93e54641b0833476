/**
 * Checkout: the cart becomes a pending order and the checkout saga starts.
 *
 * With `payment: { method: "session" }` the order is written first (payment `requires_confirmation`),
 * then the provider's session is opened and recorded on it (services/orders/payment-sessions.ts has
 * the rest of that saga). The v1 card body, below, is the simulated provider's only.
 *
 *   POST /orders ─► code redeemed (pricing), card authorized, order `pending` ─► order.placed
 *   (products) stock.reserved ─► capture ─► `paid`        (services/orders/payments.ts)
 *              stock.rejected ─► `cancelled` out_of_stock, authorization voided
 *
 * It runs once per (customer, Idempotency-Key) (mixins/idempotency.mixin.ts): the order id is
 * fixed when the key is first used, so a retry after a crash can only find or make that one order
 * (and the code's use, redeemed for that order id, is the same one).
 *
 * The order is priced as the cart is shown (services/orders/cart.ts): catalog prices, then the
 * code, the shipping method (the one asked for, or the cheapest to the address's country) and the
 * destination's tax. A code the cart holds but may no longer take is refused (422 naming the
 * reason), never dropped silently: the customer removes it (DELETE /cart/promotion) to order
 * without it.
 */
import type { Context } from "moleculer";
import { validationError, type FieldProblem } from "../../lib/errors.js";
import { cartProblems, idempotencyKeyProblem, pricingLines, snapshotItems, type CheckoutBody } from "../../lib/domain/cart-lines.js";
import type { ShippingAddress } from "../../lib/contracts/http/orders.js";
import { placedOrder, publicOrder, type PublicOrder } from "../../lib/domain/orders.js";
import { priceOrder } from "../../lib/domain/pricing.js";
import type { PromotionRule } from "../../lib/domain/promotions.js";
import type { RedeemRequest } from "../../lib/contracts/calls.js";
import { cardDigits, cardProblems } from "../../lib/payments/card.js";
import type { PaymentRecord } from "../../lib/payments/payment.js";
import type { AuthorizeResult, PaymentProvider } from "../../lib/payments/provider.js";
import { sessionExpiry } from "../../lib/payments/session.js";
import type { SessionPayments } from "./payment-sessions.js";
import type { OrderStore } from "./order-store.js";
import type { Carts } from "./cart.js";

const CARD_FIELDS = ["cardNumber", "expMonth", "expYear", "cvc"] as const;

/**
 * What is wrong with a checkout before anything is looked up: the key, the card (422 naming the
 * fields). A card body is refused outright when a real provider takes the payments: the shop
 * never sees a card then.
 */
export function checkoutProblems(body: CheckoutBody, idempotencyKey: string | undefined, at: Date, provider: string): FieldProblem[] {
	const keyProblem = idempotencyKeyProblem(idempotencyKey);
	const problems: FieldProblem[] = keyProblem ? [{ field: "Idempotency-Key", message: keyProblem, type: "idempotencyKey" }] : [];
	const { payment } = body;
	if (payment.method === "session") {
		const given = CARD_FIELDS.filter(f => payment[f] !== undefined);
		return [...problems, ...given.map(f => ({ field: `payment.${f}`, message: "A payment session takes no card details.", type: "forbidden" }))];
	}
	if (provider !== "simulated")
		return [...problems, { field: "payment", message: `Card details are not accepted; use { "method": "session" }.`, type: "paymentMethod" }];
	const missing = CARD_FIELDS.filter(f => payment[f] === undefined);
	// Required with `method: "card"` only: a rule of the v1 card body, not of the request's schema.
	if (missing.length) return [...problems, ...missing.map(f => ({ field: `payment.${f}`, message: `The '${f}' field is required.`, type: "cardDetails" }))];
	const card = { number: payment.cardNumber!, expMonth: payment.expMonth!, expYear: payment.expYear!, cvc: payment.cvc! };
	return [...problems, ...cardProblems(card, at).map(p => ({ ...p, field: `payment.${p.field}` }))];
}

export class Checkout {
	constructor(
		private readonly store: OrderStore,
		private readonly carts: Carts,
		private readonly provider: PaymentProvider,
		private readonly sessions: SessionPayments,
		private readonly sessionTtlSeconds: () => number,
		private readonly log: { warn(msg: string): void },
	) {}

	/** Place the order `orderId` from the customer's cart (or answer it again if it exists). */
	async place(ctx: Context, userId: string, orderId: string, body: CheckoutBody & { shippingAddress: ShippingAddress }): Promise<PublicOrder> {
		const earlier = await this.store.get(orderId);
		if (earlier) return publicOrder(earlier);

		const { payment: p, shippingAddress } = body;
		const quoted = await this.carts.quote(ctx, userId, {
			country: shippingAddress.country,
			shippingMethodId: body.shippingMethodId,
			countryField: "shippingAddress.country",
		});
		const { lines, terms } = quoted;
		const problems = cartProblems(lines);
		if (problems.length) throw validationError(problems, problems[0]!.message);
		if (quoted.code && !terms.promotion) {
			const refusal = terms.refusal ?? { reason: "unknown", message: "This promotion code does not exist." };
			throw validationError(
				[{ field: "promotion", message: refusal.message, type: refusal.reason }],
				`The promotion code cannot be used: ${refusal.message}`,
			);
		}
		// The code's use is taken first (422 when a racing checkout took the last one); its rule as redeemed prices the order.
		const promotion: PromotionRule | null = terms.promotion
			? await ctx.call<PromotionRule, RedeemRequest>("pricing.redeem", {
					orderId,
					userId,
					code: terms.promotion.code,
					subtotal: lines.subtotal,
					currency: lines.currency,
				})
			: null;
		const priced = priceOrder({ ...terms, lines: pricingLines(lines), currency: lines.currency, promotion });
		const items = snapshotItems(lines, priced);
		const total = priced.total;

		const at = new Date().toISOString();
		const bySession = p.method === "session";
		// A card is authorized now, while it is at hand; it is captured once the stock is held. A session is opened once the order is written.
		const auth: AuthorizeResult = bySession
			? { status: "authorized", authorizationId: "", brand: "unknown", last4: "" }
			: await this.provider.authorize({
					idempotencyKey: orderId,
					amount: total,
					currency: priced.currency,
					card: { number: cardDigits(p.cardNumber!) ?? p.cardNumber!, expMonth: p.expMonth!, expYear: p.expYear!, cvc: p.cvc! },
				});
		const payment: PaymentRecord = {
			provider: bySession ? this.sessions.provider.name : this.provider.name,
			brand: auth.brand,
			last4: auth.last4,
			status: bySession ? "requires_confirmation" : auth.status === "authorized" ? "authorized" : "declined",
			amount: total,
			currency: priced.currency,
			authorizationId: auth.status === "authorized" && auth.authorizationId ? auth.authorizationId : null,
			paymentId: null,
			captured: 0,
			refunded: 0,
		};
		if (bySession)
			payment.session = {
				sessionId: null,
				clientSecret: null,
				expiresAt: sessionExpiry(new Date(at), this.sessionTtlSeconds()),
				confirmUrl: null,
				publishableKey: this.sessions.provider.publishableKey ?? null,
				declineReason: null,
				stockReserved: false,
				refundIds: {},
			};
		const { order, events } = placedOrder(
			{
				_id: orderId,
				userId,
				items,
				subtotal: priced.subtotal,
				discountTotal: priced.discountTotal,
				shippingTotal: priced.shippingTotal,
				shippingTax: priced.shippingTax,
				taxTotal: priced.taxTotal,
				taxRateBp: priced.taxRateBp,
				pricesIncludeTax: priced.pricesIncludeTax,
				promotion: priced.promotion,
				shippingMethod: priced.shippingMethod,
				total,
				currency: priced.currency,
				shippingAddress,
				payment,
				refunds: [],
				returned: {},
				returns: {},
				pendingRefund: null,
				createdAt: at,
				updatedAt: at,
			},
			auth.status === "declined" ? auth.reason : null,
		);
		try {
			if (!(await this.store.insert(order, events, ctx))) return publicOrder((await this.store.get(orderId))!);
		} catch (err) {
			// No order, so no hold on the card either (best effort; an authorization also lapses on its own).
			if (payment.authorizationId)
				await this.provider.void({ idempotencyKey: `${orderId}:void`, authorizationId: payment.authorizationId }).catch(() => undefined);
			throw err;
		}
		// The session is opened after the order is written, so its events always find the order; a
		// failure here leaves the order pending without a session, which the reconciliation opens.
		const shown = bySession
			? ((await this.sessions.open(order, ctx).catch(err => {
					this.log.warn(`Opening the payment session of order ${orderId} failed; the sweep tries again: ${(err as Error).message}`);
					return null;
				})) ?? order)
			: order;
		// The ordered lines leave the cart. Best effort: the order stands either way.
		await this.carts
			.removeOrdered(
				userId,
				items.map(i => i.itemId ?? i.productId),
				promotion?.code ?? null,
			)
			.catch(err => this.log.warn(`Could not empty the cart of ${userId}: ${(err as Error).message}`));
		return publicOrder(shown);
	}
}
