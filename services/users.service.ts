/**
 * users: the shop's identity provider. Accounts, bcrypt passwords, sessions with rotating
 * refresh tokens, RS256 access tokens and their JWKS, roles and preferences.
 */
import { randomUUID } from "node:crypto";
import type { Service } from "moleculer";
import { defineService } from "../lib/service.js";
import { DbMixin } from "../mixins/db.mixin.js";
import { config } from "../lib/config.js";
import { conflict, invalidField, notFound, tooManyRequests, unauthorized, validationError, type FieldProblem } from "../lib/errors.js";
import { dummyHash, emailProblem, hashPassword, normalizeEmail, passwordProblem, verifyPassword } from "../lib/auth/passwords.js";
import { generateSigningKeyPem, hashRefreshToken, newRefreshToken, signAccessToken, signingKeyFromPem, type SigningKey } from "../lib/auth/tokens.js";
import { requireUser, ROLES, type Role, type ShopContext } from "../lib/auth/access.js";
import { DEFAULT_PREFERENCES, lockedFor, mergePreferences, publicUser, throttleAfterFailure, type LoginThrottleState, type Preferences, type UserRecord } from "../lib/domain/users.js";
import { offsetOf, pageParams, paged } from "../lib/paging.js";
import { DuplicateKeyError, type Collection } from "../lib/store.js";
import { recordLoginFailure } from "../lib/observability/metrics.js";

interface SessionRecord {
	_id: string;
	userId: string;
	currentHash: string;
	usedHashes: string[];
	revoked: boolean;
	revokedReason?: string;
	expiresAt: string;
	createdAt: string;
	rotatedAt: string;
}
interface LoginAttempts extends LoginThrottleState {
	_id: string;
}
interface KeyRecord {
	_id: string;
	privateKeyPem: string;
	createdAt: string;
}

const preferencesParams = {
	type: "object",
	optional: true,
	strict: true,
	props: {
		language: { type: "string", optional: true, pattern: /^[a-z]{2}(-[A-Z]{2})?$/ },
		currency: { type: "string", optional: true, pattern: /^[A-Z]{3}$/ },
		notifications: { type: "object", optional: true, strict: true, props: { email: { type: "boolean", optional: true }, inApp: { type: "boolean", optional: true } } },
	},
};
const nameParam = { type: "string", trim: true, min: 1, max: 100 };

type Self = Service & {
	users: Collection<UserRecord>;
	sessions: Collection<SessionRecord>;
	attempts: Collection<LoginAttempts>;
	signingKey: SigningKey;
	dummy: Promise<string>;
	collection<T extends { _id: string }>(name: string): Collection<T>;
	issueTokens(user: UserRecord, sessionId?: string): Promise<Record<string, unknown>>;
	findUser(id: string): Promise<UserRecord>;
	revokeSessions(userId: string, reason: string, except?: string): Promise<void>;
	loadSigningKey(): Promise<SigningKey>;
	ensureAdmin(): Promise<void>;
};

