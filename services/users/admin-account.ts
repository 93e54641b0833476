/**
 * ADMIN_EMAIL + ADMIN_PASSWORD create (or reset) that administrator account at start, so a
 * fresh shop can be run without any account having a default password.
 */
import { randomUUID } from "node:crypto";
import type { ShopConfig } from "../../lib/config.js";
import { emailProblem, hashPassword, normalizeEmail, passwordProblem } from "../../lib/auth/passwords.js";
import type { Role } from "../../lib/auth/access.js";
import { DEFAULT_PREFERENCES, type UserRecord } from "../../lib/domain/users.js";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";

export async function ensureAdminAccount(users: Collection<UserRecord>, cfg: ShopConfig, log: { info(msg: string): void }): Promise<void> {
	if (!cfg.adminEmail || !cfg.adminPassword) return;
	const problem = passwordProblem(cfg.adminPassword) ?? emailProblem(cfg.adminEmail);
	if (problem) throw new Error(`ADMIN_EMAIL/ADMIN_PASSWORD refused: ${problem}`);
	const email = normalizeEmail(cfg.adminEmail);
	const passwordHash = await hashPassword(cfg.adminPassword, cfg.bcryptCost);
	const now = new Date().toISOString();
	const existing = await users.findOne({ email });
	if (existing) {
		const roles = Array.from(new Set<Role>([...existing.roles, "admin"]));
		await users.updateById(existing._id, { $set: { passwordHash, roles, active: true, updatedAt: now } });
	} else {
		await users
			.insert({
				_id: randomUUID(),
				email,
				name: "Administrator",
				passwordHash,
				roles: ["customer", "admin"],
				active: true,
				preferences: DEFAULT_PREFERENCES,
				createdAt: now,
				updatedAt: now,
			})
			.catch(err => {
				if (!(err instanceof DuplicateKeyError)) throw err;
			});
	}
	log.info(`Admin account ${email} is ready`);
}
