/**
 * `DrainingNatsTransporter`: Moleculer's NATS transporter, with two changes.
 *
 * - Leaving the queue groups (at stop, and whenever its services change) drains the
 *   subscriptions: calls NATS had already handed to this node are still served, instead of being
 *   dropped by the client (nats.js drops messages of a subscription it has unsubscribed). See
 *   lib/broker/call-resilience.ts for why calls go through NATS queue groups.
 * - It says when it has lost NATS. Moleculer's transporter never notices: nats.js reconnects by
 *   itself and buffers what is published meanwhile, so a call made while NATS is away waits for its
 *   whole deadline (10 s) and the node still reports its transporter connected. Here a "disconnect"
 *   of the client marks the transporter and transit disconnected, so calls fail at once with
 *   Moleculer's BrokerDisconnectedError (a 503 at the gateway), heartbeats and INFO are skipped
 *   rather than queued, and `/ready` says `transporter` not ok. On "reconnect" it runs Moleculer's
 *   reconnect path (broadcast INFO, discover every node), so the registries fill again within a
 *   second instead of waiting for heartbeats; the client has restored its subscriptions itself,
 *   so the queue groups are not left and joined again (which would leave a gap with no subscriber).
 */
import { Transporters } from "moleculer";

/** The parts of the nats.js client used here (Moleculer declares its `client` as `any`). */
type NatsClient = { flush(): Promise<void>; status(): AsyncIterable<{ type: string; data?: unknown }> };

/** Moleculer's gauge of a connected transit (it sets it to 1 once connected, never to 0 on a lost link). */
const TRANSIT_CONNECTED_METRIC = "moleculer.transit.connected";

/** Moleculer's NATS transporter, leaving queue groups by draining and noticing a lost connection (see the header). */
export class DrainingNatsTransporter extends Transporters.NATS {
	/** Set while the client reconnects: its subscriptions are already back (see the header). */
	private resubscribed = false;

	override connect(): Promise<void> {
		return super.connect().then(() => {
			const client = this.client as NatsClient | null;
			if (client) void this.watch(client);
		});
	}

	/** Follow the client's status: a lost connection, and its return. */
	private async watch(client: NatsClient): Promise<void> {
		for await (const status of client.status()) {
			if (this.client !== client) return;
			if (status.type === "disconnect") this.lost(String(status.data ?? ""));
			else if (status.type === "reconnect") await this.regained(String(status.data ?? ""));
		}
	}

	private lost(server: string): void {
		if (!this.connected) return;
		this.logger.warn(`NATS connection to ${server} lost: calls fail at once until it is back.`);
		this.connected = false;
		this.transit.connected = false;
		if (this.broker.isMetricsEnabled()) this.broker.metrics.set(TRANSIT_CONNECTED_METRIC, 0);
	}

	private async regained(server: string): Promise<void> {
		this.logger.info(`NATS connection to ${server} is back: announcing this node and discovering the others.`);
		this.resubscribed = true;
		// Connected again before Moleculer's reconnect path runs: it sends INFO only on a connected transit.
		this.transit.connected = true;
		try {
			// Moleculer's reconnect path: INFO to every node, DISCOVER, then transit connected (and its gauge 1).
			await this.onConnected(true);
		} catch (err) {
			this.logger.warn(`Rediscovery after the NATS reconnect failed: ${(err as Error).message}`);
		} finally {
			this.resubscribed = false;
		}
	}

	override makeBalancedSubscriptions(): Promise<void> {
		if (this.resubscribed) return Promise.resolve();
		return super.makeBalancedSubscriptions();
	}

	override unsubscribeFromBalancedCommands(): Promise<void> {
		const subs = this.subscriptions;
		this.subscriptions = [];
		return Promise.all(subs.map(s => s.drain().catch(() => undefined))).then(() => (this.client as NatsClient)?.flush());
	}
}
