/**
 * What a write needs to carry events: the events themselves, and the port through which the
 * store reaches the events mixin (mixins/events.mixin.ts) to put each event in its envelope and
 * to wake the relay once the write landed. A service never builds an envelope or pushes to an
 * outbox itself: `Collection.insertWithEvents`, `changeWithEvents` and `change` do both.
 */
import type { Context } from "moleculer";
import type { DomainEvent, EventEnvelope, EventPayloads, EventType } from "../contracts/events.js";

/** An event for an outbox, in its envelope, carrying the request id (and trace) of its cause. */
export type MakeEnvelope = <T extends EventType>(type: T, payload: EventPayloads[T], cause?: Context | null) => EventEnvelope<T>;

/** The events mixin, as the store sees it (set on the service as `$outbox`). */
export interface OutboxPort {
	envelope: MakeEnvelope;
	/** These documents of `collection` have new events in their outbox: publish them soon. */
	written(collection: string, ids: readonly string[]): void;
}

/** The outbox rows of these events, as the document carries them. */
export function envelopes(port: OutboxPort, events: readonly DomainEvent[], cause: Context | null | undefined): EventEnvelope[] {
	return events.map(e => port.envelope(e.type, e.payload as never, cause));
}

/** The compare-and-set of `Collection.change` lost every attempt to other writers. */
export class ContentionError extends Error {
	constructor(
		readonly collection: string,
		readonly id: string,
		readonly attempts: number,
	) {
		super(`${collection} ${id} kept changing: no write after ${attempts} attempts`);
		this.name = "ContentionError";
	}
}
