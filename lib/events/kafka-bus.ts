/**
 * Domain events over Apache Kafka (@platformatic/kafka).
 *
 * - One topic per event family (lib/events/catalog.ts TOPICS), created at connect if missing,
 *   with `partitions` partitions (default 6), `replicationFactor` replicas (default: the
 *   broker's default) and, when given, `min.insync.replicas`. The message key is the aggregate
 *   id, so one order's events stay in order on one partition; keys go to the same partitions as
 *   with the Java client and kafkajs (murmur2, `compatibilityPartitioner`).
 * - Producer: idempotent, acks=all. `publish` resolves only when Kafka acknowledged every
 *   message; the outbox relay pulls events out of the outbox only after that. It gives up after
 *   about 20 s without a broker, so the events wait in the outbox instead.
 * - One consumer group per service (`<groupPrefix><service>`), so several nodes of a service
 *   share the partitions; a new group reads from the beginning. The partitions of a node are
 *   handled side by side, one message at a time per partition. Offsets are committed only after
 *   the handler succeeded (or the event was dead-lettered); a failing handler is retried with
 *   backoff and then parked on the dead-letter topic with its error, and the consumer goes on.
 *   A transient failure (the database or a service away: bus.ts `HandlerTries`) is retried
 *   until the dependency is back, uncommitted, and never dead-lettered.
 * - A consumer whose stream or group membership fails (a broker outage longer than its
 *   retries) is closed and made again with backoff; what it had not committed is redelivered.
 * - At stop (a node's graceful stop) a member takes no next message, lets each partition finish
 *   the one it is handling (bounded), commits, and leaves its group, so the partitions move to the
 *   other nodes at once and nothing is handled twice.
 * - With several brokers (KAFKA_BROKERS lists them all), topics get `replicationFactor` replicas
 *   and `min.insync.replicas`: with 3 and 2, an acknowledged event is on two brokers, and one
 *   broker down stops neither producing nor consuming (its partitions get new leaders).
 * - `onConsumerLag` gets, every `lagIntervalMs`, end offset minus committed offset of each
 *   partition a group holds on this node (0 once the node no longer holds it).
 * - Headers carry the event id, type and request id, and the W3C `traceparent` when the event is
 *   traced; a consumer takes the trace context from the header (it names the relay's publish span).
 *
 * This file is the bus (topics, producer, handling and dead-lettering); each subscription's group
 * member is kafka-group-consumer.ts, its lag kafka-lag.ts.
 */
import { Admin, Producer, compatibilityPartitioner, ProduceAcks, stringSerializer } from "@platformatic/kafka";
import { CONNECTION, PRODUCER_RETRIES, retryDelay, type KafkaMessage, type Key, type Value } from "./kafka-client.js";
import { describeError, onlyTopicsExisted, withTimeout } from "./kafka-errors.js";
import { GroupConsumer } from "./kafka-group-consumer.js";
import type { Logger } from "moleculer";
import { EVENTS, TOPICS, type EventEnvelope, type EventType } from "../contracts/events.js";
import { DEFAULT_RETRY, HandlerTries, sleep, type EventHandler, type EventBus, type RetryPolicy, type BusHealth } from "./bus.js";

export const DEAD_LETTER_TOPIC = "shop.dead-letter";

export interface KafkaBusOptions {
	brokers: string[];
	clientId: string;
	logger: Logger;
	/** Called after an event was parked on the dead-letter topic (for metrics). */
	onDeadLetter?: (group: string, type: EventType | undefined, error: string) => void;
	/** Partitions of each topic the bus creates (default 6). */
	partitions?: number;
	/** Replicas of each topic the bus creates (default -1: the broker's `default.replication.factor`). */
	replicationFactor?: number;
	/** `min.insync.replicas` of each topic the bus creates (default: the broker's). */
	minInsyncReplicas?: number;
	retry?: RetryPolicy;
	/** Prefix of consumer group ids (default `shop.`: `shop.<service>`). */
	groupPrefix?: string;
	/** Prefix of topic names (default `shop.`: `shop.orders`, ..., `shop.dead-letter`). */
	topicPrefix?: string;
	/**
	 * Consumer lag of each partition a group (the service name given to `subscribe`) holds on
	 * this node: end offset minus committed offset, every `lagIntervalMs`. A partition the node
	 * stops holding is reported once more with 0 (its new owner reports it from then on).
	 */
	onConsumerLag?: (group: string, topic: string, partition: number, lag: number) => void;
	/** How often lag is measured (default 5000 ms; two small requests per group each time). */
	lagIntervalMs?: number;
}

