/**
 * users: the shop's identity provider. Accounts, bcrypt passwords, sessions with rotating
 * refresh tokens, RS256 access tokens and their JWKS, roles and preferences.
 *
 *   credentials.ts    the per-account throttle in front of every password check
 *   sessions.ts       sessions, refresh-token rotation and reuse detection, revocation
 *   signing-keys.ts   the signing keys, their rotation, the JWKS
 *   admin-account.ts  ADMIN_EMAIL / ADMIN_PASSWORD at start
 */
import { randomUUID } from "node:crypto";
import type { Service } from "moleculer";
import { defineService } from "../../lib/service.js";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin.js";
import { config } from "../../lib/config.js";
import { conflict, invalidField, notFound, unauthorized } from "../../lib/errors.js";
import { dummyHash, hashPassword, normalizeEmail, passwordProblem, passwordTooLong, verifyPassword } from "../../lib/auth/passwords.js";
import { signAccessToken } from "../../lib/auth/tokens.js";
import { requireUser, type ShopContext } from "../../lib/auth/access.js";
import { DEFAULT_PREFERENCES, mergePreferences, publicUser, type UserRecord } from "../../lib/domain/users.js";
import { offsetOf, paged } from "../../lib/paging.js";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import { escapeRegex } from "../../lib/text.js";
import { recordLoginFailure } from "../../lib/observability/metrics.js";
import { IDENTITY } from "../../lib/contracts/http/identity.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import { SIGNING_KEYS_CHANGED } from "../../lib/contracts/broadcasts.js";
import { CredentialGuard, type AttemptsRecord } from "./credentials.js";
import { Sessions, type SessionRecord } from "./sessions.js";
import { SigningKeys, type KeyRecord } from "./signing-keys.js";
import { ensureAdminAccount } from "./admin-account.js";

type Params<A extends keyof typeof IDENTITY> = ParamsOf<(typeof IDENTITY)[A]>;

interface UsersState {
	users: Collection<UserRecord>;
	guard: CredentialGuard;
	sessions: Sessions;
	keys: SigningKeys;
	dummy: Promise<string>;
	keyReload?: NodeJS.Timeout;
}
type UsersThis = Service & DbMethods & UsersState;

async function findUser(self: UsersState, id: string): Promise<UserRecord> {
	const user = await self.users.findById(id);
	if (!user) throw notFound("User", id);
	return user;
}

/** An access token for the session (a new session on login), and the refresh token when there is a new one. */
async function issueTokens(self: UsersState, user: UserRecord, session?: { sessionId: string; refreshToken: string }) {
	const { sessionId, refreshToken } = session ?? (await self.sessions.open(user._id));
	const { issuer, audience, accessTtlSeconds } = config.jwt;
	const accessToken = signAccessToken(self.keys.signing, { issuer, audience, accessTtlSeconds }, user._id, user.roles, sessionId);
	return { accessToken, refreshToken, tokenType: "Bearer", expiresIn: accessTtlSeconds, user: publicUser(user) };
}

