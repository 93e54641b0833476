/** The users service's address book actions (GET/POST/PATCH/DELETE /me/addresses) and the lookup checkout makes. */
import type { ActionSchema } from "moleculer";
import { requireUser, type ShopContext } from "../../lib/auth/access.js";
import { IDENTITY } from "../../lib/contracts/http/identity.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import type { AddressBook } from "./address-book.js";

type Params<A extends keyof typeof IDENTITY> = ParamsOf<(typeof IDENTITY)[A]>;
type Self = { addresses: AddressBook };

export const addressActions: Record<string, ActionSchema<Self>> = {
	listAddresses: {
		idempotent: true,
		async handler(ctx: ShopContext) {
			return { rows: await this.addresses.list(requireUser(ctx).id) };
		},
	},
	addAddress: {
		params: IDENTITY["users.addAddress"],
		handler(ctx: ShopContext<Params<"users.addAddress">>) {
			return this.addresses.add(requireUser(ctx).id, ctx.params);
		},
	},
	updateAddress: {
		idempotent: true,
		params: IDENTITY["users.updateAddress"],
		handler(ctx: ShopContext<Params<"users.updateAddress">>) {
			const { id, ...patch } = ctx.params;
			return this.addresses.update(requireUser(ctx).id, id, patch);
		},
	},
	removeAddress: {
		idempotent: true,
		params: IDENTITY["users.removeAddress"],
		async handler(ctx: ShopContext<Params<"users.removeAddress">>) {
			await this.addresses.remove(requireUser(ctx).id, ctx.params.id);
			return null;
		},
	},
	/** Internal (orders at checkout): the address to copy, or null. */
	shippingAddress: {
		idempotent: true,
		visibility: "public",
		params: { userId: "string", id: "string" },
		handler(ctx: ShopContext<{ userId: string; id: string }>) {
			return this.addresses.forCheckout(ctx.params.userId, ctx.params.id);
		},
	},
};
