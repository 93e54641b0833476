/**
 * webhooks: the shop's integration events sent to integrators' endpoints, signed per the
 * Standard Webhooks specification, at least once, in order per resource, retried on a schedule,
 * with a delivery log. Its own database (`shop_webhooks`), fed by the events from Kafka. The work
 * is in the modules beside this file:
 *
 *   endpoints.ts   endpoints (admin), their URL checked by the SSRF guard, their signing secrets
 *   deliveries.ts  the delivery log and queue: one delivery per endpoint and event, its lane and place
 *   dispatcher.ts  sends due deliveries under a lease, records each attempt, disables an endpoint failing too long
 *
 * The rules (payload, schedule, order, disabling) are lib/domain/webhooks.ts; the outgoing request
 * is lib/net/guarded-post.ts.
 */
import type { Service } from "moleculer";
import { defineService } from "../../lib/broker/service.js";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin.js";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin.js";
import { config } from "../../lib/config.js";
import { offsetOf, paged } from "../../lib/paging.js";
import type { ShopContext } from "../../lib/auth/access.js";
import type { AnyEnvelope } from "../../lib/contracts/events.js";
import { WEBHOOKS } from "../../lib/contracts/http/webhooks.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import { WEBHOOK_EVENT_TYPES } from "../../lib/domain/webhooks.js";
import { Endpoints, type EndpointRecord } from "./endpoints.js";
import { Deliveries, type DeliveryRecord } from "./deliveries.js";
import { Dispatcher } from "./dispatcher.js";

type Params<A extends keyof typeof WEBHOOKS> = ParamsOf<(typeof WEBHOOKS)[A]>;

interface WebhooksState {
	endpoints: Endpoints;
	deliveries: Deliveries;
	dispatcher: Dispatcher;
	retention?: NodeJS.Timeout;
}
type WebhooksThis = Service & DbMethods & EventsMethods & WebhooksState;

/** Every public event goes the same way: queued for the endpoints that want it, then sent by the dispatcher. */
async function onEvent(this: WebhooksThis, event: AnyEnvelope): Promise<void> {
	const queued = await this.deliveries.enqueue(event, await this.endpoints.subscribedTo(event.type));
	if (queued > 0) this.dispatcher.rescan();
}

const RETENTION_EVERY_MS = 3_600_000;
const guard = () => ({ allowPrivate: config.webhooks.allowPrivateTargets });

const WebhooksService = defineService<WebhooksThis>({
	name: "webhooks",
	// Events first: Moleculer starts the last mixin's hooks first, so the database is connected before events are consumed.
	mixins: [
		EventsMixin({ outbox: ["endpoints"] }),
		DbMixin({
			endpoints: {},
			deliveries: { indexes: [{ fields: { endpointId: 1 } }, { fields: { state: 1 } }] },
			lanes: {},
		}),
	],

	actions: {
		create: {
			roles: ["admin"],
			params: WEBHOOKS["webhooks.create"],
			handler(ctx: ShopContext<Params<"webhooks.create">>) {
				return this.endpoints.create(ctx.params);
			},
		},
		list: {
			idempotent: true,
			roles: ["admin"],
			params: WEBHOOKS["webhooks.list"],
			async handler(ctx: ShopContext<Params<"webhooks.list">>) {
				const { page, pageSize } = ctx.params;
				const { rows, total } = await this.endpoints.list(page, pageSize, offsetOf(page, pageSize));
				return paged(rows, total, page, pageSize);
			},
		},
		update: {
			roles: ["admin"],
			params: WEBHOOKS["webhooks.update"],
			async handler(ctx: ShopContext<Params<"webhooks.update">>) {
				const updated = await this.endpoints.update(ctx.params);
				this.dispatcher.rescan(); // switched on again: what waited goes out
				return updated;
			},
		},
		remove: {
			roles: ["admin"],
			params: WEBHOOKS["webhooks.remove"],
			async handler(ctx: ShopContext<Params<"webhooks.remove">>) {
				await this.endpoints.remove(ctx.params.id);
				await this.deliveries.removeOf(ctx.params.id);
				return null;
			},
		},
		deliveries: {
			idempotent: true,
			roles: ["admin"],
			params: WEBHOOKS["webhooks.deliveries"],
			async handler(ctx: ShopContext<Params<"webhooks.deliveries">>) {
				const { id, page, pageSize, state } = ctx.params;
				await this.endpoints.record(id);
				const { rows, total } = await this.deliveries.list(id, state, pageSize, offsetOf(page, pageSize));
				return paged(rows, total, page, pageSize);
			},
		},
		retryDelivery: {
			roles: ["admin"],
			params: WEBHOOKS["webhooks.retryDelivery"],
			async handler(ctx: ShopContext<Params<"webhooks.retryDelivery">>) {
				await this.endpoints.record(ctx.params.id);
				const delivery = await this.deliveries.retry(ctx.params.id, ctx.params.deliveryId);
				this.dispatcher.rescan();
				return delivery;
			},
		},
		rotateSecret: {
			roles: ["admin"],
			params: WEBHOOKS["webhooks.rotateSecret"],
			handler(ctx: ShopContext<Params<"webhooks.rotateSecret">>) {
				return this.endpoints.rotateSecret(ctx.params.id);
			},
		},
		/** The back office's "send a test event": queued like any other delivery, answered at once (202). */
		sendTest: {
			roles: ["admin"],
			params: WEBHOOKS["webhooks.sendTest"],
			async handler(ctx: ShopContext<Params<"webhooks.sendTest">>) {
				const delivery = await this.deliveries.enqueueTest(await this.endpoints.record(ctx.params.id));
				this.dispatcher.rescan();
				return delivery;
			},
		},
	},

	integrationEvents: Object.fromEntries(WEBHOOK_EVENT_TYPES.map(type => [type, onEvent])),

	created() {
		const endpoints = this.collection<EndpointRecord>("endpoints");
		const deliveries = this.collection<DeliveryRecord>("deliveries");
		this.endpoints = new Endpoints(endpoints, guard);
		this.deliveries = new Deliveries(deliveries, this.collection("lanes"));
		this.dispatcher = new Dispatcher(deliveries, endpoints, { ...config.webhooks, guard: guard() }, this.logger);
	},

	started() {
		this.dispatcher.start();
		const forget = () => {
			const cutoff = new Date(Date.now() - config.webhooks.logRetentionDays * 86_400_000).toISOString();
			this.deliveries.forgetFinishedBefore(cutoff).catch(err => this.logger.warn(`Webhook log retention failed, will retry: ${(err as Error).message}`));
		};
		this.retention = setInterval(forget, RETENTION_EVERY_MS);
		this.retention.unref();
	},

	async stopped() {
		if (this.retention) clearInterval(this.retention);
		await this.dispatcher.stop();
	},
});

export default WebhooksService;
