/**
 * Access enforced on the action, on the node that runs it: a published action's `auth` and
 * `roles` (lib/broker/service.ts) are checked against the call's `meta.user` whoever sent the call, the
 * gateway or another node over the transporter, so a buggy node's call without the user, or
 * with a customer, to an admin action is refused (401 / 403) like the gateway's.
 *
 * Not checked: actions only other services call (`visibility: "public"`, or more private),
 * which take no user; `auth: "public"` ones; and Moleculer's own `$` services. The user in the
 * call's meta is what the gateway verified from the access token; nodes trust each other's meta
 * (the transporter is the cluster's private network).
 */
import type { Context, Middleware } from "moleculer";
import { authorize, type ActionAccess, type ShopMeta } from "../auth/access.js";

type AccessedAction = ActionAccess & { name: string; visibility?: string };

/** Whether calls to the action are checked: published, not public, not one of Moleculer's own. */
export function guarded(action: AccessedAction): boolean {
	if (action.name.startsWith("$")) return false;
	if (action.visibility !== undefined && action.visibility !== "published") return false;
	return action.auth !== "public";
}

export function AccessMiddleware(): Middleware {
	return {
		name: "Access",
		localAction(next: (ctx: Context) => Promise<unknown>, action: AccessedAction) {
			if (!guarded(action)) return next;
			return function checked(ctx: Context) {
				try {
					authorize((ctx.meta as ShopMeta).user, action);
				} catch (err) {
					return Promise.reject(err); // a refusal, as the caller's promise
				}
				return next(ctx);
			};
		},
	} as Middleware;
}
