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
 *
 *   events/relay.ts     publishing: the outbox relay, the sweep, the port the store writes through
 *   events/consumer.ts  consuming: subscriptions and the once-only application of an event
 *   events/service.ts   what the mixin adds to a service
 */
import type { ServiceSchema } from "moleculer";
import { RELAY_ABANDON_MS, RELAY_GRACE_MS } from "../lib/events/relay-owner.js";
import { acquireBus, releaseBus } from "../lib/events/registry.js";
import { defineMixin } from "../lib/broker/service.js";
import { outboxPort, relayMethods } from "./events/relay.js";
import { consumerMethods, subscribeConsumers, unsubscribeConsumers } from "./events/consumer.js";
import type { EventsMixinOptions, EventsThis } from "./events/service.js";

export type { EventsMethods, EventsMixinOptions, OutboxDoc } from "./events/service.js";
export type { MakeEnvelope } from "../lib/store/index.js";

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
			const nodes = this.broker.registry.nodes;
			this.$relayOwnership = {
				self: this.broker.nodeID,
				// `get` answers undefined for a node the registry never saw (its declaration says otherwise).
				isAlive: id => nodes.get(id)?.available === true,
				graceMs: RELAY_GRACE_MS,
				abandonMs: RELAY_ABANDON_MS,
			};
			this.$outbox = outboxPort(this, outboxCollections, documentOutboxes);
			this.$brokerStarted = new Promise<void>(resolve => (this.$markBrokerStarted = resolve));
		},
		async started() {
			this.$bus = await acquireBus(this.broker);
			await subscribeConsumers(this);
			if (this.broker.started) this.beginRelaying();
		},
		async stopped() {
			// A graceful stop hands over: consumers first (each partition finishes the event it is handling and
			// commits, lib/events/kafka-bus.ts), then a last relay pass publishes what they and the last calls
			// wrote; bounded, as Kafka may be away (what is left waits for another node's relay or the next start).
			await unsubscribeConsumers(this);
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
		methods: { ...relayMethods(outboxCollections, documentOutboxes), ...consumerMethods },
	});
}
