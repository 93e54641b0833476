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
import type { Collection } from "../../lib/store/index.js";
import type { EventEnvelope, EventPayloads, ItemQuantity } from "../../lib/contracts/events.js";
import { mergeQuantities } from "../../lib/domain/items.js";
import { holdOrder, statusAfterCancel, stockPaths, type ProductRecord, type ReservationRecord, type ReservationStatus } from "../../lib/domain/catalog.js";
import type { Query } from "../../lib/store/index.js";
import type { MakeEnvelope } from "../../mixins/events.mixin.js";
import type { StoredProduct } from "./catalog.js";

export type StoredReservation = ReservationRecord & { outbox?: EventEnvelope[] };
const now = () => new Date().toISOString();

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
		private readonly envelope: MakeEnvelope,
		/** Publish the reservations' outboxes. */
		private readonly relay: () => void,
		/** Publish the outboxes of these products. */
		private readonly relayProducts: (ids: string[]) => void,
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
	 * One conditional update that changes what is available of an item by `change`, carrying a
	 * stock.changed event when it makes the item run out (a hold of the last units) or come back
	 * (units returned to an item that had none). The common case, which leaves the item on sale
	 * as it was, is tried first. False when `query` (its marker condition) does not hold.
	 */
	private async changeAvailable(line: ItemQuantity, loc: Located, query: Query, update: Record<string, unknown>, change: number): Promise<boolean> {
		const available = loc.paths.available;
		const where = { _id: line.productId, ...loc.paths.match(line.variantId), ...query };
		const stays = change < 0 ? { $gt: -change } : { $gt: 0 };
		const crossing = change < 0 ? -change : 0;
		const event = this.envelope("stock.changed", { productId: line.productId, variantId: line.variantId ?? null });
		for (let attempt = 0; attempt < 5; attempt++) {
			if ((await this.products.updateWhere({ ...where, [available]: stays }, update)) === 1) return true;
			if ((await this.products.updateWhere({ ...where, [available]: crossing }, { ...update, $push: { outbox: { $each: [event] } } })) === 1) {
				this.relayProducts([line.productId]);
				return true;
			}
			// A hold finds too few units; a put-back finds its marker gone (done already), or `available` moved between the two tries.
			if (change < 0 || (await this.products.count(where)) === 0) return false;
		}
		return false;
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
				? this.envelope("stock.reserved", { orderId, items: r.items }, cause)
				: this.envelope("stock.rejected", { orderId, reason: "out_of_stock", unavailable }, cause);
		await this.reservations.updateWhere(
			{ _id: orderId, status: "reserving" },
			{ $set: { status: decided, updatedAt: now() }, $push: { outbox: { $each: [event] } } },
		);
		// Whoever decided (this delivery or a concurrent one, or a cancel), the holds now follow that decision.
		await this.follow((await this.reservations.findById(orderId))!);
		this.relay();
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
				{ [paths.restocked(key)]: { $exists: false } },
				{ $inc: { [paths.stock]: line.quantity, [paths.available]: line.quantity }, $set: { [paths.restocked(key)]: now(), updatedAt: now() } },
				line.quantity,
			);
		}
	}

	/** The order's reservation, made with `status` if it has none yet. */
	private async reservation(orderId: string, items: ItemQuantity[], status: ReservationStatus): Promise<ReservationRecord> {
		const at = now();
		return (
			(await this.reservations.findById(orderId)) ??
			this.reservations.insertOrGet({ _id: orderId, status, items, outbox: [], createdAt: at, updatedAt: at })
		);
	}

	/** Compare-and-set the reservation's status to `next(current)`; answers the reservation after it. */
	private async moveReservation(orderId: string, next: (status: ReservationStatus) => ReservationStatus): Promise<ReservationRecord | null> {
		for (;;) {
			const r = await this.reservations.findById(orderId);
			if (!r) return null;
			const to = next(r.status);
			if (to === r.status) return r;
			const n = await this.reservations.updateWhere({ _id: orderId, status: r.status }, { $set: { status: to, updatedAt: now() } });
			if (n === 1) return { ...r, status: to };
		}
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
			{ [hold]: { $exists: false } },
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
					held,
					{ $inc: { [paths.available]: line.quantity }, $unset: { [hold]: true }, $set: { updatedAt: now() } },
					line.quantity,
				);
			}
		}
		if (r.status === "restocked") await this.restock(r._id, r.items);
	}
}
