/**
 * The consuming half of the events mixin: a service's `integrationEvents` (one consumer group per
 * service; each event applied once, recorded in `processed_events` after its handler) and its
 * `everyNodeEvents` (one group per node, not recorded: their handlers re-read what the event is
 * about).
 */
import type { Context, Service } from "moleculer";
import type { IntegrationEventHandlers } from "../../lib/broker/service.js";
import type { EventEnvelope, EventType } from "../../lib/contracts/events.js";
import { DuplicateKeyError, type Doc } from "../../lib/store/index.js";
import { recordEventConsumed } from "../../lib/observability/metrics.js";
import { runForRequest } from "../../lib/observability/context.js";
import { consumerContextOptions, traceConsumer } from "../../lib/observability/tracing.js";
import type { EventsThis, IntegrationHandler } from "./service.js";

interface ProcessedEvent extends Doc {
	type: string;
	at: string;
}

/** The handler of an event's type. Each takes its own type's envelope, which TypeScript cannot pair with a type known only at run time. */
function handlerOf(handlers: IntegrationEventHandlers<Service> | undefined, type: EventType): IntegrationHandler | undefined {
	return handlers?.[type] as IntegrationHandler | undefined;
}

/** Subscribe the service's handlers (at start, so no event published at start-up is missed). */
export async function subscribeConsumers(svc: EventsThis): Promise<void> {
	const bus = svc.$bus!;
	const handlers = svc.schema.integrationEvents ?? {};
	const types = Object.keys(handlers) as EventType[];
	if (types.length > 0) {
		// Applied only once every service of the broker has started (see applyIntegrationEvent), whatever the mixin order.
		svc.$handler = event => svc.applyIntegrationEvent(event);
		await bus.subscribe(svc.name, types, svc.$handler);
	}
	const everyNode = svc.schema.everyNodeEvents ?? {};
	const nodeTypes = Object.keys(everyNode) as EventType[];
	if (nodeTypes.length > 0) {
		svc.$nodeHandler = async event => {
			await svc.$brokerStarted;
			const handler = handlerOf(everyNode, event.type);
			if (handler) await handler.call(svc, event, svc.broker.ContextFactory.create(svc.broker, null as never, event.payload, {}) as Context);
		};
		await bus.subscribe(`${svc.name}.${svc.broker.nodeID}`, nodeTypes, svc.$nodeHandler);
	}
}

/** Leave the consumer groups: each partition finishes the event it is handling and commits. */
export async function unsubscribeConsumers(svc: EventsThis): Promise<void> {
	if (svc.$bus && svc.$handler) await svc.$bus.unsubscribe(svc.name, svc.$handler);
	if (svc.$bus && svc.$nodeHandler) await svc.$bus.unsubscribe(`${svc.name}.${svc.broker.nodeID}`, svc.$nodeHandler);
}

export const consumerMethods = {
	/** Apply one delivered event once: skip it if recorded, record it after the handler. */
	async applyIntegrationEvent(this: EventsThis, event: EventEnvelope): Promise<void> {
		await this.$brokerStarted;
		const processed = this.collection<ProcessedEvent>("processed_events");
		if (await processed.findById(event.id)) return recordEventConsumed(this.broker, this.name, event, "duplicate");
		const handler = handlerOf(this.schema.integrationEvents, event.type);
		if (!handler) return;
		const ctx = this.broker.ContextFactory.create(this.broker, null as never, event.payload, {
			...consumerContextOptions(event),
			meta: { requestId: event.requestId, eventId: event.id, eventType: event.type },
		}) as Context;
		try {
			await runForRequest(ctx.requestID, () => traceConsumer(this, ctx, event, () => handler.call(this, event, ctx)));
		} catch (err) {
			recordEventConsumed(this.broker, this.name, event, "failed");
			throw err;
		}
		try {
			await processed.insert({ _id: event.id, type: event.type, at: new Date().toISOString() });
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
		}
		recordEventConsumed(this.broker, this.name, event, "ok");
	},
};
