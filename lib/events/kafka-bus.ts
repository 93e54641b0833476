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
 */
import {
	Admin,
	Consumer,
	Producer,
	compatibilityPartitioner,
	findErrorBy,
	ListOffsetTimestamps,
	MessagesStreamFallbackModes,
	MessagesStreamModes,
	ProduceAcks,
	stringDeserializer,
	stringSerializer,
	type GroupAssignment,
	type Message,
	type MessagesStream,
	type RetryDelayGetter,
} from "@platformatic/kafka";
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

type Key = string;
type Value = Buffer;
type Headers = Map<string, string>;
type KafkaMessage = Message<Key, Value, string, string>;
type KafkaConsumer = Consumer<Key, Value, string, string>;
type KafkaStream = MessagesStream<Key, Value, string, string>;

/** Exponential delays between the client's own retries of one request (ms). */
const retryDelay =
	(base: number, max: number): RetryDelayGetter =>
	(_client, _operation, attempt) =>
		Math.min(max, base * 2 ** (attempt - 1));

/** Producer: 8 retries, 200 ms doubling to 5 s: a send gives up after about 20 s without a broker. */
const PRODUCER_RETRIES = { retries: 8, retryDelay: retryDelay(200, 5000) };
/** Consumer: 5 retries, 250 ms doubling to 3 s; past that the consumer is made again (see GroupConsumer). */
const CONSUMER_RETRIES = { retries: 5, retryDelay: retryDelay(250, 3000) };
const CONNECTION = { connectTimeout: 3000, requestTimeout: 15_000 };
/** Messages waiting in a node's partition queues before fetching pauses, and when it resumes. */
const QUEUE_HIGH = 512;
const QUEUE_LOW = 128;
/** At stop, how long the partitions may take to finish the message each is handling. */
const STOP_DRAIN_MS = 5000;
/** A consumer out of its group this long is made again. */
const INACTIVE_LIMIT_MS = 60_000;
const HEALTH_TIMEOUT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
		timer.unref();
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(err: unknown): string {
	if (!(err instanceof Error)) return String(err);
	// The client wraps causes in MultipleErrors (an AggregateError): name the innermost ones.
	const leaves: string[] = [];
	const walk = (e: Error) => {
		const nested = e instanceof AggregateError ? e.errors.filter((x): x is Error => x instanceof Error) : [];
		if (nested.length === 0) leaves.push(e.message);
		else nested.forEach(walk);
	};
	walk(err);
	const detail = [...new Set(leaves)].filter(m => m !== err.message).join("; ");
	return detail ? `${err.message} (${detail})` : err.message;
}

/** True when every leaf of a (possibly nested) client error is TOPIC_ALREADY_EXISTS. */
function onlyTopicsExisted(err: unknown): boolean {
	const leaves: unknown[] = [];
	const walk = (e: unknown) => {
		if (e instanceof AggregateError && e.errors.length > 0) e.errors.forEach(walk);
		else leaves.push(e);
	};
	walk(err);
	return leaves.length > 0 && leaves.every(e => e instanceof Error && findErrorBy(e, "apiId", "TOPIC_ALREADY_EXISTS") !== null);
}

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
		return { ok: false, detail: `Kafka: ${describe(lastError)}` };
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
				// A dependency is away: this partition waits (uncommitted) until it is back.
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
					`Could not dead-letter an event of '${group}' (${message.topic}:${message.partition}@${message.offset}), will retry: ${describe(err)}`,
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

// ---------------------------------------------------------------------------------------------
// One consumer group member: partition queues, commits, lag, and making the consumer again.

interface GroupConsumerOptions {
	group: string;
	groupId: string;
	topics: string[];
	clientId: string;
	brokers: string[];
	logger: Logger;
	lagIntervalMs: number;
	onConsumerLag?: (group: string, topic: string, partition: number, lag: number) => void;
	handle: (message: KafkaMessage, abandoned: () => boolean) => Promise<void>;
}

interface Lane {
	key: string;
	queue: KafkaMessage[];
	/** Offset after the last message taken into this queue: anything below is a refetched copy. */
	next: bigint;
	running: boolean;
	/** The loop taking this queue's messages, while it runs. */
	run?: Promise<void>;
	alive: boolean;
}

interface PendingCommit {
	topic: string;
	partition: number;
	offset: bigint;
	leaderEpoch: number;
}

const partitionKey = (topic: string, partition: number) => `${topic}:${partition}`;

