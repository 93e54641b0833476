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
 */
import type { Context } from "moleculer";
import type { Collection } from "../../lib/store/index.js";
import type { EventEnvelope, EventPayloads, ItemQuantity } from "../../lib/contracts/events.js";
import { mergeQuantities } from "../../lib/domain/items.js";
import { holdOrder, markerPath, statusAfterCancel, type ProductRecord, type ReservationRecord, type ReservationStatus } from "../../lib/domain/catalog.js";
import type { MakeEnvelope } from "../../mixins/events.mixin.js";

export type StoredReservation = ReservationRecord & { outbox?: EventEnvelope[] };
const now = () => new Date().toISOString();

export class Inventory {
	constructor(
		private readonly products: Collection<ProductRecord>,
		private readonly reservations: Collection<StoredReservation>,
		private readonly envelope: MakeEnvelope,
		private readonly relay: () => void,
	) {}

	/** `order.placed`: hold every line or none, and say which. */
	async placed(orderId: string, ordered: readonly ItemQuantity[], cause: Context): Promise<void> {
		const r = await this.reservation(orderId, holdOrder(mergeQuantities(ordered)), "reserving");
		if (r.status !== "reserving") return this.follow(r);

		const unavailable: EventPayloads["stock.rejected"]["unavailable"] = [];
		for (const line of r.items) {
			if (unavailable.length === 0 && (await this.holdLine(orderId, line))) continue;
			// Not held: say what was short. Lines after the first short one are only looked at, not held.
			const p = await this.products.findById(line.productId);
			const available = p?.available ?? 0;
			if (unavailable.length === 0 || available < line.quantity) unavailable.push({ productId: line.productId, requested: line.quantity, available });
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

	/** `return.approved`: the returned units go back on hand and on sale, once per return and product. */
	async restock(key: string, items: readonly ItemQuantity[]): Promise<void> {
		const marker = markerPath("restocked", key);
		for (const line of mergeQuantities(items)) {
			if (line.quantity <= 0) continue;
			await this.products.updateWhere(
				{ _id: line.productId, [marker]: { $exists: false } },
				{ $inc: { stock: line.quantity, available: line.quantity }, $set: { [marker]: now(), updatedAt: now() } },
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
		const hold = markerPath("holds", orderId);
		const n = await this.products.updateWhere(
			{ _id: line.productId, available: { $gte: line.quantity }, [hold]: { $exists: false } },
			{ $inc: { available: -line.quantity }, $set: { [hold]: line.quantity, updatedAt: now() } },
		);
		if (n === 1) return true;
		const p = await this.products.findById(line.productId);
		return !!p && Object.hasOwn(p.holds ?? {}, orderId);
	}

	/**
	 * Make the products match the reservation's decision: a hold given back goes back on sale
	 * (`available` up), a hold that became a sale leaves the stock (`stock` down). Every step is
	 * conditional on the order's hold marker (or put-back marker), so this can run any number of times.
	 */
	private async follow(r: ReservationRecord): Promise<void> {
		if (r.status === "reserving" || r.status === "held") return;
		const hold = markerPath("holds", r._id);
		const sold = r.status === "committed" || r.status === "restocked";
		for (const line of r.items) {
			const $inc = sold ? { stock: -line.quantity } : { available: line.quantity };
			await this.products.updateWhere({ _id: line.productId, [hold]: { $exists: true } }, { $inc, $unset: { [hold]: true }, $set: { updatedAt: now() } });
		}
		if (r.status === "restocked") await this.restock(r._id, r.items);
	}
}
