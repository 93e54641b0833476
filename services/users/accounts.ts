/**
 * Accounts: registration, sign-in (every password check behind the per-account throttle of
 * credentials.ts), the profile, the password change, and an admin's changes. A change that must
 * void what a user's tokens say (a new password, new roles, deactivation, deletion) ends their
 * sessions (sessions.ts), which every gateway then refuses within a second.
 */
import { randomUUID } from "node:crypto";
import type { Static } from "typebox";
import type { Registration, TokenPair as TokenPairSchema } from "../../lib/http/schemas.js";
import { config } from "../../lib/config.js";
import { conflict, invalidField, notFound, unauthorized } from "../../lib/errors.js";
import { hashPassword, normalizeEmail, passwordProblem, passwordTooLong, verifyPassword } from "../../lib/auth/passwords.js";
import { signAccessToken } from "../../lib/auth/tokens.js";
import type { AuthUser } from "../../lib/auth/access.js";
import { DEFAULT_PREFERENCES, mergePreferences, publicUser, type PublicUser, type UserRecord } from "../../lib/domain/users.js";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import type { IDENTITY } from "../../lib/contracts/http/identity.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import type { CredentialGuard } from "./credentials.js";
import type { Sessions } from "./sessions.js";
import type { SigningKeys } from "./signing-keys.js";

type Params<A extends keyof typeof IDENTITY> = ParamsOf<(typeof IDENTITY)[A]>;
const now = () => new Date().toISOString();
const tooLong = (field: string) => invalidField(field, "A password is at most 72 bytes long.", "passwordTooLong");

/** POST /auth/login and /auth/refresh (lib/http/schemas.ts). */
export type TokenPair = Static<typeof TokenPairSchema>;

export class Accounts {
	constructor(
		readonly users: Collection<UserRecord>,
		private readonly guard: CredentialGuard,
		private readonly sessions: Sessions,
		private readonly keys: SigningKeys,
		/** A hash to compare against when the email is unknown, so that costs as long as a wrong password. */
		private readonly dummyHash: Promise<string>,
		private readonly onLoginFailure: () => void,
	) {}

	async find(id: string): Promise<UserRecord> {
		const user = await this.users.findById(id);
		if (!user) throw notFound("User", id);
		return user;
	}

	async register({ email, password, name, preferences }: Params<"users.register">): Promise<Static<typeof Registration>> {
		const problem = passwordProblem(password);
		if (problem) throw invalidField("password", problem, "password");
		const at = now();
		const user: UserRecord = {
			_id: randomUUID(),
			email: normalizeEmail(email),
			name,
			passwordHash: await hashPassword(password, config.bcryptCost),
			roles: ["customer"],
			active: true,
			preferences: preferences ? mergePreferences(DEFAULT_PREFERENCES, preferences) : DEFAULT_PREFERENCES,
			emailVerified: false,
			createdAt: at,
			updatedAt: at,
		};
		try {
			await this.users.insert(user);
		} catch (err) {
			if (err instanceof DuplicateKeyError) throw conflict("An account with this email already exists", "EMAIL_TAKEN", { field: "email" });
			throw err;
		}
		return { user: publicUser(user) };
	}

	async login({ email, password }: Params<"users.login">): Promise<TokenPair> {
		return this.issueTokens(await this.authenticate(email, password));
	}

	/** The account of these credentials, behind the per-account throttle (the login form of /oidc calls this too). */
	async authenticate(given: string, password: string): Promise<UserRecord> {
		if (passwordTooLong(password)) throw tooLong("password");
		const email = normalizeEmail(given);
		let user: UserRecord | null = null;
		const ok = await this.guard.check(email, async () => {
			user = await this.users.findOne({ email });
			const matches = await verifyPassword(password, user?.passwordHash ?? (await this.dummyHash));
			return matches && !!user?.active;
		});
		if (!ok || !user) {
			this.onLoginFailure();
			throw unauthorized("Invalid email or password", "INVALID_CREDENTIALS");
		}
		return user;
	}

	async refresh(token: string): Promise<TokenPair> {
		const { session, refreshToken } = await this.sessions.rotate(token);
		const user = await this.users.findById(session.userId);
		if (!user || !user.active) throw unauthorized("The refresh token is invalid, expired or already used", "INVALID_REFRESH_TOKEN");
		return this.issueTokens(user, { sessionId: session._id, refreshToken });
	}

	async updateProfile(id: string, change: Params<"users.updateMe">): Promise<PublicUser> {
		const current = await this.find(id);
		const $set: Record<string, unknown> = { updatedAt: now() };
		if (change.name !== undefined) $set.name = change.name;
		if (change.preferences) $set.preferences = mergePreferences(current.preferences, change.preferences);
		return publicUser((await this.users.updateById(current._id, { $set }))!);
	}

	/** Behind the same per-account throttle as login: a wrong current password counts as a failed login. Other sessions end. */
	async changePassword(me: AuthUser, { currentPassword, newPassword }: Params<"users.changePassword">): Promise<void> {
		if (passwordTooLong(currentPassword)) throw tooLong("currentPassword");
		const problem = passwordProblem(newPassword);
		if (problem) throw invalidField("newPassword", problem, "password");
		const user = await this.find(me.id);
		if (!(await this.guard.check(user.email, () => verifyPassword(currentPassword, user.passwordHash)))) {
			throw invalidField("currentPassword", "The current password is wrong.", "wrongPassword");
		}
		await this.users.updateById(user._id, { $set: { passwordHash: await hashPassword(newPassword, config.bcryptCost), updatedAt: now() } });
		await this.sessions.revoke({ userId: user._id, _id: { $ne: me.sessionId } }, "password_changed");
	}

	/** The password of a signed-in user, behind the per-account throttle (a wrong one is 422 naming `password`). */
	async confirmPassword(id: string, password: string): Promise<UserRecord> {
		const user = await this.find(id);
		if (!(await this.guard.check(user.email, () => verifyPassword(password, user.passwordHash)))) {
			throw invalidField("password", "The password is wrong.", "wrongPassword");
		}
		return user;
	}

	/** An admin's change. New roles or a deactivation end every session: the old tokens (with the old roles) stop working at once. */
	async update({ id, ...change }: Params<"users.update">): Promise<PublicUser> {
		const user = await this.find(id);
		const $set: Record<string, unknown> = { updatedAt: now() };
		for (const k of ["name", "roles", "active"] as const) if (change[k] !== undefined) $set[k] = change[k];
		const updated = await this.users.updateById(user._id, { $set });
		if (change.active === false || change.roles) await this.sessions.revoke({ userId: user._id }, "account_changed");
		return publicUser(updated!);
	}

	/** An access token for the session (a new session on login), and the refresh token when there is a new one. */
	private async issueTokens(user: UserRecord, session?: { sessionId: string; refreshToken: string }): Promise<TokenPair> {
		const { sessionId, refreshToken } = session ?? (await this.sessions.open(user._id));
		const { issuer, audience, accessTtlSeconds } = config.jwt;
		const accessToken = signAccessToken(this.keys.signing, { issuer, audience, accessTtlSeconds }, user._id, user.roles, sessionId);
		return { accessToken, refreshToken, tokenType: "Bearer", expiresIn: accessTtlSeconds, user: publicUser(user) };
	}
}
