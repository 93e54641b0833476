/**
 * Domain events over Apache Kafka (kafkajs).
 *
 * - One topic per event family (lib/events/catalog.ts TOPICS), created at connect if missing,
 *   with KAFKA_PARTITIONS partitions; the message key is the aggregate id, so one order's
 *   events stay in order on one partition.
 * - Producer: idempotent, acks=all. `publish` resolves only when Kafka acknowledged every
 *   message; the outbox relay pulls events out of the outbox only after that.
 * - One consumer group per service (`shop.<service>`), so several nodes of a service share the
 *   partitions. Offsets are committed only after the handler succeeded; a failing handler is
 *   retried with backoff and then parked on the dead-letter topic with its error, and the
 *   consumer goes on.
 * - Headers carry the event id, type and request id.
 */
import { Kafka, logLevel, type Consumer, type Producer, type Admin, type IHeaders, type KafkaMessage } from "kafkajs";
import type { Logger } from "moleculer";
import { EVENTS, TOPICS, type EventEnvelope, type EventType } from "./catalog.js";
import { backoff, DEFAULT_RETRY, sleep, type EventHandler, type EventTransport, type RetryPolicy, type TransportHealth } from "./transport.js";

export const DEAD_LETTER_TOPIC = "shop.dead-letter";

export interface KafkaTransportOptions {
	brokers: string[];
	clientId: string;
	logger: Logger;
	/** Called after an event was parked on the dead-letter topic (for metrics). */
	onDeadLetter?: (group: string, type: EventType | undefined, error: string) => void;
	partitions?: number;
	retry?: RetryPolicy;
	/** Prefix of consumer group ids (default `shop.`: `shop.<service>`). */
	groupPrefix?: string;
	/** Prefix of topic names (default `shop.`: `shop.orders`, ..., `shop.dead-letter`). */
	topicPrefix?: string;
}

interface Subscription {
	consumer: Consumer;
	handler: EventHandler;
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
	const v = headers?.[name];
	if (v === undefined) return undefined;
	return Array.isArray(v) ? String(v[0]) : String(v);
}

export class KafkaTransport implements EventTransport {
	readonly kind = "kafka" as const;
	private readonly kafka: Kafka;
	private producer?: Producer;
	private admin?: Admin;
	private readonly subscriptions = new Map<string, Subscription[]>();
	private readonly partitions: number;
	private readonly retry: RetryPolicy;
	private readonly topicPrefix: string;
	private stopping?: Promise<void>;

