/**
 * The email delivery channel of notifications. The notifications service only knows this
 * interface; which channel is used is decided in `createEmailChannel` (lib/notify/index.ts).
 */
export interface EmailMessage {
	to: string;
	subject: string;
	text: string;
	/** The recipient's preferred language (BCP 47), for a channel that renders templates. */
	language: string;
}

export interface EmailChannel {
	readonly kind: string;
	/** Resolves once the message is handed over; throws to have the event retried. */
	send(message: EmailMessage): Promise<void>;
}
