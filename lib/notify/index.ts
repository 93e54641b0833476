/** The delivery channels of emails: SMTP when SMTP_URL is set, the development mailbox otherwise. */
import { MailboxChannel, type ChannelLogger } from "./mailbox-channel.js";
import { SmtpChannel } from "./smtp-channel.js";
import type { EmailChannel } from "./email.js";

export type { EmailChannel, EmailMessage } from "./email.js";
export { MailboxChannel, maskAddress } from "./mailbox-channel.js";
export { renderEmail, type RenderedEmail } from "./templates.js";

export interface MailSettings {
	smtpUrl?: string;
	from?: string;
}

/** The email channel of this process. SMTP_URL without MAIL_FROM is a configuration error (no default sender). */
export function createEmailChannel(settings: MailSettings, logger: ChannelLogger): EmailChannel {
	if (!settings.smtpUrl) return new MailboxChannel(logger);
	if (!settings.from) throw new Error("MAIL_FROM must be set with SMTP_URL (the sender address of the shop's emails)");
	return new SmtpChannel({ url: settings.smtpUrl, from: settings.from });
}
