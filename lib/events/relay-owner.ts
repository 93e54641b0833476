/**
 * One publisher per outbox row. Every node of a service runs a relay over the same collections,
 * so without a rule two relays would find the same waiting events and both publish them (89
 * copies on Kafka in a chaos run, 270 in a rolling restart). The rule, per document (its events
 * go out in order, by one relay):
 *
 * - the node that wrote the oldest waiting event (`node` in its envelope) relays the document;
 * - another node takes it over when that node is gone (not in the registry, or not available)
 *   and the event is older than `graceMs` (a node that just joined may not be discovered yet);
 * - any node takes it over once the event is older than `abandonMs`, whoever wrote it (a node
 *   that is alive but cannot publish, for instance cut off from Kafka alone).
 *
 * No write is needed to claim a row, so relaying costs what it did. Copies remain possible when
 * a node dies between Kafka's acknowledgement and pulling the events out of the outbox, or after
 * `abandonMs`; consumers stay idempotent for those.
 */
import type { EventEnvelope } from "../contracts/events.js";

export interface RelayOwnership {
	/** This node's id. */
	self: string;
	/** Whether a node is in the cluster and available (Moleculer's registry). */
	isAlive(nodeId: string): boolean;
	graceMs: number;
	abandonMs: number;
}

export const RELAY_GRACE_MS = 3000;
export const RELAY_ABANDON_MS = 120_000;

/** Whether this node relays a document whose oldest waiting event is `first`, at `now`. */
export function relaysNow(first: Pick<EventEnvelope, "node" | "occurredAt">, own: RelayOwnership, now = Date.now()): boolean {
	if (!first.node || first.node === own.self) return true;
	const age = now - Date.parse(first.occurredAt);
	if (!(age >= 0)) return false;
	if (age >= own.abandonMs) return true;
	return age >= own.graceMs && !own.isAlive(first.node);
}
