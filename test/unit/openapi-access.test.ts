/**
 * Who may call a route is stated once, on the action: the OpenAPI document's `security` and
 * "Who:" must say what the action's definition says, as the broker sees it when it wraps the
 * action (the definition the access middleware enforces, and the gateway reads).
 */
import { ServiceBroker, type ActionSchema, type Middleware } from "moleculer";
import { afterAll, describe, expect, it } from "vitest";
import { whoMayCall } from "../../lib/auth/access.js";
import { API_PREFIX, ROUTES } from "../../lib/http/routes.js";
import { openApiPath } from "../../lib/http/openapi.js";
import { openApiDocument } from "../../services/api/openapi-document.js";
import { SHOP_SERVICES } from "../../services/shop-services.js";

type Operation = { operationId: string; description: string; security?: unknown[] };

/** Every action definition the broker wraps, by full name, read with a middleware as the access middleware reads it. */
function actionsAsTheBrokerSeesThem(): { broker: ServiceBroker; actions: Map<string, ActionSchema> } {
	const actions = new Map<string, ActionSchema>();
	const recorder: Middleware = {
		name: "Recorder",
		localAction(next, action) {
			actions.set(action.name!, action);
			return next;
		},
	};
	const broker = new ServiceBroker({ logger: false, transporter: null, middlewares: [recorder] });
	for (const schema of Object.values(SHOP_SERVICES)) broker.createService(schema);
	return { broker, actions };
}

const { broker, actions } = actionsAsTheBrokerSeesThem();
afterAll(() => broker.stop());

describe("the OpenAPI document's access", () => {
	const doc = openApiDocument() as { paths: Record<string, Record<string, Operation>> };
	const operation = (method: string, path: string) => doc.paths[`${API_PREFIX}${openApiPath(path)}`]![method.toLowerCase()]!;

	it.each(ROUTES.map(r => [`${r.method} ${r.path}`, r] as const))("%s: security and Who as its action's auth and roles", (_, route) => {
		const action = actions.get(route.action);
		expect(action, `no service defines ${route.action}`).toBeDefined();
		const op = operation(route.method, route.path);
		expect(op.security !== undefined, "security").toBe(action!.auth !== "public");
		expect(op.description).toContain(`Who: ${whoMayCall(action!)}.`);
	});

	it("names the roles of each role-bound action, and the owner only where the handler lets owners in", () => {
		const who = (action: string) => {
			const r = ROUTES.find(route => route.action === action)!;
			return /Who: ([^.]+)\./.exec(operation(r.method, r.path).description)![1];
		};
		expect(who("users.login")).toBe("anyone");
		expect(who("users.me")).toBe("signed in");
		expect(who("products.create")).toBe("admin");
		expect(who("tickets.update")).toBe("agent or admin");
		expect(who("orders.get")).toBe("owner or admin");
		expect(who("tickets.reply")).toBe("owner, agent or admin");
	});

	it("documents every role-bound routed action as needing a token", () => {
		const bound = ROUTES.filter(r => actions.get(r.action)?.roles);
		expect(bound.length).toBeGreaterThan(40);
		for (const r of bound) expect(operation(r.method, r.path).security, r.action).toEqual([{ bearerAuth: [] }]);
	});
});
