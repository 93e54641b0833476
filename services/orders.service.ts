/**
 * orders: carts, checkout, order history, fulfilment, payments, and the orders' part of the
 * checkout saga.
 *
 *   POST /orders ─► order `pending`, card authorized ─► order.placed
 *   stock.reserved ─► capture ─► `paid` (order.paid, payment.captured)
 *                            └─► `cancelled` payment_declined (order.cancelled, payment.declined)
 *   stock.rejected ─► `cancelled` out_of_stock, authorization voided
 *   a pending order older than RESERVATION_TTL_SECONDS ─► `cancelled` reservation_expired (sweep)
 *   return.approved ─► partial (or full) refund of the returned lines
 *
 * Every status change is a compare-and-set on the status that was read, with the events it
 * causes written into the order's outbox in the same update. Every payment call carries an
 * idempotency key derived from the order (or the return), so a step run twice moves money once.
 */
import type { Context, Service } from "moleculer";
import { defineService } from "../lib/service.js";
import { EventsMixin } from "../mixins/events.mixin.js";
import { DbMixin } from "../mixins/db.mixin.js";
import { IdempotencyMixin } from "../mixins/idempotency.mixin.js";
import { config } from "../lib/config.js";
import { conflict, forbidden, invalidField, notFound, validationError, type FieldProblem } from "../lib/errors.js";
import { hasRole, requireUser, type ShopContext } from "../lib/auth/access.js";
import { offsetOf, pageParams, paged } from "../lib/paging.js";
import { DuplicateKeyError, type Collection, type Query } from "../lib/store.js";
import type { CancelReason, EventEnvelope, EventPayloads, EventType } from "../lib/events/catalog.js";
import { ORDERS } from "../lib/contracts/http/orders.js";
import { isId } from "../lib/contracts/ids.js";
import {
	MAX_CART_LINES,
	MAX_QUANTITY,
	cartLinePath,
	cartProblems,
	idempotencyKeyProblem,
	priceCart,
	requestFingerprint,
	snapshotItems,
	type CartLine,
	type CartRecord,
	type CatalogPrice,
	type CheckoutBody,
	type PricedCart,
} from "../lib/domain/checkout.js";
import {
	CANCELLABLE,
	ORDER_STATUSES,
	itemQuantities,
	orderSummary,
	planReturnRefund,
	publicOrder,
	totals,
	transition,
	type OrderRecord,
	type OrderStatus,
	type PublicOrder,
} from "../lib/domain/orders.js";
import { afterCapture, afterRefund, refundable, type PaymentRecord } from "../lib/payments/payment.js";
import { cardDigits, cardProblems } from "../lib/payments/card.js";
import { SimulatedPaymentProvider } from "../lib/payments/simulated.js";
import type { CaptureRequest, CaptureResult, PaymentProvider, RefundResult, VoidRequest, VoidResult } from "../lib/payments/provider.js";

type Outboxed<T> = T & { outbox?: EventEnvelope[] };
type StoredOrder = Outboxed<OrderRecord>;



const now = () => new Date().toISOString();

interface StatusMove {
	reason?: string;
	/** More fields to set in the same update. */
	set?: Record<string, unknown>;
	events?: EventEnvelope[];
}

type Self = Service & {
	orders: Collection<StoredOrder>;
	carts: Collection<CartRecord>;
	provider: PaymentProvider;
	sweeper: { timer?: NodeJS.Timeout; running?: Promise<void> };
	collection<T extends { _id: string }>(name: string): Collection<T>;
	domainEvent<T extends EventType>(type: T, payload: EventPayloads[T], ctx?: Context | null): EventEnvelope<T>;
	relayOutbox(): Promise<void>;
	event<T extends EventType>(type: T, payload: EventPayloads[T], cause: Context | null): EventEnvelope<T>;
	catalog(ctx: Context, ids: string[]): Promise<CatalogPrice[]>;
	pricedCart(ctx: Context, lines: Record<string, CartLine>): Promise<PricedCart>;
	cartView(ctx: Context, userId: string): Promise<{ items: PricedCart["items"]; subtotal: number; currency: string }>;
	ensureCart(userId: string): Promise<CartRecord>;
	idempotent<T>(userId: string, key: string, fingerprint: string, perform: (orderId: string) => Promise<T>): Promise<T>;
	forgetOldIdempotencyKeys(): Promise<void>;
	placeOrder(ctx: ShopContext<CheckoutBody>, userId: string, orderId: string): Promise<PublicOrder>;
	findOrderFor(ctx: ShopContext, id: string): Promise<StoredOrder>;
	moveOrder(order: OrderRecord, to: OrderStatus, move?: StatusMove): Promise<boolean>;
	cancelOrder(order: OrderRecord, reason: CancelReason, cause: Context | null): Promise<boolean>;
	onAuthorizingNode<T>(order: OrderRecord, action: string, params: object, local: () => Promise<T>, lost: T): Promise<T>;
	capture(order: OrderRecord): Promise<CaptureResult>;
	settleCapture(order: OrderRecord, cause: Context | null): Promise<void>;
	resolveAuthorization(orderId: string, cause: Context | null): Promise<void>;
	refundOrphanCapture(orderId: string, paymentId: string, amount: number, cause: Context | null): Promise<void>;
	completeCancelRefund(orderId: string, cause: Context | null): Promise<void>;
	refundReturn(payload: EventPayloads["return.approved"], cause: Context | null): Promise<void>;
	sweep(): Promise<void>;
};

