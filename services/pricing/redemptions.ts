/**
 * Redemptions: a promotion code's use by an order, as a step of the checkout saga.
 *
 * A code's limits are never exceeded, however many checkouts race: each use is a *slot*, a
 * document whose `_id` is the slot's number (`<promotionId>/all/<n>` for n < maxRedemptions,
 * `<promotionId>/user/<userId>/<k>` for k < perCustomerLimit). A unique `_id` insert is atomic on
 * every store (FerretDB too), so no two orders ever hold one slot, and there are only so many.
 *
 *   checkout ─► redeem: a `redemptions` document for the order (held), its slots taken
 *   order.placed ─► confirmed
 *   order.cancelled before payment (refunded: false) ─► released: its slots are freed
 *   a paid order cancelled or refunded later keeps its use
 *
 * A redemption whose order never came (the checkout died after redeeming) is released by the
 * sweep once the orders service says there is no such order. Every step is a compare-and-set on
 * the redemption's status, with its event (promotion.redeemed / released) in its outbox.
 */
import type { Context } from "moleculer";
import { validationError } from "../../lib/errors.js";
import { DuplicateKeyError, domainEvent, type Collection, type CollectionSpec } from "../../lib/store/index.js";
import type { RedeemRequest } from "../../lib/contracts/calls.js";
import { discountFor, type PromotionRefusal, type PromotionRule, type RedemptionRecord, type RedemptionSlot } from "../../lib/domain/promotions.js";
import { rule, type PromotionCodes } from "./promotion-codes.js";

const now = () => new Date().toISOString();

export const REDEMPTION_COLLECTIONS: Record<string, CollectionSpec> = {
	redemption_slots: { indexes: [{ fields: { promotionId: 1, kind: 1, userId: 1 } }, { fields: { orderId: 1 } }] },
	redemptions: { indexes: [{ fields: { status: 1, createdAt: 1 } }, { fields: { promotionId: 1, status: 1, userId: 1 } }] },
};

/** A redemption is left alone this long before the sweep asks whether its order exists. */
export const REDEMPTION_GRACE_MS = 10 * 60_000;

/** The slots of one limit: a code's total, or one customer's share of it. */
interface SlotKind {
	kind: RedemptionSlot["kind"];
	filter: { promotionId: string; kind: RedemptionSlot["kind"]; userId?: string };
	id: (n: number) => string;
}
const totalSlots = (promotionId: string): SlotKind => ({
	kind: "all",
	filter: { promotionId, kind: "all" },
	id: n => `${promotionId}/all/${n}`,
});
const customerSlots = (promotionId: string, userId: string): SlotKind => ({
	kind: "customer",
	filter: { promotionId, kind: "customer", userId },
	id: k => `${promotionId}/customer/${userId}/${k}`,
});

export class Redemptions {
	constructor(
		private readonly codes: PromotionCodes,
		private readonly slots: Collection<RedemptionSlot>,
		readonly redemptions: Collection<RedemptionRecord>,
	) {}

	/**
	 * The order takes one use of the code, or is refused (422 with the reason). Safe to call again
	 * for the same order: it answers the use it holds.
	 */
	async redeem(r: RedeemRequest, ctx: Context | null): Promise<PromotionRule & { id: string }> {
		const refused = (refusal: PromotionRefusal) =>
			validationError([{ field: "promotion", message: refusal.message, type: refusal.reason }], `The promotion code cannot be used: ${refusal.message}`);
		const earlier = await this.redemptions.findById(r.orderId);
		if (earlier && earlier.status !== "taking" && earlier.status !== "released") return rule(await this.codes.byId(earlier.promotionId));
		const { promotion, refusal } = await this.codes.check(r.code, r);
		if (!promotion) throw refused(refusal!);
		const at = now();
		const redemption = await this.redemptions.insertOrGet({
			_id: r.orderId,
			promotionId: promotion.id,
			code: promotion.code,
			userId: r.userId,
			status: "taking",
			createdAt: at,
			updatedAt: at,
		});
		if (redemption.status === "released") throw refused({ reason: "used_up", message: "This order gave its use of the code back." });
		if (redemption.status !== "taking") return promotion;

		if ((await this.takeSlot(promotion.perCustomerLimit, customerSlots(promotion.id, r.userId), r)) === "full")
			return this.giveUp(r.orderId, refused({ reason: "already_used", message: "You have already used this promotion code." }));
		if ((await this.takeSlot(promotion.maxRedemptions, totalSlots(promotion.id), r)) === "full")
			return this.giveUp(r.orderId, refused({ reason: "used_up", message: "This promotion code has been used up." }));

		const event = domainEvent("promotion.redeemed", {
			promotionId: promotion.id,
			code: promotion.code,
			orderId: r.orderId,
			userId: r.userId,
			discount: discountFor(promotion, r.subtotal),
			currency: r.currency,
		});
		await this.redemptions.changeWithEvents({ _id: r.orderId, status: "taking" }, { $set: { status: "held", updatedAt: now() } }, [event], ctx);
		return promotion;
	}