const UsersService = defineService<Self>({
	name: "users",
	mixins: [
		DbMixin({
			users: { indexes: [{ fields: { email: 1 }, unique: true }] },
			sessions: { indexes: [{ fields: { currentHash: 1 } }, { fields: { usedHashes: 1 } }, { fields: { userId: 1 } }] },
			login_attempts: {},
			keys: {},
		}),
	],

	actions: {
		register: {
			auth: "public",
			params: { $$strict: true, email: "string", password: "string", name: nameParam },
			async handler(ctx: ShopContext<{ email: string; password: string; name: string }>) {
				const problems: FieldProblem[] = [];
				const emailIssue = emailProblem(ctx.params.email);
				if (emailIssue) problems.push({ field: "email", message: emailIssue, type: "email" });
				const passwordIssue = passwordProblem(ctx.params.password);
				if (passwordIssue) problems.push({ field: "password", message: passwordIssue, type: "password" });
				if (problems.length) throw validationError(problems);
				const now = new Date().toISOString();
				const user: UserRecord = {
					_id: randomUUID(),
					email: normalizeEmail(ctx.params.email),
					name: ctx.params.name,
					passwordHash: await hashPassword(ctx.params.password, config.bcryptCost),
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
			params: { email: "string|max:320", password: "string|max:1024" },
			async handler(ctx: ShopContext<{ email: string; password: string }>) {
				const email = normalizeEmail(ctx.params.email);
				const now = Date.now();
				const attempts = await this.attempts.findById(email);
				const wait = lockedFor(attempts, now);
				if (wait > 0) {
					recordLoginFailure(this.broker, "locked");
					throw tooManyRequests(wait, "Too many failed logins for this account; try again later");
				}

				const user = await this.users.findOne({ email });
				// Always run bcrypt, so an unknown email costs as long as a wrong password.
				const ok = await verifyPassword(ctx.params.password, user?.passwordHash ?? (await this.dummy));
				if (!user || !ok || !user.active) {
					const next = throttleAfterFailure(attempts ?? { failures: 0, lockedUntil: 0 }, now, config.rateLimit.loginFailures, config.rateLimit.loginLockSeconds);
					const updated = await this.attempts.updateWhere({ _id: email }, { $set: next });
					if (updated === 0) await this.attempts.insert({ _id: email, ...next }).catch(() => undefined);
					recordLoginFailure(this.broker);
					throw unauthorized("Invalid email or password", "INVALID_CREDENTIALS");
				}
				if (attempts) await this.attempts.removeById(email);
				return this.issueTokens(user);
			},
		},

		refresh: {
			auth: "public",
			params: { $$strict: true, refreshToken: "string|min:10|max:200" },
			async handler(ctx: ShopContext<{ refreshToken: string }>) {
				const hash = hashRefreshToken(ctx.params.refreshToken);
				const session = await this.sessions.findOne({ currentHash: hash });
				if (!session || session.revoked || session.expiresAt < new Date().toISOString()) {
					// A token that was already rotated away is being replayed: end that whole session.
					const stolen = session ?? (await this.sessions.findOne({ usedHashes: hash }));
					if (stolen && !stolen.revoked) {
						await this.sessions.updateWhere({ _id: stolen._id }, { $set: { revoked: true, revokedReason: "refresh_token_reuse" } });
						this.logger.warn(`Refresh token reuse detected; session ${stolen._id} of user ${stolen.userId} revoked`);
					}
					throw unauthorized("The refresh token is invalid, expired or already used", "INVALID_REFRESH_TOKEN");
				}
				const user = await this.users.findById(session.userId);
				if (!user || !user.active) throw unauthorized("The refresh token is invalid, expired or already used", "INVALID_REFRESH_TOKEN");
				const refreshToken = newRefreshToken();
				// Compare-and-set: of two concurrent uses of one token, only one rotates it.
				const rotated = await this.sessions.updateWhere(
					{ _id: session._id, currentHash: hash, revoked: false },
					{ $set: { currentHash: hashRefreshToken(refreshToken), rotatedAt: new Date().toISOString() }, $push: { usedHashes: hash } },
				);
				if (rotated === 0) {
					await this.sessions.updateWhere({ _id: session._id }, { $set: { revoked: true, revokedReason: "refresh_token_reuse" } });
					throw unauthorized("The refresh token is invalid, expired or already used", "INVALID_REFRESH_TOKEN");
				}
				return this.issueTokens(user, session._id).then(pair => ({ ...pair, refreshToken }));
			},
		},

		logout: {
			params: { $$strict: true, refreshToken: "string|min:10|max:200" },
			async handler(ctx: ShopContext<{ refreshToken: string }>) {
				const user = requireUser(ctx);
				await this.sessions.updateWhere({ currentHash: hashRefreshToken(ctx.params.refreshToken), userId: user.id }, { $set: { revoked: true, revokedReason: "logout" } });
				return null;
			},
		},

		jwks: {
			auth: "public",
			cache: false,
			handler() {
				return { keys: [this.signingKey.publicJwk] };
			},
		},

		me: {
			async handler(ctx: ShopContext) {
				return publicUser(await this.findUser(requireUser(ctx).id));
			},
		},

		updateMe: {
			params: { $$strict: true, name: { ...nameParam, optional: true }, preferences: preferencesParams },
			async handler(ctx: ShopContext<{ name?: string; preferences?: Partial<Preferences> }>) {
				const current = await this.findUser(requireUser(ctx).id);
				const $set: Record<string, unknown> = { updatedAt: new Date().toISOString() };
				if (ctx.params.name !== undefined) $set.name = ctx.params.name;
				if (ctx.params.preferences) $set.preferences = mergePreferences(current.preferences, ctx.params.preferences);
				const updated = await this.users.updateById(current._id, { $set });
				return publicUser(updated!);
			},
		},

		changePassword: {
			params: { $$strict: true, currentPassword: "string|max:1024", newPassword: "string|max:1024" },
			async handler(ctx: ShopContext<{ currentPassword: string; newPassword: string }>) {
				const me = requireUser(ctx);
				const user = await this.findUser(me.id);
				if (!(await verifyPassword(ctx.params.currentPassword, user.passwordHash))) throw invalidField("currentPassword", "The current password is wrong.", "wrongPassword");
				const problem = passwordProblem(ctx.params.newPassword);
				if (problem) throw invalidField("newPassword", problem, "password");
				await this.users.updateById(user._id, { $set: { passwordHash: await hashPassword(ctx.params.newPassword, config.bcryptCost), updatedAt: new Date().toISOString() } });
				// Other sessions end; the one making this request (if known) goes on.
				await this.revokeSessions(user._id, "password_changed", me.sessionId);
				return null;
			},
		},

		list: {
			roles: ["admin"],
			params: { ...pageParams, q: { type: "string", optional: true, max: 100 }, role: { type: "enum", values: ROLES, optional: true } },
			async handler(ctx: ShopContext<{ page: number; pageSize: number; q?: string; role?: Role }>) {
				const query: Record<string, unknown> = {};
				if (ctx.params.role) query.roles = ctx.params.role;
				if (ctx.params.q) query.email = { $regex: new RegExp(ctx.params.q.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i") };
				const [rows, total] = await Promise.all([
					this.users.find({ query, sort: ["-createdAt"], limit: ctx.params.pageSize, offset: offsetOf(ctx.params.page, ctx.params.pageSize) }),
					this.users.count(query),
				]);
				return paged(rows.map(publicUser), total, ctx.params.page, ctx.params.pageSize);
			},
		},

		get: {
			roles: ["admin"],
			params: { id: "string|max:64" },
			async handler(ctx: ShopContext<{ id: string }>) {
				return publicUser(await this.findUser(ctx.params.id));
			},
		},

		update: {
			roles: ["admin"],
			params: {
				$$strict: true,
				id: "string|max:64",
				name: { ...nameParam, optional: true },
				roles: { type: "array", optional: true, min: 1, unique: true, items: { type: "enum", values: ROLES } },
				active: { type: "boolean", optional: true },
			},
			async handler(ctx: ShopContext<{ id: string; name?: string; roles?: Role[]; active?: boolean }>) {
				const user = await this.findUser(ctx.params.id);
				const $set: Record<string, unknown> = { updatedAt: new Date().toISOString() };
				for (const k of ["name", "roles", "active"] as const) if (ctx.params[k] !== undefined) $set[k] = ctx.params[k];
				const updated = await this.users.updateById(user._id, { $set });
				if (ctx.params.active === false || ctx.params.roles) await this.revokeSessions(user._id, "account_changed");
				return publicUser(updated!);
			},
		},

		remove: {
			roles: ["admin"],
			params: { id: "string|max:64" },
			async handler(ctx: ShopContext<{ id: string }>) {
				const user = await this.findUser(ctx.params.id);
				await this.revokeSessions(user._id, "account_deleted");
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
	},

	methods: {
		async findUser(id: string): Promise<UserRecord> {
			const user = await this.users.findById(id);
			if (!user) throw notFound("User", id);
			return user;
		},

		async issueTokens(user: UserRecord, sessionId?: string) {
			let refreshToken: string | undefined;
			let sid = sessionId;
			if (!sid) {
				refreshToken = newRefreshToken();
				const now = new Date();
				sid = randomUUID();
				await this.sessions.insert({
					_id: sid,
					userId: user._id,
					currentHash: hashRefreshToken(refreshToken),
					usedHashes: [],
					revoked: false,
					expiresAt: new Date(now.getTime() + config.jwt.refreshTtlSeconds * 1000).toISOString(),
					createdAt: now.toISOString(),
					rotatedAt: now.toISOString(),
				});
			}
			const accessToken = signAccessToken(this.signingKey, { issuer: config.jwt.issuer, audience: config.jwt.audience, accessTtlSeconds: config.jwt.accessTtlSeconds }, user._id, user.roles, sid);
			return { accessToken, refreshToken, tokenType: "Bearer", expiresIn: config.jwt.accessTtlSeconds, user: publicUser(user) };
		},

		async revokeSessions(userId: string, reason: string, except?: string) {
			const query: Record<string, unknown> = { userId, revoked: false };
			if (except) query._id = { $ne: except };
			await this.sessions.updateWhere(query, { $set: { revoked: true, revokedReason: reason } });
		},

		/** The signing key: JWT_PRIVATE_KEY, else the one stored in this service's database, made on first start. */
		async loadSigningKey(): Promise<SigningKey> {
			if (config.jwt.privateKeyPem) return signingKeyFromPem(config.jwt.privateKeyPem);
			const keys = this.collection<KeyRecord>("keys");
			let record = await keys.findById("signing");
			if (!record) {
				try {
					record = await keys.insert({ _id: "signing", privateKeyPem: generateSigningKeyPem(), createdAt: new Date().toISOString() });
					this.logger.info("Generated a new JWT signing key");
				} catch (err) {
					// Another users node made it first.
					if (!(err instanceof DuplicateKeyError)) throw err;
					record = await keys.findById("signing");
				}
			}
			return signingKeyFromPem(record!.privateKeyPem);
		},

		/** ADMIN_EMAIL + ADMIN_PASSWORD create (or reset) that admin account at start. */
		async ensureAdmin() {
			if (!config.adminEmail || !config.adminPassword) return;
			const problem = passwordProblem(config.adminPassword) ?? emailProblem(config.adminEmail);
			if (problem) throw new Error(`ADMIN_EMAIL/ADMIN_PASSWORD refused: ${problem}`);
			const email = normalizeEmail(config.adminEmail);
			const passwordHash = await hashPassword(config.adminPassword, config.bcryptCost);
			const now = new Date().toISOString();
			const existing = await this.users.findOne({ email });
			if (existing) {
				const roles = Array.from(new Set<Role>([...existing.roles, "admin"]));
				await this.users.updateById(existing._id, { $set: { passwordHash, roles, active: true, updatedAt: now } });
			} else {
				await this.users.insert({ _id: randomUUID(), email, name: "Administrator", passwordHash, roles: ["customer", "admin"], active: true, preferences: DEFAULT_PREFERENCES, createdAt: now, updatedAt: now }).catch(err => {
					if (!(err instanceof DuplicateKeyError)) throw err;
				});
			}
			this.logger.info(`Admin account ${email} is ready`);
		},
	},

	created() {
		this.dummy = dummyHash(config.bcryptCost);
	},

	async started() {
		this.users = this.collection<UserRecord>("users");
		this.sessions = this.collection<SessionRecord>("sessions");
		this.attempts = this.collection<LoginAttempts>("login_attempts");
		this.signingKey = await this.loadSigningKey();
		await this.ensureAdmin();
	},
});

export default UsersService;
