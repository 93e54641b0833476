/**
 * Sends due deliveries. Every node of the service runs one: it looks for the first pending
 * delivery of each lane (lib/domain/webhooks.ts `headsOfLanes`), takes the due ones by
 * compare-and-set on a lease (so two nodes never send the same attempt, and a node killed
 * mid-delivery leaves a lease that runs out and another node sends it again, with the same
 * `webhook-id`), signs, posts through the SSRF guard, and records the attempt.
 *
 * A slow receiver holds at most `concurrencyPerEndpoint` sends of this node, never the others'
 * or the shop's: consuming an event only queues it.
 *
 * Scanning the pending deliveries costs a sort of all of them, so a scan is kept as a batch (a
 * prefix in `seq` order) and passes between scans work from it: a delivery this node finished
 * leaves the batch, one it retries stays with its new time, and one it could not take (another
 * node holds or finished it) blocks its lane until the next scan, so a lane is never overtaken
 * on a guess. Scans come at most every RESCAN_GAP_MS when new deliveries were queued, and on the timer.
 */
import type { Logger } from "moleculer";
import { Webhook } from "standardwebhooks";
import type { Agent } from "node:http";
import { guardedPost, keepAliveAgent } from "../../lib/net/guarded-post.js";
import type { GuardOptions } from "../../lib/net/ssrf.js";
import { afterAttempt, headsOfLanes, shouldDisable, signingSecrets, succeeded, type Attempt } from "../../lib/domain/webhooks.js";
import type { Collection } from "../../lib/store/index.js";
import { domainEvent } from "../../lib/contracts/events.js";
import { NOT_LEASED, type DeliveryRecord } from "./deliveries.js";
import type { EndpointRecord } from "./endpoints.js";

export interface DispatchSettings {
	retrySchedule: number[];
	timeoutMs: number;
	concurrencyPerEndpoint: number;
	disableAfterSeconds: number;
	pollMs: number;
	guard: GuardOptions;
}

/** Pending deliveries looked at per pass (a prefix in `seq` order keeps each lane's head right). */
const SCAN_LIMIT = 500;
/** Sends in flight on one node over all endpoints. */
const NODE_CONCURRENCY = 64;
/** The least time between two passes of a busy dispatcher. */
const PASS_GAP_MS = 25;
/** The least time between two scans of the pending deliveries. */
const RESCAN_GAP_MS = 50;
/** A lease outlives the send's timeout by this much before another node may take the delivery over. */
const LEASE_MARGIN_MS = 5000;

export class Dispatcher {
	private timer?: NodeJS.Timeout;
	private running?: Promise<void>;
	private again = false;
	private stopped = false;
	private readonly inFlight = new Map<string, number>();
	private readonly sends = new Set<Promise<void>>();
	/** One keep-alive pool per endpoint and origin. */
	private readonly agents = new Map<string, Agent>();
	/** The last scan, as this node has changed it since: pending deliveries in `seq` order. */
	private batch = new Map<string, DeliveryRecord>();
	/** Deliveries of the batch whose stored state is unknown here (their lane waits for the next scan). */
	private stale = new Set<string>();
	private enabled = new Map<string, EndpointRecord>();
	private scanWanted = true;
	private rescanTimer?: NodeJS.Timeout;
	private scannedAt = 0;
	/** What this node's sends wrote while a scan was reading (applied over its result). */
	private written?: Map<string, DeliveryRecord | null>;

	constructor(
		private readonly deliveries: Collection<DeliveryRecord>,
		private readonly endpoints: Collection<EndpointRecord>,
		private readonly settings: DispatchSettings,
		private readonly logger: Logger,
	) {}

	/** New deliveries were queued (or an endpoint changed): scan again soon. */
	rescan(): void {
		this.scanWanted = true;
		this.kick();
	}

	start(): void {
		this.timer = setInterval(() => this.rescan(), this.settings.pollMs);
		this.timer.unref();
		this.kick();
	}

