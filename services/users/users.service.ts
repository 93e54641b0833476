/**
 * users: the shop's identity provider. Accounts, bcrypt passwords, sessions with rotating
 * refresh tokens, RS256 access tokens and their JWKS, roles and preferences.
 *
 *   accounts.ts       registration, sign-in, profile, password change, an admin's changes
 *   credentials.ts    the per-account throttle in front of every password check
 *   sessions.ts       sessions, refresh-token rotation and reuse detection, revocation
 *   signing-keys.ts   the signing keys, their rotation, the JWKS
 *   admin-account.ts  ADMIN_EMAIL / ADMIN_PASSWORD at start
 *   oidc-accounts.ts  the OpenID provider's storage, account checks and keys; OAuth clients
 *   account-emails.ts verification, password reset, one-click unsubscribe (account-email-actions, -tokens, email-throttle, -links)
 *   address-book.ts   the address book (actions: address-actions.ts)
 *   erasure.ts        erasure across the services, and GET /me/export (actions: privacy-actions.ts)
 */
import type { Service } from "moleculer";
import { defineService } from "../../lib/broker/service.js";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin.js";
import { config } from "../../lib/config.js";
import { dummyHash } from "../../lib/auth/passwords.js";
import { requireUser, type ShopContext } from "../../lib/auth/access.js";
import { publicUser, type UserRecord } from "../../lib/domain/users.js";
import { offsetOf, paged } from "../../lib/paging.js";
import { escapeRegex } from "../../lib/text.js";
import { recordLoginFailure } from "../../lib/observability/metrics.js";
import { logSecurityEvent } from "../../lib/observability/security-log.js";
import { IDENTITY } from "../../lib/contracts/http/identity.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import type { UserSummary } from "../../lib/contracts/calls.js";
import { SIGNING_KEYS_CHANGED } from "../../lib/contracts/broadcasts.js";
import { Accounts } from "./accounts.js";
import { CredentialGuard, type AttemptsRecord } from "./credentials.js";
import { Sessions, type SessionRecord } from "./sessions.js";
import { SigningKeys, type KeyRecord } from "./signing-keys.js";
import { ensureAdminAccount } from "./admin-account.js";
import { OidcAccountsMixin } from "./oidc-accounts.js";
import { AccountEmails } from "./account-emails.js";
import { accountEmailActions } from "./account-email-actions.js";
import { addressActions } from "./address-actions.js";
import { AddressBook } from "./address-book.js";
import { privacyActions, privacyEvents } from "./privacy-actions.js";
import { Erasure } from "./erasure.js";
import { EventsMixin } from "../../mixins/events.mixin.js";
import type { AccountTokens } from "./account-tokens.js";

type Params<A extends keyof typeof IDENTITY> = ParamsOf<(typeof IDENTITY)[A]>;

interface UsersState {
	accounts: Accounts;
	sessions: Sessions;
	keys: SigningKeys;
	accountEmails: AccountEmails;
	addresses: AddressBook;
	erasure: Erasure;
	tokens: AccountTokens;
	keyReload?: NodeJS.Timeout;
	tokenSweep?: NodeJS.Timeout;
}
type UsersThis = Service & DbMethods & UsersState;