const UsersService = defineService<UsersThis>({
	name: "users",
	mixins: [
		DbMixin({
			users: { indexes: [{ fields: { email: 1 }, unique: true }] },
			sessions: {
				indexes: [{ fields: { currentHash: 1 } }, { fields: { usedHashes: 1 } }, { fields: { userId: 1 } }, { fields: { revokedAt: 1 }, sparse: true }],
			},
			login_attempts: {},
			keys: {},
		}),
	],

	actions: {
		register: {
			auth: "public",
			params: IDENTITY["users.register"],
			async handler(ctx: ShopContext<Params<"users.register">>) {
				const problem = passwordProblem(ctx.params.password);
				if (problem) throw invalidField("password", problem, "password");
				const now = new Date().toISOString();
				const { email, password, name } = ctx.params;
				const user: UserRecord = {
					_id: randomUUID(),
					email: normalizeEmail(email),
					name,
					passwordHash: await hashPassword(password, config.bcryptCost),
					roles: ["customer"],
					active: true,
					preferences: DEFAULT_PREFERENCES,
					createdAt: now,
					updatedAt: now,
				};
				try {
					await this.users.insert(user);
				} catch (err) {
					if (err instanceof DuplicateKeyError) throw conflict("An account with this email already exists", "EMAIL_TAKEN", { field: "email" });
					throw err;
				}
				return { user: publicUser(user) };
			},
		},

		login: {
			auth: "public",
			params: IDENTITY["users.login"],
			async handler(ctx: ShopContext<Params<"users.login">>) {
				const { password } = ctx.params;
				if (passwordTooLong(password)) throw invalidField("password", "A password is at most 72 bytes long.", "passwordTooLong");
				const email = normalizeEmail(ctx.params.email);
				let user: UserRecord | null = null;
				const ok = await this.guard.check(email, async () => {
					user = await this.users.findOne({ email });
					// Always run bcrypt, so an unknown email costs as long as a wrong password.
					const matches = await verifyPassword(password, user?.passwordHash ?? (await this.dummy));
					return matches && !!user?.active;
				});
				if (!ok || !user) {
					recordLoginFailure(this.broker);
					throw unauthorized("Invalid email or password", "INVALID_CREDENTIALS");
				}
				return issueTokens(this, user);
			},
		},

		refresh: {
			auth: "public",
			params: IDENTITY["users.refresh"],
			async handler(ctx: ShopContext<Params<"users.refresh">>) {
				const { session, refreshToken } = await this.sessions.rotate(ctx.params.refreshToken);
				const user = await this.users.findById(session.userId);
				if (!user || !user.active) throw unauthorized("The refresh token is invalid, expired or already used", "INVALID_REFRESH_TOKEN");
				return issueTokens(this, user, { sessionId: session._id, refreshToken });
			},
		},

		logout: {
			params: IDENTITY["users.logout"],
			async handler(ctx: ShopContext<Params<"users.logout">>) {
				const session = await this.sessions.findByRefreshToken(ctx.params.refreshToken, requireUser(ctx).id);
				if (session) await this.sessions.revoke({ _id: session._id }, "logout");
				return null;
			},
		},

		jwks: {
			auth: "public",
			cache: false,
			handler: function (this: UsersThis) {
				return this.keys.jwks();
			},
		},

		me: {
			async handler(ctx: ShopContext) {
				return publicUser(await findUser(this, requireUser(ctx).id));
			},
		},

		updateMe: {
			params: IDENTITY["users.updateMe"],
			async handler(ctx: ShopContext<Params<"users.updateMe">>) {
				const current = await findUser(this, requireUser(ctx).id);
				const $set: Record<string, unknown> = { updatedAt: new Date().toISOString() };
				if (ctx.params.name !== undefined) $set.name = ctx.params.name;
				if (ctx.params.preferences) $set.preferences = mergePreferences(current.preferences, ctx.params.preferences);
				return publicUser((await this.users.updateById(current._id, { $set }))!);
			},
		},

		/** Behind the same per-account throttle as login: a wrong current password counts as a failed login. */
		changePassword: {
			params: IDENTITY["users.changePassword"],
			async handler(ctx: ShopContext<Params<"users.changePassword">>) {
				const me = requireUser(ctx);
				const { currentPassword, newPassword } = ctx.params;
				if (passwordTooLong(currentPassword)) throw invalidField("currentPassword", "A password is at most 72 bytes long.", "passwordTooLong");
				const problem = passwordProblem(newPassword);
				if (problem) throw invalidField("newPassword", problem, "password");
				const user = await findUser(this, me.id);
				if (!(await this.guard.check(user.email, () => verifyPassword(currentPassword, user.passwordHash)))) {
					throw invalidField("currentPassword", "The current password is wrong.", "wrongPassword");
				}
				await this.users.updateById(user._id, {
					$set: { passwordHash: await hashPassword(newPassword, config.bcryptCost), updatedAt: new Date().toISOString() },
				});
				// Other sessions end; the one making this request goes on.
				await this.sessions.revoke({ userId: user._id, _id: { $ne: me.sessionId } }, "password_changed");
				return null;
			},
		},

		list: {
			roles: ["admin"],
			params: IDENTITY["users.list"],
			async handler(ctx: ShopContext<Params<"users.list">>) {
				const { page, pageSize, q, role } = ctx.params;
				const query: Record<string, unknown> = {};
				if (role) query.roles = role;
				if (q) query.email = { $regex: new RegExp(escapeRegex(q), "i") };
				const offset = offsetOf(page, pageSize);
				const [rows, total] = await Promise.all([
					this.users.find({ query, sort: ["-createdAt", "-_id"], limit: pageSize, offset }),
					this.users.count(query),
				]);
				return paged(rows.map(publicUser), total, page, pageSize);
			},
		},

		get: {
			roles: ["admin"],
			params: IDENTITY["users.get"],
			async handler(ctx: ShopContext<Params<"users.get">>) {
				return publicUser(await findUser(this, ctx.params.id));
			},
		},

		/** A new role or deactivation ends every session: the old tokens (with the old roles) stop working at once. */
		update: {
			roles: ["admin"],
			params: IDENTITY["users.update"],
			async handler(ctx: ShopContext<Params<"users.update">>) {
				const user = await findUser(this, ctx.params.id);
				const $set: Record<string, unknown> = { updatedAt: new Date().toISOString() };
				for (const k of ["name", "roles", "active"] as const) if (ctx.params[k] !== undefined) $set[k] = ctx.params[k];
				const updated = await this.users.updateById(user._id, { $set });
				if (ctx.params.active === false || ctx.params.roles) await this.sessions.revoke({ userId: user._id }, "account_changed");
				return publicUser(updated!);
			},
		},

		remove: {
			roles: ["admin"],
			params: IDENTITY["users.remove"],
			async handler(ctx: ShopContext<Params<"users.remove">>) {
				const user = await findUser(this, ctx.params.id);
				await this.sessions.revoke({ userId: user._id }, "account_deleted");
				await this.users.removeById(user._id);
				return null;
			},
		},

		// ---- Internal: other services, never the gateway.
		summary: {
			visibility: "public",
			params: { id: "string" },
			async handler(ctx: ShopContext<{ id: string }>) {
				const u = await this.users.findById(ctx.params.id);
				return u ? { id: u._id, name: u.name, email: u.email, roles: u.roles } : null;
			},
		},
		notificationPreferences: {
			visibility: "public",
			params: { id: "string" },
			async handler(ctx: ShopContext<{ id: string }>) {
				const u = await this.users.findById(ctx.params.id);
				return u ? { ...u.preferences.notifications, email_address: u.email, language: u.preferences.language } : null;
			},
		},
		/** For the gateways' deny-lists (at start, and to catch up on broadcasts they missed). */
		revokedSessions: {
			visibility: "public",
			params: { since: { type: "string", optional: true } },
			handler(ctx: ShopContext<{ since?: string }>) {
				return this.sessions.revokedSince(ctx.params.since);
			},
		},
		/** A new signing key (REPL: `call users.rotateSigningKey`); the old one verifies until its tokens expire. */
		rotateSigningKey: {
			visibility: "public",
			handler(this: UsersThis) {
				return this.keys.rotate();
			},
		},
	},

	events: {
		[SIGNING_KEYS_CHANGED](this: UsersThis) {
			void this.keys.load();
		},
	},

	created() {
		this.dummy = dummyHash(config.bcryptCost);
	},

	async started() {
		this.users = this.collection<UserRecord>("users");
		const limits = () => ({ maxFailures: config.rateLimit.loginFailures, lockSeconds: config.rateLimit.loginLockSeconds });
		this.guard = new CredentialGuard(this.collection<AttemptsRecord>("login_attempts"), limits, () => recordLoginFailure(this.broker, "locked"));
		this.sessions = new Sessions(this.collection<SessionRecord>("sessions"), this.broker, () => config.jwt, this.logger);
		this.keys = new SigningKeys(this.collection<KeyRecord>("keys"), this.broker, () => config.jwt, this.logger);
		await this.keys.load();
		// Another users node may have rotated while a broadcast was missed.
		this.keyReload = setInterval(
			() => void this.keys.load().catch((err: unknown) => this.logger.warn(`Reloading signing keys failed: ${(err as Error).message}`)),
			60_000,
		);
		this.keyReload.unref();
		await ensureAdminAccount(this.users, config, this.logger);
	},

	stopped() {
		if (this.keyReload) clearInterval(this.keyReload);
	},
});

export default UsersService;
