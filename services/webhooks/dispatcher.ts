/**
 * Sends due deliveries. Every node of the service runs one: it looks for the first pending
 * delivery of each lane (lib/domain/webhooks.ts `headsOfLanes`), takes the due ones by
 * compare-and-set on a lease (so two nodes never send the same attempt, and a node killed
 * mid-delivery leaves a lease that runs out and another node sends it again, with the same
 * `webhook-id`), signs, posts through the SSRF guard, and records the attempt.
 *
 * A slow receiver holds at most `concurrencyPerEndpoint` sends of this node, never the others'
 * or the shop's: consuming an event only queues it.
 */
import type { Logger } from "moleculer";
import { Webhook } from "standardwebhooks";
import { guardedPost } from "../../lib/net/guarded-post.js";
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
/** A lease outlives the send's timeout by this much before another node may take the delivery over. */
const LEASE_MARGIN_MS = 5000;

export class Dispatcher {
	private timer?: NodeJS.Timeout;
	private running?: Promise<void>;
	private again = false;
	private stopped = false;
	private readonly inFlight = new Map<string, number>();
	private readonly sends = new Set<Promise<void>>();

	constructor(
		private readonly deliveries: Collection<DeliveryRecord>,
		private readonly endpoints: Collection<EndpointRecord>,
		private readonly settings: DispatchSettings,
		private readonly logger: Logger,
	) {}

	start(): void {
		this.timer = setInterval(() => this.kick(), this.settings.pollMs);
		this.timer.unref();
		this.kick();
	}

	/** Stops looking for work and waits (bounded by the send timeout) for the sends in flight. */
	async stop(): Promise<void> {
		this.stopped = true;
		if (this.timer) clearInterval(this.timer);
		await this.running;
		await Promise.allSettled([...this.sends]);
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
				} while (this.again && !this.stopped);
			} catch (err) {
				this.logger.warn(`Webhook dispatch pass failed, will retry: ${(err as Error).message}`);
			} finally {
				this.running = undefined;
			}
		})();
	}

	private async pass(): Promise<void> {
		const enabled = new Map((await this.endpoints.find({ query: { enabled: true } })).map(e => [e._id, e]));
		if (enabled.size === 0) return;
		const pending = await this.deliveries.find({
			query: { state: "pending", endpointId: { $in: [...enabled.keys()] } },
			sort: ["seq", "_id"],
			limit: SCAN_LIMIT,
		});
		const now = new Date().toISOString();
		for (const head of headsOfLanes(pending.map(d => ({ ...d, id: d._id })))) {
			if (this.stopped || this.sends.size >= NODE_CONCURRENCY) return;
			const endpoint = enabled.get(head.endpointId)!;
			if ((head.nextAttemptAt ?? now) > now || head.leaseUntil > now) continue;
			if ((this.inFlight.get(endpoint._id) ?? 0) >= this.settings.concurrencyPerEndpoint) continue;
			const lease = new Date(Date.now() + this.settings.timeoutMs + LEASE_MARGIN_MS).toISOString();
			const taken = await this.deliveries.updateWhere({ _id: head._id, state: "pending", leaseUntil: head.leaseUntil }, { $set: { leaseUntil: lease } });
			if (taken !== 1) continue;
			this.inFlight.set(endpoint._id, (this.inFlight.get(endpoint._id) ?? 0) + 1);
			const send = this.send(head, endpoint, lease)
				.catch(err => this.logger.warn(`Webhook delivery ${head._id} not recorded, its lease will run out: ${(err as Error).message}`))
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
		const outcome = await guardedPost(endpoint.url, delivery.body, headers, { ...this.settings.guard, timeoutMs: this.settings.timeoutMs });
		const attempt: Attempt = { at: now.toISOString(), ...outcome };
		const next = afterAttempt(delivery, attempt, this.settings.retrySchedule, Math.random);
		const recorded = await this.deliveries.updateWhere(
			{ _id: delivery._id, leaseUntil: lease },
			{
				$push: { attempts: attempt },
				$set: { state: next.state, nextAttemptAt: next.nextAttemptAt, leaseUntil: NOT_LEASED, updatedAt: new Date().toISOString() },
			},
		);
		if (recorded !== 1) this.logger.warn(`Webhook delivery ${delivery._id}: the lease ran out before the attempt was recorded`);
		await this.endpointHealth(endpoint._id, attempt);
	}

	/** A success clears the endpoint's failing streak; a failure starts it or, after long enough, disables the endpoint. */
	private async endpointHealth(endpointId: string, attempt: Attempt): Promise<void> {
		if (succeeded(attempt.status)) {
			await this.endpoints.updateWhere({ _id: endpointId, failingSince: { $exists: true } }, { $unset: { failingSince: true } });
			return;
		}
		const endpoint = await this.endpoints.findById(endpointId);
		if (!endpoint || !endpoint.enabled) return;
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
		if (disabled === 1) this.logger.warn(`Webhook endpoint ${endpointId} disabled: ${reason}`);
	}
}
