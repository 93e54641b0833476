/**
 * orders: carts, checkout, order history and fulfilment, and the orders' part of the checkout
 * saga. The rules are lib/domain/orders.ts (what each status change sets and emits) and
 * lib/domain/cart-lines.ts; the work is in the modules beside this file:
 *
 *   cart.ts         carts, priced with the catalog's current prices and the pricing service's terms
 *   checkout.ts     POST /orders: the cart becomes a pending order (once per Idempotency-Key)
 *   payments.ts     capture, void, and the one refund path (cancel, return, late capture)
 *   payment-sessions.ts, payment-actions.ts   payment sessions (webhooks, one capture, expiry, reconciliation; the webhook endpoint)
 *   order-store.ts  each change one compare-and-set with its events in the outbox
 *   sweep.ts        expiry of unsettled orders, retries, old idempotency keys
 *   parcels.ts      parcels with carrier and tracking (and the v1 ship step)
 *   personal-data.ts a customer's orders for GET /me/export, and their erasure (mixins/personal-data.mixin.ts)
 */
import type { Service } from "moleculer";
import { defineService } from "../../lib/broker/service.js";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin.js";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin.js";
import { IdempotencyMixin, type IdempotencyMethods } from "../../mixins/idempotency.mixin.js";
import { PersonalDataMixin } from "../../mixins/personal-data.mixin.js";
import { ordersPersonalData } from "./personal-data.js";
import { config } from "../../lib/config.js";
import { invalidField, notFound, validationError } from "../../lib/errors.js";
import { requireUser, type ShopContext } from "../../lib/auth/access.js";
import { paged } from "../../lib/paging.js";
import { isId } from "../../lib/contracts/ids.js";
import { ORDERS } from "../../lib/contracts/http/orders.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import { fingerprintOf, idempotencyKeyProblem, requestFingerprint, type CartRecord } from "../../lib/domain/cart-lines.js";
import { cancelled, delivered, orderSummary, publicOrder } from "../../lib/domain/orders.js";
import { SimulatedPaymentProvider, type LedgerEntry, type SandboxAuthorization, type SandboxPayment } from "../../lib/payments/simulated.js";
import { PAYMENT_COLLECTIONS, PaymentActionsMixin, buildPayments, type PaymentState } from "./payment-actions.js";
import { OrderStore, type StoredOrder } from "./order-store.js";
import { cancelOrder, changeOrder, findOrderFor, orderHistory } from "./lifecycle.js";
import { Carts } from "./cart.js";
import { Checkout, checkoutProblems } from "./checkout.js";
import { OrderPayments } from "./payments.js";
import { OrderSweep } from "./sweep.js";
import { fulfilmentActions } from "./parcels.js";
import { shippingAddressProblems, withShippingAddress } from "./shipping-address.js";

type Params<A extends keyof typeof ORDERS> = ParamsOf<(typeof ORDERS)[A]>;

interface OrdersState extends PaymentState {
	store: OrderStore;
	carts: Carts;
	checkout: Checkout;
	payments: OrderPayments;
	sweep: OrderSweep;
	provider: SimulatedPaymentProvider;
}
type OrdersThis = Service & DbMethods & EventsMethods & IdempotencyMethods & OrdersState;
const now = () => new Date().toISOString();

