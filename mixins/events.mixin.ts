/**
 * Domain events with a transactional outbox and idempotent consumers.
 *
 * Publishing: a service never sends an event directly. It writes the event into the `outbox`
 * array of the document whose change caused it, in the same atomic update (MongoDB and NeDB
 * both make one-document updates atomic). A relay loop publishes what is in outboxes and pulls
 * an event out only after the transport accepted it. A crash between the two sends it again:
 * delivery is at least once.
 *
 * Consuming: a service lists its handlers under `domainEvents` in its schema. Each delivered
 * event id is recorded in the service's `processed_events` collection after its handler
 * succeeded, and an event already recorded is skipped. Handlers must also be safe to re-run
 * (a crash after the handler but before the record), which the services get from conditional
 * updates keyed by the event's aggregate.
 */
import { randomUUID } from "node:crypto";
import type { Context, Service, ServiceSchema } from "moleculer";
import { config } from "../lib/config.js";
import { EVENTS, type AnyEnvelope, type EventEnvelope, type EventPayloads, type EventType } from "../lib/events/catalog.js";
import { acquireTransport, releaseTransport } from "../lib/events/registry.js";
import type { EventHandler, EventTransport } from "../lib/events/transport.js";
import { DuplicateKeyError, type Collection, type Doc } from "../lib/store.js";
import { defineMixin } from "../lib/service.js";
import { recordEventConsumed, recordEventsPublished, setOutboxBacklog } from "../lib/observability/metrics.js";
import { runForRequest } from "../lib/observability/context.js";
import { consumerContextOptions, producerTrace, traceConsumer } from "../lib/observability/tracing.js";

export interface OutboxDoc extends Doc {
	outbox?: EventEnvelope[];
}
interface ProcessedEvent extends Doc {
	type: string;
	at: string;
}

export type DomainEventHandler<TThis> = (this: TThis, event: AnyEnvelope, ctx: Context) => Promise<void>;

export interface EventsMixinOptions {
	/** Collections whose documents carry an `outbox` array. */
	outbox?: string[];
}

/** `domainEvent`: an event for an outbox, in its envelope, carrying the request id (and trace) of its cause. */
export type MakeEnvelope = <T extends EventType>(type: T, payload: EventPayloads[T], cause?: Context | null) => EventEnvelope<T>;

export interface EventsMethods {
	domainEvent<T extends EventType>(type: T, payload: EventPayloads[T], ctx?: Context | null): EventEnvelope<T>;
	relayOutbox(): Promise<void>;
	/** Hooks for metrics; no-ops unless a service defines them. */
	onEventsPublished?(events: EventEnvelope[]): void;
	onEventConsumed?(event: EventEnvelope): void;
}

type EventsThis = Service &
	EventsMethods & {
		collection<T extends Doc>(name: string): Collection<T>;
		relayCollection(name: string): Promise<void>;
		outboxBacklog(): Promise<number>;
		applyDomainEvent(event: EventEnvelope): Promise<void>;
		$transport?: EventTransport;
		$handler?: EventHandler;
		$relay: { timer?: NodeJS.Timeout; running: boolean; again: boolean; stopped: boolean; current?: Promise<void> };
		$brokerStarted: Promise<void>;
		$markBrokerStarted: () => void;
		beginRelaying(): void;
		schema: ServiceSchema & { domainEvents?: Record<string, DomainEventHandler<unknown>> };
	};

/** The events this service consumes, for the AsyncAPI document and for readiness. */
export function consumedEvents(schema: { domainEvents?: Record<string, unknown> }): EventType[] {
	return Object.keys(schema.domainEvents ?? {}) as EventType[];
}

/** Outbox documents published at once by one relay. */
const RELAY_CONCURRENCY = 8;

