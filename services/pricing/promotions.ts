/**
 * Promotions: the admin's codes, and their redemption as a step of the checkout saga.
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
import { randomUUID } from "node:crypto";
import type { Context } from "moleculer";
import { conflict, notFound, validationError, type FieldProblem } from "../../lib/errors.js";
import { DuplicateKeyError, domainEvent, type Collection, type CollectionSpec } from "../../lib/store/index.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";
import type { PRICING } from "../../lib/contracts/http/pricing.js";
import { definedOnly, type ParamsOf } from "../../lib/contracts/params.js";
import type { RedeemRequest } from "../../lib/contracts/calls.js";
import {
	discountFor,
	normalizePromotionCode,
	promotionInputProblems,
	promotionRefusal,
	type PromotionRefusal,
	type PromotionRule,
} from "../../lib/domain/promotions.js";

type Params<A extends keyof typeof PRICING> = ParamsOf<(typeof PRICING)[A]>;
const now = () => new Date().toISOString();

export interface PromotionRecord extends Omit<PromotionRule, "code"> {
	_id: string;
	/** Unset once deleted, so the code can be used again (the unique index is sparse). */
	code?: string;
	deletedCode?: string;
	deletedAt: string | null;
	createdAt: string;
	updatedAt: string;
}

export interface RedemptionSlot {
	_id: string;
	promotionId: string;
	/** A use of the code's total (`all`) or of one customer's share (`customer`). */
	kind: "all" | "customer";
	orderId: string;
	userId: string;
	at: string;
}

export type RedemptionStatus = "taking" | "held" | "confirmed" | "released";
export interface RedemptionRecord {
	/** The order's id: one redemption per order. */
	_id: string;
	promotionId: string;
	code: string;
	userId: string;
	status: RedemptionStatus;
	/** Set once a released redemption's slots are gone. */
	slotsFreed?: boolean;
	outbox?: EventEnvelope[];
	createdAt: string;
	updatedAt: string;
}

export const PROMOTION_COLLECTIONS: Record<string, CollectionSpec> = {
	promotions: { indexes: [{ fields: { code: 1 }, unique: true, sparse: true }] },
	redemption_slots: { indexes: [{ fields: { promotionId: 1, kind: 1, userId: 1 } }, { fields: { orderId: 1 } }] },
	redemptions: { indexes: [{ fields: { status: 1, createdAt: 1 } }, { fields: { promotionId: 1, status: 1, userId: 1 } }] },
};

export type PublicPromotion = Omit<PromotionRecord, "_id" | "deletedAt" | "deletedCode"> & { id: string; code: string; redemptions: number };

/** A redemption is left alone this long before the sweep asks whether its order exists. */
export const REDEMPTION_GRACE_MS = 10 * 60_000;

function rule(p: PromotionRecord): PromotionRule & { id: string } {
	const { _id, code, deletedAt: _d, deletedCode: _c, createdAt: _a, updatedAt: _u, ...rest } = p;
	return { id: _id, code: code ?? "", ...rest };
}

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

export class Promotions {
	constructor(
		private readonly promotions: Collection<PromotionRecord>,
		private readonly slots: Collection<RedemptionSlot>,
		readonly redemptions: Collection<RedemptionRecord>,
	) {}

	// ---- The admin's codes

	private async record(id: string): Promise<PromotionRecord> {
		const p = await this.promotions.findById(id);
		if (!p || p.deletedAt !== null) throw notFound("Promotion", id);
		return p;
	}

	/** Uses held now (by orders not cancelled before payment): all of them, or one customer's. */
	private used(promotionId: string, userId?: string): Promise<number> {
		return this.redemptions.count({ promotionId, status: { $in: ["taking", "held", "confirmed"] }, ...(userId === undefined ? {} : { userId }) });
	}

	private async view(p: PromotionRecord): Promise<PublicPromotion> {
		const { _id, deletedAt: _d, deletedCode: _c, ...rest } = p;
		return { id: _id, ...rest, code: p.code ?? p.deletedCode ?? "", redemptions: await this.used(_id) };
	}

	private static checked(input: Record<string, unknown>): FieldProblem[] {
		return promotionInputProblems(input);
	}

