/**
 * Inventory: the catalog's part of the checkout saga. Hold every line of an order or none
 * (`order.placed` → `stock.reserved` / `stock.rejected`), take held stock out on `order.paid`,
 * give it back on `order.cancelled`, and put returned items back on `return.approved`.
 *
 * The saga's state here is one `reservations` document per order. Its status is decided first
 * with a compare-and-set (lib/domain/catalog.ts has the statuses); the product documents are
 * then made to match it with conditional updates keyed by the order (`holds.<orderId>`) or the
 * return (`restocked.<id>`), so running any step again, or two nodes running it at once,
 * changes nothing more. `available` never goes below zero: no order is ever oversold.
 *
 * A line is a product sold as itself or one variant of it; a variant's units, holds and markers
 * are the same fields inside its entry of the product's `variants` array (stockPaths), so every
 * rule holds per variant. A change that makes an item run out or come back carries a
 * `stock.changed` event in the same update, for search.
 */
import type { Context } from "moleculer";
import { domainEvent, type Collection } from "../../lib/store/index.js";
import type { EventEnvelope, EventPayloads, ItemQuantity } from "../../lib/contracts/events.js";
import { mergeQuantities } from "../../lib/domain/items.js";
import { holdOrder, statusAfterCancel, stockPaths, type ProductRecord, type ReservationRecord, type ReservationStatus } from "../../lib/domain/catalog.js";
import type { StoredProduct } from "./catalog-admin.js";

export type StoredReservation = ReservationRecord & { outbox?: EventEnvelope[] };
const now = () => new Date().toISOString();

/** An order's hold of an item, or a put-back's marker, present or absent (`path` is where it is in the product). */
interface Marker {
	path: string;
	field: "holds" | "restocked";
	key: string;
	present: boolean;
}

/** The line's item in its product document (a deleted variant too), or null. */
function itemIn(product: ProductRecord, line: ItemQuantity): { available: number; holds: Record<string, number>; restocked: Record<string, string> } | null {
	if (!line.variantId) return product;
	return (product.variants ?? []).find(v => v.id === line.variantId) ?? null;
}

/** Where a line's units are: the product's own fields, or its variant's. */
interface Located {
	product: ProductRecord;
	paths: ReturnType<typeof stockPaths>;
	/** The units and holds of the item. */
	item: { available: number; holds: Record<string, number>; restocked: Record<string, string>; onSale: boolean };
}

export class Inventory {
	constructor(
		private readonly products: Collection<StoredProduct>,
		private readonly reservations: Collection<StoredReservation>,
	) {}

	/** The line's item in its product document, or null when there is no such product or variant. */
	private async locate(line: ItemQuantity): Promise<Located | null> {
		const product = await this.products.findById(line.productId);
		if (!product) return null;
		if (!line.variantId) return { product, paths: stockPaths(null), item: { ...product, onSale: true } };
		// Any variant with the id, a deleted one too: what an order holds of it still settles.
		const at = (product.variants ?? []).findIndex(v => v.id === line.variantId);
		const v = product.variants?.[at];
		return v ? { product, paths: stockPaths(at), item: { ...v, onSale: v.deletedAt === null } } : null;
	}

	/**
	 * Change what is available of an item by `change`, if the item's `marker` (its hold, or its
	 * put-back) is present or absent as asked; true when written. A change that makes the item run
	 * out (a hold of the last units) or come back (units returned to an item that had none)
	 * carries a stock.changed event. The common case, which leaves the item on sale as it was, is
	 * tried first as one conditional update; otherwise the product is read and the change decided
	 * on it.
	 */
	private async changeAvailable(line: ItemQuantity, loc: Located, marker: Marker, update: Record<string, unknown>, change: number): Promise<boolean> {
		const { paths } = loc;
		const match = { ...paths.match(line.variantId), [marker.path]: { $exists: marker.present } };
		const stays = change < 0 ? -change : 0; // `available` must stay above this for the item to stay as it was
		if ((await this.products.updateWhere({ _id: line.productId, ...match, [paths.available]: { $gt: stays } }, update)) === 1) return true;
		const outcome = await this.products.change(line.productId, product => {
			const item = itemIn(product, line);
			if (!item || Object.hasOwn(item[marker.field] ?? {}, marker.key) !== marker.present) return null; // done already, or not to do
			if (item.available > stays) return { expect: { ...match, [paths.available]: { $gt: stays } }, update };
			if (item.available < stays) return null; // a hold finds too few units
			const event = domainEvent("stock.changed", { productId: line.productId, variantId: line.variantId ?? null });
			return { expect: { ...match, [paths.available]: stays }, update, events: [event] };
		});
		return outcome.written;
	}

