/**
 * The email channel of notifications. The notifications service renders and records each email
 * (services/notifications/outgoing-mail.ts) and hands it to one of these to deliver; which one
 * is decided in `createEmailChannel` (lib/notify/index.ts).
 */
export interface EmailMessage {
	to: string;
	subject: string;
	text: string;
	html: string;
	/** `<id@host>`, derived from the event (or request) the email is about: the same email always has the same id. */
	messageId: string;
	/** Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post (RFC 8058). */
	headers: Record<string, string>;
}

export interface EmailChannel {
	/** `smtp`, or `mailbox` (kept in the notifications database only). */
	readonly kind: "smtp" | "mailbox";
	/** Resolves once the message is handed over; throws to have it tried again later. */
	send(message: EmailMessage): Promise<void>;
	close(): Promise<void>;
}
