/**
 * One event transport per broker, shared by the services of that broker (process).
 * Kafka when KAFKA_BROKERS is set, in-process otherwise.
 */
import type { ServiceBroker, Logger } from "moleculer";
import { config } from "../config.js";
import { InProcessTransport, type EventTransport } from "./transport.js";
import { recordDeadLetter, setConsumerLag } from "../observability/metrics.js";

interface Entry {
	transport: EventTransport;
	users: number;
	connecting?: Promise<void>;
}
const entries = new WeakMap<ServiceBroker, Entry>();

async function createTransport(broker: ServiceBroker, logger: Logger): Promise<EventTransport> {
	if (config.kafkaBrokers.length > 0) {
		const { KafkaTransport } = await import("./kafka-transport.js");
		// Topics and consumer groups are named after the namespace, like the NATS subjects: the
		// default `shop` gives `shop.orders` and `shop.<service>`; another namespace is another cluster.
		const prefix = `${broker.namespace || "shop"}.`.replace(/[^A-Za-z0-9._-]/g, "-");
		return new KafkaTransport({
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
	return new InProcessTransport(undefined, dead => {
		logger.error(`Event ${dead.event.type} ${dead.event.id} dead-lettered for '${dead.group}': ${dead.error}`);
		recordDeadLetter(broker, { group: dead.group, type: dead.event.type });
	});
}

/** The transport of this broker, connected. Call `releaseTransport` once per acquire. */
export async function acquireTransport(broker: ServiceBroker): Promise<EventTransport> {
	let entry = entries.get(broker);
	if (!entry) {
		const logger = broker.getLogger("events");
		const transport = await createTransport(broker, logger);
		entry = entries.get(broker) ?? { transport, users: 0 };
		entries.set(broker, entry);
		entry.connecting = entry.transport.connect();
	}
	entry.users++;
	await entry.connecting;
	return entry.transport;
}

export async function releaseTransport(broker: ServiceBroker): Promise<void> {
	const entry = entries.get(broker);
	if (!entry) return;
	entry.users--;
	if (entry.users <= 0) {
		entries.delete(broker);
		await entry.transport.disconnect();
	}
}

/** The transport if one is in use (for readiness checks and tests). */
export function currentTransport(broker: ServiceBroker): EventTransport | undefined {
	return entries.get(broker)?.transport;
}