	async create(p: Params<"pricing.createPromotion">): Promise<PublicPromotion> {
		const problems = Promotions.checked(p);
		if (problems.length) throw validationError(problems);
		const at = now();
		const record: PromotionRecord = {
			_id: randomUUID(),
			code: normalizePromotionCode(p.code),
			type: p.type,
			value: p.value,
			currency: p.currency ?? null,
			minSubtotal: p.minSubtotal ?? null,
			startsAt: p.startsAt ?? null,
			endsAt: p.endsAt ?? null,
			maxRedemptions: p.maxRedemptions ?? null,
			perCustomerLimit: p.perCustomerLimit ?? null,
			active: p.active ?? true,
			deletedAt: null,
			createdAt: at,
			updatedAt: at,
		};
		await this.promotions.insert(record).catch(err => codeTaken(record.code!, err));
		return this.view(record);
	}

	async list(page: number, pageSize: number): Promise<{ rows: PublicPromotion[]; total: number }> {
		const query = { deletedAt: null };
		const [rows, total] = await Promise.all([
			this.promotions.find({ query, sort: ["-createdAt", "-_id"], limit: pageSize, offset: (page - 1) * pageSize }),
			this.promotions.count(query),
		]);
		return { rows: await Promise.all(rows.map(r => this.view(r))), total };
	}

	async get(id: string): Promise<PublicPromotion> {
		return this.view(await this.record(id));
	}

	async update({ id, ...asked }: Params<"pricing.updatePromotion">): Promise<PublicPromotion> {
		const before = await this.record(id);
		const change = definedOnly(asked);
		const code = change.code === undefined ? undefined : normalizePromotionCode(change.code);
		const after = { ...before, ...change, ...(code ? { code } : {}) };
		const problems = Promotions.checked(after);
		if (problems.length) throw validationError(problems);
		const $set: Record<string, unknown> = { updatedAt: now() };
		for (const [k, v] of Object.entries(change)) if (v !== undefined) $set[k] = v;
		if (code) $set.code = code;
		// The whole promotion as read: rules across fields were checked against it.
		const n = await this.promotions
			.updateWhere({ _id: id, deletedAt: null, updatedAt: before.updatedAt }, { $set })
			.catch(err => codeTaken(code ?? "", err));
		if (n === 0) throw conflict("The promotion changed meanwhile; look again and retry", "CONCURRENT_CHANGE");
		return this.get(id);
	}

	/** Deleted: its code is free again and no cart can take it; orders that used it keep their discount. */
	async remove(id: string): Promise<void> {
		const p = await this.record(id);
		await this.promotions.updateWhere(
			{ _id: id, deletedAt: null },
			{ $set: { deletedAt: now(), deletedCode: p.code, active: false, updatedAt: now() }, $unset: { code: true } },
		);
	}

	// ---- Codes on carts and orders

	/** The promotion of a code as typed, and why this cart may not take it (null: it may). */
	async check(
		code: string,
		cart: { userId: string; subtotal: number; currency: string },
	): Promise<{ promotion: (PromotionRule & { id: string }) | null; refusal: PromotionRefusal | null }> {
		const found = await this.promotions.findOne({ code: normalizePromotionCode(code), deletedAt: null });
		const promotion = found ? rule(found) : null;
		const [redemptions, customerRedemptions] = found ? await Promise.all([this.used(found._id), this.used(found._id, cart.userId)]) : [0, 0];
		const refusal = promotionRefusal(promotion, { now: new Date(), ...cart, redemptions, customerRedemptions });
		return { promotion: refusal ? null : promotion, refusal };
	}

	/**
	 * The order takes one use of the code, or is refused (422 with the reason). Safe to call again
	 * for the same order: it answers the use it holds.
	 */
	async redeem(r: RedeemRequest, ctx: Context | null): Promise<PromotionRule & { id: string }> {
		const refused = (refusal: PromotionRefusal) =>
			validationError([{ field: "promotion", message: refusal.message, type: refusal.reason }], `The promotion code cannot be used: ${refusal.message}`);
		const earlier = await this.redemptions.findById(r.orderId);
		if (earlier && earlier.status !== "taking" && earlier.status !== "released") return rule(await this.promotionById(earlier.promotionId));
		const { promotion, refusal } = await this.check(r.code, r);
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

	private async promotionById(id: string): Promise<PromotionRecord> {
		const p = await this.promotions.findById(id);
		if (!p) throw notFound("Promotion", id);
		return p;
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

function codeTaken(code: string, err: unknown): never {
	if (err instanceof DuplicateKeyError) throw conflict(`A promotion with the code '${code}' already exists`, "CODE_TAKEN", { field: "code" });
	throw err;
}
