/**
 * SMTP through nodemailer: a pooled transport (a few connections reused across emails), upgraded
 * with STARTTLS whenever the server offers it (`smtps://` is TLS from the start). SMTP_URL carries
 * the relay and its credentials; they are never logged.
 */
import nodemailer, { type Transporter } from "nodemailer";
import type { EmailChannel, EmailMessage } from "./email.js";

export interface SmtpSettings {
	url: string;
	from: string;
}

export class SmtpChannel implements EmailChannel {
	readonly kind = "smtp";
	private readonly transport: Transporter;

	constructor(private readonly settings: SmtpSettings) {
		this.transport = nodemailer.createTransport({
			url: settings.url,
			pool: true,
			maxConnections: 3,
			// Bounded, so a relay that accepts connections and then hangs is a failure to retry, not a stuck sender.
			connectionTimeout: 10_000,
			greetingTimeout: 10_000,
			socketTimeout: 30_000,
		});
	}

	async send(message: EmailMessage): Promise<void> {
		await this.transport.sendMail({
			from: this.settings.from,
			to: message.to,
			subject: message.subject,
			text: message.text,
			html: message.html,
			messageId: message.messageId,
			headers: message.headers,
		});
	}

	async close(): Promise<void> {
		this.transport.close();
	}
}
