/**
 * notifications: what the shop tells its customers. It consumes order, ticket and return
 * events, turns each into a notification for the user it concerns, in that user's language
 * (lib/domain/notifications.ts), and delivers it by the user's `preferences.notifications`: stored for GET /me/notifications
 * when in-app is on, handed to the email channel (lib/notify) when email is on.
 *
 * Delivery is at least once, so every step is idempotent on its own: a notification's id is
 * derived from the event id (a second insert collides), and each email is recorded before it
 * is handed over.
 */
import type { Context, Service } from "moleculer";
import { defineService } from "../../lib/service.js";
import { DbMixin } from "../../mixins/db.mixin.js";
import { EventsMixin } from "../../mixins/events.mixin.js";
import { notFound } from "../../lib/errors.js";
import { requireUser, type ShopContext } from "../../lib/auth/access.js";
import { offsetOf, paged } from "../../lib/paging.js";
import { SUPPORT } from "../../lib/contracts/http/support.js";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import type { AnyEnvelope } from "../../lib/contracts/events.js";
import type { DeliveryPreferences } from "../../lib/contracts/calls.js";
import { createEmailChannel, type EmailChannel } from "../../lib/notify/index.js";
import {
	NOTIFYING_EVENTS,
	notificationFor,
	notificationId,
	publicNotification,
	recipientOf,
	type NotificationDraft,
	type NotificationRecord,
} from "../../lib/domain/notifications.js";

interface EmailDelivery {
	_id: string;
	at: string;
}

const PREFERENCES_TIMEOUT_MS = 5000;

type Self = Service & {
	notifications: Collection<NotificationRecord>;
	emailDeliveries: Collection<EmailDelivery>;
	email: EmailChannel;
	collection<T extends { _id: string }>(name: string): Collection<T>;
	notify(event: AnyEnvelope, ctx: Context): Promise<void>;
	storeInApp(id: string, draft: NotificationDraft, event: AnyEnvelope): Promise<void>;
	sendEmail(id: string, draft: NotificationDraft, prefs: DeliveryPreferences): Promise<void>;
};

/** Every consumed event goes the same way; the domain module decides what it says. */
async function onEvent(this: Self, event: AnyEnvelope, ctx: ShopContext): Promise<void> {
	await this.notify(event, ctx);
}

const NotificationsService = defineService<Self>({
	name: "notifications",
	// Events first: Moleculer starts the last mixin's hooks first, so this order connects the
	// database before events are consumed (and stops consuming before it disconnects).
	mixins: [EventsMixin(), DbMixin({ notifications: { indexes: [{ fields: { userId: 1 } }] }, email_deliveries: {} })],

	actions: {
		list: {
			idempotent: true,
			params: SUPPORT["notifications.list"],
			async handler(ctx: ShopContext<{ page: number; pageSize: number }>) {
				const user = requireUser(ctx);
				const { page, pageSize } = ctx.params;
				const query = { userId: user.id };
				const [rows, total] = await Promise.all([
					this.notifications.find({ query, sort: ["-createdAt", "-_id"], limit: pageSize, offset: offsetOf(page, pageSize) }),
					this.notifications.count(query),
				]);
				return paged(rows.map(publicNotification), total, page, pageSize);
			},
		},

		markRead: {
			idempotent: true,
			params: SUPPORT["notifications.markRead"],
			async handler(ctx: ShopContext<{ id: string }>) {
				const user = requireUser(ctx);
				const query = { _id: ctx.params.id, userId: user.id };
				const marked = await this.notifications.updateWhere({ ...query, read: false }, { $set: { read: true, readAt: new Date().toISOString() } });
				// Nothing changed: already read (fine), or not this user's (404, same as missing).
				if (marked === 0 && !(await this.notifications.findOne(query))) throw notFound("Notification", ctx.params.id);
				return null;
			},
		},
	},

	// The events that make a notification (lib/domain/notifications.ts says which and what they say).
	integrationEvents: Object.fromEntries(NOTIFYING_EVENTS.map(type => [type, onEvent])),

	methods: {
		async notify(event: AnyEnvelope, ctx: Context): Promise<void> {
			const userId = recipientOf(event);
			if (userId === null) return;
			// A failure here (users down) throws: the event is delivered again later.
			const prefs = await ctx.call<DeliveryPreferences | null, { id: string }>(
				"users.notificationPreferences",
				{ id: userId },
				{ timeout: PREFERENCES_TIMEOUT_MS },
			);
			if (!prefs) return; // the account no longer exists
			const draft = notificationFor(event, prefs.language)!;
			const id = notificationId(event.id, draft.userId);
			if (prefs.inApp) await this.storeInApp(id, draft, event);
			if (prefs.email) await this.sendEmail(id, draft, prefs);
		},

		async storeInApp(id: string, draft: NotificationDraft, event: AnyEnvelope): Promise<void> {
			try {
				await this.notifications.insert({ _id: id, eventId: event.id, ...draft, read: false, readAt: null, createdAt: event.occurredAt });
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err; // made already by an earlier delivery
			}
		},

		/** At most once per notification: recorded first, the record undone if the channel fails. */
		async sendEmail(id: string, draft: NotificationDraft, prefs: DeliveryPreferences): Promise<void> {
			try {
				await this.emailDeliveries.insert({ _id: id, at: new Date().toISOString() });
			} catch (err) {
				if (err instanceof DuplicateKeyError) return;
				throw err;
			}
			try {
				await this.email.send({ to: prefs.email_address, subject: draft.title, text: draft.body, language: prefs.language });
			} catch (err) {
				await this.emailDeliveries.removeById(id);
				throw err;
			}
		},
	},

	created() {
		this.email = createEmailChannel(this.logger);
	},

	started() {
		this.notifications = this.collection<NotificationRecord>("notifications");
		this.emailDeliveries = this.collection<EmailDelivery>("email_deliveries");
	},
});

export default NotificationsService;
