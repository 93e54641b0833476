/**
 * The users service's privacy actions: GET /me/export (the caller's data from every service, one
 * JSON document), DELETE /me (password confirmed) and an admin's DELETE /users/:id (erasure.ts),
 * and the acknowledgements of the other services.
 */
import type { ActionSchema, Context } from "moleculer";
import type { IntegrationEventHandlers } from "../../lib/broker/service.js";
import { requireUser, type ShopContext } from "../../lib/auth/access.js";
import { unavailable } from "../../lib/errors.js";
import { IDENTITY } from "../../lib/contracts/http/identity.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import { publicUser } from "../../lib/domain/users.js";
import { sortedAddresses } from "../../lib/domain/addresses.js";
import { ERASURE_PARTICIPANTS, type Erasure } from "./erasure.js";
import type { Accounts } from "./accounts.js";

type Params<A extends keyof typeof IDENTITY> = ParamsOf<(typeof IDENTITY)[A]>;
type Self = { erasure: Erasure; accounts: Accounts };

const EXPORT_TIMEOUT_MS = 10_000;

/** `{ exportedAt, profile, addresses, orders, cart, promotions, tickets, notifications, emails }` (README: "Your data"). */
async function exportOf(self: Self, userId: string, ctx: Context): Promise<Record<string, unknown>> {
	const user = await self.accounts.find(userId);
	const parts = await Promise.all(
		ERASURE_PARTICIPANTS.map(service =>
			ctx.call<Record<string, unknown>, { userId: string }>(`${service}.personalData`, { userId }, { timeout: EXPORT_TIMEOUT_MS }).catch(() => {
				throw unavailable(`The ${service} service cannot be reached; try the export again later`);
			}),
		),
	);
	return {
		exportedAt: new Date().toISOString(),
		profile: publicUser(user),
		addresses: sortedAddresses(user.addresses ?? []),
		...Object.assign({}, ...parts),
	};
}

export const privacyActions: Record<string, ActionSchema<Self>> = {
	exportMe: {
		idempotent: true,
		handler(ctx: ShopContext) {
			return exportOf(this, requireUser(ctx).id, ctx);
		},
	},
	eraseMe: {
		params: IDENTITY["users.eraseMe"],
		async handler(ctx: ShopContext<Params<"users.eraseMe">>) {
			const me = requireUser(ctx);
			await this.accounts.confirmPassword(me.id, ctx.params.password);
			await this.erasure.request(me.id, ctx);
			return null;
		},
	},
	/** An admin's DELETE /users/:id: the same erasure (the record stays as a tombstone with only its id). */
	remove: {
		roles: ["admin"],
		params: IDENTITY["users.remove"],
		async handler(ctx: ShopContext<Params<"users.remove">>) {
			await this.erasure.request(ctx.params.id, ctx);
			return null;
		},
	},
};

export const privacyEvents: IntegrationEventHandlers<Self> = {
	"user.erasure-acknowledged": async function (event) {
		await this.erasure.acknowledge(event.payload.userId, event.payload.service);
	},
};
