/**
 * What the shop's Kafka clients share (kafka-bus.ts, kafka-group-consumer.ts): the message types
 * and the connection and retry settings.
 */
import type { Consumer, Message, MessagesStream, RetryDelayGetter } from "@platformatic/kafka";

export type Key = string;
export type Value = Buffer;
export type KafkaMessage = Message<Key, Value, string, string>;
export type KafkaConsumer = Consumer<Key, Value, string, string>;
export type KafkaStream = MessagesStream<Key, Value, string, string>;

/** Exponential delays between the client's own retries of one request (ms). */
export const retryDelay =
	(base: number, max: number): RetryDelayGetter =>
	(_client, _operation, attempt) =>
		Math.min(max, base * 2 ** (attempt - 1));

/** Producer: 8 retries, 200 ms doubling to 5 s: a send gives up after about 20 s without a broker. */
export const PRODUCER_RETRIES = { retries: 8, retryDelay: retryDelay(200, 5000) };
/** Consumer: 5 retries, 250 ms doubling to 3 s; past that the consumer is made again (see GroupConsumer). */
export const CONSUMER_RETRIES = { retries: 5, retryDelay: retryDelay(250, 3000) };
export const CONNECTION = { connectTimeout: 3000, requestTimeout: 15_000 };

export const partitionKey = (topic: string, partition: number) => `${topic}:${partition}`;
