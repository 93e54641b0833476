/**
 * One member of a Kafka consumer group (kafka-bus.ts makes one per subscription): a lane per
 * partition it holds, each taking its messages one after the other; commits of what was
 * handled; before a rebalance, the lanes finish their message and hold, so a partition is never
 * handled on two nodes at once; a stream or membership that fails is opened again with backoff;
 * lag every `lagIntervalMs` (kafka-lag.ts); and a clean leave at stop.
 */
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, stringDeserializer, type GroupAssignment } from "@platformatic/kafka";
import type { Logger } from "moleculer";
import { CONNECTION, CONSUMER_RETRIES, partitionKey, type KafkaConsumer, type KafkaMessage, type KafkaStream, type Key, type Value } from "./kafka-client.js";
import { describeError, withTimeout } from "./kafka-errors.js";
import { LagReporter, type LagReport } from "./kafka-lag.js";
import type { EventHandler } from "./bus.js";

/** Messages waiting in a node's partition queues before fetching pauses, and when it resumes. */
const QUEUE_HIGH = 512;
const QUEUE_LOW = 128;
/** At stop, how long the partitions may take to finish the message each is handling. */
const STOP_DRAIN_MS = 5000;
/** A consumer out of its group this long is made again. */
const INACTIVE_LIMIT_MS = 60_000;

export interface GroupConsumerOptions {
	group: string;
	groupId: string;
	topics: string[];
	clientId: string;
	brokers: string[];
	logger: Logger;
	lagIntervalMs: number;
	onConsumerLag?: LagReport;
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

function generationOf(message: KafkaMessage): number {
	const consumer = message.metadata.consumer as { generationId?: unknown } | undefined;
	return typeof consumer?.generationId === "number" ? consumer.generationId : -1;
}

export class GroupConsumer {
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
	private readonly lag?: LagReporter;

	constructor(private readonly o: GroupConsumerOptions) {
		if (o.onConsumerLag) this.lag = new LagReporter(o.group, o.onConsumerLag);
	}

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
		this.o.logger.warn(`Kafka message stream of '${this.o.groupId}' failed, opening it again: ${describeError(err)}`);
		void this.close(undefined, stream);
		const retry = () => {
			if (inc !== this.current || this.stopped) return;
			const consumer = this.consumer;
			if (!consumer) return;
			this.openStream(inc, consumer).catch(e => {
				if (inc !== this.current || this.stopped) return;
				this.o.logger.warn(`Kafka message stream of '${this.o.groupId}' not opened, will retry: ${describeError(e)}`);
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
		this.o.logger.warn(`Kafka consumer of '${this.o.groupId}' failed, making it again: ${describeError(err)}`);
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
				this.o.logger.warn(`Kafka consumer of '${this.o.groupId}' could not join its group, will retry: ${describeError(err)}`);
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
				this.o.logger.debug(`Commit of '${this.o.groupId}' failed, will retry: ${describeError(err)}`);
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
		if (!this.lag) return;
		try {
			await this.lag.measure(consumer, () => inc === this.current && !this.stopped);
		} catch (err) {
			this.o.logger.debug(`Lag of '${this.o.groupId}' not measured: ${describeError(err)}`);
		}
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
			this.lag?.releaseAll();
		})();
		return this.stopping;
	}
}
