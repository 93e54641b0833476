/**
 * notifications: what the shop tells its customers. It consumes order, ticket and return
 * events, turns each into a notification for the user it concerns, in that user's language
 * (lib/domain/notifications.ts), and delivers it by the user's `preferences.notifications`: stored for GET /me/notifications
 * when in-app is on, emailed when email is on (lib/domain/emails.ts, rendered by lib/notify).
 *
 *   mail-composer.ts   an event's email, and the account emails the users service asks for
 *   outgoing-mail.ts   every email recorded before it is sent, retried, dead-lettered (exactly one per event and recipient)
 *   mailbox.ts         the back office's mailbox (GET /mailbox), the development mailbox without SMTP_URL
 *   personal-data.ts   a customer's notifications and emails for GET /me/export, deleted on erasure
 *
 * Delivery is at least once, so every step is idempotent on its own: a notification's id and an
 * email's id are derived from the event id and the recipient (a second insert collides).
 */
import type { Context, Service } from "moleculer";
import { defineService } from "../../lib/broker/service.js";
import { DbMixin } from "../../mixins/db.mixin.js";
import { EventsMixin } from "../../mixins/events.mixin.js";
import { PersonalDataMixin } from "../../mixins/personal-data.mixin.js";
import { notificationsPersonalData } from "./personal-data.js";
import { notFound } from "../../lib/errors.js";
import { config } from "../../lib/config.js";
import { requireUser, type ShopContext } from "../../lib/auth/access.js";
import { offsetOf, paged } from "../../lib/paging.js";
import { SUPPORT } from "../../lib/contracts/http/support.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import type { AnyEnvelope } from "../../lib/contracts/events.js";
import type { AccountEmailRequest, DeliveryPreferences } from "../../lib/contracts/calls.js";
import { createEmailChannel } from "../../lib/notify/index.js";
import { recordEmailAttempt } from "../../lib/observability/metrics.js";
import { NOTIFYING_EVENTS, notificationFor, notificationId, publicNotification, type NotificationRecord } from "../../lib/domain/notifications.js";
import { EMAIL_EVENTS, emailRecipientOf } from "../../lib/domain/emails.js";
import { OutgoingMail, type EmailRecord } from "./outgoing-mail.js";
import { mailAccountEmail, mailEvent } from "./mail-composer.js";
import { listMailbox, mailboxMessage } from "./mailbox.js";

type Params<A extends keyof typeof SUPPORT> = ParamsOf<(typeof SUPPORT)[A]>;

const PREFERENCES_TIMEOUT_MS = 5000;
const MAIL_POLL_MS = 1000;

type Self = Service & {
	notifications: Collection<NotificationRecord>;
	mail: OutgoingMail;
	collection<T extends { _id: string }>(name: string): Collection<T>;
	notify(event: AnyEnvelope, ctx: Context): Promise<void>;
};

/** Every consumed event goes the same way; the domain modules decide what it says. */
async function onEvent(this: Self, event: AnyEnvelope, ctx: ShopContext): Promise<void> {
	await this.notify(event, ctx);
}

const NotificationsService = defineService<Self>({
	name: "notifications",
	// Events first: Moleculer starts the last mixin's hooks first, so this order connects the
	// database before events are consumed (and stops consuming before it disconnects).
	mixins: [
		EventsMixin({ outbox: ["erasures"] }),
		PersonalDataMixin(notificationsPersonalData),
		DbMixin({
			notifications: { indexes: [{ fields: { userId: 1 } }] },
			emails: { indexes: [{ fields: { state: 1 } }, { fields: { userId: 1 } }, { fields: { to: 1 } }] },
		}),
	],

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

		mailbox: {
			idempotent: true,
			roles: ["admin"],
			params: SUPPORT["notifications.mailbox"],
			handler(ctx: ShopContext<Params<"notifications.mailbox">>) {
				return listMailbox(this.mail.emails, ctx.params);
			},
		},
		mailboxMessage: {
			idempotent: true,
			roles: ["admin"],
			params: SUPPORT["notifications.mailboxMessage"],
			handler(ctx: ShopContext<Params<"notifications.mailboxMessage">>) {
				return mailboxMessage(this.mail.emails, ctx.params.id);
			},
		},

		// ---- Internal: other services, never the gateway.
		/** The users service's verification and password-reset emails. Once per `requestId`. */
		sendAccountEmail: {
			visibility: "public",
			params: {
				kind: { type: "enum", values: ["verification", "password_reset"] },
				requestId: "string",
				userId: "string",
				to: "string",
				name: "string",
				language: "string",
				url: "string",
			},
			async handler(ctx: ShopContext<AccountEmailRequest>) {
				return { queued: await mailAccountEmail(this.mail, ctx.params) };
			},
		},
	},

	// The events that make a notification or an email (lib/domain/notifications.ts and emails.ts say which and what they say).
	integrationEvents: Object.fromEntries([...new Set([...NOTIFYING_EVENTS, ...EMAIL_EVENTS])].map(type => [type, onEvent])),

	methods: {
		async notify(event: AnyEnvelope, ctx: Context): Promise<void> {
			const userId = emailRecipientOf(event);
			if (userId === null) return;
			// A failure here (users down) throws: the event is delivered again later.
			const prefs = await ctx.call<DeliveryPreferences | null, { id: string }>(
				"users.notificationPreferences",
				{ id: userId },
				{ timeout: PREFERENCES_TIMEOUT_MS },
			);
			if (!prefs) return; // the account no longer exists
			const draft = notificationFor(event, prefs.language);
			if (draft && prefs.inApp) {
				const id = notificationId(event.id, draft.userId);
				try {
					await this.notifications.insert({ _id: id, eventId: event.id, ...draft, read: false, readAt: null, createdAt: event.occurredAt });
				} catch (err) {
					if (!(err instanceof DuplicateKeyError)) throw err; // made already by an earlier delivery
				}
			}
			if (prefs.email) await mailEvent(this.mail, event, userId, prefs, ctx);
		},
	},

	started() {
		this.notifications = this.collection<NotificationRecord>("notifications");
		const channel = createEmailChannel(config.mail, this.logger);
		this.mail = new OutgoingMail(
			this.collection<EmailRecord>("emails"),
			channel,
			() => config.mail.retrySchedule,
			this.logger,
			result => recordEmailAttempt(this.broker, channel.kind, result),
		);
		this.mail.start(MAIL_POLL_MS);
	},

	async stopped() {
		await this.mail?.stop();
	},
});

export default NotificationsService;
