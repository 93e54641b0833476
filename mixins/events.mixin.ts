/**
 * Domain events with a transactional outbox and idempotent consumers.
 *
 * Publishing: a service never sends an event directly. It writes the event into the `outbox`
 * array of the document whose change caused it, in the same atomic update (MongoDB and NeDB
 * both make one-document updates atomic). A relay loop publishes what is in outboxes and pulls
 * an event out only after the bus accepted it. A crash between the two sends it again:
 * delivery is at least once.
 *
 * A collection of many documents that rarely carry an event (the catalog's products) is a
 * `documentOutbox`: scanning it for outboxes on every relay would cost a collection scan, so its
 * writers relay the documents they wrote (`relayDocuments`), and a slow sweep
 * (OUTBOX_SWEEP_MS) publishes what a crash left behind.
 *
 * Consuming: a service lists its handlers under `integrationEvents` in its schema. Each delivered
 * event id is recorded in the service's `processed_events` collection after its handler
 * succeeded, and an event already recorded is skipped. Handlers must also be safe to re-run
 * (a crash after the handler but before the record), which the services get from conditional
 * updates keyed by the event's aggregate.
 *
 * `everyNodeEvents` are delivered to every node of the service (one consumer group per node), for
 * what each node keeps for itself, such as a search index. They are not recorded: their handlers
 * re-read what the event is about, so running one twice, or late, changes nothing.
 */
import { randomUUID } from "node:crypto";
import type { Context, Service, ServiceSchema } from "moleculer";
import { config } from "../lib/config.js";
import { EVENTS, type AnyEnvelope, type EventEnvelope, type EventPayloads, type EventType } from "../lib/contracts/events.js";
import { acquireBus, releaseBus } from "../lib/events/registry.js";
import type { EventHandler, EventBus } from "../lib/events/bus.js";
import { DuplicateKeyError, type Collection, type Doc, type OutboxPort } from "../lib/store/index.js";
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

export interface EventsMixinOptions {
	/** Collections whose documents carry an `outbox` array, scanned by every relay. */
	outbox?: string[];
	/** Collections whose writers relay the documents they wrote (`relayDocuments`); swept for leftovers. */
	documentOutbox?: string[];
}

export type { MakeEnvelope } from "../lib/store/index.js";

export interface EventsMethods {
	integrationEvent<T extends EventType>(type: T, payload: EventPayloads[T], ctx?: Context | null): EventEnvelope<T>;
	relayOutbox(): Promise<void>;
	/** Publish the outboxes of these documents of a `documentOutbox` collection. Never throws: the sweep retries. */
	relayDocuments(collection: string, ids: readonly string[]): Promise<void>;
}

type IntegrationHandler = (this: unknown, event: AnyEnvelope, ctx: Context) => Promise<void>;

