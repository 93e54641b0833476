/**
 * How events travel between services. The outbox relay publishes through it and durable
 * consumers subscribe through it; services never talk to it directly.
 *
 * - `InProcessBus`: the one-process shop. `publish` resolves only after every consumer
 *   group has handled (or dead-lettered) the event, so the outbox keeps an event until it is
 *   applied: at-least-once even across a crash.
 * - `KafkaBus` (lib/events/kafka-bus.ts): the cluster.
 */
import type { EventEnvelope, EventType } from "../contracts/events.js";

export type EventHandler = (event: EventEnvelope) => Promise<void>;

export interface DeadLetter {
	group: string;
	event: EventEnvelope;
	error: string;
	at: string;
}

export interface BusHealth {
	ok: boolean;
	detail?: string;
}

export interface EventBus {
	readonly kind: "in-process" | "kafka";
	connect(): Promise<void>;
	disconnect(): Promise<void>;
	/** Resolves once the bus has durably accepted every event (Kafka: acks=all). */
	publish(events: EventEnvelope[]): Promise<void>;
	/** One subscription per consumer group (= service); several nodes of a group share the work. */
	subscribe(group: string, types: readonly EventType[], handler: EventHandler): Promise<void>;
	unsubscribe(group: string, handler: EventHandler): Promise<void>;
	health(): Promise<BusHealth>;
}

export interface RetryPolicy {
	attempts: number;
	baseDelayMs: number;
	maxDelayMs: number;
}
export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 50, maxDelayMs: 2000 };

export function backoff(attempt: number, policy: RetryPolicy): number {
	return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
}

/**
 * A failure that is not the event's fault: a dependency away for a while (the database unreachable,
 * a service or NATS gone, a call past its deadline; Moleculer's retryable errors and 503s).
 */
export function isTransient(err: unknown): boolean {
	const e = err as { retryable?: unknown; code?: unknown } | null | undefined;
	return !!e && (e.retryable === true || e.code === 503);
}

/**
 * The tries of one event's handler. A failure of the event (a bug, data it cannot take) counts:
 * after `attempts` of them the event is dead-lettered and the consumer goes on. A transient failure
 * does not count: the handler is tried again, with backoff, for as long as the dependency is away,
 * so an outage never sends good events to the dead-letter topic (nor commits past them).
 */
export class HandlerTries {
	private failures = 0;
	private waits = 0;
	constructor(private readonly policy: RetryPolicy) {}

	/** After a failure: how long to wait before the next try, or undefined to give up (dead-letter). */
	after(err: unknown): number | undefined {
		if (isTransient(err)) return backoff(Math.min(this.waits++, 16), this.policy);
		if (++this.failures >= this.policy.attempts) return undefined;
		return backoff(this.failures - 1, this.policy);
	}

	/** Transient failures so far (for a log line on the first). */
	get waited(): number {
		return this.waits;
	}
}
export const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

export class InProcessBus implements EventBus {
	readonly kind = "in-process" as const;
	readonly deadLetters: DeadLetter[] = [];
	private readonly groups = new Map<string, { types: Set<EventType>; handlers: EventHandler[]; next: number }>();

	constructor(
		private readonly retry: RetryPolicy = DEFAULT_RETRY,
		private readonly onDeadLetter: (d: DeadLetter) => void = () => undefined,
	) {}

	async connect(): Promise<void> {}
	async disconnect(): Promise<void> {
		this.groups.clear();
	}
	async health(): Promise<BusHealth> {
		return { ok: true };
	}

	async subscribe(group: string, types: readonly EventType[], handler: EventHandler): Promise<void> {
		const g = this.groups.get(group) ?? { types: new Set<EventType>(), handlers: [], next: 0 };
		types.forEach(t => g.types.add(t));
		g.handlers.push(handler);
		this.groups.set(group, g);
	}
	async unsubscribe(group: string, handler: EventHandler): Promise<void> {
		const g = this.groups.get(group);
		if (!g) return;
		g.handlers = g.handlers.filter(h => h !== handler);
		if (g.handlers.length === 0) this.groups.delete(group);
	}

	async publish(events: EventEnvelope[]): Promise<void> {
		for (const event of events) {
			const deliveries: Promise<void>[] = [];
			for (const [group, g] of this.groups) {
				if (!g.types.has(event.type) || g.handlers.length === 0) continue;
				const handler = g.handlers[g.next++ % g.handlers.length] as EventHandler;
				deliveries.push(this.deliver(group, handler, event));
			}
			await Promise.all(deliveries);
		}
	}

	private async deliver(group: string, handler: EventHandler, event: EventEnvelope): Promise<void> {
		const tries = new HandlerTries(this.retry);
		for (;;) {
			try {
				await handler(event);
				return;
			} catch (err) {
				const delay = tries.after(err);
				if (delay === undefined) {
					const dead: DeadLetter = { group, event, error: err instanceof Error ? err.message : String(err), at: new Date().toISOString() };
					this.deadLetters.push(dead);
					this.onDeadLetter(dead);
					return;
				}
				await sleep(delay);
			}
		}
	}
}
