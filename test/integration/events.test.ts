/**
 * The event module on its own: outbox written with the state change, relayed at least once,
 * applied once per consumer, retried on failure, kept across a restart.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { ServiceBroker, type Service } from "moleculer";
import { afterEach, describe, expect, it } from "vitest";
import { reloadConfig } from "../../lib/config.js";
import { DbMixin } from "../../mixins/db.mixin.js";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin.js";
import { defineService } from "../../lib/broker/service.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";
import { acquireBus, releaseBus } from "../../lib/events/registry.js";
import type { InProcessBus } from "../../lib/events/bus.js";
import type { Collection } from "../../lib/store/index.js";
import { eventually } from "../helpers/shop.js";

interface OrderDoc {
	_id: string;
	status: string;
	outbox?: EventEnvelope[];
}
interface Applied {
	_id: string;
	count: number;
}

type ProducerSelf = Service & EventsMethods & { collection<T extends { _id: string }>(n: string): Collection<T> };

function producer() {
	return defineService<ProducerSelf>({
		name: "producer",
		mixins: [DbMixin({ orders: {} }), EventsMixin({ outbox: ["orders"] })],
		actions: {
			place: {
				visibility: "public",
				async handler(ctx) {
					const id = randomUUID();
					const evt = this.integrationEvent(
						"order.placed",
						{ orderId: id, userId: "u1", items: [{ productId: "p1", quantity: 1 }], total: 100, currency: "EUR" },
						ctx,
					);
					await this.collection<OrderDoc>("orders").insert({ _id: id, status: "pending", outbox: [evt] });
					void this.relayOutbox();
					return id;
				},
			},
		},
	});
}

function consumer(opts: { failTimes?: number } = {}) {
	let failures = opts.failTimes ?? 0;
	return defineService<Service & { collection<T extends { _id: string }>(n: string): Collection<T> }>({
		name: "consumer",
		mixins: [DbMixin({ applied: {} }), EventsMixin()],
		integrationEvents: {
			async "order.placed"(event) {
				if (failures > 0) {
					failures--;
					throw new Error("transient failure");
				}
				const applied = this.collection<Applied>("applied");
				if ((await applied.updateWhere({ _id: event.payload.orderId }, { $inc: { count: 1 } })) === 0)
					await applied.insert({ _id: event.payload.orderId, count: 1 });
			},
		},
	});
}

let brokers: ServiceBroker[] = [];
afterEach(async () => {
	await Promise.all(brokers.map(b => b.stop()));
	brokers = [];
});

async function start(dataDir: string, services: ReturnType<typeof producer>[]) {
	process.env.DATA_DIR = dataDir;
	process.env.OUTBOX_POLL_MS = "100";
	delete process.env.KAFKA_BROKERS;
	delete process.env.MONGO_URL;
	reloadConfig();
	const broker = new ServiceBroker({ logger: false, transporter: null });
	services.forEach(s => broker.createService(s));
	await broker.start();
	brokers.push(broker);
	return broker;
}
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "shop-events-"));
const appliedCount = async (broker: ServiceBroker, id: string) =>
	(await (broker.getLocalService("consumer") as unknown as { collection(n: string): Collection<Applied> }).collection("applied").findById(id))?.count ?? 0;

describe("outbox and durable consumers (in-process transport)", () => {
	it("delivers an event written with the state change, and empties the outbox", async () => {
		const broker = await start(tmp(), [producer(), consumer()]);
		const id = await broker.call<string>("producer.place");
		await eventually(async () => ((await appliedCount(broker, id)) === 1 ? true : undefined), 5000, "event applied");
		const orders = (broker.getLocalService("producer") as unknown as { collection(n: string): Collection<OrderDoc> }).collection("orders");
		await eventually(async () => ((await orders.findById(id))?.outbox?.length === 0 ? true : undefined), 5000, "outbox emptied");
	});

	it("applies an event delivered twice only once", async () => {
		const broker = await start(tmp(), [producer(), consumer()]);
		const id = await broker.call<string>("producer.place");
		await eventually(async () => ((await appliedCount(broker, id)) === 1 ? true : undefined));
		const transport = (await acquireBus(broker)) as InProcessBus;
		try {
			// Capture the envelope as the relay sent it, then deliver it again.
			const captured: EventEnvelope[] = [];
			await transport.subscribe("spy", ["order.placed"], async e => void captured.push(e));
			const id2 = await broker.call<string>("producer.place");
			await eventually(async () => (captured.some(e => e.key === id2) ? true : undefined));
			await eventually(async () => ((await appliedCount(broker, id2)) === 1 ? true : undefined));
			await transport.publish(captured.filter(e => e.key === id2));
			await transport.publish(captured.filter(e => e.key === id2));
			expect(await appliedCount(broker, id2)).toBe(1);
		} finally {
			await releaseBus(broker);
		}
	});

	it("retries a failing handler until it succeeds", async () => {
		const broker = await start(tmp(), [producer(), consumer({ failTimes: 2 })]);
		const id = await broker.call<string>("producer.place");
		await eventually(async () => ((await appliedCount(broker, id)) === 1 ? true : undefined), 5000, "applied after retries");
	});

	it("dead-letters an event whose handler keeps failing, and goes on with the next", async () => {
		const broker = await start(tmp(), [producer(), consumer({ failTimes: 5 })]);
		const first = await broker.call<string>("producer.place");
		const second = await broker.call<string>("producer.place");
		await eventually(async () => ((await appliedCount(broker, second)) === 1 ? true : undefined), 10_000, "next event applied");
		expect(await appliedCount(broker, first)).toBe(0);
		const transport = (await acquireBus(broker)) as InProcessBus;
		expect(transport.deadLetters.map(d => d.event.key)).toContain(first);
		await releaseBus(broker);
	});

	it("keeps an unsent event in the outbox across a restart and sends it then", async () => {
		const dir = tmp();
		const b1 = await start(dir, [producer()]);
		await b1.stop();
		brokers = [];
		// A state change whose event was written but never relayed (the process died in between),
		// put straight into the stored collection while nothing runs.
		const id = randomUUID();
		const evt: EventEnvelope = {
			id: randomUUID(),
			type: "order.placed",
			key: id,
			source: "producer",
			occurredAt: new Date().toISOString(),
			requestId: null,
			payload: { orderId: id, userId: "u1", items: [], total: 0, currency: "EUR" },
		};
		fs.appendFileSync(path.join(dir, "producer", "orders.db"), `${JSON.stringify({ _id: id, status: "pending", outbox: [evt] })}\n`);
		const b2 = await start(dir, [producer(), consumer()]);
		await eventually(async () => ((await appliedCount(b2, id)) === 1 ? true : undefined), 5000, "event sent after restart");
	});
});
