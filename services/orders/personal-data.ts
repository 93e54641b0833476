/**
 * The orders service's part of a person's data: orders and the cart. Erasure keeps orders for
 * accounting (amounts, items, taxes, the destination country) but replaces the name and the
 * address; the cart and the remembered answers of Idempotency-Keys (which repeat the address) go.
 */
import type { Context } from "moleculer";
import type { PersonalDataHandlers } from "../../mixins/personal-data.mixin.js";
import type { Collection } from "../../lib/store/index.js";
import { publicOrder, type OrderRecord } from "../../lib/domain/orders.js";

type Self = { collection<T extends { _id: string }>(name: string): Collection<T> };

const ERASED = "(erased)";

export const ordersPersonalData: PersonalDataHandlers<Self> = {
	async exportFor(userId: string, _ctx: Context) {
		const [orders, cart] = await Promise.all([
			this.collection<OrderRecord>("orders").find({ query: { userId }, sort: ["createdAt"] }),
			this.collection<{ _id: string }>("carts").findById(userId),
		]);
		const { _id: _c, ...cartContent } = cart ?? { _id: "" };
		return { orders: orders.map(publicOrder), cart: cart ? cartContent : null };
	},
	async eraseFor(userId: string) {
		await this.collection<OrderRecord>("orders").updateWhere(
			{ userId, "shippingAddress.name": { $ne: ERASED } },
			{
				$set: { "shippingAddress.name": ERASED, "shippingAddress.line1": ERASED, "shippingAddress.city": ERASED, "shippingAddress.postalCode": "0" },
				$unset: { "shippingAddress.line2": true, "shippingAddress.region": true },
			},
		);
		await this.collection<{ _id: string }>("carts").removeWhere({ _id: userId });
		await this.collection<{ _id: string; userId: string }>("idempotency_keys").removeWhere({ userId });
	},
};