	constructor(private readonly opts: KafkaTransportOptions) {
		this.partitions = opts.partitions ?? Number(process.env.KAFKA_PARTITIONS ?? 6);
		this.retry = opts.retry ?? DEFAULT_RETRY;
		this.topicPrefix = opts.topicPrefix ?? "shop.";
		const log = opts.logger;
		this.kafka = new Kafka({
			clientId: opts.clientId,
			brokers: opts.brokers,
			connectionTimeout: 3000,
			requestTimeout: 10_000,
			retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5000 },
			logLevel: logLevel.WARN,
			logCreator: () => entry => {
				const msg = `kafka ${entry.namespace}: ${entry.log.message}`;
				if (entry.level <= logLevel.ERROR) log.warn(msg);
				else if (entry.level === logLevel.WARN) log.info(msg);
				else log.debug(msg);
			},
		});
	}

	async connect(): Promise<void> {
		this.admin = this.kafka.admin();
		await this.admin.connect();
		await this.ensureTopics();
		this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
		await this.producer.connect();
	}

	/** The Kafka name of a catalog topic (`shop.orders`) under this transport's prefix. */
	topicName(topic: string): string {
		return this.topicPrefix + topic.replace(/^shop\./, "");
	}

	private async ensureTopics(): Promise<void> {
		const existing = new Set(await this.admin!.listTopics());
		const wanted = [...Object.values(TOPICS), DEAD_LETTER_TOPIC].map(t => this.topicName(t)).filter(t => !existing.has(t));
		if (wanted.length === 0) return;
		try {
			await this.admin!.createTopics({ waitForLeaders: true, topics: wanted.map(topic => ({ topic, numPartitions: this.partitions, replicationFactor: -1 })) });
		} catch (err) {
			// Another node created them at the same moment.
			if (!/already exists/i.test((err as Error).message)) throw err;
		}
	}

	disconnect(): Promise<void> {
		// Consumers first (an in-flight handler is abandoned uncommitted), then the producer.
		this.stopping ??= (async () => {
			const consumers = [...this.subscriptions.values()].flat().map(s => s.consumer);
			this.subscriptions.clear();
			await Promise.all(consumers.map(c => c.disconnect().catch(() => undefined)));
			await this.producer?.disconnect().catch(() => undefined);
			await this.admin?.disconnect().catch(() => undefined);
		})();
		return this.stopping;
	}

	async health(): Promise<TransportHealth> {
		try {
			await this.admin!.describeCluster();
			return { ok: true };
		} catch (err) {
			return { ok: false, detail: `Kafka: ${(err as Error).message}` };
		}
	}

	async publish(events: EventEnvelope[]): Promise<void> {
		if (events.length === 0) return;
		const byTopic = new Map<string, { key: string; value: string; headers: IHeaders }[]>();
		for (const e of events) {
			const topic = this.topicName(EVENTS[e.type].topic);
			const list = byTopic.get(topic) ?? [];
			list.push({ key: e.key, value: JSON.stringify(e), headers: { "event-id": e.id, "event-type": e.type, "request-id": e.requestId ?? "" } });
			byTopic.set(topic, list);
		}
		await this.producer!.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
	}

	async subscribe(group: string, types: readonly EventType[], handler: EventHandler): Promise<void> {
		const wanted = new Set(types);
		const topics = [...new Set(types.map(t => this.topicName(EVENTS[t].topic)))];
		const groupId = `${this.opts.groupPrefix ?? "shop."}${group}`;
		const consumer = this.kafka.consumer({
			groupId,
			sessionTimeout: 10_000,
			heartbeatInterval: 1000,
			rebalanceTimeout: 15_000,
			allowAutoTopicCreation: false,
			retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5000 },
		});
		await consumer.connect();
		// From the beginning for a new group: events published before the group first joined count.
		await consumer.subscribe({ topics, fromBeginning: true });
		await consumer.run({
			autoCommit: false,
			partitionsConsumedConcurrently: this.partitions,
			eachMessage: async ({ topic, partition, message }) => {
				await this.handleMessage(group, wanted, handler, topic, message);
				// Commit only after the handler succeeded (or the event was dead-lettered).
				await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
			},
		});
		const subs = this.subscriptions.get(group) ?? [];
		subs.push({ consumer, handler });
		this.subscriptions.set(group, subs);
	}

	private async handleMessage(group: string, wanted: Set<EventType>, handler: EventHandler, topic: string, message: KafkaMessage): Promise<void> {
		const type = header(message.headers, "event-type") as EventType | undefined;
		if (!type || !wanted.has(type)) return;
		let event: EventEnvelope;
		try {
			event = JSON.parse(message.value?.toString() ?? "") as EventEnvelope;
		} catch (err) {
			await this.deadLetter(group, topic, message, `unparsable: ${(err as Error).message}`);
			return;
		}
		for (let attempt = 0; ; attempt++) {
			try {
				await handler(event);
				return;
			} catch (err) {
				// Shutting down: leave it uncommitted; the group's next owner gets it again.
				if (this.stopping) throw err;
				if (attempt + 1 >= this.retry.attempts) {
					this.opts.logger.error(`Event ${event.type} ${event.id} failed ${attempt + 1} times in '${group}'; dead-lettered: ${(err as Error).message}`);
					await this.deadLetter(group, topic, message, (err as Error).message);
					return;
				}
				await sleep(backoff(attempt, this.retry));
			}
		}
	}

	private async deadLetter(group: string, topic: string, message: KafkaMessage, error: string): Promise<void> {
		this.opts.onDeadLetter?.(group, header(message.headers, "event-type") as EventType | undefined, error);
		await this.producer!.send({
			topic: this.topicName(DEAD_LETTER_TOPIC),
			acks: -1,
			messages: [{ key: message.key, value: message.value, headers: { ...message.headers, "dead-letter-group": group, "dead-letter-topic": topic, "dead-letter-offset": message.offset, "dead-letter-error": error.slice(0, 1000) } }],
		});
	}

	async unsubscribe(group: string, handler: EventHandler): Promise<void> {
		const subs = this.subscriptions.get(group) ?? [];
		for (const s of subs.filter(s => s.handler === handler)) await s.consumer.disconnect().catch(() => undefined);
		this.subscriptions.set(group, subs.filter(s => s.handler !== handler));
	}
}
