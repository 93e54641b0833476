/** The delivery channels of notifications. Only the development channel exists so far. */
import { LogEmailChannel, type ChannelLogger } from "./log-channel.js";
import type { EmailChannel } from "./email.js";

export type { EmailChannel, EmailMessage } from "./email.js";
export { LogEmailChannel, maskAddress } from "./log-channel.js";

/** The email channel of this process. A real provider (SMTP, an HTTP API) plugs in here. */
export function createEmailChannel(logger: ChannelLogger): EmailChannel {
	return new LogEmailChannel(logger);
}
