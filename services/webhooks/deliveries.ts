/**
 * The delivery log and queue: one delivery per (endpoint, event), made when the event is consumed
 * and kept with every attempt. Its id is derived from the endpoint and the event, so an event
 * delivered twice by Kafka makes one delivery; its `webhookId` (the `webhook-id` header) stays the
 * same through every retry, so receivers can drop duplicates.
 *
 * Order: each event takes the next number (`seq`) of its resource (an order, a product) from a
 * counter document, changed by compare-and-set, so the numbers follow the order in which the
 * events were consumed (Kafka keeps one resource's events in order); its deliveries go into the
 * lanes (endpoint × resource, see lib/domain/webhooks.ts) with that number.
 */
import { randomUUID } from "node:crypto";
import type { Static } from "typebox";
import type { WebhookDelivery } from "../../lib/http/schemas.js";
import { conflict, notFound, unavailable } from "../../lib/errors.js";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import { derivedId } from "../../lib/contracts/ids.js";
import type { AnyEnvelope } from "../../lib/contracts/events.js";
import { laneOf, publicEventOf, resourceOf, TEST_EVENT_TYPE, type Attempt, type DeliveryState, type PublicEvent } from "../../lib/domain/webhooks.js";
import type { EndpointRecord } from "./endpoints.js";

export interface DeliveryRecord {
	_id: string;
	endpointId: string;
	webhookId: string;
	eventId: string;
	eventType: string;
	lane: string;
	seq: number;
	/** The exact body sent on every attempt (what is signed). */
	body: string;
	state: DeliveryState;
	attempts: Attempt[];
	/** Attempts made before the last manual retry: the retry schedule counts from here. */
	roundStart: number;
	nextAttemptAt: string | null;
	/** A node sending it holds it until then; after a crash, another node takes it over once this has passed. */
	leaseUntil: string;
	createdAt: string;
	updatedAt: string;
}

interface LaneRecord {
	_id: string;
	last: number;
}

export type PublicDelivery = Static<typeof WebhookDelivery>;

export function publicDelivery(d: DeliveryRecord): PublicDelivery {
	return {
		id: d._id,
		webhookId: d.webhookId,
		eventId: d.eventId,
		eventType: d.eventType,
		state: d.state,
		attempts: d.attempts,
		nextAttemptAt: d.nextAttemptAt,
		createdAt: d.createdAt,
	};
}

export const NOT_LEASED = new Date(0).toISOString();
const LANE_CAS_TRIES = 50;

export class Deliveries {
	constructor(
		readonly deliveries: Collection<DeliveryRecord>,
		private readonly lanes: Collection<LaneRecord>,
	) {}

	/** The next number of a resource (compare-and-set on its counter). */
	private async nextSeq(resource: string): Promise<number> {
		await this.lanes.insertOrGet({ _id: resource, last: 0 });
		const { doc } = await this.lanes.change(resource, current => ({ expect: { last: current.last }, update: { $set: { last: current.last + 1 } } }), {
			attempts: LANE_CAS_TRIES,
			contended: () => unavailable("Webhook lane busy, try again"),
		});
		return doc!.last;
	}

	private newRecord(id: string, endpointId: string, event: PublicEvent, lane: string, seq: number): DeliveryRecord {
		const at = new Date().toISOString();
		return {
			_id: id,
			endpointId,
			webhookId: `msg_${id.replace(/-/g, "")}`,
			eventId: event.id,
			eventType: event.type,
			lane,
			seq,
			body: JSON.stringify(event),
			state: "pending",
			attempts: [],
			roundStart: 0,
			nextAttemptAt: at,
			leaseUntil: NOT_LEASED,
			createdAt: at,
			updatedAt: at,
		};
	}

	/** Queue an event for these endpoints, once per endpoint however often it is consumed. Says how many were new. */
	async enqueue(event: AnyEnvelope, endpoints: readonly EndpointRecord[]): Promise<number> {
		const body = publicEventOf(event);
		if (!body || endpoints.length === 0) return 0;
		const resource = resourceOf(event);
		// One number per event and resource, shared by its endpoints' lanes; a redelivered event's inserts collide and leave a gap, which is harmless.
		const seq = await this.nextSeq(resource);
		const inserted = await Promise.all(
			endpoints.map(async endpoint => {
				const id = derivedId("webhook-delivery", endpoint._id, event.id);
				try {
					await this.deliveries.insert(this.newRecord(id, endpoint._id, body, laneOf(endpoint._id, resource), seq));
					return 1;
				} catch (err) {
					if (err instanceof DuplicateKeyError) return 0;
					throw err;
				}
			}),
		);
		return inserted.reduce<number>((a, b) => a + b, 0);
	}

	/** A test event for one endpoint (the back office's "send test"), in a lane of its own. */
	async enqueueTest(endpoint: EndpointRecord): Promise<PublicDelivery> {
		const id = randomUUID();
		const event: PublicEvent = {
			id: randomUUID(),
			type: TEST_EVENT_TYPE,
			timestamp: new Date().toISOString(),
			data: { webhookEndpointId: endpoint._id, message: "A test event from the shop" },
		};
		const record = this.newRecord(id, endpoint._id, event, laneOf(endpoint._id, `test:${id}`), 0);
		await this.deliveries.insert(record);
		return publicDelivery(record);
	}

	async list(endpointId: string, state: DeliveryState | undefined, pageSize: number, offset: number): Promise<{ rows: PublicDelivery[]; total: number }> {
		const query = state ? { endpointId, state } : { endpointId };
		const [rows, total] = await Promise.all([
			this.deliveries.find({ query, sort: ["-createdAt", "-seq", "_id"], limit: pageSize, offset }),
			this.deliveries.count(query),
		]);
		return { rows: rows.map(publicDelivery), total };
	}

	/** Send again now, whatever its state; the retry schedule starts over, earlier attempts stay in the log. */
	async retry(endpointId: string, deliveryId: string): Promise<PublicDelivery> {
		const before = await this.deliveries.findOne({ _id: deliveryId, endpointId });
		if (!before) throw notFound("Delivery", deliveryId);
		const { doc } = await this.deliveries.change(
			deliveryId,
			d => {
				const at = new Date().toISOString();
				if (d.leaseUntil > at) throw conflict("The delivery is being sent right now; try again once it is done");
				return {
					expect: { updatedAt: d.updatedAt, state: d.state, leaseUntil: d.leaseUntil },
					update: { $set: { state: "pending", roundStart: d.attempts.length, nextAttemptAt: at, updatedAt: at } },
				};
			},
			{ contended: () => conflict("The delivery is being sent or changed right now; try again") },
		);
		return publicDelivery(doc!);
	}

	/** The log keeps finished deliveries for a while: those created before `cutoff` go. */
	forgetFinishedBefore(cutoff: string): Promise<number> {
		return this.deliveries.removeWhere({ state: { $in: ["delivered", "failed"] }, createdAt: { $lte: cutoff } });
	}

	removeOf(endpointId: string): Promise<number> {
		return this.deliveries.removeWhere({ endpointId });
	}
}
