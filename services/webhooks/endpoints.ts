/**
 * Webhook endpoints, managed by admins: URL (checked by the SSRF guard when it is set), the event
 * types it receives, and its signing secrets. A secret is answered twice only: when the endpoint
 * is created and when it is rotated; it is kept in this service's own database because it must
 * sign every delivery, and never listed or logged.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Static } from "typebox";
import type { WebhookEndpoint } from "../../lib/http/schemas.js";
import { conflict, invalidField, notFound } from "../../lib/errors.js";
import type { Collection } from "../../lib/store/index.js";
import type { WEBHOOKS } from "../../lib/contracts/http/webhooks.js";
import { definedOnly, type ParamsOf } from "../../lib/contracts/params.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";
import { ForbiddenTargetError, resolveTarget, targetUrlProblem, type GuardOptions } from "../../lib/net/ssrf.js";
import { formatSecret, rotatedSecrets, subscribes, subscriptionProblem, type SigningSecret } from "../../lib/domain/webhooks.js";

type Params<A extends keyof typeof WEBHOOKS> = ParamsOf<(typeof WEBHOOKS)[A]>;

/** How long a rotated-out secret still signs (the contract's 24 hours). */
export const ROTATION_GRACE_MS = 24 * 3600 * 1000;

export interface EndpointRecord {
	_id: string;
	url: string;
	events: string[];
	description: string | null;
	enabled: boolean;
	disabledReason: string | null;
	/** Set at the first failed attempt after a success, removed by the next success. */
	failingSince?: string;
	secrets: SigningSecret[];
	secretRotatedAt: string | null;
	createdAt: string;
	updatedAt: string;
	outbox?: EventEnvelope[];
}

export type PublicEndpoint = Static<typeof WebhookEndpoint>;

export function publicEndpoint(e: EndpointRecord): PublicEndpoint {
	return {
		id: e._id,
		url: e.url,
		events: e.events,
		description: e.description,
		enabled: e.enabled,
		disabledReason: e.disabledReason,
		failingSince: e.failingSince ?? null,
		secretRotatedAt: e.secretRotatedAt,
		createdAt: e.createdAt,
		updatedAt: e.updatedAt,
	};
}

const newSecret = () => formatSecret(randomBytes(32));

export class Endpoints {
	constructor(
		private readonly endpoints: Collection<EndpointRecord>,
		private readonly guard: () => GuardOptions,
	) {}

	async record(id: string): Promise<EndpointRecord> {
		const e = await this.endpoints.findById(id);
		if (!e) throw notFound("Webhook", id);
		return e;
	}

	/** 422 naming `url` when the URL is malformed or points where the shop must not send. */
	private async checkUrl(url: string): Promise<void> {
		const problem = targetUrlProblem(url);
		if (problem) throw invalidField("url", `The 'url' field ${problem}.`);
		try {
			await resolveTarget(url, this.guard());
		} catch (err) {
			if (err instanceof ForbiddenTargetError) throw invalidField("url", `The 'url' field is refused: ${err.reason}.`, "forbiddenTarget");
			throw err;
		}
	}

	private checkEvents(events: string[]): void {
		const problem = subscriptionProblem(events);
		if (problem) throw invalidField("events", `The 'events' field ${problem}.`);
	}

	async create(p: Params<"webhooks.create">): Promise<PublicEndpoint & { secret: string }> {
		this.checkEvents(p.events);
		await this.checkUrl(p.url);
		const at = new Date().toISOString();
		const secret = newSecret();
		const record: EndpointRecord = {
			_id: randomUUID(),
			url: p.url,
			events: p.events,
			description: p.description ?? null,
			enabled: p.enabled ?? true,
			disabledReason: null,
			secrets: [{ secret, expiresAt: null }],
			secretRotatedAt: null,
			createdAt: at,
			updatedAt: at,
		};
		await this.endpoints.insert(record);
		return { ...publicEndpoint(record), secret };
	}

	async list(page: number, pageSize: number, offset: number): Promise<{ rows: PublicEndpoint[]; total: number }> {
		const [rows, total] = await Promise.all([this.endpoints.find({ sort: ["-createdAt", "_id"], limit: pageSize, offset }), this.endpoints.count()]);
		return { rows: rows.map(publicEndpoint), total };
	}

	async update({ id, ...asked }: Params<"webhooks.update">): Promise<PublicEndpoint> {
		const before = await this.record(id);
		const change = definedOnly(asked);
		if (change.events) this.checkEvents(change.events);
		if (change.url !== undefined && change.url !== before.url) await this.checkUrl(change.url);
		const update: Record<string, unknown> = { $set: { ...change, updatedAt: new Date().toISOString() } };
		// Switched on again: a fresh start, failures before no longer count towards disabling it.
		if (change.enabled === true && !before.enabled) {
			(update.$set as Record<string, unknown>).disabledReason = null;
			update.$unset = { failingSince: true };
		}
		await this.endpoints.updateWhere({ _id: id }, update);
		return publicEndpoint(await this.record(id));
	}

	async remove(id: string): Promise<void> {
		await this.record(id);
		await this.endpoints.removeById(id);
	}

	/** A new current secret; the previous one keeps signing for ROTATION_GRACE_MS, so receivers can switch without losing a delivery. */
	async rotateSecret(id: string): Promise<PublicEndpoint & { secret: string }> {
		const secret = newSecret();
		const { doc } = await this.endpoints.change(
			id,
			before => {
				const now = new Date();
				const at = now.toISOString();
				const secrets = rotatedSecrets(before.secrets, secret, now, ROTATION_GRACE_MS);
				return { expect: { updatedAt: before.updatedAt }, update: { $set: { secrets, secretRotatedAt: at, updatedAt: at } } };
			},
			{ contended: () => conflict("The webhook changed while its secret was rotated; try again") },
		);
		if (!doc) throw notFound("Webhook", id);
		return { ...publicEndpoint(doc), secret };
	}

	/** The enabled endpoints that receive events of `type`. */
	async subscribedTo(type: string): Promise<EndpointRecord[]> {
		const enabled = await this.endpoints.find({ query: { enabled: true } });
		return enabled.filter(e => subscribes(e.events, type));
	}

	enabled(): Promise<EndpointRecord[]> {
		return this.endpoints.find({ query: { enabled: true } });
	}
}
