/**
 * Outgoing mail: every email is a record in the notifications database (`emails`) before it is
 * handed to the channel, with an id and a Message-ID derived from what it is about (an event
 * and its recipient, or an account request). So:
 *
 * - a redelivered event collides with the record it made the first time and sends nothing new;
 * - a failed hand-over (SMTP down) leaves the record pending, tried again on EMAIL_RETRY_SCHEDULE,
 *   then dead-lettered (state `dead`, a metric, an error log line) and kept;
 * - several notifications nodes share the work: a record is claimed with a compare-and-set on its
 *   `nextAttemptAt` (a lease), so one node sends it at a time.
 *
 * A node that dies between the SMTP server's acceptance and the `sent` mark sends that email once
 * more after the lease: the same Message-ID, which receivers use to drop the repeat.
 * Without SMTP_URL the records are the development mailbox (GET /mailbox).
 */
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import { retryDelayMs, type EmailKind } from "../../lib/domain/emails.js";
import type { EmailChannel } from "../../lib/notify/index.js";
import { maskAddress } from "../../lib/notify/index.js";

export type EmailState = "pending" | "sent" | "dead";

export interface EmailRecord {
	_id: string;
	kind: EmailKind;
	/** The event or request it is about. */
	sourceId: string;
	userId: string;
	to: string;
	subject: string;
	text: string;
	html: string;
	messageId: string;
	headers: Record<string, string>;
	state: EmailState;
	attempts: number;
	/** Epoch ms: when it may be tried (again); while one node tries it, the end of that node's lease. */
	nextAttemptAt: number;
	lastError: string | null;
	createdAt: string;
	sentAt: string | null;
}

export interface MailLog {
	info(msg: string): void;
	warn(msg: string): void;
	error(msg: string): void;
}

/** How long a node may take to hand one email over before another node may try it. */
const LEASE_MS = 60_000;
/** Records looked at per pass. */
const BATCH = 20;

export class OutgoingMail {
	private timer?: NodeJS.Timeout;
	private running = false;
	private again = false;
	private current?: Promise<void>;
	/** Hand-overs of emails just recorded (enqueue). */
	private readonly sending = new Set<Promise<void>>();

	constructor(
		readonly emails: Collection<EmailRecord>,
		private readonly channel: EmailChannel,
		private readonly schedule: () => readonly number[],
		private readonly log: MailLog,
		private readonly onAttempt: (result: "sent" | "retry" | "dead_lettered") => void,
	) {}

	/**
	 * Record an email to send, leased to this node in the same write, and hand it over now (not
	 * awaited: the caller's event is not held up by the mail server). A node that dies before the
	 * hand-over leaves it to the passes once the lease is over. False: it exists already (this event
	 * or request was handled before).
	 */
	async enqueue(email: Omit<EmailRecord, "state" | "attempts" | "nextAttemptAt" | "lastError" | "sentAt">): Promise<boolean> {
		const record: EmailRecord = { ...email, state: "pending", attempts: 0, nextAttemptAt: Date.now() + LEASE_MS, lastError: null, sentAt: null };
		try {
			await this.emails.insert(record);
		} catch (err) {
			if (err instanceof DuplicateKeyError) return false;
			throw err;
		}
		// In the context of what caused it (the request id of the event's request): never its content.
		this.log.info(`Email ${email._id} (${email.kind}) to ${maskAddress(email.to)} queued`);
		const sending = this.attempt(record)
			.catch(err => this.log.warn(`Email ${email._id}: recording the attempt failed, the lease passes it on: ${(err as Error).message}`))
			.finally(() => this.sending.delete(sending));
		this.sending.add(sending);
		return true;
	}

	start(pollMs: number): void {
		this.timer = setInterval(() => this.kick(), pollMs);
		this.timer.unref();
		this.kick();
	}

	async stop(): Promise<void> {
		if (this.timer) clearInterval(this.timer);
		this.timer = undefined;
		await this.current;
		await Promise.all(this.sending);
		await this.channel.close();
	}

	/** A pass soon (now, or right after the running one). */
	kick(): void {
		if (this.running) {
			this.again = true;
			return;
		}
		this.running = true;
		this.current = (async () => {
			try {
				do {
					this.again = false;
					await this.pass();
				} while (this.again && this.timer);
			} catch (err) {
				this.log.warn(`Outgoing mail pass failed: ${(err as Error).message}`);
			} finally {
				this.running = false;
			}
		})();
	}

	/** Send what is due, one at a time. */
	private async pass(): Promise<void> {
		const due = await this.emails.find({ query: { state: "pending", nextAttemptAt: { $lte: Date.now() } }, sort: ["nextAttemptAt"], limit: BATCH });
		for (const email of due) {
			if (!this.timer) return; // stopping
			const leased = await this.emails.updateWhere(
				{ _id: email._id, state: "pending", nextAttemptAt: email.nextAttemptAt },
				{ $set: { nextAttemptAt: Date.now() + LEASE_MS } },
			);
			if (leased === 1) await this.attempt(email);
		}
		if (due.length === BATCH) this.again = true;
	}

	private async attempt(email: EmailRecord): Promise<void> {
		try {
			await this.channel.send({
				to: email.to,
				subject: email.subject,
				text: email.text,
				html: email.html,
				messageId: email.messageId,
				headers: email.headers,
			});
		} catch (err) {
			const attempts = email.attempts + 1;
			const delay = retryDelayMs(attempts, this.schedule());
			const error = (err as Error).message.slice(0, 500);
			if (delay === null) {
				await this.emails.updateById(email._id, { $set: { state: "dead", attempts, lastError: error } });
				this.onAttempt("dead_lettered");
				this.log.error(`Email ${email._id} (${email.kind}) to ${maskAddress(email.to)} dead-lettered after ${attempts} attempts: ${error}`);
			} else {
				await this.emails.updateById(email._id, { $set: { attempts, lastError: error, nextAttemptAt: Date.now() + delay } });
				this.onAttempt("retry");
				this.log.warn(`Email ${email._id} (${email.kind}) not sent (attempt ${attempts}), again in ${delay / 1000} s: ${error}`);
			}
			return;
		}
		await this.emails.updateById(email._id, { $set: { state: "sent", attempts: email.attempts + 1, sentAt: new Date().toISOString(), lastError: null } });
		this.onAttempt("sent");
	}
}