	/** `order.placed`: hold every line or none, and say which. */
	async placed(orderId: string, ordered: readonly ItemQuantity[], cause: Context): Promise<void> {
		const r = await this.reservation(orderId, holdOrder(mergeQuantities(ordered)), "reserving");
		if (r.status !== "reserving") return this.follow(r);

		const unavailable: EventPayloads["stock.rejected"]["unavailable"] = [];
		for (const line of r.items) {
			if (unavailable.length === 0 && (await this.holdLine(orderId, line))) continue;
			// Not held: say what was short. Lines after the first short one are only looked at, not held.
			const loc = await this.locate(line);
			const available = loc?.item.onSale ? loc.item.available : 0;
			if (unavailable.length === 0 || available < line.quantity)
				unavailable.push({ productId: line.productId, ...(line.variantId ? { variantId: line.variantId } : {}), requested: line.quantity, available });
		}
		const decided: ReservationStatus = unavailable.length ? "rejected" : "held";
		const event =
			decided === "held"
				? domainEvent("stock.reserved", { orderId, items: r.items })
				: domainEvent("stock.rejected", { orderId, reason: "out_of_stock", unavailable });
		await this.reservations.changeWithEvents({ _id: orderId, status: "reserving" }, { $set: { status: decided, updatedAt: now() } }, [event], cause);
		// Whoever decided (this delivery or a concurrent one, or a cancel), the holds now follow that decision.
		await this.follow((await this.reservations.findById(orderId))!);
	}

	/** `order.paid`: the held units leave the stock. False when the order has no reservation. */
	async paid(orderId: string): Promise<boolean> {
		const r = await this.moveReservation(orderId, s => (s === "held" ? "committed" : s));
		if (r) await this.follow(r);
		return r !== null;
	}

	/** `order.cancelled`: whatever the order held or took goes back. */
	async cancelled(orderId: string, items: readonly ItemQuantity[]): Promise<void> {
		// A cancel that overtakes its order.placed leaves a released reservation: the late placement then holds nothing.
		await this.reservation(orderId, holdOrder(mergeQuantities(items)), "released");
		const r = await this.moveReservation(orderId, statusAfterCancel);
		if (r) await this.follow(r);
	}

	/** `return.approved`: the returned units go back on hand and on sale, once per return and item. */
	async restock(key: string, items: readonly ItemQuantity[]): Promise<void> {
		for (const line of mergeQuantities(items)) {
			if (line.quantity <= 0) continue;
			const loc = await this.locate(line);
			if (!loc) continue;
			const { paths } = loc;
			await this.changeAvailable(
				line,
				loc,
				{ path: paths.restocked(key), field: "restocked", key, present: false },
				{ $inc: { [paths.stock]: line.quantity, [paths.available]: line.quantity }, $set: { [paths.restocked(key)]: now(), updatedAt: now() } },
				line.quantity,
			);
		}
	}

	/** The order's reservation, made with `status` if it has none yet. */
	private async reservation(orderId: string, items: ItemQuantity[], status: ReservationStatus): Promise<ReservationRecord> {
		const at = now();
		return (await this.reservations.findById(orderId)) ?? this.reservations.insertOrGet({ _id: orderId, status, items, createdAt: at, updatedAt: at });
	}

	/** Compare-and-set the reservation's status to `next(current)`; answers the reservation after it. */
	private async moveReservation(orderId: string, next: (status: ReservationStatus) => ReservationStatus): Promise<ReservationRecord | null> {
		const outcome = await this.reservations.change(
			orderId,
			r => {
				const to = next(r.status);
				return to === r.status ? null : { expect: { status: r.status }, update: { $set: { status: to, updatedAt: now() } } };
			},
			{ attempts: 10 },
		);
		return outcome.doc;
	}

	/** Hold one line: true when the order holds it (now or from an earlier delivery). */
	private async holdLine(orderId: string, line: ItemQuantity): Promise<boolean> {
		const loc = await this.locate(line);
		if (!loc) return false;
		if (Object.hasOwn(loc.item.holds ?? {}, orderId)) return true;
		// A deleted variant is not sold (its product's deletion is checked at checkout, as for a product sold as itself).
		if (!loc.item.onSale) return false;
		const { paths } = loc;
		const hold = paths.hold(orderId);
		const held = await this.changeAvailable(
			line,
			loc,
			{ path: hold, field: "holds", key: orderId, present: false },
			{ $inc: { [paths.available]: -line.quantity }, $set: { [hold]: line.quantity, updatedAt: now() } },
			-line.quantity,
		);
		if (held) return true;
		const again = await this.locate(line);
		return !!again && Object.hasOwn(again.item.holds ?? {}, orderId);
	}

	/**
	 * Make the products match the reservation's decision: a hold given back goes back on sale
	 * (`available` up), a hold that became a sale leaves the stock (`stock` down). Every step is
	 * conditional on the order's hold marker (or put-back marker), so this can run any number of times.
	 */
	private async follow(r: ReservationRecord): Promise<void> {
		if (r.status === "reserving" || r.status === "held") return;
		const sold = r.status === "committed" || r.status === "restocked";
		for (const line of r.items) {
			const loc = await this.locate(line);
			if (!loc) continue;
			const { paths } = loc;
			const hold = paths.hold(r._id);
			const held = { [hold]: { $exists: true } };
			if (sold) {
				await this.products.updateWhere(
					{ _id: line.productId, ...paths.match(line.variantId), ...held },
					{ $inc: { [paths.stock]: -line.quantity }, $unset: { [hold]: true }, $set: { updatedAt: now() } },
				);
			} else {
				await this.changeAvailable(
					line,
					loc,
					{ path: hold, field: "holds", key: r._id, present: true },
					{ $inc: { [paths.available]: line.quantity }, $unset: { [hold]: true }, $set: { updatedAt: now() } },
					line.quantity,
				);
			}
		}
		if (r.status === "restocked") await this.restock(r._id, r.items);
	}
}
