/**
 * The development mailbox (no SMTP_URL): nothing leaves the process. Every email is already
 * kept in the notifications database before it is handed to a channel, so "delivering" here only
 * logs a line; the back office reads the mailbox through GET /mailbox.
 */
import type { EmailChannel, EmailMessage } from "./email.js";

export interface ChannelLogger {
	info(...args: unknown[]): void;
}

/** "jane.doe@example.com" → "j***@example.com": enough to tell recipients apart in a log. */
export function maskAddress(address: string): string {
	const at = address.lastIndexOf("@");
	if (at <= 0) return "***";
	return `${address[0]}***${address.slice(at)}`;
}

export class MailboxChannel implements EmailChannel {
	readonly kind = "mailbox";

	constructor(private readonly logger: ChannelLogger) {}

	async send(message: EmailMessage): Promise<void> {
		this.logger.info(`Email kept in the development mailbox (no SMTP_URL) for ${maskAddress(message.to)}: ${message.subject}`);
	}

	async close(): Promise<void> {}
}
