/** The AsyncAPI 3 document of the domain events, made from the event catalog. */
import { EVENTS, EVENT_TYPES, TOPICS } from "../contracts/events.js";
import { PAYLOAD_SCHEMAS } from "../contracts/event-schemas.js";

export function buildAsyncApi(): Record<string, unknown> {
	const channels: Record<string, unknown> = {};
	const operations: Record<string, unknown> = {};
	const messages: Record<string, unknown> = {};
	for (const topic of Object.values(TOPICS)) {
		const types = EVENT_TYPES.filter(t => EVENTS[t].topic === topic);
		channels[topic] = {
			address: topic,
			description: `Events of the '${topic.split(".")[1]}' family, keyed by aggregate id.`,
			messages: Object.fromEntries(types.map(t => [t, { $ref: `#/components/messages/${t}` }])),
		};
	}
	for (const t of EVENT_TYPES) {
		const def = EVENTS[t];
		messages[t] = {
			name: t,
			summary: def.summary,
			contentType: "application/json",
			headers: {
				type: "object",
				properties: {
					"event-id": { type: "string", description: "Unique; consumers apply each id once" },
					"event-type": { type: "string", const: t },
					"request-id": { type: "string", description: "X-Request-ID of the request that caused it" },
					traceparent: { type: "string", description: "W3C trace context: the relay's publish span, parent of the consumer's span" },
				},
				required: ["event-id", "event-type"],
			},
			payload: {
				type: "object",
				description: "The event envelope",
				properties: {
					id: { type: "string" },
					type: { type: "string", const: t },
					key: { type: "string", description: `Partition key: payload.${def.key}` },
					source: { type: "string", const: def.producer },
					occurredAt: { type: "string", format: "date-time" },
					requestId: { type: ["string", "null"] },
					spanId: { type: ["string", "null"], description: "The producing span, so the consumer span joins the trace" },
					traceparent: {
						type: ["string", "null"],
						description: "W3C trace context of the producing span (also the Kafka header `traceparent`, naming the relay's publish span)",
					},
					node: { type: "string", description: "The node that wrote the event (and relayed it from its outbox)" },
					payload: PAYLOAD_SCHEMAS[t],
				},
				required: ["id", "type", "key", "source", "occurredAt", "payload"],
			},
			bindings: { kafka: { key: { type: "string", description: `payload.${def.key}` } } },
		};
		operations[`publish_${t.replace(".", "_")}`] = {
			action: "send",
			channel: { $ref: `#/channels/${def.topic}` },
			messages: [{ $ref: `#/channels/${def.topic}/messages/${t}` }],
			summary: `${def.producer} publishes ${t}`,
		};
	}
	return {
		asyncapi: "3.0.0",
		info: { title: "Moleculer shop domain events", version: "1.0.0" },
		defaultContentType: "application/json",
		channels,
		operations,
		components: { messages },
	};
}