type EventsThis = Service &
	EventsMethods & {
		collection<T extends Doc>(name: string): Collection<T>;
		relayCollection(name: string): Promise<void>;
		publishOutbox(coll: Collection<OutboxDoc>, doc: OutboxDoc): Promise<void>;
		sweepDocumentOutboxes(): Promise<void>;
		outboxBacklog(): Promise<number>;
		applyIntegrationEvent(event: EventEnvelope): Promise<void>;
		$bus?: EventBus;
		$handler?: EventHandler;
		$nodeHandler?: EventHandler;
		$relay: { timer?: NodeJS.Timeout; sweep?: NodeJS.Timeout; running: boolean; again: boolean; stopped: boolean; current?: Promise<void>; swept: number };
		$brokerStarted: Promise<void>;
		$outbox: OutboxPort;
		$markBrokerStarted: () => void;
		beginRelaying(): void;
		schema: ServiceSchema & { integrationEvents?: Record<string, IntegrationHandler>; everyNodeEvents?: Record<string, IntegrationHandler> };
	};

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
	const documentOutboxes = opts.documentOutbox ?? [];
	return defineMixin<EventsThis>({
		settings: {
			$collections: {
				processed_events: {},
				...Object.fromEntries([...outboxCollections, ...documentOutboxes].map(c => [c, {}])),
			},
		},
		created() {
			this.$relay = { running: false, again: false, stopped: false, swept: 0 };
			// How the store (Collection.insertWithEvents / changeWithEvents / change) reaches this mixin.
			this.$outbox = {
				envelope: (type, payload, cause) => this.integrationEvent(type, payload, cause),
				written: (collection, ids) => {
					if (documentOutboxes.includes(collection)) void this.relayDocuments(collection, ids);
					else if (outboxCollections.includes(collection)) void this.relayOutbox();
					else throw new Error(`${collection} is not an outbox collection of ${this.name}`);
				},
			};
			this.$brokerStarted = new Promise<void>(resolve => (this.$markBrokerStarted = resolve));
		},
		async started() {
			this.$bus = await acquireBus(this.broker);
			const handlers = this.schema.integrationEvents ?? {};
			const types = Object.keys(handlers) as EventType[];
			if (types.length > 0) {
				// Subscribed now, so no event published at start-up is missed; applied only once every
				// service of the broker has started (see applyIntegrationEvent), whatever the mixin order.
				this.$handler = event => this.applyIntegrationEvent(event);
				await this.$bus.subscribe(this.name, types, this.$handler);
			}
			const everyNode = this.schema.everyNodeEvents ?? {};
			const nodeTypes = Object.keys(everyNode) as EventType[];
			if (nodeTypes.length > 0) {
				this.$nodeHandler = async event => {
					await this.$brokerStarted;
					const handler = everyNode[event.type];
					if (handler)
						await handler.call(
							this,
							event as AnyEnvelope,
							this.broker.ContextFactory.create(this.broker, null as never, event.payload, {}) as Context,
						);
				};
				await this.$bus.subscribe(`${this.name}.${this.broker.nodeID}`, nodeTypes, this.$nodeHandler);
			}
			if (this.broker.started) this.beginRelaying();
		},
		async stopped() {
			// A graceful stop hands over: consumers first (each partition finishes the event it is handling and
			// commits, lib/events/kafka-bus.ts), then a last relay pass publishes what they and the last calls
			// wrote; bounded, as Kafka may be away (what is left waits for another node's relay or the next start).
			if (this.$bus && this.$handler) await this.$bus.unsubscribe(this.name, this.$handler);
			if (this.$bus && this.$nodeHandler) await this.$bus.unsubscribe(`${this.name}.${this.broker.nodeID}`, this.$nodeHandler);
			if (this.$relay.timer) clearInterval(this.$relay.timer);
			if (this.$relay.sweep) clearInterval(this.$relay.sweep);
			const bounded = (p: Promise<void> | undefined) => Promise.race([p, new Promise<void>(resolve => setTimeout(resolve, 5000).unref())]);
			if (this.$bus && outboxCollections.length > 0) await bounded(this.relayOutbox());
			this.$relay.stopped = true;
			await bounded(this.$relay.current);
			if (this.$bus) await releaseBus(this.broker);
			this.$bus = undefined;
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
				if (documentOutboxes.length > 0 && !this.$relay.sweep && !this.$relay.stopped) {
					this.$relay.sweep = setInterval(() => void this.sweepDocumentOutboxes(), config.outboxSweepMs);
					this.$relay.sweep.unref();
					void this.sweepDocumentOutboxes();
				}
				if (outboxCollections.length === 0 || this.$relay.timer || this.$relay.stopped) return;
				this.$relay.timer = setInterval(() => void this.relayOutbox(), config.outboxPollMs);
				this.$relay.timer.unref();
				void this.relayOutbox();
			},

			/** A new event in its envelope, for the outbox of the document being written (the store calls it through `$outbox`). */
			integrationEvent<T extends EventType>(this: EventsThis, type: T, payload: EventPayloads[T], ctx?: Context | null): EventEnvelope<T> {
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
								if (this.$relay.stopped || !this.$bus) return;
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
					const failed = await inParallel(docs, RELAY_CONCURRENCY, doc => this.publishOutbox(coll, doc));
					if (failed) throw failed;
					if (docs.length < 50) return;
				}
			},

			/** Publish one document's outbox, then pull what was published out of it. */
			async publishOutbox(this: EventsThis, coll: Collection<OutboxDoc>, doc: OutboxDoc): Promise<void> {
				const events = doc.outbox ?? [];
				if (events.length === 0 || !this.$bus) return;
				try {
					await this.$bus.publish(events);
				} catch (err) {
					recordEventsPublished(this.broker, events, "failed");
					throw err;
				}
				await coll.updateWhere({ _id: doc._id }, { $pull: { outbox: { id: { $in: events.map(e => e.id) } } } });
				recordEventsPublished(this.broker, events);
			},

			async relayDocuments(this: EventsThis, collection: string, ids: readonly string[]): Promise<void> {
				const coll = this.collection<OutboxDoc>(collection);
				try {
					for (const id of new Set(ids)) {
						const doc = await coll.findById(id);
						if (doc) await this.publishOutbox(coll, doc);
					}
				} catch (err) {
					this.logger.warn(`Relay of ${collection} documents failed; the sweep publishes them: ${(err as Error).message}`);
				}
			},

			/** What writers did not relay (a crash, the bus away): found by a scan, so only now and then. */
			async sweepDocumentOutboxes(this: EventsThis): Promise<void> {
				let left = 0;
				for (const name of documentOutboxes) {
					if (this.$relay.stopped || !this.$bus) return;
					try {
						await this.relayCollection(name);
					} catch (err) {
						this.logger.warn(`Outbox sweep of ${name} failed, will retry: ${(err as Error).message}`);
						left += await this.collection<OutboxDoc>(name)
							.count({ "outbox.0": { $exists: true } })
							.catch(() => 0);
					}
				}
				this.$relay.swept = left;
			},

			/** Documents whose outbox holds unpublished events (readiness, and the shop_outbox_backlog gauge). */
			...(outboxCollections.length + documentOutboxes.length > 0 && {
				async outboxBacklog(this: EventsThis): Promise<number> {
					// A document outbox is counted by its last sweep: counting it here would scan it on every probe.
					let total = this.$relay.swept;
					for (const name of outboxCollections) total += await this.collection<OutboxDoc>(name).count({ "outbox.0": { $exists: true } });
					setOutboxBacklog(this.broker, this.name, total);
					return total;
				},
			}),

			/** Apply one delivered event once: skip it if recorded, record it after the handler. */
			async applyIntegrationEvent(this: EventsThis, event: EventEnvelope): Promise<void> {
				await this.$brokerStarted;
				const processed = this.collection<ProcessedEvent>("processed_events");
				if (await processed.findById(event.id)) return recordEventConsumed(this.broker, this.name, event, "duplicate");
				const handler = this.schema.integrationEvents?.[event.type];
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
			},
		},
	});
}
