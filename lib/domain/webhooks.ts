/**
 * Outgoing webhooks: the rules, pure (the webhooks service stores and sends).
 *
 * - What is sent: the public integration events below, as `{ id, type, timestamp, data }`
 *   (the Standard Webhooks payload shape) where `data` keeps only the fields listed here: no
 *   envelope internals (request, trace, source), nothing a later internal field could leak.
 * - Retries: the first attempt at once, then after each failure the next delay of the schedule
 *   (WEBHOOK_RETRY_SCHEDULE, seconds), each ±10 % jitter so that endpoints that failed together do
 *   not retry together; once the schedule is used up the delivery is `failed`. A manual retry
 *   starts the schedule again from its beginning, keeping the attempts already made.
 * - Success is a 2xx answer; anything else (a 3xx too: redirects are not followed) is a failure.
 * - Order: deliveries to one endpoint about one resource (an order, a product) form a lane and go
 *   one at a time in the order the events arrived (`seq`); a delivery waits while an earlier one of
 *   its lane is pending. A failed one (schedule used up) no longer holds its lane.
 * - An endpoint failing without a single success for `disableAfterMs` (3 days) is disabled.
 */
import type { AnyEnvelope, EventPayloads, EventType } from "../contracts/events.js";

/** Standard Webhooks suggests this schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (a bit more than 27 h). */
export const DEFAULT_RETRY_SCHEDULE_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000] as const;
export const DEFAULT_DISABLE_AFTER_SECONDS = 3 * 24 * 3600;
export const RETRY_JITTER = 0.1;
/** The synthetic event the back office sends to try an endpoint. */
export const TEST_EVENT_TYPE = "webhook.test";

/** The events an endpoint may subscribe to, each with the fields of its payload that leave the shop. */
const PUBLIC_FIELDS = {
	"order.placed": ["orderId", "userId", "items", "total", "currency", "charges"],
	"order.paid": ["orderId", "userId", "items", "total", "currency", "charges"],
	"order.cancelled": ["orderId", "userId", "items", "reason", "refunded"],
	"order.fulfilment-created": ["orderId", "userId", "fulfilmentId", "items", "carrier", "trackingNumber", "trackingUrl", "shippedAt", "orderStatus"],
	"order.shipped": ["orderId", "userId", "tracking"],
	"order.delivered": ["orderId", "userId"],
	"order.refunded": ["orderId", "userId", "refundId", "amount", "currency", "reason", "items", "full"],
	"payment.captured": ["orderId", "userId", "amount", "currency", "brand", "last4"],
	"payment.refunded": ["orderId", "userId", "refundId", "amount", "currency"],
	"product.created": ["productId"],
	"product.updated": ["productId"],
	"product.deleted": ["productId"],
	"stock.changed": ["productId", "variantId"],
	"return.approved": ["ticketId", "returnId", "userId", "orderId", "items"],
	"return.rejected": ["ticketId", "userId", "orderId", "reason"],
} as const satisfies { [K in EventType]?: readonly (keyof EventPayloads[K])[] };

export type WebhookEventType = keyof typeof PUBLIC_FIELDS;
export const WEBHOOK_EVENT_TYPES = Object.keys(PUBLIC_FIELDS) as WebhookEventType[];
export const ALL_EVENTS = "*";

export function isWebhookEventType(type: string): type is WebhookEventType {
	return Object.hasOwn(PUBLIC_FIELDS, type);
}

/** The body of a delivery: what integrators parse. */
export interface PublicEvent {
	id: string;
	type: string;
	timestamp: string;
	data: Record<string, unknown>;
}

export function publicEventOf(event: AnyEnvelope): PublicEvent | null {
	if (!isWebhookEventType(event.type)) return null;
	const payload: Record<string, unknown> = { ...event.payload };
	const data: Record<string, unknown> = {};
	for (const field of PUBLIC_FIELDS[event.type] as readonly string[]) if (payload[field] !== undefined) data[field] = payload[field];
	return { id: event.id, type: event.type, timestamp: event.occurredAt, data };
}

/** What a delivery is about, for its lane: the order when the event names one, else the event's aggregate. */
export function resourceOf(event: AnyEnvelope): string {
	const orderId = (event.payload as { orderId?: unknown }).orderId;
	return typeof orderId === "string" ? `order:${orderId}` : `${event.type.split(".")[0]}:${event.key}`;
}

export function laneOf(endpointId: string, resource: string): string {
	return `${endpointId}|${resource}`;
}

/** Whether an endpoint subscribed with `events` gets events of `type`. */
export function subscribes(events: readonly string[], type: string): boolean {
	return events.includes(ALL_EVENTS) || events.includes(type);
}

