/**
 * How the simulated payment service delivers its webhooks: signed, over HTTP, to the shop's
 * webhook endpoint, as a real provider does, with what real delivery does to them on demand for
 * tests: a delay, several copies of each, a session's events in reverse order, or none at all.
 * A delivery that fails is tried again a few times; after that the shop's reconciliation is what
 * finds the outcome (as with a real provider whose webhook is lost).
 */
import type { SimulatedEventBody } from "./simulated-sessions.js";

export interface DeliverySettings {
	url: string;
	delayMs: number;
	copies: number;
	reorder: boolean;
	drop: boolean;
}

type Sign = (id: string, at: Date, body: string) => Record<string, string>;

const ATTEMPTS = 3;

export class SimulatedWebhookDelivery {
	/** Events of a session held back to be sent reversed. */
	private readonly held = new Map<string, SimulatedEventBody[]>();
	private readonly timers = new Set<NodeJS.Timeout>();
	private readonly inFlight = new Set<Promise<void>>();

	constructor(
		private readonly settings: DeliverySettings,
		private readonly sign: Sign,
		private readonly log: { warn(msg: string): void },
	) {}

	send(sessionId: string, event: SimulatedEventBody): void {
		if (this.settings.drop) return;
		if (!this.settings.reorder) return this.later(() => this.deliverCopies(event));
		const queue = this.held.get(sessionId) ?? [];
		queue.push(event);
		if (queue.length > 1) return;
		this.held.set(sessionId, queue);
		// The first event of a burst waits for the ones behind it; then all go out, last first.
		this.later(
			() => {
				const events = this.held.get(sessionId) ?? [];
				this.held.delete(sessionId);
				for (const e of events.reverse()) this.deliverCopies(e);
			},
			Math.max(this.settings.delayMs, 300),
		);
	}

	private later(fn: () => void, ms = this.settings.delayMs): void {
		const timer = setTimeout(() => {
			this.timers.delete(timer);
			fn();
		}, ms);
		timer.unref();
		this.timers.add(timer);
	}

	private deliverCopies(event: SimulatedEventBody): void {
		const body = JSON.stringify(event);
		for (let i = 0; i < Math.max(1, this.settings.copies); i++) {
			const p = this.deliver(event.id, body).finally(() => this.inFlight.delete(p));
			this.inFlight.add(p);
		}
	}

	private async deliver(id: string, body: string): Promise<void> {
		for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
			try {
				const headers = { "content-type": "application/json", ...this.sign(id, new Date(), body) };
				const res = await fetch(this.settings.url, { method: "POST", headers, body, signal: AbortSignal.timeout(5000) });
				await res.arrayBuffer();
				if (res.status < 500 && res.status !== 429) return;
			} catch {
				/* tried again below */
			}
			await new Promise(r => setTimeout(r, 200 * attempt));
		}
		this.log.warn(`Simulated webhook ${id} could not be delivered to ${this.settings.url}`);
	}

	/** Stops what is waiting and lets what is under way finish. */
	async stop(): Promise<void> {
		for (const t of this.timers) clearTimeout(t);
		this.timers.clear();
		await Promise.allSettled([...this.inFlight]);
	}
}
