/**
 * What an action needs from the caller, read by the gateway from the action's definition:
 *   auth: "public" (anyone) | "required" (default: a valid access token)
 *   roles: at least one of these roles
 * Ownership ("your own order") is checked by the owning service with `requireUser`.
 * The gateway checks them before it calls; every node checks them again on the actions it runs
 * (lib/broker/access-middleware.ts), whoever calls.
 */
import type { Context } from "moleculer";
import { forbidden, unauthorized } from "../errors.js";

export type Role = "customer" | "agent" | "admin";
export const ROLES: Role[] = ["customer", "agent", "admin"];

export interface AuthUser {
	id: string;
	roles: Role[];
	/** The session (refresh-token family) the access token belongs to. */
	sessionId?: string;
	/** A client calling on its own (client credentials): only what these scopes open (lib/identity/scopes.ts). */
	scopes?: string[];
}

export interface ShopMeta {
	user?: AuthUser;
	requestId?: string;
	idempotencyKey?: string;
	clientIp?: string;
	$statusCode?: number;
	$responseHeaders?: Record<string, string>;
	$responseType?: string;
	/** The request's If-None-Match header (conditional GETs of images). */
	ifNoneMatch?: string;
}

export type ShopContext<P = Record<string, unknown>> = Context<P, ShopMeta>;

export function requireUser(ctx: Context<unknown, ShopMeta>): AuthUser {
	const user = ctx.meta.user;
	if (!user) throw unauthorized();
	return user;
}

/** Who may call an action, as its schema says (lib/broker/service.ts). */
export interface ActionAccess {
	name?: string;
	auth?: "public" | "required";
	roles?: readonly Role[];
	/**
	 * For the document only: the handler lets a signed-in caller reach their own records, and
	 * these roles everyone's (it checks, as it needs the record: `findOrderFor`, `canSee`).
	 */
	ownerOr?: readonly Role[];
}

/** Who may call an action, in words: "anyone", "signed in", "admin", "agent or admin", "owner or admin"… */
export function whoMayCall(action: ActionAccess): string {
	if (action.auth === "public") return "anyone";
	const who = action.roles ? [...action.roles] : action.ownerOr ? ["owner", ...action.ownerOr] : [];
	if (who.length === 0) return "signed in";
	return who.length === 1 ? who[0]! : `${who.slice(0, -1).join(", ")} or ${who.at(-1)}`;
}

/** 401 without a user for an action that needs one, 403 without one of its roles. */
export function authorize(user: AuthUser | null | undefined, action: ActionAccess | undefined): void {
	if (!action || action.auth === "public") return;
	if (!user) throw unauthorized();
	if (action.roles && !user.roles.some(r => action.roles!.includes(r))) throw forbidden();
}

export function hasRole(user: AuthUser | undefined, ...roles: Role[]): boolean {
	return !!user && user.roles.some(r => roles.includes(r));
}

export function isStaff(user: AuthUser | undefined): boolean {
	return hasRole(user, "agent", "admin");
}