const OrdersService = defineService<Self>({
	name: "orders",
	// EventsMixin first: mixins start last-listed first, so the database is connected before events flow.
	mixins: [
		EventsMixin({ outbox: ["orders"] }),
		DbMixin({
			orders: {
				indexes: [{ fields: { userId: 1, createdAt: -1 } }, { fields: { status: 1, createdAt: 1 } }, { fields: { createdAt: -1 } }, { fields: { "pendingRefund.key": 1 }, sparse: true }],
			},
			carts: {},
		}),
		IdempotencyMixin(),
	],

	actions: {
		// ---- Cart
		getCart: {
			async handler(ctx: ShopContext) {
				return this.cartView(ctx, requireUser(ctx).id);
			},
		},

		addCartItem: {
			params: ORDERS["orders.addCartItem"],
			async handler(ctx: ShopContext<{ productId: string; quantity: number }>) {
				const user = requireUser(ctx);
				const { productId, quantity } = ctx.params;
				const [product] = await this.catalog(ctx, [productId]);
				if (!product || !product.active) throw notFound("Product", productId);
				const line = cartLinePath(productId);
				for (let attempt = 0; attempt < 5; attempt++) {
					// One atomic increment that never takes the line past the maximum: concurrent adds all count.
					const added = await this.carts.updateWhere({ _id: user.id, [line]: { $exists: true }, [`${line}.quantity`]: { $lte: MAX_QUANTITY - quantity } }, { $inc: { [`${line}.quantity`]: quantity }, $set: { updatedAt: now() } });
					if (added === 1) return this.cartView(ctx, user.id);
					const cart = await this.ensureCart(user.id);
					const existing = Object.hasOwn(cart.lines, productId) ? cart.lines[productId] : undefined;
					if (existing) {
						if (existing.quantity + quantity > MAX_QUANTITY) throw invalidField("quantity", `A cart holds at most ${MAX_QUANTITY} of a product; it has ${existing.quantity} of this one.`, "numberMax");
						continue;
					}
					if (Object.keys(cart.lines).length >= MAX_CART_LINES) throw invalidField("productId", `A cart holds at most ${MAX_CART_LINES} different products.`, "cartFull");
					const priced = await this.pricedCart(ctx, cart.lines);
					if (priced.items.length > 0 && priced.currency !== product.currency) throw invalidField("productId", `This product is priced in ${product.currency}; the cart is in ${priced.currency}.`, "currency");
					const created = await this.carts.updateWhere({ _id: user.id, [line]: { $exists: false } }, { $set: { [line]: { quantity, addedAt: now() }, updatedAt: now() } });
					if (created === 1) return this.cartView(ctx, user.id);
				}
				throw conflict("The cart changed while adding to it; try again", "CONCURRENT_CHANGE");
			},
		},

		updateCartItem: {
			params: ORDERS["orders.updateCartItem"],
			async handler(ctx: ShopContext<{ productId: string; quantity: number }>) {
				const user = requireUser(ctx);
				const line = cartLinePath(ctx.params.productId);
				const n = await this.carts.updateWhere({ _id: user.id, [line]: { $exists: true } }, { $set: { [`${line}.quantity`]: ctx.params.quantity, updatedAt: now() } });
				if (n === 0) throw notFound("Cart item", ctx.params.productId);
				return this.cartView(ctx, user.id);
			},
		},

		removeCartItem: {
			params: ORDERS["orders.removeCartItem"],
			async handler(ctx: ShopContext<{ productId: string }>) {
				const user = requireUser(ctx);
				const line = cartLinePath(ctx.params.productId);
				const n = await this.carts.updateWhere({ _id: user.id, [line]: { $exists: true } }, { $unset: { [line]: true }, $set: { updatedAt: now() } });
				if (n === 0) throw notFound("Cart item", ctx.params.productId);
				return this.cartView(ctx, user.id);
			},
		},

		clearCart: {
			async handler(ctx: ShopContext) {
				const user = requireUser(ctx);
				await this.carts.updateWhere({ _id: user.id }, { $set: { lines: {}, updatedAt: now() } });
				return this.cartView(ctx, user.id);
			},
		},

		// ---- Orders
		/**
		 * Checkout. Idempotent per (user, Idempotency-Key): the key's record is inserted first, so
		 * of concurrent requests one proceeds and the others wait for its answer and replay it.
		 */
		checkout: {
			params: ORDERS["orders.checkout"],
			async handler(ctx: ShopContext<CheckoutBody>) {
				const user = requireUser(ctx);
				const key = ctx.meta.idempotencyKey;
				const keyProblem = idempotencyKeyProblem(key);
				if (keyProblem) throw invalidField("Idempotency-Key", keyProblem, "idempotencyKey");
				const { shippingAddress, payment } = ctx.params;
				const card = { number: payment.cardNumber, expMonth: payment.expMonth, expYear: payment.expYear, cvc: payment.cvc };
				const problems: FieldProblem[] = cardProblems(card, new Date()).map(p => ({ ...p, field: `payment.${p.field}` }));
				if (problems.length) throw validationError(problems);

				return this.idempotent(user.id, key!, requestFingerprint(ctx.params), orderId => this.placeOrder(ctx, user.id, orderId));
			},
		},

		list: {
			params: ORDERS["orders.list"],
			async handler(ctx: ShopContext<{ page: number; pageSize: number; all?: boolean; status?: OrderStatus }>) {
				const user = requireUser(ctx);
				if (ctx.params.all && !hasRole(user, "admin")) throw forbidden("Only admins can list everyone's orders");
				const query: Query = ctx.params.all ? {} : { userId: user.id };
				if (ctx.params.status) query.status = ctx.params.status;
				const { page, pageSize } = ctx.params;
				const [rows, total] = await Promise.all([this.orders.find({ query, sort: ["-createdAt", "-_id"], limit: pageSize, offset: offsetOf(page, pageSize) }), this.orders.count(query)]);
				return paged(rows.map(publicOrder), total, page, pageSize);
			},
		},

		get: {
			params: ORDERS["orders.get"],
			async handler(ctx: ShopContext<{ id: string }>) {
				return publicOrder(await this.findOrderFor(ctx, ctx.params.id));
			},
		},

		/** Cancel before shipping. A paid order is refunded in full and ends `refunded`. */
		cancel: {
			params: ORDERS["orders.cancel"],
			async handler(ctx: ShopContext<{ id: string }>) {
				const user = requireUser(ctx);
				let order = await this.findOrderFor(ctx, ctx.params.id);
				const reason: CancelReason = order.userId === user.id ? "cancelled_by_customer" : "cancelled_by_admin";
				for (let attempt = 0; attempt < 5; attempt++) {
					if (!CANCELLABLE.includes(order.status)) throw conflict(`An order that is ${order.status} cannot be cancelled`, "INVALID_ORDER_STATUS", { status: order.status });
					if (await this.cancelOrder(order, reason, ctx)) {
						if (order.status === "pending") await this.resolveAuthorization(order._id, ctx);
						else await this.completeCancelRefund(order._id, ctx);
						void this.relayOutbox();
						return publicOrder((await this.orders.findById(order._id))!);
					}
					order = (await this.orders.findById(order._id))!; // it moved meanwhile (paid, say): decide again
				}
				throw conflict("The order changed while cancelling it; try again", "CONCURRENT_CHANGE");
			},
		},

		ship: {
			roles: ["admin"],
			params: ORDERS["orders.ship"],
			async handler(ctx: ShopContext<{ id: string }>) {
				const order = await this.findOrderFor(ctx, ctx.params.id);
				if (order.status !== "paid") throw conflict(`An order that is ${order.status} cannot be shipped`, "INVALID_ORDER_STATUS", { status: order.status });
				const shipped = await this.moveOrder(order, "shipped", { events: [this.event("order.shipped", { orderId: order._id, userId: order.userId }, ctx)] });
				if (!shipped) throw conflict("The order changed meanwhile; reload it", "CONCURRENT_CHANGE");
				void this.relayOutbox();
				return publicOrder((await this.orders.findById(order._id))!);
			},
		},

		deliver: {
			roles: ["admin"],
			params: ORDERS["orders.deliver"],
			async handler(ctx: ShopContext<{ id: string }>) {
				const order = await this.findOrderFor(ctx, ctx.params.id);
				if (order.status !== "shipped") throw conflict(`An order that is ${order.status} cannot be delivered`, "INVALID_ORDER_STATUS", { status: order.status });
				const delivered = await this.moveOrder(order, "delivered", { events: [this.event("order.delivered", { orderId: order._id, userId: order.userId }, ctx)] });
				if (!delivered) throw conflict("The order changed meanwhile; reload it", "CONCURRENT_CHANGE");
				void this.relayOutbox();
				return publicOrder((await this.orders.findById(order._id))!);
			},
		},

		// ---- Internal: other services, never the gateway.
		/** For the support service: one order, only if it is this user's (any order when userId is left out). */
		summaryForUser: {
			visibility: "public",
			params: { orderId: "string", userId: { type: "string", optional: true } },
			async handler(ctx: ShopContext<{ orderId: string; userId?: string }>) {
				const order = await this.orders.findById(ctx.params.orderId);
				if (!order || (ctx.params.userId !== undefined && order.userId !== ctx.params.userId)) throw notFound("Order", ctx.params.orderId);
				return orderSummary(order);
			},
		},

		/** The simulated provider keeps authorizations in memory: captures run on the node that authorized. */
		capturePayment: {
			visibility: "public",
			params: { idempotencyKey: "string", authorizationId: "string", amount: "number", currency: "string" },
			handler(ctx: ShopContext<CaptureRequest>) {
				return this.provider.capture(ctx.params);
			},
		},
		voidPayment: {
			visibility: "public",
			params: { idempotencyKey: "string", authorizationId: "string" },
			handler(ctx: ShopContext<VoidRequest>) {
				return this.provider.void(ctx.params);
			},
		},
	},

	domainEvents: {
		"stock.reserved": async function (event, ctx) {
			const order = await this.orders.findById(event.payload.orderId);
			if (!order || order.status !== "pending" || order.payment.status !== "authorized") return;
			await this.settleCapture(order, ctx);
		},

		"stock.rejected": async function (event, ctx) {
			const order = await this.orders.findById(event.payload.orderId);
			if (!order || order.status !== "pending") return;
			if (await this.cancelOrder(order, "out_of_stock", ctx)) await this.resolveAuthorization(order._id, ctx);
		},

		"return.approved": async function (event, ctx) {
			await this.refundReturn(event.payload, ctx);
		},
	},

	methods: {
		/** An event for an outbox, carrying the request id (and trace) of what caused it. */
		event<T extends EventType>(this: Self, type: T, payload: EventPayloads[T], cause: Context | null): EventEnvelope<T> {
			return this.domainEvent(type, payload, cause);
		},

		// ---- Cart

		catalog(ctx: Context, ids: string[]): Promise<CatalogPrice[]> {
			return ids.length ? ctx.call<CatalogPrice[], { ids: string[] }>("products.byIds", { ids }) : Promise.resolve([]);
		},

		async pricedCart(ctx: Context, lines: Record<string, CartLine>): Promise<PricedCart> {
			return priceCart(lines, await this.catalog(ctx, Object.keys(lines)));
		},

		async cartView(ctx: Context, userId: string) {
			const cart = await this.carts.findById(userId);
			const { items, subtotal, currency, unavailable, otherCurrency } = await this.pricedCart(ctx, cart?.lines ?? {});
			// Lines that can no longer be bought (product gone, inactive, or now in another currency) leave the cart.
			const stale = [...unavailable, ...otherCurrency];
			if (stale.length) await this.carts.updateWhere({ _id: userId }, { $unset: Object.fromEntries(stale.map(id => [cartLinePath(id), true])) });
			return { items, subtotal, currency };
		},

		async ensureCart(userId: string): Promise<CartRecord> {
			const cart = await this.carts.findById(userId);
			if (cart) return cart;
			const fresh: CartRecord = { _id: userId, lines: {}, updatedAt: now() };
			try {
				await this.carts.insert(fresh);
				return fresh;
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
				return (await this.carts.findById(userId))!;
			}
		},

		// ---- Checkout

		async placeOrder(ctx: ShopContext<CheckoutBody>, userId: string, orderId: string): Promise<PublicOrder> {
			const earlier = await this.orders.findById(orderId);
			if (earlier) return publicOrder(earlier);

			const cart = await this.carts.findById(userId);
			const priced = await this.pricedCart(ctx, cart?.lines ?? {});
			const problems = cartProblems(priced);
			if (problems.length) throw validationError(problems, problems[0]!.message);
			const items = snapshotItems(priced);
			const { subtotal, total } = totals(items);
			const { payment: p, shippingAddress } = ctx.params;

			// Authorize now, while the card is at hand; it is captured once the stock is held.
			const auth = await this.provider.authorize({ idempotencyKey: orderId, amount: total, currency: priced.currency, card: { number: cardDigits(p.cardNumber) ?? p.cardNumber, expMonth: p.expMonth, expYear: p.expYear, cvc: p.cvc } });
			const at = now();
			const payment: PaymentRecord = {
				provider: this.provider.name,
				brand: auth.brand,
				last4: auth.last4,
				status: auth.status === "authorized" ? "authorized" : "declined",
				amount: total,
				currency: priced.currency,
				authorizationId: auth.status === "authorized" ? auth.authorizationId : null,
				authorizedOn: auth.status === "authorized" ? this.broker.nodeID : null,
				paymentId: null,
				captured: 0,
				refunded: 0,
			};
			const quantities = itemQuantities(items);
			const order: StoredOrder = {
				_id: orderId,
				userId,
				status: "pending",
				items,
				subtotal,
				total,
				currency: priced.currency,
				shippingAddress,
				payment,
				refunds: [],
				statusHistory: [{ status: "pending", at }],
				cancelReason: null,
				returned: {},
				returns: {},
				pendingRefund: null,
				outbox: [this.event("order.placed", { orderId, userId, items: quantities, total, currency: priced.currency }, ctx)],
				createdAt: at,
				updatedAt: at,
			};
			if (auth.status === "declined") {
				// Refused outright: the order is recorded, cancelled, and never reaches the catalog.
				order.status = "cancelled";
				order.cancelReason = "payment_declined";
				order.statusHistory.push(transition("pending", "cancelled", at, "payment_declined"));
				order.outbox = [
					this.event("payment.declined", { orderId, userId, reason: auth.reason }, ctx),
					this.event("order.cancelled", { orderId, userId, items: quantities, reason: "payment_declined", refunded: false, placedAt: at }, ctx),
				];
			}
			try {
				await this.orders.insert(order);
			} catch (err) {
				if (err instanceof DuplicateKeyError) return publicOrder((await this.orders.findById(orderId))!);
				// No order, so no hold on the card either (best effort; an authorization also lapses on its own).
				if (payment.authorizationId) await this.provider.void({ idempotencyKey: `${orderId}:void`, authorizationId: payment.authorizationId }).catch(() => undefined);
				throw err;
			}
			// The ordered lines leave the cart (lines added meanwhile stay). Best effort: the order stands either way.
			const $unset = Object.fromEntries(items.map(i => [cartLinePath(i.productId), true]));
			await this.carts.updateWhere({ _id: userId }, { $unset, $set: { updatedAt: at } }).catch(err => this.logger.warn(`Could not empty the cart of ${userId}: ${(err as Error).message}`));
			void this.relayOutbox();
			return publicOrder(order);
		},

		async findOrderFor(ctx: ShopContext, id: string): Promise<StoredOrder> {
			const user = requireUser(ctx);
			const order = await this.orders.findById(id);
			// Someone else's order does not exist, as far as a customer can tell.
			if (!order || (order.userId !== user.id && !hasRole(user, "admin"))) throw notFound("Order", id);
			return order;
		},

		// ---- Status changes

		/** Compare-and-set from the status read to `to`, with history, extra fields and events in the same update. */
		async moveOrder(order: OrderRecord, to: OrderStatus, move: StatusMove = {}): Promise<boolean> {
			const at = now();
			const change = transition(order.status, to, at, move.reason);
			const $push: Record<string, unknown> = { statusHistory: { $each: [change] } };
			if (move.events?.length) $push.outbox = { $each: move.events };
			const n = await this.orders.updateWhere({ _id: order._id, status: order.status }, { $set: { status: to, updatedAt: at, ...move.set }, $push });
			return n === 1;
		},

		/**
		 * Pending: cancelled; the authorization is let go by the caller (resolveAuthorization).
		 * Paid: cancelled with a pending full refund, finished by the caller (completeCancelRefund).
		 */
		async cancelOrder(order: OrderRecord, reason: CancelReason, cause: Context | null): Promise<boolean> {
			const paid = order.status === "paid";
			const cancelled = this.event("order.cancelled", { orderId: order._id, userId: order.userId, items: itemQuantities(order.items), reason, refunded: paid, placedAt: order.createdAt }, cause);
			const set: Record<string, unknown> = { cancelReason: reason };
			if (paid) set.pendingRefund = { key: `${order._id}:cancel`, amount: refundable(order.payment), reason };
			return this.moveOrder(order, "cancelled", { reason, set, events: [cancelled] });
		},

		// ---- Payments

		async onAuthorizingNode<T>(this: Self, order: OrderRecord, action: string, params: object, local: () => Promise<T>, lost: T): Promise<T> {
			const node = order.payment.authorizedOn;
			if (!node || node === this.broker.nodeID) return local();
			try {
				return await this.broker.call<T, object>(action, params, { nodeID: node });
			} catch (err) {
				// That node is gone, and its in-memory authorization with it.
				if (["ServiceNotFoundError", "ServiceNotAvailableError"].includes((err as Error).name)) return lost;
				throw err;
			}
		},

		capture(order: OrderRecord): Promise<CaptureResult> {
			const req: CaptureRequest = { idempotencyKey: `${order._id}:capture`, authorizationId: order.payment.authorizationId ?? "", amount: order.total, currency: order.currency };
			return this.onAuthorizingNode<CaptureResult>(order, "orders.capturePayment", req, () => this.provider.capture(req), { status: "declined", reason: "authorization_lost" });
		},

		/** Stock is held: charge the card, then the order is paid or cancelled. */
		async settleCapture(order: OrderRecord, cause: Context | null): Promise<void> {
			const result = await this.capture(order); // a provider outage throws: the event is delivered again
			const { _id: orderId, userId, currency } = order;
			const quantities = itemQuantities(order.items);
			if (result.status === "captured") {
				const p = afterCapture(order.payment, result.paymentId, result.amount);
				const events = [
					this.event("payment.captured", { orderId, userId, paymentId: result.paymentId, amount: result.amount, currency, brand: order.payment.brand, last4: order.payment.last4 }, cause),
					this.event("order.paid", { orderId, userId, items: quantities, total: order.total, currency, placedAt: order.createdAt }, cause),
				];
				const paid = await this.moveOrder(order, "paid", { set: { "payment.status": p.status, "payment.paymentId": p.paymentId, "payment.captured": p.captured }, events });
				// Not pending any more: paid by a concurrent delivery of this event (nothing to do), or
				// cancelled meanwhile by its owner or the expiry sweep (the money goes straight back).
				if (!paid) await this.refundOrphanCapture(order._id, result.paymentId, result.amount, cause);
			} else {
				const events = [
					this.event("payment.declined", { orderId, userId, reason: result.reason }, cause),
					this.event("order.cancelled", { orderId, userId, items: quantities, reason: "payment_declined", refunded: false, placedAt: order.createdAt }, cause),
				];
				await this.moveOrder(order, "cancelled", { reason: "payment_declined", set: { cancelReason: "payment_declined", "payment.status": "declined" }, events });
			}
			void this.relayOutbox();
		},

		/**
		 * A cancelled order's authorization is let go. If it turns out to have been captured after
		 * all (a capture raced the cancel), the money is refunded.
		 */
		async resolveAuthorization(orderId: string, cause: Context | null): Promise<void> {
			const order = await this.orders.findById(orderId);
			if (!order || order.status !== "cancelled" || order.payment.status !== "authorized") return;
			const req: VoidRequest = { idempotencyKey: `${orderId}:void`, authorizationId: order.payment.authorizationId ?? "" };
			const voided = await this.onAuthorizingNode<VoidResult>(order, "orders.voidPayment", req, () => this.provider.void(req), { status: "voided" });
			if (voided.status === "voided") {
				await this.orders.updateWhere({ _id: orderId, "payment.status": "authorized" }, { $set: { "payment.status": "voided", updatedAt: now() } });
				return;
			}
			// Already captured: the capture's idempotency key answers what it took, which goes back.
			const captured = await this.capture(order);
			if (captured.status === "captured") await this.refundOrphanCapture(orderId, captured.paymentId, captured.amount, cause);
		},

		/** A capture that landed on an order cancelled before it was paid: refund it, once. */
		async refundOrphanCapture(orderId: string, paymentId: string, amount: number, cause: Context | null): Promise<void> {
			const order = await this.orders.findById(orderId);
			// Only a cancelled order whose payment never got recorded as captured; a paid one keeps its money.
			if (!order || order.status !== "cancelled" || order.payment.status !== "authorized") return;
			const { userId, currency } = order;
			const refund: RefundResult = amount > 0 ? await this.provider.refund({ idempotencyKey: `${orderId}:orphan-capture`, paymentId, amount, currency }) : { status: "refunded", refundId: `none:${orderId}`, amount: 0 };
			if (refund.status !== "refunded") throw new Error(`Refund of the orphan capture of order ${orderId} failed: ${refund.reason}`);
			const at = now();
			const events = [
				this.event("payment.captured", { orderId, userId, paymentId, amount, currency, brand: order.payment.brand, last4: order.payment.last4 }, cause),
				this.event("payment.refunded", { orderId, userId, refundId: refund.refundId, amount: refund.amount, currency }, cause),
			];
			await this.orders.updateWhere(
				{ _id: orderId, status: "cancelled", "payment.status": "authorized" },
				{
					$set: { "payment.status": "refunded", "payment.paymentId": paymentId, "payment.captured": amount, "payment.refunded": refund.amount, updatedAt: at },
					$push: { refunds: { $each: [{ id: refund.refundId, amount: refund.amount, reason: "order_cancelled", at }] }, outbox: { $each: events } },
				},
			);
			this.logger.warn(`Order ${orderId} was captured after it was cancelled; refunded ${refund.amount} ${currency}`);
			void this.relayOutbox();
		},

		/** The refund of a cancelled paid order; safe to run again (the sweep does, until it succeeds). */
		async completeCancelRefund(orderId: string, cause: Context | null): Promise<void> {
			const order = await this.orders.findById(orderId);
			const pending = order?.pendingRefund;
			if (!order || !pending || order.status !== "cancelled") return;
			const { userId, currency } = order;
			let refund: RefundResult = { status: "refunded", refundId: `none:${orderId}`, amount: 0 };
			if (pending.amount > 0) {
				refund = await this.provider.refund({ idempotencyKey: pending.key, paymentId: order.payment.paymentId ?? "", amount: pending.amount, currency });
				if (refund.status !== "refunded") {
					this.logger.error(`Refund of cancelled order ${orderId} failed (${refund.reason}); the sweep will try again`);
					return;
				}
			}
			const at = now();
			const set: Record<string, unknown> = { pendingRefund: null };
			if (refund.amount > 0) {
				const p = afterRefund(order.payment, refund.amount);
				set["payment.status"] = p.status;
				set["payment.refunded"] = p.refunded;
			}
			const quantities = itemQuantities(order.items);
			const events = [
				this.event("payment.refunded", { orderId, userId, refundId: refund.refundId, amount: refund.amount, currency }, cause),
				this.event("order.refunded", { orderId, userId, refundId: refund.refundId, amount: refund.amount, currency, reason: pending.reason, items: quantities, full: true }, cause),
			];
			const moved = await this.orders.updateWhere(
				{ _id: orderId, status: "cancelled", "pendingRefund.key": pending.key },
				{
					$set: { ...set, status: "refunded", updatedAt: at },
					$push: { statusHistory: { $each: [transition("cancelled", "refunded", at, pending.reason)] }, refunds: { $each: [{ id: refund.refundId, amount: refund.amount, reason: pending.reason, at }] }, outbox: { $each: events } },
				},
			);
			if (moved) void this.relayOutbox();
		},

		/** An approved return: refund the returned lines at the price paid, once per return. */
		async refundReturn(payload: EventPayloads["return.approved"], cause: Context | null): Promise<void> {
			const { orderId, returnId, userId } = payload;
			// It becomes part of a field path (`returns.<returnId>`).
			if (!isId(returnId)) return this.logger.warn(`return.approved with an unusable returnId '${returnId}'; ignored`);
			for (let attempt = 0; attempt < 5; attempt++) {
				const order = await this.orders.findById(orderId);
				if (!order || order.userId !== userId) {
					this.logger.warn(`return.approved ${returnId}: order ${orderId} of user ${userId} not found; ignored`);
					return;
				}
				if (Object.hasOwn(order.returns, returnId)) return; // already refunded
				if (!["paid", "shipped", "delivered", "refunded"].includes(order.status)) {
					this.logger.warn(`return.approved ${returnId}: order ${orderId} is ${order.status}; nothing to refund`);
					return;
				}
				const items = payload.items.filter(i => isId(i.productId));
				const plan = planReturnRefund(order, items);
				let refund: RefundResult = { status: "refunded", refundId: `none:${returnId}`, amount: 0 };
				if (plan.amount > 0) {
					refund = await this.provider.refund({ idempotencyKey: `return:${returnId}`, paymentId: order.payment.paymentId ?? "", amount: plan.amount, currency: order.currency });
					if (refund.status !== "refunded") throw new Error(`Refund for return ${returnId} of order ${orderId} failed: ${refund.reason}`);
				}
				const at = now();
				const $set: Record<string, unknown> = { [`returns.${returnId}`]: refund.refundId, updatedAt: at };
				const $inc: Record<string, number> = {};
				for (const i of plan.items) $inc[`returned.${i.productId}`] = i.quantity;
				const $push: Record<string, unknown> = {};
				let full = false;
				if (refund.amount > 0) {
					const p = afterRefund(order.payment, refund.amount);
					full = p.status === "refunded";
					$set["payment.status"] = p.status;
					$set["payment.refunded"] = p.refunded;
					$push.refunds = { $each: [{ id: refund.refundId, amount: refund.amount, reason: "return", at }] };
					$push.outbox = {
						$each: [
							this.event("payment.refunded", { orderId, userId, refundId: refund.refundId, amount: refund.amount, currency: order.currency }, cause),
							this.event("order.refunded", { orderId, userId, refundId: refund.refundId, amount: refund.amount, currency: order.currency, reason: "return", items: plan.items, full }, cause),
						],
					};
				}
				if (full && order.status !== "refunded") {
					$set.status = "refunded";
					$push.statusHistory = { $each: [transition(order.status, "refunded", at, "return")] };
				}
				const update: Record<string, unknown> = { $set };
				if (Object.keys($inc).length) update.$inc = $inc;
				if (Object.keys($push).length) update.$push = $push;
				// Compare-and-set on what was refunded so far: a concurrent return makes this one re-plan.
				const n = await this.orders.updateWhere({ _id: orderId, status: order.status, [`returns.${returnId}`]: { $exists: false }, "payment.refunded": order.payment.refunded }, update);
				if (n === 1) {
					void this.relayOutbox();
					return;
				}
			}
			throw new Error(`return.approved ${returnId}: order ${orderId} kept changing; will be retried`);
		},

		// ---- Housekeeping

		/** Expire pending orders older than the reservation TTL, finish stuck refunds, forget old idempotency keys. */
		async sweep(): Promise<void> {
			const ttl = config.reservationTtlSeconds;
			if (ttl > 0) {
				const cutoff = new Date(Date.now() - ttl * 1000).toISOString();
				const expired = await this.orders.find({ query: { status: "pending", createdAt: { $lt: cutoff } }, sort: ["createdAt"], limit: 100 });
				for (const order of expired) {
					if (await this.cancelOrder(order, "reservation_expired", null)) await this.resolveAuthorization(order._id, null);
				}
			}
			for (const order of await this.orders.find({ query: { status: "cancelled", "pendingRefund.key": { $exists: true } }, limit: 100 })) {
				await this.completeCancelRefund(order._id, null);
			}
			for (const order of await this.orders.find({ query: { status: "cancelled", "payment.status": "authorized" }, limit: 100 })) {
				await this.resolveAuthorization(order._id, null);
			}
			await this.forgetOldIdempotencyKeys();
			void this.relayOutbox();
		},
	},

	created() {
		this.orders = this.collection<StoredOrder>("orders");
		this.carts = this.collection<CartRecord>("carts");
		this.provider = new SimulatedPaymentProvider();
		this.sweeper = {};
	},

	started() {
		// Often enough that an order expires close to its TTL, at least every 30 s. RESERVATION_TTL_SECONDS=0: never expire.
		const ttlMs = config.reservationTtlSeconds * 1000;
		const every = ttlMs > 0 ? Math.min(30_000, Math.max(250, ttlMs / 4)) : 30_000;
		this.sweeper.timer = setInterval(() => {
			if (this.sweeper.running) return;
			this.sweeper.running = this.sweep()
				.catch(err => this.logger.warn(`Order sweep failed, will retry: ${(err as Error).message}`))
				.finally(() => (this.sweeper.running = undefined));
		}, every);
		this.sweeper.timer.unref();
	},

	async stopped() {
		if (this.sweeper.timer) clearInterval(this.sweeper.timer);
		await this.sweeper.running;
	},
});

export default OrdersService;
