/** The notifications service's part of a person's data: their notifications and the emails sent to them. Erasure deletes both. */
import type { Context } from "moleculer";
import type { PersonalDataHandlers } from "../../mixins/personal-data.mixin.js";
import type { Collection } from "../../lib/store/index.js";
import { publicNotification, type NotificationRecord } from "../../lib/domain/notifications.js";
import type { OutgoingMail } from "./outgoing-mail.js";

type Self = { notifications: Collection<NotificationRecord>; mail: OutgoingMail };

export const notificationsPersonalData: PersonalDataHandlers<Self> = {
	async exportFor(userId: string, _ctx: Context) {
		const [notes, emails] = await Promise.all([
			this.notifications.find({ query: { userId }, sort: ["createdAt"] }),
			this.mail.emails.find({ query: { userId }, sort: ["createdAt"] }),
		]);
		return {
			notifications: notes.map(publicNotification),
			emails: emails.map(e => ({ id: e._id, kind: e.kind, to: e.to, subject: e.subject, state: e.state, createdAt: e.createdAt, sentAt: e.sentAt })),
		};
	},
	async eraseFor(userId: string) {
		await this.notifications.removeWhere({ userId });
		await this.mail.emails.removeWhere({ userId });
	},
};
