/**
 * The mailbox of the back office: every email the shop recorded (sent, waiting for another
 * attempt, or dead-lettered), newest first. Without SMTP_URL it is the development mailbox where a
 * newcomer reads the password-reset email.
 */
import type { Static } from "typebox";
import type { MailboxMessage as MailboxMessageSchema } from "../../lib/http/schemas.js";
import { notFound } from "../../lib/errors.js";
import { normalizeEmail } from "../../lib/auth/passwords.js";
import { offsetOf, paged, type Page } from "../../lib/paging.js";
import type { Collection } from "../../lib/store/index.js";
import type { EmailRecord } from "./outgoing-mail.js";

/** One email with its texts (GET /mailbox/:id); the list shows it without them. */
export type MailboxMessage = Static<typeof MailboxMessageSchema>;
export type MailboxRow = Omit<MailboxMessage, "text" | "html" | "headers">;

function row(e: EmailRecord): MailboxRow {
	return {
		id: e._id,
		kind: e.kind,
		to: e.to,
		subject: e.subject,
		messageId: e.messageId,
		state: e.state,
		attempts: e.attempts,
		lastError: e.lastError,
		createdAt: e.createdAt,
		sentAt: e.sentAt,
	};
}

export async function listMailbox(
	emails: Collection<EmailRecord>,
	p: { page: number; pageSize: number; to?: string; state?: EmailRecord["state"] },
): Promise<Page<MailboxRow>> {
	const query: Record<string, unknown> = {};
	if (p.to) query.to = normalizeEmail(p.to);
	if (p.state) query.state = p.state;
	const [rows, total] = await Promise.all([
		emails.find({ query, sort: ["-createdAt", "-_id"], limit: p.pageSize, offset: offsetOf(p.page, p.pageSize) }),
		emails.count(query),
	]);
	return paged(rows.map(row), total, p.page, p.pageSize);
}

export async function mailboxMessage(emails: Collection<EmailRecord>, id: string): Promise<MailboxMessage> {
	const e = await emails.findById(id);
	if (!e) throw notFound("Email", id);
	return { ...row(e), text: e.text, html: e.html, headers: e.headers };
}