function generationOf(message: KafkaMessage): number {
	const consumer = message.metadata.consumer as { generationId?: unknown } | undefined;
	return typeof consumer?.generationId === "number" ? consumer.generationId : -1;
}

class GroupConsumer {
	handler?: EventHandler;
	private consumer?: KafkaConsumer;
	private stream?: KafkaStream;
	/** Incarnation of the current consumer; anything tagged with an older one is ignored. */
	private current = 0;
	private incarnations = 0;
	private stopped = false;
	/** Stopping: the partitions finish their current message, then the member leaves (see stop). */
	private finishing = false;
	private stopping?: Promise<void>;
	private failures = 0;
	private reopenTimer?: NodeJS.Timeout;
	private lagTimer?: NodeJS.Timeout;
	private commitTimer?: NodeJS.Timeout;
	private inactiveSince?: number;
	private readonly lanes = new Map<string, Lane>();
	private assigned = new Set<string>();
	private generation = -1;
	private queued = 0;
	/** Before the member rejoins (a rebalance): lanes finish their message and hold (see beforeJoin). */
	private holding = false;
	private holdTimer?: NodeJS.Timeout;
	private draining?: Promise<Buffer>;
	private paused = false;
	private readonly pending = new Map<string, PendingCommit>();
	private committing?: Promise<void>;
	private readonly reported = new Set<string>();
	private measuring = false;

	constructor(private readonly o: GroupConsumerOptions) {}

	/** Join the group; rejects if the consumer cannot (after the client's retries). */
	async start(): Promise<void> {
		await this.open();
		this.lagTimer = setInterval(() => void this.tick(), this.o.lagIntervalMs);
		this.lagTimer.unref();
	}

	/** A new consumer (a new group member) and its message stream. */
	private async open(): Promise<void> {
		const inc = ++this.incarnations;
		this.current = inc;
		const consumer: KafkaConsumer = new Consumer<Key, Value, string, string>({
			clientId: this.o.clientId,
			bootstrapBrokers: this.o.brokers,
			groupId: this.o.groupId,
			...CONNECTION,
			...CONSUMER_RETRIES,
			deserializers: { key: stringDeserializer, headerKey: stringDeserializer, headerValue: stringDeserializer },
			autocommit: false,
			sessionTimeout: 10_000,
			heartbeatInterval: 1000,
			rebalanceTimeout: 15_000,
			// Short fetch waits: after a rebalance, newly assigned partitions start within a second.
			maxWaitTime: 1000,
			highWaterMark: QUEUE_HIGH,
			// Asked for before every JoinGroup: let the partitions' current messages finish first.
			protocolsMetadata: () => this.beforeJoin(inc),
		});
		this.consumer = consumer;
		// Emitted when rejoining the group after a failed heartbeat failed too: the member is lost.
		consumer.on("error", (err: Error) => this.fail(inc, err));
		// Registered before the stream's own listener, so it runs first (see onAssigned).
		consumer.on("consumer:group:join", payload => this.onAssigned(inc, payload.assignments ?? consumer.assignments ?? []));
		try {
			await this.openStream(inc, consumer);
		} catch (err) {
			void this.close(consumer, undefined);
			if (inc === this.current && !this.stopped) {
				this.current = 0;
				this.consumer = undefined;
				throw err;
			}
		}
	}

	/** The message stream of the current consumer (joining the group first if it is not a member). */
	private async openStream(inc: number, consumer: KafkaConsumer): Promise<void> {
		const stream = await consumer.consume({
			topics: this.o.topics,
			autocommit: false,
			// The group's committed offsets; a new group (no offsets yet) reads from the beginning.
			mode: MessagesStreamModes.COMMITTED,
			fallbackMode: MessagesStreamFallbackModes.EARLIEST,
		});
		if (inc !== this.current || this.stopped) {
			void this.close(undefined, stream);
			return;
		}
		this.stream = stream;
		this.paused = false;
		this.onAssigned(inc, consumer.assignments ?? []);
		stream.on("data", (m: KafkaMessage) => this.onMessage(inc, m));
		stream.on("error", (err: Error) => this.streamFailed(inc, stream, err));
		stream.on("close", () => this.streamFailed(inc, stream, new Error("the message stream ended")));
		this.failures = 0;
	}

