/**
 * `DrainingNatsTransporter`: Moleculer's NATS transporter, except that leaving the queue groups
 * (at stop, and whenever its services change) drains the subscriptions: calls NATS had already
 * handed to this node are still served, instead of being dropped by the client (nats.js drops
 * messages of a subscription it has unsubscribed). See lib/broker/call-resilience.ts for why calls
 * go through NATS queue groups.
 */
import { Transporters } from "moleculer";

/** The part of the nats.js client used here (Moleculer declares its `client` as `any`). */
type NatsClient = { flush(): Promise<void> } | null;

/** Moleculer's NATS transporter, leaving queue groups by draining (see the header). */
export class DrainingNatsTransporter extends Transporters.NATS {
	override unsubscribeFromBalancedCommands(): Promise<void> {
		const subs = this.subscriptions;
		this.subscriptions = [];
		return Promise.all(subs.map(s => s.drain().catch(() => undefined))).then(() => (this.client as NatsClient)?.flush());
	}
}
