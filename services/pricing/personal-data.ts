/**
 * The pricing service's part of a person's data: their uses of promotion codes (redemptions, and
 * the slots that count them against a code's limits). Erasure keeps every use, so a code's
 * `maxRedemptions` and the counts stay exact, but under a pseudonym instead of the user id.
 *
 * The pseudonym is random (one per erasure), not derived from the user id: the users service
 * keeps the account's id as a tombstone, and a pseudonym computable from it would tie the uses
 * back to the account. One pass gives all of a user's records the same pseudonym, so the
 * per-customer count moves with them; a redelivered request finds nothing left to change.
 */
import { randomUUID } from "node:crypto";
import type { Context } from "moleculer";
import type { PersonalDataHandlers } from "../../mixins/personal-data.mixin.js";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import type { RedemptionRecord, RedemptionSlot } from "../../lib/domain/promotions.js";

type Self = { collection<T extends { _id: string }>(name: string): Collection<T> };

export const pricingPersonalData: PersonalDataHandlers<Self> = {
	async exportFor(userId: string, _ctx: Context) {
		const uses = await this.collection<RedemptionRecord>("redemptions").find({ query: { userId }, sort: ["createdAt"] });
		return {
			promotions: uses.map(r => ({ code: r.code, orderId: r._id, status: r.status, createdAt: r.createdAt })),
		};
	},
	async eraseFor(userId: string) {
		const pseudonym = `erased:${randomUUID()}`;
		const redemptions = this.collection<RedemptionRecord>("redemptions");
		for (const r of await redemptions.find({ query: { userId } })) {
			await redemptions.change(r._id, current =>
				current.userId !== userId ? null : { expect: { userId, updatedAt: current.updatedAt }, update: { $set: { userId: pseudonym } } },
			);
		}
		const slots = this.collection<RedemptionSlot>("redemption_slots");
		await slots.updateWhere({ userId, kind: "all" }, { $set: { userId: pseudonym } });
		// A customer's slot has the user id in its own id (`<promotion>/customer/<user>/<k>`): moved to the pseudonym's.
		for (const s of await slots.find({ query: { userId, kind: "customer" } })) {
			const k = s._id.slice(s._id.lastIndexOf("/") + 1);
			try {
				await slots.insert({ ...s, _id: `${s.promotionId}/customer/${pseudonym}/${k}`, userId: pseudonym });
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
			}
			await slots.removeWhere({ _id: s._id });
		}
	},
};
