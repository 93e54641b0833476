/**
 * kafkajs against @platformatic/kafka behind the shop's event transport, on a real broker:
 *
 *   sh scripts/with-node.sh npx tsx bench/kafka-clients.ts
 *
 * - producer: events/s through `publish` (idempotent, acks=all) shaped the way the outbox relay
 *   sends them: 8 calls in flight, each 1 to 8 envelopes of one aggregate (one document's
 *   outbox), aggregates spread over the partitions; and the latency of one call;
 * - consumer: events/s handled end to end by one consumer group of one consumer (a handler that
 *   does nothing, so the figure is the transport's: fetching, per-partition order, the commit
 *   after each event), over events published beforehand; "total" includes joining the group.
 *
 * The kafkajs side is the transport this project used before (lib/events/kafka-transport.ts up to
 * commit de30734), kept below as `KafkajsTransport`; the other is the current `KafkaBus`. Each run uses topics of its own (`bench-<client>-<random>.*`, 6 partitions),
 * deleted at the end. It prints a table; nothing is asserted.
 *
 * Environment: KAFKA_BROKERS (default 127.0.0.1:9092), BENCH_SECONDS (producer run per client,
 * default 10), BENCH_EVENTS (events the consumer reads, default 20000), BENCH_PARTITIONS (6).
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
	Kafka,
	logLevel,
	type Consumer as KjsConsumer,
	type Producer as KjsProducer,
	type Admin as KjsAdmin,
	type IHeaders,
	type KafkaMessage as KjsMessage,
} from "kafkajs";
import { Admin } from "@platformatic/kafka";
import type { Logger } from "moleculer";
import { KafkaBus } from "../lib/events/kafka-bus.js";
import { EVENTS, TOPICS, type EventEnvelope, type EventType } from "../lib/contracts/events.js";
import { backoff, DEFAULT_RETRY, sleep, type EventHandler, type EventBus, type RetryPolicy, type BusHealth } from "../lib/events/bus.js";

process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";

const BROKERS = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const EVENTS_TO_CONSUME = Number(process.env.BENCH_EVENTS ?? 20_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const IN_FLIGHT = 8;
const AGGREGATES = 512;

const quiet: Logger = { info() {}, warn() {}, debug() {}, error() {}, fatal() {}, trace() {} } as unknown as Logger;

// ---------------------------------------------------------------------------------------------
// The previous transport (kafkajs), as it was, with `partitions` taken from its options only.

const KJS_DEAD_LETTER_TOPIC = "shop.dead-letter";

interface KafkajsTransportOptions {
	brokers: string[];
	clientId: string;
	logger: Logger;
	onDeadLetter?: (group: string, type: EventType | undefined, error: string) => void;
	partitions?: number;
	retry?: RetryPolicy;
	groupPrefix?: string;
	topicPrefix?: string;
}

function kjsHeader(headers: IHeaders | undefined, name: string): string | undefined {
	const v = headers?.[name];
	if (v === undefined) return undefined;
	return Array.isArray(v) ? String(v[0]) : String(v);
}

class KafkajsTransport implements EventBus {
	readonly kind = "kafka" as const;
	private readonly kafka: Kafka;
	private producer?: KjsProducer;
	private admin?: KjsAdmin;
	private readonly subscriptions = new Map<string, { consumer: KjsConsumer; handler: EventHandler }[]>();
	private readonly partitions: number;
	private readonly retry: RetryPolicy;
	private readonly topicPrefix: string;
	private stopping?: Promise<void>;

	constructor(private readonly opts: KafkajsTransportOptions) {
		this.partitions = opts.partitions ?? 6;
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

	topicName(topic: string): string {
		return this.topicPrefix + topic.replace(/^shop\./, "");
	}

	private async ensureTopics(): Promise<void> {
		const existing = new Set(await this.admin!.listTopics());
		const wanted = [...Object.values(TOPICS), KJS_DEAD_LETTER_TOPIC].map(t => this.topicName(t)).filter(t => !existing.has(t));
		if (wanted.length === 0) return;
		try {
			await this.admin!.createTopics({
				waitForLeaders: true,
				topics: wanted.map(topic => ({ topic, numPartitions: this.partitions, replicationFactor: -1 })),
			});
		} catch (err) {
			if (!/already exists/i.test((err as Error).message)) throw err;
		}
	}

	disconnect(): Promise<void> {
		this.stopping ??= (async () => {
			const consumers = [...this.subscriptions.values()].flat().map(s => s.consumer);
			this.subscriptions.clear();
			await Promise.all(consumers.map(c => c.disconnect().catch(() => undefined)));
			await this.producer?.disconnect().catch(() => undefined);
			await this.admin?.disconnect().catch(() => undefined);
		})();
		return this.stopping;
	}

	async health(): Promise<BusHealth> {
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
		const consumer = this.kafka.consumer({
			groupId: `${this.opts.groupPrefix ?? "shop."}${group}`,
			sessionTimeout: 10_000,
			heartbeatInterval: 1000,
			rebalanceTimeout: 15_000,
			allowAutoTopicCreation: false,
			retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5000 },
		});
		await consumer.connect();
		await consumer.subscribe({ topics, fromBeginning: true });
		await consumer.run({
			autoCommit: false,
			partitionsConsumedConcurrently: this.partitions,
			eachMessage: async ({ topic, partition, message }) => {
				await this.handleMessage(group, wanted, handler, topic, message);
				await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
			},
		});
		const subs = this.subscriptions.get(group) ?? [];
		subs.push({ consumer, handler });
		this.subscriptions.set(group, subs);
	}

	private async handleMessage(group: string, wanted: Set<EventType>, handler: EventHandler, topic: string, message: KjsMessage): Promise<void> {
		const type = kjsHeader(message.headers, "event-type") as EventType | undefined;
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
				if (this.stopping) throw err;
				if (attempt + 1 >= this.retry.attempts) {
					await this.deadLetter(group, topic, message, (err as Error).message);
					return;
				}
				await sleep(backoff(attempt, this.retry));
			}
		}
	}

	private async deadLetter(group: string, topic: string, message: KjsMessage, error: string): Promise<void> {
		this.opts.onDeadLetter?.(group, kjsHeader(message.headers, "event-type") as EventType | undefined, error);
		await this.producer!.send({
			topic: this.topicName(KJS_DEAD_LETTER_TOPIC),
			acks: -1,
			messages: [
				{
					key: message.key,
					value: message.value,
					headers: {
						...message.headers,
						"dead-letter-group": group,
						"dead-letter-topic": topic,
						"dead-letter-offset": message.offset,
						"dead-letter-error": error.slice(0, 1000),
					},
				},
			],
		});
	}

	async unsubscribe(group: string, handler: EventHandler): Promise<void> {
		const subs = this.subscriptions.get(group) ?? [];
		for (const s of subs.filter(s => s.handler === handler)) await s.consumer.disconnect().catch(() => undefined);
		this.subscriptions.set(
			group,
			subs.filter(s => s.handler !== handler),
		);
	}
}

// ---------------------------------------------------------------------------------------------
// The measurements

interface Client {
	name: string;
	make(prefix: string, clientId: string): EventBus;
}

const CLIENTS: Client[] = [
	{
		name: "kafkajs 2.2 (previous)",
		make: (prefix, clientId) =>
			new KafkajsTransport({ brokers: BROKERS, clientId, logger: quiet, partitions: PARTITIONS, topicPrefix: prefix, groupPrefix: prefix }),
	},
	{
		name: "@platformatic/kafka 2.12",
		make: (prefix, clientId) =>
			new KafkaBus({ brokers: BROKERS, clientId, logger: quiet, partitions: PARTITIONS, topicPrefix: prefix, groupPrefix: prefix }),
	},
];

/** A small deterministic generator, so both clients get the same batches. */
function rng(seed: number): () => number {
	let s = seed >>> 0;
	return () => {
		s = (s * 1664525 + 1013904223) >>> 0;
		return s / 2 ** 32;
	};
}

