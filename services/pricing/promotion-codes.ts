/**
 * The admin's promotion codes (created, listed, changed, deleted softly), and whether a cart may
 * take one now (`check`). How often a code is used is counted from the redemptions
 * (redemptions.ts), which hold each order's use.
 */
import { randomUUID } from "node:crypto";
import type { Static } from "typebox";
import type { Promotion } from "../../lib/http/schemas.js";
import { conflict, notFound, validationError, type FieldProblem } from "../../lib/errors.js";
import { DuplicateKeyError, type Collection, type CollectionSpec } from "../../lib/store/index.js";
import type { PRICING } from "../../lib/contracts/http/pricing.js";
import { definedOnly, type ParamsOf } from "../../lib/contracts/params.js";
import {
	normalizePromotionCode,
	promotionInputProblems,
	promotionRefusal,
	type PromotionRecord,
	type PromotionRefusal,
	type PromotionRule,
	type RedemptionRecord,
} from "../../lib/domain/promotions.js";

type Params<A extends keyof typeof PRICING> = ParamsOf<(typeof PRICING)[A]>;
const now = () => new Date().toISOString();

export const PROMOTION_CODE_COLLECTIONS: Record<string, CollectionSpec> = {
	promotions: { indexes: [{ fields: { code: 1 }, unique: true, sparse: true }] },
};

export type PublicPromotion = Static<typeof Promotion>;

export function rule(p: PromotionRecord): PromotionRule & { id: string } {
	const { _id, code, deletedAt: _d, deletedCode: _c, createdAt: _a, updatedAt: _u, ...rest } = p;
	return { id: _id, code: code ?? "", ...rest };
}

export class PromotionCodes {
	constructor(
		private readonly promotions: Collection<PromotionRecord>,
		private readonly redemptions: Collection<RedemptionRecord>,
	) {}

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
		return {
			id: p._id,
			code: p.code ?? p.deletedCode ?? "",
			type: p.type,
			value: p.value,
			currency: p.currency ?? null,
			minSubtotal: p.minSubtotal ?? null,
			startsAt: p.startsAt ?? null,
			endsAt: p.endsAt ?? null,
			maxRedemptions: p.maxRedemptions ?? null,
			perCustomerLimit: p.perCustomerLimit ?? null,
			active: p.active,
			redemptions: await this.used(p._id),
			createdAt: p.createdAt,
			updatedAt: p.updatedAt,
		};
	}

	private static checked(input: Record<string, unknown>): FieldProblem[] {
		return promotionInputProblems(input);
	}

	async create(p: Params<"pricing.createPromotion">): Promise<PublicPromotion> {
		const problems = PromotionCodes.checked(p);
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
		const problems = PromotionCodes.checked(after);
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

	/** A promotion by id, a deleted one too (what a redemption holds). */
	async byId(id: string): Promise<PromotionRecord> {
		const p = await this.promotions.findById(id);
		if (!p) throw notFound("Promotion", id);
		return p;
	}
}

function codeTaken(code: string, err: unknown): never {
	if (err instanceof DuplicateKeyError) throw conflict(`A promotion with the code '${code}' already exists`, "CODE_TAKEN", { field: "code" });
	throw err;
}
