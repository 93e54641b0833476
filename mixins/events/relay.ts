/**
 * The publishing half of the events mixin: outboxes relayed to the bus. A relay pass publishes
 * every document's outbox of the `outbox` collections (scanned), and the documents a writer names
 * of the `documentOutbox` collections (with a slow sweep for what a crash left behind); an event
 * leaves the outbox only once the bus accepted it. The store reaches it through `outboxPort`.
 */
import type { Context } from "moleculer";
import { config } from "../../lib/config.js";
import { newEnvelope, type EventEnvelope, type EventPayloads, type EventType } from "../../lib/contracts/events.js";
import type { Collection, OutboxPort } from "../../lib/store/index.js";
import { GroupWrite } from "../../lib/store/group-write.js";
import { recordEventsPublished, setOutboxBacklog, setOutboxOldest } from "../../lib/observability/metrics.js";
import { producerTrace, tracePublish } from "../../lib/observability/tracing.js";
import { relaysNow } from "../../lib/events/relay-owner.js";
import type { EventsThis, OutboxDoc } from "./service.js";

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

/** How the store (Collection.insertWithEvents / changeWithEvents / change) reaches the relay. */
export function outboxPort(svc: EventsThis, outboxCollections: readonly string[], documentOutboxes: readonly string[]): OutboxPort {
	return {
		envelope: (type, payload, cause) => svc.integrationEvent(type, payload, cause),
		// The writer relays the documents it wrote, at once: no scan, no waiting for the next poll. The
		// poll (outbox collections) and the sweep (document outboxes) find what a crash or a bus outage left.
		written: (collection, ids) => {
			if (documentOutboxes.includes(collection) || outboxCollections.includes(collection)) void svc.relayDocuments(collection, ids);
			else throw new Error(`${collection} is not an outbox collection of ${svc.name}`);
		},
	};
}

/** The relay's methods, for the outbox collections of one service. */
export function relayMethods(outboxCollections: readonly string[], documentOutboxes: readonly string[]) {
	return {
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
			return newEnvelope(this.name, type, payload, producerTrace(ctx), this.broker.nodeID);
		},

		/** Publish what is waiting in this service's outboxes. Safe to call any time. */
		relayOutbox(this: EventsThis): Promise<void> {
			if (this.$relay.running) {
				this.$relay.again = true;
				return this.$relay.current ?? Promise.resolve();
			}
			this.$relay.running = true;
			this.$relay.current = (async () => {
				this.$relay.oldest = undefined;
				try {
					do {
						this.$relay.again = false;
						for (const name of outboxCollections) {
							if (this.$relay.stopped || !this.$bus) return;
							await this.relayCollection(name);
						}
					} while (this.$relay.again && !this.$relay.stopped);
					setOutboxBacklog(this.broker, this.name, 0);
					setOutboxOldest(this.broker, this.name, undefined);
				} catch (err) {
					// The events stay in the outbox; the next tick tries again.
					this.logger.warn(`Outbox relay failed, will retry: ${(err as Error).message}`);
					setOutboxOldest(this.broker, this.name, this.$relay.oldest);
					await this.outboxBacklog().catch(() => undefined);
				} finally {
					this.$relay.running = false;
				}
			})();
			return this.$relay.current;
		},

		async relayCollection(this: EventsThis, name: string): Promise<void> {
			const coll = this.collection<OutboxDoc>(name);
			// Documents another node relays stay where they are: the next page starts after them.
			for (let left = 0; ;) {
				const docs = await coll.find({ query: { "outbox.0": { $exists: true } }, limit: 50, offset: left });
				if (docs.length === 0) return;
				for (const doc of docs)
					for (const e of doc.outbox ?? []) if (!this.$relay.oldest || e.occurredAt < this.$relay.oldest) this.$relay.oldest = e.occurredAt;
				// One document is one aggregate: its events go in order; different documents go side by side.
				const failed = await inParallel(docs, RELAY_CONCURRENCY, async doc => {
					if (!(await this.relayDocument(coll, doc._id))) left++;
				});
				if (failed) throw failed;
				if (docs.length < 50) return;
			}
		},

		/** Publish one document's outbox, then pull what was published out of it. */
		async publishOutbox(this: EventsThis, coll: Collection<OutboxDoc>, doc: OutboxDoc): Promise<boolean> {
			const events = doc.outbox ?? [];
			if (events.length === 0 || !this.$bus) return false;
			// One publisher per row: the node that wrote the oldest event, unless it is gone (relay-owner.ts).
			if (this.broker.transit && !relaysNow(events[0]!, this.$relayOwnership)) return false;
			const traced = tracePublish(this, events, this.$bus.kind);
			try {
				await this.$bus.publish(traced.events);
				traced.finish();
			} catch (err) {
				traced.finish(err as Error);
				recordEventsPublished(this.broker, events, "failed");
				throw err;
			}
			await this.pullPublished(coll, doc._id, events);
			recordEventsPublished(this.broker, events);
			return true;
		},

		/**
		 * Take published events out of their document's outbox. Pulls that come while one is being
		 * written go together in the next write (one update of all their documents, pulling all their
		 * event ids: an id is in one outbox only).
		 */
		pullPublished(this: EventsThis, coll: Collection<OutboxDoc>, id: string, events: readonly EventEnvelope[]): Promise<void> {
			let group = this.$relay.pulls.get(coll.name);
			if (!group) {
				group = new GroupWrite<{ id: string; eventIds: string[] }>(async pulls => {
					const eventIds = pulls.flatMap(p => p.eventIds);
					await coll.updateEach([...new Set(pulls.map(p => p.id))], { $pull: { outbox: { id: { $in: eventIds } } } });
				});
				this.$relay.pulls.set(coll.name, group);
			}
			return group.add({ id, eventIds: events.map(e => e.id) });
		},

		async relayDocuments(this: EventsThis, collection: string, ids: readonly string[]): Promise<void> {
			const coll = this.collection<OutboxDoc>(collection);
			try {
				for (const id of new Set(ids)) await this.relayDocument(coll, id);
			} catch (err) {
				this.logger.warn(`Relay of ${collection} documents failed; the poll or the sweep publishes them: ${(err as Error).message}`);
			}
		},

		/**
		 * Publish one document's outbox, one relay per document at a time (its events stay in order):
		 * asked while it runs, it runs once more after, for the events written meanwhile. The document
		 * is read here, never taken from an earlier scan (which could hold events published since, and
		 * send them again after newer ones). True when this node published it.
		 */
		relayDocument(this: EventsThis, coll: Collection<OutboxDoc>, id: string): Promise<boolean> {
			const key = `${coll.name}\u0000${id}`;
			const running = this.$relay.documents.get(key);
			if (running) {
				running.again = true;
				return running.done;
			}
			const entry: { again: boolean; done: Promise<boolean> } = { again: false, done: Promise.resolve(false) };
			entry.done = (async () => {
				try {
					let published = false;
					do {
						entry.again = false;
						const doc = await coll.findById(id);
						if (doc) published = (await this.publishOutbox(coll, doc)) || published;
					} while (entry.again && !this.$relay.stopped);
					return published;
				} finally {
					this.$relay.documents.delete(key);
				}
			})();
			this.$relay.documents.set(key, entry);
			return entry.done;
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
	};
}
