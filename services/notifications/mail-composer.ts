/**
 * What the notifications service mails: an event's email to its recipient (lib/domain/emails.ts
 * says what it says), and the account emails the users service asks for. Both end as one record
 * of outgoing-mail.ts, whose id derives from the event or request and the recipient.
 */
import type { Context } from "moleculer";
import { config } from "../../lib/config.js";
import type { AnyEnvelope } from "../../lib/contracts/events.js";
import type { AccountEmailRequest, DeliveryPreferences, OrderSummary } from "../../lib/contracts/calls.js";
import {
	ORDER_DETAIL_EVENTS,
	accountEmail,
	emailId,
	eventEmail,
	messageIdOf,
	unsubscribeHeaders,
	unsubscribeLinks,
	type EmailContent,
	type EmailKind,
} from "../../lib/domain/emails.js";
import { renderEmail } from "../../lib/notify/index.js";
import type { OutgoingMail } from "./outgoing-mail.js";

const CALL_TIMEOUT_MS = 5000;

const shop = () => ({ shopName: config.shopName, publicUrl: config.publicUrl });

async function record(
	mail: OutgoingMail,
	kind: EmailKind,
	sourceId: string,
	userId: string,
	to: string,
	content: EmailContent,
	headers: Record<string, string>,
	createdAt: string,
): Promise<boolean> {
	const id = emailId(sourceId, userId);
	const rendered = renderEmail(content);
	return mail.enqueue({ _id: id, kind, sourceId, userId, to, ...rendered, messageId: messageIdOf(id, config.publicUrl), headers, createdAt });
}

/** The email of an event for a user whose preferences allow email. Throws (the event comes again) when the order cannot be read. */
export async function mailEvent(mail: OutgoingMail, event: AnyEnvelope, userId: string, prefs: DeliveryPreferences, ctx: Context): Promise<void> {
	let order: OrderSummary | null = null;
	if (ORDER_DETAIL_EVENTS.includes(event.type)) {
		const { orderId } = event.payload as { orderId: string };
		order = await ctx.call<OrderSummary, { orderId: string; userId: string }>("orders.summaryForUser", { orderId, userId }, { timeout: CALL_TIMEOUT_MS });
	}
	const links = unsubscribeLinks(config.publicUrl, prefs.unsubscribeToken);
	const content = eventEmail(event, { name: prefs.name, language: prefs.language }, order, shop(), links.page);
	if (!content) return;
	await record(mail, event.type as EmailKind, event.id, userId, prefs.email_address, content, unsubscribeHeaders(links.oneClick), event.occurredAt);
}

/** Verification or password reset: sent whatever the preferences, without unsubscribe headers. */
export async function mailAccountEmail(mail: OutgoingMail, req: AccountEmailRequest): Promise<boolean> {
	const content = accountEmail(req.kind, { name: req.name, language: req.language }, req.url, shop());
	return record(mail, req.kind, req.requestId, req.userId, req.to, content, {}, new Date().toISOString());
}
