/**
 * The Kafka transport against the real broker: keyed ordering, consumer groups, commit after
 * success, dead letters visible to an outside client (kcat).
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kafka, logLevel } from "kafkajs";
import { KafkaTransport, DEAD_LETTER_TOPIC } from "../../lib/events/kafka-transport.js";
import type { EventEnvelope } from "../../lib/events/catalog.js";
import { INFRA, skipWithoutInfra } from "./infra.js";
import { eventually } from "../helpers/shop.js";

const skip = await skipWithoutInfra(["kafka"]);
const logger = { info() {}, warn() {}, debug() {}, error() {}, fatal() {}, trace() {} } as never;
const brokers = INFRA.kafka.split(",");

function placed(orderId: string, n = 0): EventEnvelope<"order.placed"> {
	return { id: randomUUID(), type: "order.placed", key: orderId, source: "test", occurredAt: new Date().toISOString(), requestId: `req-${n}`, payload: { orderId, userId: "u", items: [{ productId: "p", quantity: n + 1 }], total: n, currency: "EUR" } };
}

describe.skipIf(skip)("KafkaTransport on a real broker", () => {
	const transports: KafkaTransport[] = [];
	const make = () => {
		const t = new KafkaTransport({ brokers, clientId: `test-${randomUUID().slice(0, 8)}`, logger, retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 } });
		transports.push(t);
		return t;
	};
	afterAll(async () => {
		for (const t of transports) await t.disconnect();
	});

	it("creates the topics with several partitions and reports healthy", async () => {
		const t = make();
		await t.connect();
		expect(await t.health()).toEqual({ ok: true });
		const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
		await admin.connect();
		const meta = await admin.fetchTopicMetadata({ topics: ["shop.orders", "shop.inventory", DEAD_LETTER_TOPIC] });
		await admin.disconnect();
		for (const topic of meta.topics) expect(topic.partitions.length).toBeGreaterThan(1);
	});

	it("delivers each event to each group, in order per key, with id/type/request-id headers", async () => {
		const pub = make();
		await pub.connect();
		const group = `g-${randomUUID().slice(0, 8)}`;
		const sub = make();
		await sub.connect();
		const seen: EventEnvelope[] = [];
		await sub.subscribe(group, ["order.placed"], async e => void seen.push(e));
		const orderA = `order-${randomUUID()}`;
		const orderB = `order-${randomUUID()}`;
		const events = [0, 1, 2, 3, 4].flatMap(n => [placed(orderA, n), placed(orderB, n)]);
		for (const e of events) await pub.publish([e]);
		await eventually(async () => (seen.filter(e => e.key === orderA || e.key === orderB).length >= 10 ? true : undefined), 30_000, "10 events");
		const qty = (k: string) => seen.filter(e => e.key === k).map(e => (e as EventEnvelope<"order.placed">).payload.items[0]!.quantity);
		expect(qty(orderA)).toEqual([1, 2, 3, 4, 5]);
		expect(qty(orderB)).toEqual([1, 2, 3, 4, 5]);

		// Seen from outside with kcat: the key is the order id, the headers name the event.
		const out = execFileSync("kcat", ["-b", brokers[0]!, "-C", "-t", "shop.orders", "-o", "beginning", "-e", "-q", "-f", "%k|%h\\n"], { encoding: "utf8", timeout: 20_000 });
		const line = out.split("\n").find(l => l.startsWith(`${orderA}|`));
		expect(line).toBeDefined();
		expect(line).toContain("event-type=order.placed");
		expect(line).toContain(`event-id=${events[0]!.id}`);
		expect(line).toContain("request-id=req-0");
	});

	it("does not commit a failed event: a new consumer of the group gets it again", async () => {
		const pub = make();
		await pub.connect();
		const group = `g-${randomUUID().slice(0, 8)}`;
		const first = make();
		await first.connect();
		let crashed = false;
		let unblock: () => void = () => undefined;
		// The handler hangs on the event: the node dies before it finishes, so before the commit.
		const key = `order-${randomUUID()}`;
		await first.subscribe(group, ["order.placed"], async e => {
			if (e.key === key) {
				crashed = true;
				await new Promise<void>(resolve => (unblock = resolve));
				throw new Error("node died");
			}
		});
		await pub.publish([placed(key)]);
		await eventually(async () => (crashed ? true : undefined), 30_000, "first consumer got it");
		// Simulate the node dying: drop its connections without finishing the handler.
		void first.disconnect();
		const second = make();
		await second.connect();
		const got: string[] = [];
		await second.subscribe(group, ["order.placed"], async e => void got.push(e.key));
		await eventually(async () => (got.includes(key) ? true : undefined), 60_000, "redelivery to the second consumer");
		unblock();
	});

	it("retries a failing handler, then parks the event on the dead-letter topic and goes on", async () => {
		const pub = make();
		await pub.connect();
		const group = `g-${randomUUID().slice(0, 8)}`;
		const sub = make();
		await sub.connect();
		// Both on one key, so on one partition: the bad one first, then the good one.
		const key = `order-${randomUUID()}`;
		const bad = placed(key, 0);
		const good = placed(key, 1);
		let attempts = 0;
		const ok: string[] = [];
		await sub.subscribe(group, ["order.placed"], async e => {
			if (e.id === bad.id) {
				attempts++;
				throw new Error("handler is broken");
			}
			ok.push(e.id);
		});
		await pub.publish([bad, good]);
		await eventually(async () => (ok.includes(good.id) ? true : undefined), 30_000, "the next event");
		expect(attempts).toBe(3);
		const dlq = execFileSync("kcat", ["-b", brokers[0]!, "-C", "-t", DEAD_LETTER_TOPIC, "-o", "beginning", "-e", "-q", "-f", "%k|%h\\n"], { encoding: "utf8", timeout: 20_000 });
		const line = dlq.split("\n").find(l => l.includes(`event-id=${bad.id}`));
		expect(line).toContain(`dead-letter-group=${group}`);
		expect(line).toContain("dead-letter-error=handler is broken");
	});
});
