/**
 * Development email channel: nothing is sent, each message is logged and the last ones are
 * kept in memory (`sent`) so a developer or a test can look at them.
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

export class LogEmailChannel implements EmailChannel {
	readonly kind = "log";
	readonly sent: EmailMessage[] = [];

	constructor(
		private readonly logger: ChannelLogger,
		private readonly keep = 100,
	) {}

	async send(message: EmailMessage): Promise<void> {
		this.sent.push(message);
		if (this.sent.length > this.keep) this.sent.splice(0, this.sent.length - this.keep);
		this.logger.info(`Email (development channel, not sent) to ${maskAddress(message.to)}: ${message.subject}`);
	}
}
