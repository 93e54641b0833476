/** Quantities of items (products, or variants of them): what several services add up. */
import type { ItemQuantity } from "../contracts/events.js";
import { itemIdOf } from "./variants.js";

/** Adds up the quantities of repeated items (the same product, or the same variant), keeping first-seen order. */
export function mergeQuantities(items: readonly ItemQuantity[]): ItemQuantity[] {
	const merged = new Map<string, ItemQuantity>();
	for (const i of items) {
		const id = itemIdOf(i);
		const seen = merged.get(id);
		if (seen) seen.quantity += i.quantity;
		else merged.set(id, { productId: i.productId, ...(i.variantId ? { variantId: i.variantId } : {}), quantity: i.quantity });
	}
	return [...merged.values()];
}
