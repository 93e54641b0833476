/**
 * One event bus per broker, shared by the services of that broker (process).
 * Kafka when KAFKA_BROKERS is set, in-process otherwise.
 */
import type { ServiceBroker, Logger } from "moleculer";
import { config } from "../config.js";
import { InProcessBus, type EventBus } from "./bus.js";
import { recordDeadLetter, setConsumerLag } from "../observability/metrics.js";

interface Entry {
	bus: EventBus;
	users: number;
	connecting?: Promise<void>;
}
const entries = new WeakMap<ServiceBroker, Entry>();

async function createBus(broker: ServiceBroker, logger: Logger): Promise<EventBus> {
	if (config.kafkaBrokers.length > 0) {
		const { KafkaBus } = await import("./kafka-bus.js");
		// Topics and consumer groups are named after the namespace, like the NATS subjects: the
		// default `shop` gives `shop.orders` and `shop.<service>`; another namespace is another cluster.
		const prefix = `${broker.namespace || "shop"}.`.replace(/[^A-Za-z0-9._-]/g, "-");
		return new KafkaBus({
			brokers: config.kafkaBrokers,
			clientId: broker.nodeID,
			logger,
			groupPrefix: prefix,
			topicPrefix: prefix,
			onDeadLetter: (group, type) => recordDeadLetter(broker, { group, type }),
			onConsumerLag: (group, topic, partition, lag) => setConsumerLag(broker, group, topic, partition, lag),
			partitions: config.kafkaTopics.partitions,
			replicationFactor: config.kafkaTopics.replicationFactor,
			...(config.kafkaTopics.minInsyncReplicas !== undefined ? { minInsyncReplicas: config.kafkaTopics.minInsyncReplicas } : {}),
		});
	}
	return new InProcessBus(undefined, dead => {
		logger.error(`Event ${dead.event.type} ${dead.event.id} dead-lettered for '${dead.group}': ${dead.error}`);
		recordDeadLetter(broker, { group: dead.group, type: dead.event.type });
	});
}

/** The transport of this broker, connected. Call `releaseBus` once per acquire. */
export async function acquireBus(broker: ServiceBroker): Promise<EventBus> {
	let entry = entries.get(broker);
	if (!entry) {
		const logger = broker.getLogger("events");
		const transport = await createBus(broker, logger);
		entry = entries.get(broker) ?? { bus: transport, users: 0 };
		entries.set(broker, entry);
		entry.connecting = entry.bus.connect();
	}
	entry.users++;
	await entry.connecting;
	return entry.bus;
}

export async function releaseBus(broker: ServiceBroker): Promise<void> {
	const entry = entries.get(broker);
	if (!entry) return;
	entry.users--;
	if (entry.users <= 0) {
		entries.delete(broker);
		await entry.bus.disconnect();
	}
}

/** The transport if one is in use (for readiness checks and tests). */
export function currentBus(broker: ServiceBroker): EventBus | undefined {
	return entries.get(broker)?.bus;
}
