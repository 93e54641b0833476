/** What the events mixin adds to a service, as its parts (relay.ts, consumer.ts) see it. */
import type { Context, Service } from "moleculer";
import type { EventEnvelope, EventPayloads, EventType } from "../../lib/contracts/events.js";
import type { EventHandler, EventBus } from "../../lib/events/bus.js";
import type { Collection, Doc, OutboxPort } from "../../lib/store/index.js";
import type { RelayOwnership } from "../../lib/events/relay-owner.js";
import type { GroupWrite } from "../../lib/store/group-write.js";

export interface OutboxDoc extends Doc {
	outbox?: EventEnvelope[];
}

export interface EventsMixinOptions {
	/** Collections whose documents carry an `outbox` array: relayed by their writers, and scanned by the poll (OUTBOX_POLL_MS). */
	outbox?: string[];
	/** Collections whose writers relay the documents they wrote (`relayDocuments`); swept for leftovers. */
	documentOutbox?: string[];
}

export interface EventsMethods {
	integrationEvent<T extends EventType>(type: T, payload: EventPayloads[T], ctx?: Context | null): EventEnvelope<T>;
	relayOutbox(): Promise<void>;
	/** Publish the outboxes of these documents of an outbox collection. Never throws: the poll or the sweep retries. */
	relayDocuments(collection: string, ids: readonly string[]): Promise<void>;
}

export type IntegrationHandler = (this: unknown, event: EventEnvelope, ctx: Context) => Promise<void>;

export type EventsThis = Service &
	EventsMethods & {
		collection<T extends Doc>(name: string): Collection<T>;
		relayCollection(name: string): Promise<void>;
		/** Publish one document's outbox; false when it is left to another node. */
		publishOutbox(coll: Collection<OutboxDoc>, doc: OutboxDoc): Promise<boolean>;
		relayDocument(coll: Collection<OutboxDoc>, id: string): Promise<boolean>;
		pullPublished(coll: Collection<OutboxDoc>, id: string, events: readonly EventEnvelope[]): Promise<void>;
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
			/** Documents being relayed now (`collection\u0000id`), and whether they were asked for again meanwhile. */
			documents: Map<string, { again: boolean; done: Promise<boolean> }>;
			/** Per collection: pulls of published events, written together (lib/store/group-write.ts). */
			pulls: Map<string, GroupWrite<{ id: string; eventIds: string[] }>>;
		};
		$brokerStarted: Promise<void>;
		$relayOwnership: RelayOwnership;
		$outbox: OutboxPort;
		$markBrokerStarted: () => void;
		beginRelaying(): void;
	};