type Headers = Map<string, string>;

const HEALTH_TIMEOUT_MS = 3000;

export class KafkaBus implements EventBus {
	readonly kind = "kafka" as const;
	private readonly admin: Admin;
	private readonly producer: Producer<Key, Value, string, string>;
	private readonly subscriptions = new Map<string, GroupConsumer[]>();
	private readonly partitions: number;
	private readonly retry: RetryPolicy;
	private readonly topicPrefix: string;
	private stopping?: Promise<void>;

	constructor(private readonly opts: KafkaBusOptions) {
		this.partitions = opts.partitions ?? 6;
		this.retry = opts.retry ?? DEFAULT_RETRY;
		this.topicPrefix = opts.topicPrefix ?? "shop.";
		const base = { clientId: opts.clientId, bootstrapBrokers: opts.brokers, ...CONNECTION };
		this.admin = new Admin({ ...base, retries: 3, retryDelay: retryDelay(250, 2000) });
		this.producer = new Producer<Key, Value, string, string>({
			...base,
			...PRODUCER_RETRIES,
			idempotent: true,
			acks: ProduceAcks.ALL,
			autocreateTopics: false,
			partitioner: compatibilityPartitioner,
			serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
		});
	}

	async connect(): Promise<void> {
		await this.ensureTopics();
		// Get the producer id now, so that a broker problem shows at start rather than at the first event.
		await this.producer.initIdempotentProducer({});
	}

	/** The Kafka name of a catalog topic (`shop.orders`) under this bus's prefix. */
	topicName(topic: string): string {
		return this.topicPrefix + topic.replace(/^shop\./, "");
	}

	private async ensureTopics(): Promise<void> {
		const all = [...Object.values(TOPICS), DEAD_LETTER_TOPIC].map(t => this.topicName(t));
		const existing = new Set(await this.admin.listTopics());
		const wanted = all.filter(t => !existing.has(t));
		if (wanted.length > 0) {
			try {
				await this.admin.createTopics({
					topics: wanted,
					partitions: this.partitions,
					replicas: this.opts.replicationFactor ?? -1,
					configs: this.opts.minInsyncReplicas === undefined ? [] : [{ name: "min.insync.replicas", value: String(this.opts.minInsyncReplicas) }],
				});
			} catch (err) {
				// Another node created (some of) them at the same moment.
				if (!onlyTopicsExisted(err)) throw err;
			}
		}
		await this.waitForLeaders(all);
	}