function placed(orderId: string, n: number): EventEnvelope<"order.placed"> {
	return {
		id: randomUUID(),
		type: "order.placed",
		key: orderId,
		source: "bench",
		occurredAt: new Date().toISOString(),
		requestId: `req-${n}`,
		payload: { orderId, userId: "user-1", items: [{ productId: "product-1", quantity: 1 + (n % 3) }], total: 1500 * (1 + (n % 3)), currency: "EUR" },
	};
}

const orders = Array.from({ length: AGGREGATES }, (_, i) => `order-${i}-${randomUUID().slice(0, 8)}`);

/** One outbox document's events: 1 to 8 of one aggregate. */
function batch(next: () => number, n: number): EventEnvelope[] {
	const order = orders[Math.floor(next() * orders.length)]!;
	const size = 1 + Math.floor(next() * 8);
	return Array.from({ length: size }, (_, i) => placed(order, n + i));
}

function quantile(sorted: number[], q: number): number {
	if (sorted.length === 0) return NaN;
	return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface ProducerResult {
	events: number;
	calls: number;
	perSecond: number;
	p50: number;
	p99: number;
}

async function producerRun(t: EventBus): Promise<ProducerResult> {
	const next = rng(42);
	let n = 0;
	// Warm-up: connections, producer id, metadata.
	await t.publish(batch(next, n));
	const latencies: number[] = [];
	let events = 0;
	const started = performance.now();
	const until = started + SECONDS * 1000;
	await Promise.all(
		Array.from({ length: IN_FLIGHT }, async () => {
			while (performance.now() < until) {
				const b = batch(next, (n += 8));
				const t0 = performance.now();
				await t.publish(b);
				latencies.push(performance.now() - t0);
				events += b.length;
			}
		}),
	);
	const elapsed = (performance.now() - started) / 1000;
	latencies.sort((a, b) => a - b);
	return { events, calls: latencies.length, perSecond: events / elapsed, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

interface ConsumerResult {
	events: number;
	perSecond: number;
	totalSeconds: number;
	joinSeconds: number;
}

async function consumerRun(t: EventBus, filler: EventBus): Promise<ConsumerResult> {
	// Fill the topic first (with the same producer for both clients), then read it all.
	const next = rng(7);
	let queued = 0;
	const inFlight: Promise<void>[] = [];
	while (queued < EVENTS_TO_CONSUME) {
		const b = batch(next, queued).slice(0, EVENTS_TO_CONSUME - queued);
		queued += b.length;
		inFlight.push(filler.publish(b));
		if (inFlight.length >= 64) await Promise.all(inFlight.splice(0));
	}
	await Promise.all(inFlight);

	let handled = 0;
	let first = 0;
	let last = 0;
	let done: () => void = () => undefined;
	const all = new Promise<void>(resolve => (done = resolve));
	const started = performance.now();
	await t.subscribe("bench", ["order.placed"], async () => {
		if (handled === 0) first = performance.now();
		if (++handled >= EVENTS_TO_CONSUME) {
			last = performance.now();
			done();
		}
	});
	await Promise.race([all, sleep(300_000).then(() => Promise.reject(new Error(`only ${handled} of ${EVENTS_TO_CONSUME} events handled in 300 s`)))]);
	return {
		events: handled,
		perSecond: EVENTS_TO_CONSUME / ((last - first) / 1000),
		totalSeconds: (last - started) / 1000,
		joinSeconds: (first - started) / 1000,
	};
}

async function deleteTopics(prefixes: string[]): Promise<void> {
	const admin = new Admin({ clientId: "bench-admin", bootstrapBrokers: BROKERS });
	try {
		const topics = (await admin.listTopics()).filter(t => prefixes.some(p => t.startsWith(p)));
		if (topics.length) await admin.deleteTopics({ topics });
		const groups = [...(await admin.listGroups()).keys()].filter(g => prefixes.some(p => g.startsWith(p)));
		if (groups.length) await admin.deleteGroups({ groups }).catch(() => undefined);
	} finally {
		await admin.close();
	}
}

const rows: { client: string; producer: ProducerResult; consumer: ConsumerResult }[] = [];
const prefixes: string[] = [];
try {
	for (const client of CLIENTS) {
		const tag = client.name.startsWith("kafkajs") ? "kafkajs" : "platformatic";
		const prefix = `bench-${tag}-${randomUUID().slice(0, 6)}.`;
		prefixes.push(prefix);
		const producer = client.make(prefix, `bench-${tag}-producer`);
		await producer.connect();
		console.error(`[kafka-clients] ${client.name}: producer, ${SECONDS} s ...`);
		const p = await producerRun(producer);

		const consumerPrefix = `${prefix}c.`;
		prefixes.push(consumerPrefix);
		const filler = new KafkaBus({ brokers: BROKERS, clientId: "bench-filler", logger: quiet, partitions: PARTITIONS, topicPrefix: consumerPrefix });
		await filler.connect();
		const consumer = client.make(consumerPrefix, `bench-${tag}-consumer`);
		await consumer.connect();
		console.error(`[kafka-clients] ${client.name}: consumer, ${EVENTS_TO_CONSUME} events ...`);
		const c = await consumerRun(consumer, filler);
		await Promise.all([producer.disconnect(), consumer.disconnect(), filler.disconnect()]);
		rows.push({ client: client.name, producer: p, consumer: c });
	}
} finally {
	await deleteTopics(prefixes).catch(err => console.error(`[kafka-clients] could not delete the bench topics: ${(err as Error).message}`));
}

const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
console.log(
	`\nNode ${process.version}, broker ${BROKERS.join(",")}, ${PARTITIONS} partitions; producer ${SECONDS} s, ${IN_FLIGHT} calls in flight of 1-8 events; consumer ${fmt(EVENTS_TO_CONSUME)} events, one group of one consumer\n`,
);
console.log("| client | producer events/s | publish calls | call p50 ms | call p99 ms | consumer events/s | consumer total s (join s) |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
	console.log(
		`| ${r.client} | ${fmt(r.producer.perSecond)} | ${fmt(r.producer.calls)} | ${fmt(r.producer.p50, 2)} | ${fmt(r.producer.p99, 2)} | ${fmt(r.consumer.perSecond)} | ${fmt(r.consumer.totalSeconds, 1)} (${fmt(r.consumer.joinSeconds, 1)}) |`,
	);
}
process.exit(0);
