/**
 * The account flows that go through the mailbox: address verification (sent at registration, again
 * on request), password reset, and the one-click unsubscribe of the other emails.
 *
 * A reset request does the same work whatever the address (a throttle hit per address and per
 * client, a lookup, one token stored) and answers before any email is handed over, so neither the
 * answer nor its time tells whether an account exists. The email itself is asked of the
 * notifications service after the answer, a few times if it does not answer; the customer can ask again.
 */
import { createHash, randomUUID } from "node:crypto";
import { config } from "../../lib/config.js";
import { invalidField, tooManyRequests } from "../../lib/errors.js";
import { hashPassword, normalizeEmail, passwordProblem } from "../../lib/auth/passwords.js";
import { mergePreferences, type UserRecord } from "../../lib/domain/users.js";
import type { AccountEmailRequest } from "../../lib/contracts/calls.js";
import type { ServiceBroker } from "moleculer";
import type { Collection, Doc } from "../../lib/store/index.js";
import { AccountTokens, type AccountTokenKind, type AccountTokenRecord } from "./account-tokens.js";
import { EmailThrottle, type ThrottleRecord } from "./email-throttle.js";
import { EmailLinks, type LinkKeyRecord } from "./email-links.js";
import type { Sessions } from "./sessions.js";

const HOUR_MS = 3600_000;
const SEND_TRIES = 3;
const invalidToken = () => invalidField("token", "The link is invalid, has expired or was already used.", "invalidToken");

export interface AccountEmailLog {
	warn(msg: string): void;
}

export class AccountEmails {
	/** Made from the users service's collections (account_tokens, email_throttle, link_keys); emails go to `notifications.sendAccountEmail`. */
	static async start(
		svc: { broker: ServiceBroker; logger: AccountEmailLog; collection<T extends Doc>(name: string): Collection<T> },
		users: Collection<UserRecord>,
		sessions: Sessions,
	): Promise<AccountEmails> {
		const links = new EmailLinks(svc.collection<LinkKeyRecord>("link_keys"), () => config.emailLinkSecret);
		await links.load();
		const tokens = new AccountTokens(svc.collection<AccountTokenRecord>("account_tokens"));
		const throttle = new EmailThrottle(svc.collection<ThrottleRecord>("email_throttle"));
		const deliver = (req: AccountEmailRequest) => svc.broker.call("notifications.sendAccountEmail", req, { timeout: 5000 });
		return new AccountEmails(users, tokens, throttle, links, sessions, deliver, svc.logger);
	}

	constructor(
		private readonly users: Collection<UserRecord>,
		readonly tokens: AccountTokens,
		private readonly throttle: EmailThrottle,
		readonly links: EmailLinks,
		private readonly sessions: Sessions,
		private readonly deliver: (req: AccountEmailRequest) => Promise<unknown>,
		private readonly log: AccountEmailLog,
	) {}

	/** 429 when this address or this client asked for too many account emails this hour. */
	private async limit(address: string, clientIp: string | undefined): Promise<void> {
		const { accountEmailsPerAddress, accountEmailsPerClient } = config.rateLimit;
		const byAddress = await this.throttle.hit(`address:${createHash("sha256").update(address).digest("hex")}`, accountEmailsPerAddress, HOUR_MS);
		const byClient = await this.throttle.hit(`client:${clientIp ?? "unknown"}`, accountEmailsPerClient, HOUR_MS);
		const wait = Math.max(byAddress, byClient);
		if (wait > 0) throw tooManyRequests(wait, "Too many emails asked for; try again later");
	}

	/** Hands the email to the notifications service after the caller has its answer; retried a little, never thrown. */
	private send(kind: AccountTokenKind, user: UserRecord, token: string): void {
		const path = kind === "verification" ? "verify-email" : "reset-password";
		const req: AccountEmailRequest = {
			kind,
			requestId: randomUUID(),
			userId: user._id,
			to: user.email,
			name: user.name,
			language: user.preferences.language,
			url: `${config.publicUrl}/${path}?token=${encodeURIComponent(token)}`,
		};
		void (async () => {
			for (let attempt = 1; attempt <= SEND_TRIES; attempt++) {
				try {
					await this.deliver(req);
					return;
				} catch (err) {
					if (attempt === SEND_TRIES) this.log.warn(`The ${kind} email of user ${user._id} could not be queued: ${(err as Error).message}`);
					else await new Promise(r => setTimeout(r, attempt * 1000).unref());
				}
			}
		})();
	}

	/** At registration (the welcome) and on request: a new verification link. */
	async sendVerification(user: UserRecord): Promise<void> {
		this.send("verification", user, await this.tokens.issue("verification", user._id));
	}

	async resendVerification(userId: string, clientIp: string | undefined): Promise<void> {
		const user = await this.users.findById(userId);
		if (!user) return;
		await this.limit(user.email, clientIp);
		if (!user.emailVerified) await this.sendVerification(user);
	}

	async verify(token: string): Promise<void> {
		const userId = await this.tokens.use("verification", token);
		if (!userId) throw invalidToken();
		const done = await this.users.updateById(userId, { $set: { emailVerified: true, updatedAt: new Date().toISOString() } });
		if (!done) throw invalidToken();
		await this.tokens.revokeAll("verification", userId);
	}

	/** 202 for any address: the same work for a known and an unknown one (see the file's comment). */
	async requestReset(given: string, clientIp: string | undefined): Promise<void> {
		const email = normalizeEmail(given);
		await this.limit(email, clientIp);
		const user = await this.users.findOne({ email });
		const mayReset = !!user && user.active;
		const token = await this.tokens.issue("password_reset", mayReset ? user._id : null);
		if (mayReset) this.send("password_reset", user, token);
	}

	/** A new password by a reset link: every session and access token of the account ends; the address is proven. */
	async confirmReset(token: string, newPassword: string): Promise<void> {
		const problem = passwordProblem(newPassword);
		if (problem) throw invalidField("newPassword", problem, "password");
		const passwordHash = await hashPassword(newPassword, config.bcryptCost);
		const userId = await this.tokens.use("password_reset", token);
		if (!userId) throw invalidToken();
		const user = await this.users.updateById(userId, { $set: { passwordHash, emailVerified: true, updatedAt: new Date().toISOString() } });
		if (!user) throw invalidToken();
		await this.tokens.revokeAll("password_reset", userId);
		await this.sessions.revoke({ userId }, "password_reset");
	}

	/** RFC 8058 one-click: the signed link turns email notifications off, no login. Idempotent. */
	async unsubscribe(token: string): Promise<void> {
		const userId = this.links.unsubscribeUser(token);
		const user = userId ? await this.users.findById(userId) : null;
		if (!user) throw invalidField("token", "The unsubscribe link is not valid.", "invalidToken");
		if (!user.preferences.notifications.email) return;
		const preferences = mergePreferences(user.preferences, { notifications: { email: false } });
		await this.users.updateById(user._id, { $set: { preferences, updatedAt: new Date().toISOString() } });
	}
}
