/**
 * The tickets service's part of a person's data: their tickets. Erasure keeps each ticket's text
 * (support history) but not who wrote it: the customer's id, on the ticket and on their messages,
 * becomes a pseudonym no other service knows.
 */
import type { Context } from "moleculer";
import type { PersonalDataHandlers } from "../../mixins/personal-data.mixin.js";
import type { Collection } from "../../lib/store/index.js";
import { derivedId } from "../../lib/contracts/ids.js";
import type { TicketRecord } from "../../lib/domain/tickets.js";

type Self = { collection<T extends { _id: string }>(name: string): Collection<T> };

export const ticketsPersonalData: PersonalDataHandlers<Self> = {
	async exportFor(userId: string, _ctx: Context) {
		const tickets = await this.collection<TicketRecord>("tickets").find({ query: { userId }, sort: ["createdAt"] });
		return {
			tickets: tickets.map(({ _id, outbox: _o, returnSlot: _r, ...t }) => ({ id: _id, ...t })),
		};
	},
	async eraseFor(userId: string) {
		const tickets = this.collection<TicketRecord>("tickets");
		const pseudonym = derivedId("erased-user", userId);
		for (const t of await tickets.find({ query: { userId } })) {
			await tickets.change(t._id, current =>
				current.userId !== userId
					? null
					: {
							expect: { userId, updatedAt: current.updatedAt },
							update: {
								$set: { userId: pseudonym, messages: current.messages.map(m => (m.authorId === userId ? { ...m, authorId: pseudonym } : m)) },
							},
						},
			);
		}
	},
};
