/**
 * `DrainingNatsTransporter`: Moleculer's NATS transporter, except that leaving the queue groups
 * (at stop, and whenever its services change) drains the subscriptions: calls NATS had already
 * handed to this node are still served, instead of being dropped by the client (nats.js drops
 * messages of a subscription it has unsubscribed). See lib/broker/call-resilience.ts for why calls
 * go through NATS queue groups.
 */
import { Transporters, type ServiceBroker } from "moleculer";

type NatsSubscription = { drain(): Promise<void> };
type NatsInternals = { subscriptions: NatsSubscription[]; client: { flush(): Promise<void> } | null; broker: ServiceBroker };

/** Moleculer's NATS transporter, leaving queue groups by draining (see the header). */
export class DrainingNatsTransporter extends Transporters.NATS {
	override unsubscribeFromBalancedCommands(): Promise<void> {
		// The subscriptions and client are the transporter's own fields, absent from Moleculer's declarations.
		const self = this as unknown as NatsInternals;
		const subs = self.subscriptions;
		self.subscriptions = [];
		return Promise.all(subs.map(s => s.drain().catch(() => undefined))).then(() => self.client?.flush());
	}
}
