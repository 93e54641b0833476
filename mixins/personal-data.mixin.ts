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
import type { Context, Service } from "moleculer";
import { defineMixin, type AnyServiceSchema } from "../lib/broker/service.js";
import { domainEvent, type EventEnvelope } from "../lib/contracts/events.js";
import { DuplicateKeyError, type Collection, type Doc } from "../lib/store/index.js";

export interface PersonalDataHandlers<TThis> {
	exportFor(this: TThis, userId: string, ctx: Context): Promise<Record<string, unknown>>;
	eraseFor(this: TThis, userId: string, ctx: Context): Promise<void>;
}

interface ErasureRecord extends Doc {
	at: string;
}

type Self = Service & { collection<T extends Doc>(name: string): Collection<T> };

export function PersonalDataMixin<TThis>(handlers: PersonalDataHandlers<TThis>): Partial<AnyServiceSchema> {
	async function onErasureRequested(this: Self & TThis, event: EventEnvelope<"user.erasure-requested">, ctx: Context): Promise<void> {
		const { userId } = event.payload;
		await handlers.eraseFor.call(this, userId, ctx);
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
	return defineMixin<Self & TThis>({
		actions: {
			personalData: {
				idempotent: true,
				visibility: "public",
				params: { userId: "string" },
				handler(ctx: Context<{ userId: string }>) {
					return handlers.exportFor.call(this, ctx.params.userId, ctx);
				},
			},
		},
		// Added to the service's own handlers (Moleculer would let the service's `integrationEvents` replace a mixin's).
		merged(schema) {
			schema.integrationEvents = { ...schema.integrationEvents, "user.erasure-requested": onErasureRequested };
		},
	});
}