const UsersService = defineService<UsersThis>({
	name: "users",
	// Listed first, their started() run after the database's (Moleculer runs the last mixin's first).
	mixins: [
		EventsMixin({ outbox: ["erasure_requests"] }),
		OidcAccountsMixin,
		DbMixin({
			users: { indexes: [{ fields: { email: 1 }, unique: true }] },
			sessions: {
				indexes: [{ fields: { currentHash: 1 } }, { fields: { usedHashes: 1 } }, { fields: { userId: 1 } }, { fields: { revokedAt: 1 }, sparse: true }],
			},
			login_attempts: {},
			keys: {},
			account_tokens: { indexes: [{ fields: { userId: 1 } }, { fields: { expiresAt: 1 } }] },
			email_throttle: {},
			link_keys: {},
			erasure_requests: {},
		}),
	],

	actions: {
		register: {
			auth: "public",
			params: IDENTITY["users.register"],
			async handler(ctx: ShopContext<Params<"users.register">>) {
				const registered = await this.accounts.register(ctx.params);
				// The welcome is the verification email: the only one registration sends.
				await this.accountEmails.sendVerification((await this.accounts.users.findById(registered.user.id))!);
				return registered;
			},
		},
		login: {
			auth: "public",
			params: IDENTITY["users.login"],
			handler(ctx: ShopContext<Params<"users.login">>) {
				return this.accounts.login(ctx.params);
			},
		},
		refresh: {
			auth: "public",
			params: IDENTITY["users.refresh"],
			handler(ctx: ShopContext<Params<"users.refresh">>) {
				return this.accounts.refresh(ctx.params.refreshToken);
			},
		},
		logout: {
			idempotent: true,
			params: IDENTITY["users.logout"],
			async handler(ctx: ShopContext<Params<"users.logout">>) {
				const session = await this.sessions.findByRefreshToken(ctx.params.refreshToken, requireUser(ctx).id);
				if (session) await this.sessions.revoke({ _id: session._id }, "logout");
				return null;
			},
		},
		jwks: {
			idempotent: true,
			auth: "public",
			cache: false,
			handler() {
				return this.keys.jwks();
			},
		},

		me: {
			idempotent: true,
			async handler(ctx: ShopContext) {
				return publicUser(await this.accounts.find(requireUser(ctx).id));
			},
		},
		updateMe: {
			idempotent: true,
			params: IDENTITY["users.updateMe"],
			handler(ctx: ShopContext<Params<"users.updateMe">>) {
				return this.accounts.updateProfile(requireUser(ctx).id, ctx.params);
			},
		},
		changePassword: {
			params: IDENTITY["users.changePassword"],
			async handler(ctx: ShopContext<Params<"users.changePassword">>) {
				await this.accounts.changePassword(requireUser(ctx), ctx.params);
				return null;
			},
		},

		list: {
			idempotent: true,
			roles: ["admin"],
			params: IDENTITY["users.list"],
			async handler(ctx: ShopContext<Params<"users.list">>) {
				const { page, pageSize, q, role } = ctx.params;
				const query: Record<string, unknown> = {};
				if (role) query.roles = role;
				if (q) query.email = { $regex: new RegExp(escapeRegex(q), "i") };
				const offset = offsetOf(page, pageSize);
				const users = this.accounts.users;
				const [rows, total] = await Promise.all([users.find({ query, sort: ["-createdAt", "-_id"], limit: pageSize, offset }), users.count(query)]);
				return paged(rows.map(publicUser), total, page, pageSize);
			},
		},
		get: {
			idempotent: true,
			roles: ["admin"],
			params: IDENTITY["users.get"],
			async handler(ctx: ShopContext<Params<"users.get">>) {
				return { ...publicUser(await this.accounts.find(ctx.params.id)), erasure: await this.erasure.status(ctx.params.id) };
			},
		},
		update: {
			roles: ["admin"],
			params: IDENTITY["users.update"],
			handler(ctx: ShopContext<Params<"users.update">>) {
				return this.accounts.update(ctx.params);
			},
		},

		...accountEmailActions,
		...addressActions,
		...privacyActions,

		// ---- Internal: other services, never the gateway.
		summary: {
			idempotent: true,
			visibility: "public",
			params: { id: "string" },
			async handler(ctx: ShopContext<{ id: string }>): Promise<UserSummary | null> {
				const u = await this.accounts.users.findById(ctx.params.id);
				return u ? { id: u._id, name: u.name, email: u.email, roles: u.roles } : null;
			},
		},
		/** For the gateways' deny-lists (at start, and to catch up on broadcasts they missed). */
		revokedSessions: {
			idempotent: true,
			visibility: "public",
			params: { since: { type: "string", optional: true } },
			handler(ctx: ShopContext<{ since?: string }>) {
				return this.sessions.revokedSince(ctx.params.since);
			},
		},
		/** A new signing key (REPL: `call users.rotateSigningKey`); the old one verifies until its tokens expire. */
		rotateSigningKey: {
			visibility: "public",
			handler() {
				return this.keys.rotate();
			},
		},
	},

	integrationEvents: privacyEvents,

	events: {
		[SIGNING_KEYS_CHANGED](this: UsersThis) {
			void this.keys.load();
		},
	},

	async started() {
		const limits = () => ({ maxFailures: config.rateLimit.loginFailures, lockSeconds: config.rateLimit.loginLockSeconds });
		const guard = new CredentialGuard(this.collection<AttemptsRecord>("login_attempts"), limits, () => {
			recordLoginFailure(this.broker, "locked");
			logSecurityEvent(this.logger, "login_locked", { reason: "too_many_failures" });
		});
		this.sessions = new Sessions(this.collection<SessionRecord>("sessions"), this.broker, () => config.jwt, this.logger);
		this.keys = new SigningKeys(this.collection<KeyRecord>("keys"), this.broker, () => config.jwt, this.logger);
		this.accounts = new Accounts(this.collection<UserRecord>("users"), guard, this.sessions, this.keys, dummyHash(config.bcryptCost), () => {
			recordLoginFailure(this.broker);
			logSecurityEvent(this.logger, "login_failed", { reason: "invalid_credentials" });
		});
		this.accountEmails = await AccountEmails.start(this, this.accounts.users, this.sessions);
		this.tokens = this.accountEmails.tokens;
		this.addresses = new AddressBook(this.accounts.users);
		this.erasure = Erasure.of(name => this.collection(name), this.accounts.users, this.sessions, this.tokens);
		await this.keys.load();
		// Another users node may have rotated while a broadcast was missed.
		this.keyReload = setInterval(
			() => void this.keys.load().catch((err: unknown) => this.logger.warn(`Reloading signing keys failed: ${(err as Error).message}`)),
			60_000,
		);
		this.keyReload.unref();
		this.tokenSweep = setInterval(() => void this.tokens.removeExpired().catch(() => undefined), 3600_000);
		this.tokenSweep.unref();
		await ensureAdminAccount(this.accounts.users, config, this.logger);
	},

	stopped() {
		if (this.keyReload) clearInterval(this.keyReload);
		if (this.tokenSweep) clearInterval(this.tokenSweep);
	},
});

export default UsersService;
