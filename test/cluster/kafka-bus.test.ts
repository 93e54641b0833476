/**
 * The Kafka transport against the real broker: topics as configured, keyed ordering, consumer
 * groups shared by several nodes through rebalances, commit after success, dead letters visible
 * to an outside client (kcat), consumer lag.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { Admin, ConfigResourceTypes } from "@platformatic/kafka";
import { KafkaBus, DEAD_LETTER_TOPIC, type KafkaBusOptions } from "../../lib/events/kafka-bus.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";
import { INFRA, skipWithoutInfra } from "./infra.js";
import { eventually } from "../helpers/shop.js";
import { sleep } from "../../lib/events/bus.js";

const skip = await skipWithoutInfra(["kafka"]);
const logger = { info() {}, warn() {}, debug() {}, error() {}, fatal() {}, trace() {} } as never;
const brokers = INFRA.kafka.split(",");

function placed(orderId: string, n = 0): EventEnvelope<"order.placed"> {
	return {
		id: randomUUID(),
		type: "order.placed",
		key: orderId,
		source: "test",
		occurredAt: new Date().toISOString(),
		requestId: `req-${n}`,
		payload: { orderId, userId: "u", items: [{ productId: "p", quantity: n + 1 }], total: n, currency: "EUR" },
	};
}

const newAdmin = () => new Admin({ clientId: "test-admin", bootstrapBrokers: brokers });

describe.skipIf(skip)("KafkaBus on a real broker", () => {
	const transports: KafkaBus[] = [];
	/** Topic prefixes of their own (fresh topics) that the tests made, removed at the end. */
	const prefixes: string[] = [];
	const make = (opts: Partial<KafkaBusOptions> = {}) => {
		const t = new KafkaBus({
			brokers,
			clientId: `test-${randomUUID().slice(0, 8)}`,
			logger,
			retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
			...opts,
		});
		transports.push(t);
		return t;
	};
	const freshPrefix = () => {
		const p = `t-kt-${randomUUID().slice(0, 8)}.`;
		prefixes.push(p);
		return p;
	};
	afterAll(async () => {
		for (const t of transports) await t.disconnect();
		if (prefixes.length === 0) return;
		const admin = newAdmin();
		try {
			const topics = (await admin.listTopics()).filter(t => prefixes.some(p => t.startsWith(p)));
			if (topics.length) await admin.deleteTopics({ topics });
		} finally {
			await admin.close();
		}
	}, 60_000);

	it("creates the topics with several partitions and reports healthy", async () => {
		const t = make();
		await t.connect();
		expect(await t.health()).toEqual({ ok: true });
		const admin = newAdmin();
		const meta = await admin.metadata({ topics: ["shop.orders", "shop.inventory", DEAD_LETTER_TOPIC] });
		await admin.close();
		expect(meta.topics.size).toBe(3);
		for (const topic of meta.topics.values()) expect(topic.partitionsCount).toBeGreaterThan(1);
	});

	it("creates missing topics with the configured partitions, replicas and min.insync.replicas", async () => {
		const prefix = freshPrefix();
		const t = make({ topicPrefix: prefix, groupPrefix: prefix, partitions: 3, replicationFactor: 1, minInsyncReplicas: 1 });
		await t.connect();
		const admin = newAdmin();
		try {
			const meta = await admin.metadata({ topics: [`${prefix}orders`, `${prefix}dead-letter`] });
			for (const topic of meta.topics.values()) {
				expect(topic.partitionsCount).toBe(3);
				expect(topic.partitions.every(p => p.replicas.length === 1)).toBe(true);
			}
			const [described] = await admin.describeConfigs({
				resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: `${prefix}orders`, configurationKeys: ["min.insync.replicas"] }],
			});
			expect(described?.configs.find(c => c.name === "min.insync.replicas")?.value).toBe("1");
		} finally {
			await admin.close();
		}
		// A second node finding them there (or creating them at the same moment) is fine.
		await Promise.all([make({ topicPrefix: prefix, partitions: 3 }).connect(), make({ topicPrefix: prefix, partitions: 3 }).connect()]);
	});

	it("reports unhealthy, in bounded time, when no broker answers", async () => {
		const t = new KafkaBus({ brokers: ["127.0.0.1:1"], clientId: "test-nobody", logger });
		const started = Date.now();
		const h = await t.health();
		expect(h.ok).toBe(false);
		expect(h.detail).toMatch(/^Kafka: /);
		expect(Date.now() - started).toBeLessThan(5000);
		await t.disconnect();
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
		const out = execFileSync("kcat", ["-b", brokers[0]!, "-C", "-t", "shop.orders", "-o", "beginning", "-e", "-q", "-f", "%k|%h\\n"], {
			encoding: "utf8",
			timeout: 20_000,
		});
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
		const dlq = execFileSync("kcat", ["-b", brokers[0]!, "-C", "-t", DEAD_LETTER_TOPIC, "-o", "beginning", "-e", "-q", "-f", "%k|%h\\n"], {
			encoding: "utf8",
			timeout: 20_000,
		});
		const line = dlq.split("\n").find(l => l.includes(`event-id=${bad.id}`));
		expect(line).toContain(`dead-letter-group=${group}`);
		expect(line).toContain("dead-letter-error=handler is broken");
	});

	it("shares a group's partitions between nodes, and hands them over when a node joins or leaves", async () => {
		const prefix = freshPrefix();
		const opts = { topicPrefix: prefix, groupPrefix: prefix, partitions: 4 };
		const pub = make(opts);
		await pub.connect();
		const keys = Array.from({ length: 16 }, (_, i) => `order-${i}-${randomUUID().slice(0, 8)}`);
		const sent: EventEnvelope<"order.placed">[] = [];
		let n = 0;
		const publishRound = async (perKey: number) => {
			const round = Array.from({ length: perKey }, () => n++).flatMap(i => keys.map(k => placed(k, i)));
			sent.push(...round);
			// Per key in order (one call per key), keys side by side.
			await Promise.all(keys.map(async k => pub.publish(round.filter(e => e.key === k))));
			return round;
		};
		const handledBy = new Map<string, string[]>();
		const byKey = new Map<string, number[]>();
		const inFlight = new Map<string, string>();
		let overlaps = 0;
		const handler = (node: string) => async (e: EventEnvelope) => {
			// The same event on two nodes at once: a partition handed over before its message finished.
			if (inFlight.has(e.id)) overlaps++;
			inFlight.set(e.id, node);
			await sleep(20);
			inFlight.delete(e.id);
			handledBy.set(e.id, [...(handledBy.get(e.id) ?? []), node]);
			byKey.set(e.key, [...(byKey.get(e.key) ?? []), (e as EventEnvelope<"order.placed">).payload.total]);
		};
		const allHandled = (what: string) => eventually(async () => (sent.every(e => handledBy.has(e.id)) ? true : undefined), 60_000, what, 100);
		const duplicates = () => [...handledBy.values()].filter(h => h.length > 1).length;

		const a = make({ ...opts, clientId: "node-a" });
		await a.connect();
		await a.subscribe("svc", ["order.placed"], handler("a"));
		await publishRound(1);
		await allHandled("round 0 on node a");

		// A backlog on node a (40 events of 20 ms per partition), and a second node joins meanwhile:
		// node a finishes the message of each partition and commits before the partitions move.
		await publishRound(10);
		const b = make({ ...opts, clientId: "node-b" });
		await b.connect();
		await b.subscribe("svc", ["order.placed"], handler("b"));
		const admin = newAdmin();
		try {
			await eventually(
				async () => {
					const group = (await admin.describeGroups({ groups: [`${prefix}svc`] })).get(`${prefix}svc`);
					const owned = [...(group?.members.values() ?? [])].map(m =>
						[...(m.assignments?.values() ?? [])].reduce((n, x) => n + x.partitions.length, 0),
					);
					return String(group?.state).toUpperCase() === "STABLE" && owned.length === 2 && owned.every(n => n > 0) ? true : undefined;
				},
				30_000,
				"both nodes holding partitions",
				250,
			);
		} finally {
			await admin.close();
		}
		await allHandled("the backlog, across the rebalance");
		const round2 = await publishRound(1);
		await allHandled("round 2 on both nodes");
		expect([...new Set(round2.flatMap(e => handledBy.get(e.id) ?? []))].sort()).toEqual(["a", "b"]);
		expect(overlaps).toBe(0);
		expect(duplicates()).toBe(0);

		// Node b leaves: node a takes its partitions over.
		await b.disconnect();
		const round3 = await publishRound(1);
		await allHandled("round 3 after node b left");
		for (const e of round3) expect(handledBy.get(e.id)).toContain("a");

		// Every key in order: a node leaving may redeliver what it was handling (at least once), never reorder.
		for (const k of keys) {
			const totals = byKey.get(k) ?? [];
			const firsts = totals.filter((t, i) => totals.indexOf(t) === i);
			expect(firsts, k).toEqual(Array.from({ length: n }, (_, i) => i));
		}
	}, 120_000);

	it("reports consumer lag while a slow handler has a backlog, and 0 once it caught up", async () => {
		const prefix = freshPrefix();
		const lags: { partition: number; lag: number }[] = [];
		const opts = { topicPrefix: prefix, groupPrefix: prefix, partitions: 2 };
		const pub = make(opts);
		await pub.connect();
		const sub = make({
			...opts,
			lagIntervalMs: 200,
			onConsumerLag: (group, topic, partition, lag) => {
				if (group === "slow" && topic === `${prefix}orders`) lags.push({ partition, lag });
			},
		});
		await sub.connect();
		let release: () => void = () => undefined;
		const gate = new Promise<void>(resolve => (release = resolve));
		const handled: string[] = [];
		await sub.subscribe("slow", ["order.placed"], async e => {
			await gate;
			handled.push(e.id);
		});
		const key = `order-${randomUUID()}`;
		const events = Array.from({ length: 20 }, (_, i) => placed(key, i));
		await pub.publish(events);
		// One key, one partition: its 20 events wait behind the first, held by the gate.
		const backlog = await eventually(async () => lags.find(l => l.lag >= 20), 30_000, "lag of the backlog reported", 100);
		expect(lags.filter(l => l.partition !== backlog.partition).every(l => l.lag === 0)).toBe(true);
		release();
		await eventually(async () => (handled.length >= 20 ? true : undefined), 30_000, "the backlog handled", 100);
		const from = lags.length;
		await eventually(
			async () => (lags.slice(from).some(l => l.partition === backlog.partition && l.lag === 0) ? true : undefined),
			10_000,
			"lag back to 0",
			100,
		);
	});
});
