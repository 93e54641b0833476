/**
 * What a service holds of a person, for GDPR access (Art. 15, 20) and erasure (Art. 17):
 *
 * - `personalData` (internal action, `{ userId }`): this service's part of GET /me/export;
 * - on `user.erasure-requested`: erase or pseudonymise that user's data here, then acknowledge
 *   with `user.erasure-acknowledged` through the outbox of an `erasures` record (one per user: a
 *   redelivered request erases again, which changes nothing, and acknowledges nothing new).
 *
 * The service lists `erasures` among its EventsMixin outbox collections.
 */
import type { Context, Service, ServiceSchema } from "moleculer";
import { defineMixin } from "../lib/service.js";
import { domainEvent, type AnyEnvelope } from "../lib/contracts/events.js";
import { DuplicateKeyError, type Collection, type Doc } from "../lib/store/index.js";

export interface PersonalDataHandlers<TThis> {
	exportFor(this: TThis, userId: string, ctx: Context): Promise<Record<string, unknown>>;
	eraseFor(this: TThis, userId: string, ctx: Context): Promise<void>;
}

interface ErasureRecord extends Doc {
	at: string;
}

type Self = Service & { collection<T extends Doc>(name: string): Collection<T> };

export function PersonalDataMixin<TThis>(handlers: PersonalDataHandlers<TThis>): Partial<ServiceSchema> {
	async function onErasureRequested(this: Self, event: AnyEnvelope, ctx: Context): Promise<void> {
		const { userId } = event.payload as { userId: string };
		await handlers.eraseFor.call(this as unknown as TThis, userId, ctx);
		try {
			await this.collection<ErasureRecord>("erasures").insertWithEvents(
				{ _id: userId, at: new Date().toISOString() },
				[domainEvent("user.erasure-acknowledged", { userId, service: this.name })],
				ctx,
			);
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err; // acknowledged by an earlier delivery
		}
	}
	return defineMixin<Self>({
		actions: {
			personalData: {
				idempotent: true,
				visibility: "public",
				params: { userId: "string" },
				handler(ctx) {
					return handlers.exportFor.call(this as unknown as TThis, (ctx.params as { userId: string }).userId, ctx);
				},
			},
		},
		// Added to the service's own handlers (Moleculer would let the service's `integrationEvents` replace a mixin's).
		merged(schema: ServiceSchema & { integrationEvents?: Record<string, unknown> }) {
			schema.integrationEvents = { ...schema.integrationEvents, "user.erasure-requested": onErasureRequested };
		},
	});
}
