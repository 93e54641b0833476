/**
 * The shape of a shop service schema, typed for this project: actions carry `auth`/`roles`
 * (read by the gateway), durable `integrationEvents` handlers get typed envelopes.
 * `defineService` only narrows types; it returns the schema unchanged for Moleculer.
 */
import type { Service, ServiceSchema } from "moleculer";
import type { Role, ShopContext } from "./auth/access.js";
import type { EventEnvelope, EventType } from "./contracts/events.js";
import type { Idempotency } from "./broker/call-resilience.js";

export interface ShopActionSchema<TThis> {
	/** "public": anyone; "required" (default): a valid access token. */
	auth?: "public" | "required";
	/** The caller needs at least one of these roles. */
	roles?: Role[];
	/** Documents that the handler lets the caller reach their own records, and these roles everyone's (lib/auth/access.ts). */
	ownerOr?: Role[];
	/** "public": callable by other services but never routed by the gateway. */
	visibility?: "published" | "public" | "protected" | "private";
	params?: Record<string, unknown>;
	/** Safe to send again to another node (lib/broker/call-resilience.ts): true, or "key" when the call carries an Idempotency-Key. */
	idempotent?: Idempotency;
	timeout?: number;
	cache?: boolean;
	// Handlers name their own params type; a method signature keeps that assignable.
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	handler(this: TThis, ctx: ShopContext<any>): unknown;
}

export type IntegrationEventHandlers<TThis> = { [K in EventType]?: (this: TThis, event: EventEnvelope<K>, ctx: ShopContext) => Promise<void> };

export interface ShopServiceSchema<TThis> {
	name: string;
	mixins?: Partial<ServiceSchema>[];
	settings?: Record<string, unknown>;
	dependencies?: string[];
	actions?: Record<string, ShopActionSchema<TThis> | false>;
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	methods?: Record<string, (this: TThis, ...args: any[]) => unknown>;
	integrationEvents?: IntegrationEventHandlers<TThis>;
	/** Delivered to every node of the service, not recorded (mixins/events.mixin.ts): for what each node keeps itself. */
	everyNodeEvents?: IntegrationEventHandlers<TThis>;
	events?: Record<string, unknown>;
	merged?(schema: ServiceSchema): void;
	created?(this: TThis): void;
	started?(this: TThis): Promise<void> | void;
	stopped?(this: TThis): Promise<void> | void;
}

export function defineService<TThis extends Service>(schema: ShopServiceSchema<TThis>): ServiceSchema {
	return schema as unknown as ServiceSchema;
}

/** For mixins: the schema as Moleculer takes it. */
export function defineMixin<TThis>(schema: Omit<ShopServiceSchema<TThis>, "name"> & Record<string, unknown>): Partial<ServiceSchema> {
	return schema as unknown as Partial<ServiceSchema>;
}