/** Subscription list problems (unknown types, `*` mixed with names), for a 422 naming `events`. */
export function subscriptionProblem(events: readonly string[]): string | null {
	if (events.length === 0) return 'must name at least one event type, or be ["*"]';
	if (events.includes(ALL_EVENTS) && events.length > 1) return "'*' stands alone";
	const unknown = events.filter(e => e !== ALL_EVENTS && !isWebhookEventType(e));
	return unknown.length ? `unknown event type${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}` : null;
}

/** WEBHOOK_RETRY_SCHEDULE: comma-separated positive numbers of seconds. */
export function parseRetrySchedule(text: string | undefined): number[] {
	if (text === undefined || text.trim() === "") return [...DEFAULT_RETRY_SCHEDULE_SECONDS];
	const parts = text.split(",").map(s => s.trim());
	const seconds = parts.map(Number);
	if (parts.some(p => p === "") || seconds.some(s => !Number.isFinite(s) || s <= 0))
		throw new Error(`WEBHOOK_RETRY_SCHEDULE must be positive numbers of seconds separated by commas, got '${text}'`);
	return seconds;
}

/** Delay before the next attempt after `failuresThisRound` failed attempts, or null once the schedule is used up. */
export function retryDelayMs(failuresThisRound: number, scheduleSeconds: readonly number[], random: () => number): number | null {
	const base = scheduleSeconds[failuresThisRound - 1];
	if (base === undefined) return null;
	const jitter = 1 + RETRY_JITTER * (2 * random() - 1);
	return Math.round(base * 1000 * jitter);
}

export function succeeded(status: number | null): boolean {
	return status !== null && status >= 200 && status < 300;
}

export type DeliveryState = "pending" | "delivered" | "failed";

export interface Attempt {
	at: string;
	status: number | null;
	durationMs: number;
	error: string | null;
}

/** Where a delivery stands after one more attempt. `roundStart`: attempts before the last manual retry. */
export function afterAttempt(
	delivery: { attempts: readonly Attempt[]; roundStart: number },
	attempt: Attempt,
	scheduleSeconds: readonly number[],
	random: () => number,
): { state: DeliveryState; nextAttemptAt: string | null } {
	if (succeeded(attempt.status)) return { state: "delivered", nextAttemptAt: null };
	const failuresThisRound = delivery.attempts.length + 1 - delivery.roundStart;
	const delay = retryDelayMs(failuresThisRound, scheduleSeconds, random);
	if (delay === null) return { state: "failed", nextAttemptAt: null };
	return { state: "pending", nextAttemptAt: new Date(Date.parse(attempt.at) + delay).toISOString() };
}

/** A failing endpoint is disabled once it has failed without a success since `failingSince` for `disableAfterMs`. */
export function shouldDisable(failingSince: string | undefined, now: Date, disableAfterMs: number): boolean {
	return failingSince !== undefined && now.getTime() - Date.parse(failingSince) >= disableAfterMs;
}

export interface Queued {
	id: string;
	lane: string;
	seq: number;
}

/**
 * The first pending delivery of each lane among `pending` (all pending deliveries, or a prefix of
 * them in ascending `seq`: a prefix holds every earlier delivery of each lane it holds).
 */
export function headsOfLanes<T extends Queued>(pending: readonly T[]): T[] {
	const heads = new Map<string, T>();
	for (const d of pending) {
		const head = heads.get(d.lane);
		if (!head || d.seq < head.seq || (d.seq === head.seq && d.id < head.id)) heads.set(d.lane, d);
	}
	return [...heads.values()];
}

/** Secrets per Standard Webhooks: `whsec_` and the base64 of 24 to 64 random bytes. */
export function formatSecret(randomBytes: Uint8Array): string {
	if (randomBytes.length < 24 || randomBytes.length > 64) throw new RangeError("a signing secret has 24 to 64 bytes");
	return `whsec_${Buffer.from(randomBytes).toString("base64")}`;
}

export interface SigningSecret {
	secret: string;
	/** null: the current secret; a time: a rotated-out secret that still signs until then. */
	expiresAt: string | null;
}

/** The secrets that sign a delivery now: the current one and those rotated out less than the grace period ago. */
export function signingSecrets(secrets: readonly SigningSecret[], now: Date): string[] {
	return secrets.filter(s => s.expiresAt === null || Date.parse(s.expiresAt) > now.getTime()).map(s => s.secret);
}

/** After a rotation: the new secret current, the old current one valid for `graceMs`, expired ones dropped. */
export function rotatedSecrets(secrets: readonly SigningSecret[], fresh: string, now: Date, graceMs: number): SigningSecret[] {
	const until = new Date(now.getTime() + graceMs).toISOString();
	const kept = secrets
		.filter(s => s.expiresAt === null || Date.parse(s.expiresAt) > now.getTime())
		.map(s => (s.expiresAt === null ? { ...s, expiresAt: until } : s));
	return [{ secret: fresh, expiresAt: null }, ...kept];
}