	/**
	 * Take a free slot among `0..limit-1` (null limit: no slot needed). Slots are tried from the
	 * number in use up (the common case: the next one is free; a racing order took it, the one
	 * after), then, near the limit, every hole a released use left below. A slot this order took
	 * already (a retry) counts.
	 */
	private async takeSlot(limit: number | null | undefined, slots: SlotKind, r: RedeemRequest): Promise<string | "full" | null> {
		if (limit === null || limit === undefined) return null;
		const mine = await this.slots.findOne({ ...slots.filter, orderId: r.orderId });
		if (mine) return mine._id;
		const take = async (n: number) => {
			try {
				await this.slots.insert({
					_id: slots.id(n),
					promotionId: slots.filter.promotionId,
					kind: slots.kind,
					orderId: r.orderId,
					userId: r.userId,
					at: now(),
				});
				return true;
			} catch (err) {
				if (err instanceof DuplicateKeyError) return false;
				throw err;
			}
		};
		const used = await this.slots.count(slots.filter);
		for (let n = used; n < limit && n < used + 64; n++) if (await take(n)) return slots.id(n);
		const held = new Set((await this.slots.find({ query: slots.filter })).map(s => s._id));
		for (let n = 0; n < limit && held.size < limit; n++) if (!held.has(slots.id(n)) && (await take(n))) return slots.id(n);
		return "full";
	}

	/** Refused midway: what was taken goes back, and the refusal is answered. */
	private async giveUp(orderId: string, refusal: Error): Promise<never> {
		await this.redemptions.updateWhere({ _id: orderId, status: "taking" }, { $set: { status: "released", updatedAt: now() } });
		await this.freeSlots(orderId);
		throw refusal;
	}

	private async freeSlots(orderId: string): Promise<void> {
		await this.slots.removeWhere({ orderId });
		await this.redemptions.updateWhere({ _id: orderId, status: "released" }, { $set: { slotsFreed: true } });
	}

	/** order.placed: the use is the order's for good (unless it is cancelled before payment). */
	async confirm(orderId: string): Promise<void> {
		await this.redemptions.updateWhere({ _id: orderId, status: "held" }, { $set: { status: "confirmed", updatedAt: now() } });
	}

	/** An order cancelled before payment (or never made): its use goes back. */
	async release(orderId: string, ctx: Context | null): Promise<void> {
		// A use half taken was never announced: its release is not either.
		const { doc } = await this.redemptions.change(
			orderId,
			r =>
				r.status === "released"
					? null
					: {
							expect: { status: r.status },
							update: { $set: { status: "released", updatedAt: now() } },
							events:
								r.status === "taking"
									? []
									: [domainEvent("promotion.released", { promotionId: r.promotionId, code: r.code, orderId, userId: r.userId })],
						},
			{ cause: ctx },
		);
		if (doc?.status === "released" && !doc.slotsFreed) await this.freeSlots(orderId);
	}

	/** Redemptions left held (or half taken) past the grace period, for the sweep. */
	unsettled(): Promise<RedemptionRecord[]> {
		const before = new Date(Date.now() - REDEMPTION_GRACE_MS).toISOString();
		return this.redemptions.find({ query: { status: { $in: ["taking", "held"] }, createdAt: { $lt: before } }, limit: 100 });
	}

	/** Released redemptions whose slots a crash left behind. */
	unfreed(): Promise<RedemptionRecord[]> {
		return this.redemptions.find({ query: { status: "released", slotsFreed: { $exists: false } }, limit: 100 });
	}
}
