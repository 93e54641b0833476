/** Quantities of items (products, or variants once they exist): what several services add up. */
import type { ItemQuantity } from "../contracts/events.js";

/** Adds up the quantities of repeated product ids, keeping first-seen order. */
export function mergeQuantities(items: readonly ItemQuantity[]): ItemQuantity[] {
	const merged = new Map<string, number>();
	for (const i of items) merged.set(i.productId, (merged.get(i.productId) ?? 0) + i.quantity);
	return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
}
