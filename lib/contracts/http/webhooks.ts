/**
 * Request shapes of the outgoing webhook routes (webhooks service). See lib/contracts/params.ts.
 * Event names are checked against the public list by the domain (lib/domain/webhooks.ts), which
 * answers 422 naming `events`; the URL's form and target by the SSRF guard (lib/net/ssrf.ts).
 */
import { pageParams } from "../../paging.js";
import { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from "../../domain/webhooks.js";
import { idRule } from "../ids.js";
import { optional, patchOf, text, type ParamsSchema } from "../params.js";

export const MAX_WEBHOOK_URL_LENGTH = 2000;

const endpointFields = {
	url: { type: "string", min: 1, max: MAX_WEBHOOK_URL_LENGTH, pattern: /^https?:\/\/[^\t\n\r ]+$/, description: "http(s) URL of the receiver" },
	events: {
		type: "array",
		min: 1,
		max: WEBHOOK_EVENT_TYPES.length,
		unique: true,
		items: { type: "enum", values: [ALL_EVENTS, ...WEBHOOK_EVENT_TYPES] },
		description: 'Event types to receive, or ["*"] for all of them',
	},
	description: { ...text(500), nullable: true },
	enabled: { type: "boolean" },
} as const;

const endpointId = { id: idRule } as const;

export const WEBHOOKS = {
	"webhooks.create": {
		$$strict: true,
		url: endpointFields.url,
		events: endpointFields.events,
		description: optional(endpointFields.description),
		enabled: optional(endpointFields.enabled),
	},
	"webhooks.list": { ...pageParams },
	"webhooks.update": { $$strict: true, ...endpointId, ...patchOf(endpointFields) },
	"webhooks.remove": endpointId,
	"webhooks.deliveries": {
		...endpointId,
		...pageParams,
		state: { type: "enum", values: ["pending", "delivered", "failed"], optional: true, description: "Only deliveries in this state" },
	},
	"webhooks.retryDelivery": { ...endpointId, deliveryId: idRule },
	"webhooks.rotateSecret": endpointId,
	"webhooks.sendTest": endpointId,
} as const satisfies Record<string, ParamsSchema>;
