/**
 * Service schemas typed for this project, the way Moleculer's TypeScript template types them:
 * the project's own action and schema properties are declared on Moleculer's types (`declare
 * module "moleculer"` below), and a schema is Moleculer's `ServiceSchema` with its `this` given:
 * the service, its mixins' methods and its own state. `defineService`/`defineMixin` only let
 * TypeScript check a schema against that `this`; they return it unchanged.
 */
import type { Service, ServiceMethods, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { Role, ShopContext } from "../auth/access.js";
import type { EventEnvelope, EventType } from "../contracts/events.js";
import type { Idempotency } from "./call-resilience.js";

declare module "moleculer" {
	interface ActionSchema {
		/** "public": anyone; "required" (the default): a valid access token (lib/auth/access.ts). */
		auth?: "public" | "required";
		/** The caller needs at least one of these roles (checked at the gateway and on the node that runs it). */
		roles?: Role[];
		/** Documents that the handler lets the caller reach their own records, and these roles everyone's (lib/auth/access.ts). */
		ownerOr?: Role[];
		/** Safe to send again to another node (lib/broker/call-resilience.ts): true, or "key" when the call carries an Idempotency-Key. */
		idempotent?: Idempotency;
		/** This action's call timeout in milliseconds (Moleculer reads it; its declarations leave it out). */
		timeout?: number;
	}

	// The type parameters must repeat Moleculer's to merge with its declaration.
	// eslint-disable-next-line @typescript-eslint/no-unused-vars
	interface ServiceSchema<TSettings, TMethods, TVars, TThis> {
		/** Durable handlers of integration events, one consumer group per service (mixins/events). */
		integrationEvents?: IntegrationEventHandlers<TThis>;
		/** Delivered to every node of the service, not recorded (mixins/events): for what each node keeps itself. */
		everyNodeEvents?: IntegrationEventHandlers<TThis>;
		/** Called with the schema merged with its mixins, before the service is made from it (Moleculer reads it; its declarations leave it out). */
		merged?(schema: AnyServiceSchema): void;
	}
}

export type IntegrationEventHandlers<TThis> = { [K in EventType]?: (this: TThis, event: EventEnvelope<K>, ctx: ShopContext) => Promise<void> };

/** Settings of a shop service: Moleculer's own, and whatever the service and its mixins keep there. */
export type ShopSettings = ServiceSettingSchema & Record<string, unknown>;

/** A schema whose actions, methods, events and lifecycle handlers run with `this: TThis`. */
export type ShopServiceSchema<TThis> = ServiceSchema<ShopSettings, ServiceMethods, object, TThis>;

/**
 * A schema of any service, as `broker.createService` takes it (Moleculer's own signature): its
 * `this` is left open, since each service's is its own.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyServiceSchema = ServiceSchema<any, any, any>;

export function defineService<TThis extends Service>(schema: ShopServiceSchema<TThis>): AnyServiceSchema {
	return schema;
}

/** For mixins: a schema without a name, merged into the services that list it. */
export function defineMixin<TThis>(schema: Omit<ShopServiceSchema<TThis>, "name">): Partial<AnyServiceSchema> {
	return schema;
}
