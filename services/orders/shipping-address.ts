/**
 * Where a checkout ships: the `shippingAddress` given, or a copy of the customer's address-book
 * entry `shippingAddressId` (users service) taken now, so a later edit of the book does not
 * change the order.
 */
import type { Context } from "moleculer";
import { validationError } from "../../lib/errors.js";
import type { CheckoutBody, ShippingAddress } from "../../lib/contracts/http/orders.js";

const CALL_TIMEOUT_MS = 5000;

/** Exactly one of the two: 422 naming the field otherwise. */
export function shippingAddressProblems(body: CheckoutBody): { field: string; message: string; type: string }[] {
	if (body.shippingAddress && body.shippingAddressId)
		return [{ field: "shippingAddressId", message: "Give either a shippingAddress or a shippingAddressId, not both.", type: "exclusive" }];
	if (!body.shippingAddress && !body.shippingAddressId)
		return [{ field: "shippingAddress", message: "A shippingAddress (or a shippingAddressId from the address book) is required.", type: "addressChoice" }];
	return [];
}

export async function withShippingAddress(ctx: Context, userId: string, body: CheckoutBody): Promise<CheckoutBody & { shippingAddress: ShippingAddress }> {
	if (body.shippingAddress) return { ...body, shippingAddress: body.shippingAddress };
	const copy = await ctx.call<ShippingAddress | null, { userId: string; id: string }>(
		"users.shippingAddress",
		{ userId, id: body.shippingAddressId! },
		{ timeout: CALL_TIMEOUT_MS },
	);
	if (!copy) throw validationError([{ field: "shippingAddressId", message: "There is no such address in your address book.", type: "notFound" }]);
	return { ...body, shippingAddress: copy };
}