	/** Created topics get their partition leaders a moment later; a consumer joining before would miss them. */
	private async waitForLeaders(topics: string[], timeoutMs = 15_000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const meta = await this.admin.metadata({ topics, forceUpdate: true }).catch(() => undefined);
			const ready =
				meta &&
				topics.every(t => {
					const topic = meta.topics.get(t);
					return topic !== undefined && topic.partitionsCount > 0 && topic.partitions.every(p => p.leader >= 0);
				});
			if (ready) return;
			if (Date.now() > deadline) throw new Error(`Kafka topics have no leader after ${timeoutMs} ms: ${topics.join(", ")}`);
			await sleep(250);
		}
	}

	disconnect(): Promise<void> {
		// Consumers first (an in-flight handler is abandoned uncommitted), then the producer.
		this.stopping ??= (async () => {
			const consumers = [...this.subscriptions.values()].flat();
			this.subscriptions.clear();
			await Promise.all(consumers.map(c => c.stop()));
			await withTimeout(this.producer.close(true), 5000, "closing the producer").catch(() => undefined);
			await withTimeout(this.admin.close(), 5000, "closing the admin client").catch(() => undefined);
		})();
		return this.stopping;
	}

	async health(): Promise<BusHealth> {
		// Cluster metadata without topics, bounded: is some broker answering? A request that was on
		// the connection of a broker dying at that moment fails ("Connection closed"); asked once
		// more, another broker answers, so one broker of a cluster going away is not "not ready".
		let lastError: unknown;
		for (let attempt = 0; attempt < 2; attempt++) {
			try {
				await withTimeout(this.admin.metadata({ topics: [], forceUpdate: true, retries: 0 }), HEALTH_TIMEOUT_MS, "metadata");
				return { ok: true };
			} catch (err) {
				lastError = err;
			}
		}
		return { ok: false, detail: `Kafka: ${describeError(lastError)}` };
	}

	async publish(events: EventEnvelope[]): Promise<void> {
		if (events.length === 0) return;
		await this.producer.send({
			messages: events.map(e => ({
				topic: this.topicName(EVENTS[e.type].topic),
				key: e.key,
				value: Buffer.from(JSON.stringify(e)),
				headers: new Map([
					["event-id", e.id],
					["event-type", e.type],
					["request-id", e.requestId ?? ""],
					...(e.traceparent ? [["traceparent", e.traceparent] as [string, string]] : []),
				]),
			})),
		});
	}

	async subscribe(group: string, types: readonly EventType[], handler: EventHandler): Promise<void> {
		const wanted = new Set(types);
		const topics = [...new Set(types.map(t => this.topicName(EVENTS[t].topic)))];
		const member = new GroupConsumer({
			group,
			groupId: `${this.opts.groupPrefix ?? "shop."}${group}`,
			topics,
			clientId: this.opts.clientId,
			brokers: this.opts.brokers,
			logger: this.opts.logger,
			lagIntervalMs: this.opts.lagIntervalMs ?? 5000,
			onConsumerLag: this.opts.onConsumerLag,
			handle: (message, abandoned) => this.handleMessage(group, wanted, handler, message, abandoned),
		});
		member.handler = handler;
		await member.start();
		const subs = this.subscriptions.get(group) ?? [];
		subs.push(member);
		this.subscriptions.set(group, subs);
		if (this.stopping) await member.stop();
	}

	/** Resolves when the message is done with (handled, or dead-lettered); rejects if abandoned meanwhile. */
	private async handleMessage(group: string, wanted: Set<EventType>, handler: EventHandler, message: KafkaMessage, abandoned: () => boolean): Promise<void> {
		const type = message.headers.get("event-type") as EventType | undefined;
		if (!type || !wanted.has(type)) return;
		let event: EventEnvelope;
		try {
			event = JSON.parse(message.value?.toString() ?? "") as EventEnvelope;
			const traceparent = message.headers.get("traceparent");
			if (traceparent) event.traceparent = traceparent;
		} catch (err) {
			await this.deadLetter(group, message, `unparsable: ${(err as Error).message}`, abandoned);
			return;
		}
		const tries = new HandlerTries(this.retry);
		for (;;) {
			try {
				await handler(event);
				return;
			} catch (err) {
				// Shutting down, or the partition went to another node: leave it uncommitted; its next owner gets it again.
				if (this.stopping || abandoned()) throw err;
				const delay = tries.after(err);
				if (delay === undefined) {
					this.opts.logger.error(
						`Event ${event.type} ${event.id} failed ${this.retry.attempts} times in '${group}'; dead-lettered: ${(err as Error).message}`,
					);
					await this.deadLetter(group, message, (err as Error).message, abandoned);
					return;
				}
				// A dependency that is away is waited for, uncommitted (said once); a failure of the event is tried again.
				if (tries.waited === 1) this.opts.logger.warn(`Event ${event.type} ${event.id} waits in '${group}': ${(err as Error).message}`);
				await sleep(delay);
			}
		}
	}

	/** Park a message on the dead-letter topic; keeps trying (Kafka may be away) until it is there or abandoned. */
	private async deadLetter(group: string, message: KafkaMessage, error: string, abandoned: () => boolean): Promise<void> {
		const headers: Headers = new Map(message.headers);
		headers.set("dead-letter-group", group);
		headers.set("dead-letter-topic", message.topic);
		headers.set("dead-letter-offset", String(message.offset));
		headers.set("dead-letter-error", error.slice(0, 1000));
		for (let attempt = 0; ; attempt++) {
			try {
				await this.producer.send({ messages: [{ topic: this.topicName(DEAD_LETTER_TOPIC), key: message.key, value: message.value, headers }] });
				break;
			} catch (err) {
				if (this.stopping || abandoned()) throw err;
				this.opts.logger.warn(
					`Could not dead-letter an event of '${group}' (${message.topic}:${message.partition}@${message.offset}), will retry: ${describeError(err)}`,
				);
				await sleep(Math.min(5000, 500 * 2 ** attempt));
			}
		}
		this.opts.onDeadLetter?.(group, message.headers.get("event-type") as EventType | undefined, error);
	}

	async unsubscribe(group: string, handler: EventHandler): Promise<void> {
		const subs = this.subscriptions.get(group) ?? [];
		await Promise.all(subs.filter(s => s.handler === handler).map(s => s.stop()));
		this.subscriptions.set(
			group,
			subs.filter(s => s.handler !== handler),
		);
	}
}
