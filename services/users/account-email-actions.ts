/** The users service's actions around emails: password reset, address verification, one-click unsubscribe, delivery preferences. */
import type { ActionSchema } from "moleculer";
import { requireUser, type ShopContext } from "../../lib/auth/access.js";
import { IDENTITY } from "../../lib/contracts/http/identity.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import type { AccountEmails } from "./account-emails.js";
import type { Accounts } from "./accounts.js";
import type { DeliveryPreferences } from "../../lib/contracts/calls.js";
import { erasedEmailOf } from "./erasure.js";

type Params<A extends keyof typeof IDENTITY> = ParamsOf<(typeof IDENTITY)[A]>;
type Self = { accountEmails: AccountEmails; accounts: Accounts };

export const accountEmailActions: Record<string, ActionSchema<Self>> = {
	requestPasswordReset: {
		auth: "public",
		params: IDENTITY["users.requestPasswordReset"],
		async handler(ctx: ShopContext<Params<"users.requestPasswordReset">>) {
			await this.accountEmails.requestReset(ctx.params.email, ctx.meta.clientIp);
			return null;
		},
	},
	confirmPasswordReset: {
		auth: "public",
		params: IDENTITY["users.confirmPasswordReset"],
		async handler(ctx: ShopContext<Params<"users.confirmPasswordReset">>) {
			await this.accountEmails.confirmReset(ctx.params.token, ctx.params.newPassword);
			return null;
		},
	},
	verifyEmail: {
		auth: "public",
		params: IDENTITY["users.verifyEmail"],
		async handler(ctx: ShopContext<Params<"users.verifyEmail">>) {
			await this.accountEmails.verify(ctx.params.token);
			return null;
		},
	},
	resendVerification: {
		params: IDENTITY["users.resendVerification"],
		async handler(ctx: ShopContext) {
			await this.accountEmails.resendVerification(requireUser(ctx).id, ctx.meta.clientIp);
			return null;
		},
	},
	/** Internal (notifications): where and how to notify a user, with their unsubscribe token. */
	notificationPreferences: {
		idempotent: true,
		visibility: "public",
		params: { id: "string" },
		async handler(ctx: ShopContext<{ id: string }>): Promise<DeliveryPreferences | null> {
			const u = await this.accounts.users.findById(ctx.params.id);
			if (!u || u.email === erasedEmailOf(u._id)) return null; // gone, or erased
			const unsubscribeToken = this.accountEmails.links.unsubscribeToken(u._id);
			return { ...u.preferences.notifications, email_address: u.email, language: u.preferences.language, name: u.name, unsubscribeToken };
		},
	},
	unsubscribe: {
		auth: "public",
		idempotent: true,
		params: IDENTITY["users.unsubscribe"],
		async handler(ctx: ShopContext<Params<"users.unsubscribe">>) {
			await this.accountEmails.unsubscribe(ctx.params.token);
			return null;
		},
	},
};