	/**
	 * The stream gave up (its fetches failed past the client's retries: Kafka away). The member
	 * stays (its heartbeats go on retrying, so it keeps its partitions if Kafka is back within the
	 * session timeout): open a new stream, with backoff, on the same consumer. The queues stay;
	 * the new stream starts again from the committed offsets and what is queued is skipped.
	 */
	private streamFailed(inc: number, stream: KafkaStream, err: unknown): void {
		if (inc !== this.current || this.stopped || this.finishing || this.stream !== stream) return;
		this.stream = undefined;
		this.o.logger.warn(`Kafka message stream of '${this.o.groupId}' failed, opening it again: ${describe(err)}`);
		void this.close(undefined, stream);
		const retry = () => {
			if (inc !== this.current || this.stopped) return;
			const consumer = this.consumer;
			if (!consumer) return;
			this.openStream(inc, consumer).catch(e => {
				if (inc !== this.current || this.stopped) return;
				this.o.logger.warn(`Kafka message stream of '${this.o.groupId}' not opened, will retry: ${describe(e)}`);
				later();
			});
		};
		const later = () => {
			this.reopenTimer = setTimeout(retry, Math.min(5000, 500 * 2 ** this.failures++));
			this.reopenTimer.unref();
		};
		later();
	}

	/** The member is lost: drop the consumer and everything it had not committed, and make a new one. */
	private fail(inc: number, err: unknown): void {
		if (inc !== this.current || this.stopped) return;
		this.current = 0;
		this.o.logger.warn(`Kafka consumer of '${this.o.groupId}' failed, making it again: ${describe(err)}`);
		clearTimeout(this.reopenTimer);
		this.reset();
		void this.close(this.consumer, this.stream);
		this.consumer = undefined;
		this.stream = undefined;
		this.scheduleReopen();
	}

	private scheduleReopen(): void {
		if (this.stopped || this.finishing) return;
		const delay = Math.min(5000, 500 * 2 ** this.failures++);
		this.reopenTimer = setTimeout(() => {
			this.open().catch(err => {
				this.o.logger.warn(`Kafka consumer of '${this.o.groupId}' could not join its group, will retry: ${describe(err)}`);
				this.scheduleReopen();
			});
		}, delay);
		this.reopenTimer.unref();
	}

	/** Forget every partition: queued messages, in-flight results and pending commits. */
	private reset(): void {
		for (const lane of this.lanes.values()) this.kill(lane);
		this.lanes.clear();
		this.pending.clear();
		this.assigned = new Set();
		this.queued = 0;
		this.holding = false;
		clearTimeout(this.holdTimer);
	}

	private kill(lane: Lane): void {
		lane.alive = false;
		this.queued -= lane.queue.length;
		lane.queue = [];
	}

	private async close(consumer: KafkaConsumer | undefined, stream: KafkaStream | undefined): Promise<void> {
		stream?.removeAllListeners("data");
		await withTimeout(stream?.close() ?? Promise.resolve(), 5000, "closing a message stream").catch(() => undefined);
		// force: close its streams and leave the group (so the partitions move at once).
		await withTimeout(consumer?.close(true) ?? Promise.resolve(), 5000, "closing a consumer").catch(() => undefined);
	}

	/** A new assignment: partitions that went elsewhere lose their queue and their uncommitted results. */
	private onAssigned(inc: number, assignments: GroupAssignment[]): void {
		if (inc !== this.current || this.stopped) return;
		const next = new Set(assignments.flatMap(a => a.partitions.map(p => partitionKey(a.topic, p))));
		for (const [key, lane] of this.lanes) {
			if (next.has(key)) continue;
			this.kill(lane);
			this.lanes.delete(key);
			this.pending.delete(key);
			// Workaround: the stream keeps its fetch position of a partition without a committed
			// offset across assignments; were it assigned here again, it would resume from there and
			// skip what the group never committed. Forget it, so it starts from the committed offset
			// (or the beginning) again.
			this.stream?.offsetsToFetch.delete(key);
		}
		this.assigned = next;
		this.generation = this.consumer?.generationId ?? -1;
		this.resumeIfDrained();
		void this.flushCommits();
		this.release();
	}

	private onMessage(inc: number, m: KafkaMessage): void {
		if (inc !== this.current || this.stopped) return;
		const key = partitionKey(m.topic, m.partition);
		if (!this.assigned.has(key)) {
			// Fetched for a partition this node no longer holds; the fetch moved the stream's position
			// of it again, forget that too (see onAssigned).
			this.stream?.offsetsToFetch.delete(key);
			return;
		}
		let lane = this.lanes.get(key);
		if (!lane) {
			// Fetched under an earlier assignment: the stream fetches it again from the committed offset.
			if (generationOf(m) < this.generation) return;
			lane = { key, queue: [], next: m.offset, running: false, alive: true };
			this.lanes.set(key, lane);
		}
		// After a rebalance the stream fetches again from the committed offset: skip what is queued or done.
		if (m.offset < lane.next) return;
		lane.next = m.offset + 1n;
		lane.queue.push(m);
		this.queued++;
		if (this.queued >= QUEUE_HIGH && !this.paused && this.stream) {
			this.paused = true;
			this.stream.pause();
		}
		this.startLane(lane);
	}