/** Runs `work` over `items`, at most `limit` at a time; resolves with the first error, if any, once all are done. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<unknown> {
	let next = 0;
	let firstError: unknown;
	const lane = async () => {
		while (next < items.length) {
			const item = items[next++] as T;
			await work(item).catch(err => (firstError ??= err));
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
	return firstError;
}

export function EventsMixin(opts: EventsMixinOptions = {}): Partial<ServiceSchema> {
	const outboxCollections = opts.outbox ?? [];
	return defineMixin<EventsThis>({
		settings: {
			$collections: {
				processed_events: {},
				...Object.fromEntries(outboxCollections.map(c => [c, {}])),
			},
		},
		created() {
			this.$relay = { running: false, again: false, stopped: false };
			this.$brokerStarted = new Promise<void>(resolve => (this.$markBrokerStarted = resolve));
		},
		async started() {
			this.$transport = await acquireTransport(this.broker);
			const handlers = this.schema.domainEvents ?? {};
			const types = Object.keys(handlers) as EventType[];
			if (types.length > 0) {
				// Subscribed now, so no event published at start-up is missed; applied only once every
				// service of the broker has started (see applyDomainEvent), whatever the mixin order.
				this.$handler = event => this.applyDomainEvent(event);
				await this.$transport.subscribe(this.name, types, this.$handler);
			}
			if (this.broker.started) this.beginRelaying();
		},
		async stopped() {
			this.$relay.stopped = true;
			if (this.$relay.timer) clearInterval(this.$relay.timer);
			await this.$relay.current;
			if (this.$transport && this.$handler) await this.$transport.unsubscribe(this.name, this.$handler);
			if (this.$transport) await releaseTransport(this.broker);
			this.$transport = undefined;
		},
		events: {
			// Relaying starts when the whole broker has started: every consumer is subscribed by then.
			"$broker.started"(this: EventsThis) {
				this.beginRelaying();
			},
		},
		methods: {
			beginRelaying(this: EventsThis) {
				this.$markBrokerStarted();
				if (outboxCollections.length === 0 || this.$relay.timer || this.$relay.stopped) return;
				this.$relay.timer = setInterval(() => void this.relayOutbox(), config.outboxPollMs);
				this.$relay.timer.unref();
				void this.relayOutbox();
			},

			/**
			 * A new event for the outbox of the document being written. Put the result in the same
			 * update: `{ $push: { outbox: { $each: [event] } } }`, or `outbox: [event]` on insert,
			 * then call `relayOutbox()`.
			 */
			domainEvent<T extends EventType>(this: EventsThis, type: T, payload: EventPayloads[T], ctx?: Context | null): EventEnvelope<T> {
				const keyField = EVENTS[type].key as keyof EventPayloads[T];
				return {
					id: randomUUID(),
					type,
					key: String(payload[keyField]),
					source: this.name,
					occurredAt: new Date().toISOString(),
					...producerTrace(ctx),
					payload,
				};
			},

			/** Publish what is waiting in this service's outboxes. Safe to call any time. */
			relayOutbox(this: EventsThis): Promise<void> {
				if (this.$relay.running) {
					this.$relay.again = true;
					return this.$relay.current ?? Promise.resolve();
				}
				this.$relay.running = true;
				this.$relay.current = (async () => {
					try {
						do {
							this.$relay.again = false;
							for (const name of outboxCollections) {
								if (this.$relay.stopped || !this.$transport) return;
								await this.relayCollection(name);
							}
						} while (this.$relay.again && !this.$relay.stopped);
						setOutboxBacklog(this.broker, this.name, 0);
					} catch (err) {
						// The events stay in the outbox; the next tick tries again.
						this.logger.warn(`Outbox relay failed, will retry: ${(err as Error).message}`);
						await this.outboxBacklog().catch(() => undefined);
					} finally {
						this.$relay.running = false;
					}
				})();
				return this.$relay.current;
			},

			async relayCollection(this: EventsThis, name: string): Promise<void> {
				const coll = this.collection<OutboxDoc>(name);
				for (;;) {
					const docs = await coll.find({ query: { "outbox.0": { $exists: true } }, limit: 50 });
					if (docs.length === 0) return;
					// One document is one aggregate: its events go in order; different documents go side by side.
					const failed = await inParallel(docs, RELAY_CONCURRENCY, async doc => {
						const events = doc.outbox ?? [];
						try {
							await this.$transport!.publish(events);
						} catch (err) {
							recordEventsPublished(this.broker, events, "failed");
							throw err;
						}
						await coll.updateWhere({ _id: doc._id }, { $pull: { outbox: { id: { $in: events.map(e => e.id) } } } });
						recordEventsPublished(this.broker, events);
						this.onEventsPublished?.(events);
					});
					if (failed) throw failed;
					if (docs.length < 50) return;
				}
			},

			/** Documents whose outbox holds unpublished events (readiness, and the shop_outbox_backlog gauge). */
			...(outboxCollections.length > 0 && {
				async outboxBacklog(this: EventsThis): Promise<number> {
					let total = 0;
					for (const name of outboxCollections) total += await this.collection<OutboxDoc>(name).count({ "outbox.0": { $exists: true } });
					setOutboxBacklog(this.broker, this.name, total);
					return total;
				},
			}),

			/** Apply one delivered event once: skip it if recorded, record it after the handler. */
			async applyDomainEvent(this: EventsThis, event: EventEnvelope): Promise<void> {
				await this.$brokerStarted;
				const processed = this.collection<ProcessedEvent>("processed_events");
				if (await processed.findById(event.id)) return recordEventConsumed(this.broker, this.name, event, "duplicate");
				const handler = this.schema.domainEvents?.[event.type];
				if (!handler) return;
				const ctx = this.broker.ContextFactory.create(this.broker, null as never, event.payload, {
					...consumerContextOptions(event),
					meta: { requestId: event.requestId, eventId: event.id, eventType: event.type },
				}) as Context;
				try {
					await runForRequest(ctx.requestID, () => traceConsumer(this, ctx, event, () => handler.call(this, event as AnyEnvelope, ctx)));
				} catch (err) {
					recordEventConsumed(this.broker, this.name, event, "failed");
					throw err;
				}
				try {
					await processed.insert({ _id: event.id, type: event.type, at: new Date().toISOString() });
				} catch (err) {
					if (!(err instanceof DuplicateKeyError)) throw err;
				}
				recordEventConsumed(this.broker, this.name, event, "ok");
				this.onEventConsumed?.(event);
			},
		},
	});
}