	/** Stops looking for work and waits (bounded by the send timeout) for the sends in flight. */
	async stop(): Promise<void> {
		this.stopped = true;
		if (this.timer) clearInterval(this.timer);
		if (this.rescanTimer) clearTimeout(this.rescanTimer);
		await this.running;
		await Promise.allSettled([...this.sends]);
		for (const agent of this.agents.values()) agent.destroy();
	}

	private agentFor(endpoint: EndpointRecord): Agent | undefined {
		let origin: URL;
		try {
			origin = new URL(endpoint.url);
		} catch {
			return undefined; // refused by the guard anyway
		}
		const key = `${endpoint._id} ${origin.origin}`;
		let agent = this.agents.get(key);
		if (!agent) {
			agent = keepAliveAgent(origin.protocol, this.settings.concurrencyPerEndpoint, this.settings.guard);
			this.agents.set(key, agent);
		}
		return agent;
	}

	/** Look for due deliveries now (after an event was queued, a send finished, or on the timer). */
	kick(): void {
		if (this.stopped) return;
		if (this.running) {
			this.again = true;
			return;
		}
		this.running = (async () => {
			try {
				do {
					this.again = false;
					await this.pass();
					// Kicks that came meanwhile (each finished send kicks) make one more pass, a little later: one per batch, not one per send.
					if (this.again) await new Promise(resolve => setTimeout(resolve, PASS_GAP_MS));
				} while (this.again && !this.stopped);
			} catch (err) {
				this.logger.warn(`Webhook dispatch pass failed, will retry: ${(err as Error).message}`);
			} finally {
				this.running = undefined;
			}
		})();
	}

	private async scan(): Promise<void> {
		this.scanWanted = false;
		this.scannedAt = Date.now();
		this.written = new Map();
		try {
			this.enabled = new Map((await this.endpoints.find({ query: { enabled: true } })).map(e => [e._id, e]));
			const pending =
				this.enabled.size === 0
					? []
					: await this.deliveries.find({
							query: { state: "pending", endpointId: { $in: [...this.enabled.keys()] } },
							sort: ["seq", "_id"],
							limit: SCAN_LIMIT,
						});
			this.batch = new Map(pending.map(d => [d._id, d]));
			this.stale = new Set();
			for (const [id, after] of this.written) this.remember(id, after);
		} finally {
			this.written = undefined;
		}
	}

	/** What this node wrote about a delivery: its new state (null: no longer pending), kept in the batch. */
	private remember(id: string, after: DeliveryRecord | null): void {
		this.written?.set(id, after);
		if (after) this.batch.set(id, after);
		else this.batch.delete(id);
	}

	private async pass(): Promise<void> {
		const due = this.scanWanted || this.batch.size === 0 || this.stale.size > 0;
		const wait = this.scannedAt + RESCAN_GAP_MS - Date.now();
		if (due && wait <= 0) await this.scan();
		else if (due && !this.rescanTimer) {
			this.rescanTimer = setTimeout(() => {
				this.rescanTimer = undefined;
				this.kick();
			}, wait);
			this.rescanTimer.unref();
		}
		const now = new Date().toISOString();
		for (const head of headsOfLanes([...this.batch.values()].map(d => ({ ...d, id: d._id })))) {
			if (this.stopped || this.sends.size >= NODE_CONCURRENCY) return;
			const endpoint = this.enabled.get(head.endpointId);
			if (!endpoint || this.stale.has(head._id)) continue;
			if ((head.nextAttemptAt ?? now) > now || head.leaseUntil > now) continue;
			if ((this.inFlight.get(endpoint._id) ?? 0) >= this.settings.concurrencyPerEndpoint) continue;
			const lease = new Date(Date.now() + this.settings.timeoutMs + LEASE_MARGIN_MS).toISOString();
			const taken = await this.deliveries.updateWhere({ _id: head._id, state: "pending", leaseUntil: head.leaseUntil }, { $set: { leaseUntil: lease } });
			if (taken !== 1) {
				this.stale.add(head._id);
				continue;
			}
			const delivery = { ...head, leaseUntil: lease };
			this.remember(head._id, delivery);
			this.inFlight.set(endpoint._id, (this.inFlight.get(endpoint._id) ?? 0) + 1);
			const send = this.send(delivery, endpoint, lease)
				.catch(err => {
					this.stale.add(head._id);
					this.logger.warn(`Webhook delivery ${head._id} not recorded, its lease will run out: ${(err as Error).message}`);
				})
				.finally(() => {
					this.inFlight.set(endpoint._id, (this.inFlight.get(endpoint._id) ?? 1) - 1);
					this.sends.delete(send);
					this.kick();
				});
			this.sends.add(send);
		}
	}