	private startLane(lane: Lane): void {
		if (!lane.running && !this.holding && lane.alive && lane.queue.length > 0) lane.run = this.run(lane);
	}

	/**
	 * The client is about to (re)join the group (protocolsMetadata, called before JoinGroup):
	 * like kafkajs did, let every partition finish the message it is handling and commit what
	 * is done while this member still owns its partitions, so that a partition moving to another
	 * node is not handled on both at once and its new owner starts after it. Bounded (5 s), well
	 * within the rebalance timeout. Lanes start again at the next assignment.
	 */
	private beforeJoin(inc: number): Promise<Buffer> {
		const empty = Buffer.alloc(0);
		if (inc !== this.current || this.stopped || this.lanes.size === 0) return Promise.resolve(empty);
		this.draining ??= (async () => {
			this.holding = true;
			clearTimeout(this.holdTimer);
			// Released by the next assignment; this is for a join that never completes.
			this.holdTimer = setTimeout(() => this.release(), 30_000);
			this.holdTimer.unref();
			const running = [...this.lanes.values()].map(l => l.run).filter((r): r is Promise<void> => r !== undefined);
			await withTimeout(Promise.all(running), 5000, "partitions finishing their message").catch(() => undefined);
			await withTimeout(this.flushCommits(true), 2000, "committing before the rebalance").catch(() => undefined);
			return empty;
		})().finally(() => {
			this.draining = undefined;
		});
		return this.draining;
	}

	private release(): void {
		clearTimeout(this.holdTimer);
		if (!this.holding || this.finishing) return;
		this.holding = false;
		for (const lane of this.lanes.values()) this.startLane(lane);
	}

	private resumeIfDrained(): void {
		if (this.paused && !this.finishing && this.queued <= QUEUE_LOW && this.stream) {
			this.paused = false;
			this.stream.resume();
		}
	}

	/** One partition: its messages one after the other. */
	private async run(lane: Lane): Promise<void> {
		lane.running = true;
		const abandoned = () => this.stopped || !lane.alive;
		try {
			while (lane.alive && lane.queue.length > 0 && !this.holding) {
				const m = lane.queue.shift() as KafkaMessage;
				this.queued--;
				this.resumeIfDrained();
				await this.o.handle(m, abandoned);
				if (abandoned()) return;
				this.pending.set(lane.key, { topic: m.topic, partition: m.partition, offset: m.offset + 1n, leaderEpoch: m.leaderEpoch });
				void this.flushCommits();
			}
		} catch {
			// Abandoned (stopping, or the partition went elsewhere): left uncommitted on purpose.
		} finally {
			lane.running = false;
			lane.run = undefined;
		}
	}

	/**
	 * Commit what was handled: one request at a time for all partitions, the latest offset of each.
	 * Not while the member is rejoining (the commit would fail and make the client rejoin once
	 * more; the next assignment flushes), except just before it sends its JoinGroup (`early`),
	 * when its generation is still the group's.
	 */
	private flushCommits(early = false): Promise<void> {
		if (this.committing) return this.committing.then(() => this.flushCommits(early));
		const consumer = this.consumer;
		if (this.pending.size === 0 || !consumer || (!early && !consumer.isActive())) return Promise.resolve();
		const inc = this.current;
		const offsets = [...this.pending.values()];
		this.pending.clear();
		let failed = false;
		this.committing = consumer
			.commit({ offsets })
			.catch((err: unknown) => {
				failed = true;
				if (inc !== this.current) return;
				this.o.logger.debug(`Commit of '${this.o.groupId}' failed, will retry: ${describe(err)}`);
				for (const o of offsets) {
					const key = partitionKey(o.topic, o.partition);
					if (this.lanes.get(key)?.alive && !this.pending.has(key)) this.pending.set(key, o);
				}
				if (!this.commitTimer) {
					this.commitTimer = setTimeout(() => {
						this.commitTimer = undefined;
						void this.flushCommits();
					}, 1000);
					this.commitTimer.unref();
				}
			})
			.finally(() => {
				this.committing = undefined;
			});
		return this.committing.then(() => (failed ? undefined : this.flushCommits(early)));
	}

