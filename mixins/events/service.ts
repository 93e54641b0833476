/** What the events mixin adds to a service, as its parts (relay.ts, consumer.ts) see it. */
import type { Context, Service } from "moleculer";
import type { EventEnvelope, EventPayloads, EventType } from "../../lib/contracts/events.js";
import type { EventHandler, EventBus } from "../../lib/events/bus.js";
import type { Collection, Doc, OutboxPort } from "../../lib/store/index.js";
import type { RelayOwnership } from "../../lib/events/relay-owner.js";

export interface OutboxDoc extends Doc {
	outbox?: EventEnvelope[];
}

export interface EventsMixinOptions {
	/** Collections whose documents carry an `outbox` array, scanned by every relay. */
	outbox?: string[];
	/** Collections whose writers relay the documents they wrote (`relayDocuments`); swept for leftovers. */
	documentOutbox?: string[];
}

export interface EventsMethods {
	integrationEvent<T extends EventType>(type: T, payload: EventPayloads[T], ctx?: Context | null): EventEnvelope<T>;
	relayOutbox(): Promise<void>;
	/** Publish the outboxes of these documents of a `documentOutbox` collection. Never throws: the sweep retries. */
	relayDocuments(collection: string, ids: readonly string[]): Promise<void>;
}

export type IntegrationHandler = (this: unknown, event: EventEnvelope, ctx: Context) => Promise<void>;

export type EventsThis = Service &
	EventsMethods & {
		collection<T extends Doc>(name: string): Collection<T>;
		relayCollection(name: string): Promise<void>;
		/** Publish one document's outbox; false when it is left to another node. */
		publishOutbox(coll: Collection<OutboxDoc>, doc: OutboxDoc): Promise<boolean>;
		sweepDocumentOutboxes(): Promise<void>;
		outboxBacklog(): Promise<number>;
		applyIntegrationEvent(event: EventEnvelope): Promise<void>;
		$bus?: EventBus;
		$handler?: EventHandler;
		$nodeHandler?: EventHandler;
		$relay: {
			timer?: NodeJS.Timeout;
			sweep?: NodeJS.Timeout;
			running: boolean;
			again: boolean;
			stopped: boolean;
			current?: Promise<void>;
			swept: number;
			/** The oldest `occurredAt` the current pass found waiting (shop_outbox_oldest_event_age_seconds). */
			oldest?: string;
		};
		$brokerStarted: Promise<void>;
		$relayOwnership: RelayOwnership;
		$outbox: OutboxPort;
		$markBrokerStarted: () => void;
		beginRelaying(): void;
	};