	private async send(delivery: DeliveryRecord, endpoint: EndpointRecord, lease: string): Promise<void> {
		const now = new Date();
		const signature = signingSecrets(endpoint.secrets, now)
			.map(secret => new Webhook(secret).sign(delivery.webhookId, now, delivery.body))
			.join(" ");
		const headers = {
			"webhook-id": delivery.webhookId,
			"webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
			"webhook-signature": signature,
			"user-agent": "moleculer-shop-webhooks/1",
		};
		const outcome = await guardedPost(endpoint.url, delivery.body, headers, {
			...this.settings.guard,
			timeoutMs: this.settings.timeoutMs,
			agent: this.agentFor(endpoint),
		});
		const attempt: Attempt = { at: now.toISOString(), ...outcome };
		const next = afterAttempt(delivery, attempt, this.settings.retrySchedule, Math.random);
		const set = { state: next.state, nextAttemptAt: next.nextAttemptAt, leaseUntil: NOT_LEASED, updatedAt: new Date().toISOString() };
		const recorded = await this.deliveries.updateWhere({ _id: delivery._id, leaseUntil: lease }, { $push: { attempts: attempt }, $set: set });
		if (recorded === 1) this.remember(delivery._id, next.state === "pending" ? { ...delivery, ...set, attempts: [...delivery.attempts, attempt] } : null);
		else {
			this.stale.add(delivery._id);
			this.logger.warn(`Webhook delivery ${delivery._id}: the lease ran out before the attempt was recorded`);
		}
		await this.endpointHealth(endpoint, attempt);
	}

	/** A success clears the endpoint's failing streak; a failure starts it or, after long enough, disables the endpoint. */
	private async endpointHealth(seen: EndpointRecord, attempt: Attempt): Promise<void> {
		const endpointId = seen._id;
		if (succeeded(attempt.status)) {
			// As this pass read it: a streak recorded since is cleared by the next success.
			if (seen.failingSince === undefined) return;
			await this.endpoints.updateWhere({ _id: endpointId, failingSince: { $exists: true } }, { $unset: { failingSince: true } });
			return;
		}
		const endpoint = await this.endpoints.findById(endpointId);
		if (!endpoint || !endpoint.enabled) {
			this.enabled.delete(endpointId); // switched off since the last scan: no more sends from this batch
			return;
		}
		if (endpoint.failingSince === undefined) {
			await this.endpoints.updateWhere({ _id: endpointId, failingSince: { $exists: false } }, { $set: { failingSince: attempt.at } });
			return;
		}
		if (!shouldDisable(endpoint.failingSince, new Date(), this.settings.disableAfterSeconds * 1000)) return;
		const reason = `Every delivery failed since ${endpoint.failingSince} (last: ${attempt.error ?? `HTTP ${attempt.status}`})`;
		const disabled = await this.endpoints.changeWithEvents(
			{ _id: endpointId, enabled: true, failingSince: endpoint.failingSince },
			{ $set: { enabled: false, disabledReason: reason, updatedAt: new Date().toISOString() } },
			[domainEvent("webhook.disabled", { endpointId, url: endpoint.url, failingSince: endpoint.failingSince, reason })],
		);
		this.enabled.delete(endpointId);
		if (disabled === 1) this.logger.warn(`Webhook endpoint ${endpointId} disabled: ${reason}`);
	}
}