const OrdersService = defineService<OrdersThis>({
	name: "orders",
	// EventsMixin first: mixins start last-listed first, so the database is connected before events flow.
	mixins: [
		EventsMixin({ outbox: ["orders", "erasures"] }),
		DbMixin({
			orders: {
				indexes: [
					{ fields: { userId: 1, createdAt: -1 } },
					{ fields: { status: 1, createdAt: 1 } },
					{ fields: { createdAt: -1 } },
					{ fields: { "pendingRefund.key": 1 }, sparse: true },
				],
			},
			carts: {},
			...PAYMENT_COLLECTIONS,
		}),
		IdempotencyMixin(),
		PaymentActionsMixin,
		PersonalDataMixin(ordersPersonalData),
	],

	actions: {
		// ---- Cart
		getCart: {
			idempotent: true,
			params: ORDERS["orders.getCart"],
			handler(ctx: ShopContext<Params<"orders.getCart">>) {
				return this.carts.view(ctx, requireUser(ctx).id, ctx.params);
			},
		},
		/** With an Idempotency-Key, a retry of the same addition answers the first result and adds nothing more. */
		addCartItem: {
			idempotent: "key",
			params: ORDERS["orders.addCartItem"],
			handler(ctx: ShopContext<Params<"orders.addCartItem">>) {
				const user = requireUser(ctx);
				const { productId, variantId, quantity } = ctx.params;
				const add = (once?: string) => this.carts.add(ctx, user.id, productId, variantId, quantity, once);
				const key = ctx.meta.idempotencyKey;
				if (key === undefined) return add();
				const problem = idempotencyKeyProblem(key);
				if (problem) throw invalidField("Idempotency-Key", problem, "idempotencyKey");
				return this.idempotent(user.id, key, fingerprintOf({ addCartItem: ctx.params }), resourceId => add(resourceId));
			},
		},
		updateCartItem: {
			idempotent: true,
			params: ORDERS["orders.updateCartItem"],
			handler(ctx: ShopContext<Params<"orders.updateCartItem">>) {
				return this.carts.setQuantity(ctx, requireUser(ctx).id, ctx.params.itemId, ctx.params.quantity);
			},
		},
		removeCartItem: {
			params: ORDERS["orders.removeCartItem"],
			handler(ctx: ShopContext<Params<"orders.removeCartItem">>) {
				return this.carts.remove(ctx, requireUser(ctx).id, ctx.params.itemId);
			},
		},
		clearCart: {
			idempotent: true,
			handler(ctx: ShopContext) {
				return this.carts.clear(ctx, requireUser(ctx).id);
			},
		},
		applyPromotion: {
			params: ORDERS["orders.applyPromotion"],
			handler(ctx: ShopContext<Params<"orders.applyPromotion">>) {
				return this.carts.applyPromotion(ctx, requireUser(ctx).id, ctx.params.code);
			},
		},
		removePromotion: {
			handler(ctx: ShopContext) {
				return this.carts.removePromotion(ctx, requireUser(ctx).id);
			},
		},

		// ---- Orders
		checkout: {
			idempotent: "key",
			params: ORDERS["orders.checkout"],
			async handler(ctx: ShopContext<Params<"orders.checkout">>) {
				const user = requireUser(ctx);
				const problems = [
					...checkoutProblems(ctx.params, ctx.meta.idempotencyKey, new Date(), config.payments.provider),
					...shippingAddressProblems(ctx.params),
				];
				if (problems.length) throw validationError(problems);
				return this.idempotent(user.id, ctx.meta.idempotencyKey!, requestFingerprint(ctx.params), async orderId =>
					this.checkout.place(ctx, user.id, orderId, await withShippingAddress(ctx, user.id, ctx.params)),
				);
			},
		},
		list: {
			idempotent: true,
			params: ORDERS["orders.list"],
			async handler(ctx: ShopContext<Params<"orders.list">>) {
				const { rows, total } = await orderHistory(this.store, ctx, ctx.params);
				return paged(rows.map(publicOrder), total, ctx.params.page, ctx.params.pageSize);
			},
		},
		get: {
			ownerOr: ["admin"],
			idempotent: true,
			params: ORDERS["orders.get"],
			async handler(ctx: ShopContext<Params<"orders.get">>) {
				const order = await findOrderFor(this.store, ctx, ctx.params.id);
				// A pending order whose webhook is overdue: the provider is asked (rate-limited).
				return publicOrder((await this.sessions.reconcileOnPoll(order, ctx)) ? await findOrderFor(this.store, ctx, order._id) : order);
			},
		},
		/** Cancel before shipping: a pending order's authorization is let go, a paid order is refunded in full and ends `refunded`. */
		cancel: {
			ownerOr: ["admin"],
			params: ORDERS["orders.cancel"],
			async handler(ctx: ShopContext<Params<"orders.cancel">>) {
				return publicOrder(await cancelOrder(this.store, this.payments, ctx, ctx.params.id));
			},
		},
		...fulfilmentActions,
		deliver: {
			roles: ["admin"],
			params: ORDERS["orders.deliver"],
			async handler(ctx: ShopContext<Params<"orders.deliver">>) {
				return publicOrder(await changeOrder(this.store, ctx, ctx.params.id, "delivered", o => delivered(o, now())));
			},
		},

		// ---- Internal: other services, never the gateway.
		/** For the support service: one order, only if it is this user's (any order when userId is left out). */
		summaryForUser: {
			idempotent: true,
			visibility: "public",
			params: { orderId: "string", userId: { type: "string", optional: true } },
			async handler(ctx: ShopContext<{ orderId: string; userId?: string }>) {
				const order = await this.store.get(ctx.params.orderId);
				if (!order || (ctx.params.userId !== undefined && order.userId !== ctx.params.userId)) throw notFound("Order", ctx.params.orderId);
				return orderSummary(order);
			},
		},
	},

	integrationEvents: {
		"stock.reserved": async function (event, ctx) {
			const order = await this.store.get(event.payload.orderId);
			if (order?.payment.session) return this.sessions.stockReserved(order._id, ctx);
			if (!order || order.status !== "pending" || order.payment.status !== "authorized") return;
			await this.payments.settle(order, ctx);
		},

		"stock.rejected": async function (event, ctx) {
			const { orderId } = event.payload;
			const after = await this.store.change(orderId, o => (o.status === "pending" ? cancelled(o, "out_of_stock", now()) : null), ctx);
			if (after) await this.payments.release(orderId, ctx);
		},

		/** An approved return: the returned lines are refunded at the price paid, once per return. */
		"return.approved": async function (event, ctx) {
			const { orderId, returnId, userId, items } = event.payload;
			// It becomes part of a field path (`returns.<returnId>`).
			if (!isId(returnId)) return this.logger.warn(`return.approved with an unusable returnId '${returnId}'; ignored`);
			const order = await this.store.get(orderId);
			if (!order || order.userId !== userId)
				return this.logger.warn(`return.approved ${returnId}: order ${orderId} of user ${userId} not found; ignored`);
			const refunded = await this.payments.refund(orderId, { kind: "return", returnId, items: items.filter(i => isId(i.productId)) }, ctx);
			if (!refunded) throw new Error(`Refund for return ${returnId} of order ${orderId} failed; will be retried`);
		},
	},

	created() {
		this.store = new OrderStore(this.collection<StoredOrder>("orders"));
		this.carts = new Carts(this.collection<CartRecord>("carts"));
		this.provider = new SimulatedPaymentProvider({
			authorizations: this.collection<SandboxAuthorization>("sandbox_authorizations"),
			payments: this.collection<SandboxPayment>("sandbox_payments"),
			ledger: this.collection<LedgerEntry>("sandbox_ledger"),
		});
		this.payments = new OrderPayments(this.store, this.provider, this.logger);
		Object.assign(this, buildPayments(this, this.provider, this.payments));
		this.payments.sessions = this.sessions;
		this.checkout = new Checkout(this.store, this.carts, this.provider, this.sessions, () => config.payments.sessionTtlSeconds, this.logger);
		this.sweep = new OrderSweep(this.store, this.payments, this.sessions, () => this.forgetOldIdempotencyKeys(), this.logger);
	},

	started() {
		this.sweep.start();
	},

	async stopped() {
		await this.sweep.stop();
		await this.delivery?.stop();
	},
});

export default OrdersService;