	/** Every lagIntervalMs: lag, and a consumer that stays out of its group is made again. */
	private async tick(): Promise<void> {
		const consumer = this.consumer;
		const inc = this.current;
		if (this.stopped || !consumer || inc === 0) return;
		if (!consumer.isActive()) {
			this.inactiveSince ??= Date.now();
			if (Date.now() - this.inactiveSince > INACTIVE_LIMIT_MS) {
				this.inactiveSince = undefined;
				this.fail(inc, new Error(`not a member of its group for ${INACTIVE_LIMIT_MS / 1000} s`));
			}
			return;
		}
		this.inactiveSince = undefined;
		void this.flushCommits();
		if (!this.o.onConsumerLag || this.measuring) return;
		this.measuring = true;
		try {
			await this.measureLag(consumer, inc);
		} catch (err) {
			this.o.logger.debug(`Lag of '${this.o.groupId}' not measured: ${describe(err)}`);
		} finally {
			this.measuring = false;
		}
	}

	private async measureLag(consumer: KafkaConsumer, inc: number): Promise<void> {
		const report = this.o.onConsumerLag!;
		const assignments = (consumer.assignments ?? []).filter(a => a.partitions.length > 0);
		const held = new Set<string>();
		if (assignments.length > 0) {
			const topics = assignments.map(a => a.topic);
			const partitions = Object.fromEntries(assignments.map(a => [a.topic, a.partitions]));
			const [ends, committed] = await Promise.all([consumer.listOffsets({ topics, partitions }), consumer.listCommittedOffsets({ topics: assignments })]);
			// A partition without a committed offset is read from its first one.
			const uncommitted = assignments.filter(a => a.partitions.some(p => (committed.get(a.topic)?.[p] ?? -1n) < 0n));
			const starts = uncommitted.length
				? await consumer.listOffsets({
						topics: uncommitted.map(a => a.topic),
						partitions: Object.fromEntries(uncommitted.map(a => [a.topic, a.partitions])),
						timestamp: ListOffsetTimestamps.EARLIEST,
					})
				: new Map<string, bigint[]>();
			if (inc !== this.current || this.stopped) return;
			for (const { topic, partitions: ps } of assignments) {
				for (const p of ps) {
					const end = ends.get(topic)?.[p];
					if (end === undefined) continue;
					let from = committed.get(topic)?.[p] ?? -1n;
					if (from < 0n) from = starts.get(topic)?.[p] ?? 0n;
					const lag = end > from ? end - from : 0n;
					held.add(partitionKey(topic, p));
					report(this.o.group, topic, p, Number(lag));
				}
			}
		}
		for (const key of this.reported) if (!held.has(key)) this.reportZero(key);
		held.forEach(k => this.reported.add(k));
	}

	private reportZero(key: string): void {
		this.reported.delete(key);
		const i = key.lastIndexOf(":");
		this.o.onConsumerLag?.(this.o.group, key.slice(0, i), Number(key.slice(i + 1)), 0);
	}

	/**
	 * Leave the group cleanly: no next message is taken, each partition finishes the one it is
	 * handling (at most STOP_DRAIN_MS; past that it is abandoned uncommitted and redelivered to the
	 * partition's next owner), what was handled is committed, and the member leaves the group so its
	 * partitions move at once.
	 */
	stop(): Promise<void> {
		this.stopping ??= (async () => {
			clearInterval(this.lagTimer);
			clearTimeout(this.reopenTimer);
			this.finishing = true;
			this.holding = true;
			clearTimeout(this.holdTimer);
			if (this.stream && !this.paused) {
				this.paused = true;
				this.stream.pause();
			}
			const running = [...this.lanes.values()].map(l => l.run).filter((r): r is Promise<void> => r !== undefined);
			await withTimeout(Promise.all(running), STOP_DRAIN_MS, "partitions finishing their message").catch(() => undefined);
			this.stopped = true;
			clearTimeout(this.commitTimer);
			for (const lane of this.lanes.values()) this.kill(lane);
			await withTimeout(this.flushCommits(), 3000, "committing").catch(() => undefined);
			this.current = 0;
			const { consumer, stream } = this;
			this.consumer = undefined;
			this.stream = undefined;
			this.reset();
			await this.close(consumer, stream);
			for (const key of [...this.reported]) this.reportZero(key);
		})();
		return this.stopping;
	}
}
