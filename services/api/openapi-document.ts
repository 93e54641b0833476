/**
 * The OpenAPI document the gateway serves (lib/http/openapi.ts), with who may call each route
 * read from the routed action's own definition (`auth`, `roles`, `ownerOr`), the one place it is
 * stated: the gateway and every node enforce the same definition (lib/auth/access.ts).
 */
import { Service, type ServiceSchema } from "moleculer";
import type { ActionAccess } from "../../lib/auth/access.js";
import { buildOpenApi } from "../../lib/http/openapi.js";
import { SHOP_SERVICES } from "../shop-services.js";

/** The access of each action of a service, its mixins' actions merged in as Moleculer merges them when it creates the service. */
export function actionAccessOf(schema: ServiceSchema): Map<string, ActionAccess> {
	// applyMixins only reads the schemas (no broker): a bare service prototype stands in for the service being created.
	const merged: Partial<ServiceSchema> = Service.prototype.applyMixins.call(Object.create(Service.prototype), schema);
	const access = new Map<string, ActionAccess>();
	for (const [name, action] of Object.entries(merged.actions ?? {})) {
		if (typeof action !== "object") continue; // a bare handler, or `false`: removed
		const { auth, roles, ownerOr } = action;
		access.set(`${schema.name}.${name}`, { name: `${schema.name}.${name}`, auth, roles, ownerOr });
	}
	return access;
}

let everyAction: Map<string, ActionAccess> | undefined;

/** Every action of the shop's services (not the gateway's own) with its access, read once. */
export function shopActionAccess(): Map<string, ActionAccess> {
	everyAction ??= new Map(Object.values(SHOP_SERVICES).flatMap(schema => [...actionAccessOf(schema)]));
	return everyAction;
}

export function openApiDocument(): Record<string, unknown> {
	const access = shopActionAccess();
	return buildOpenApi(action => access.get(action));
}
