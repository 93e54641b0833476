/**
 * Calls between nodes that survive a node dying (moleculer.config.ts puts this in every broker).
 *
 * Where a call goes. With CALL_BALANCER=nats (the default on a NATS transporter) Moleculer's own
 * balancer is off (`disableBalancer`): a call is published to its action's NATS queue group and
 * NATS hands it to one *connected* node of the service. A node that dies, even `kill -9`, loses its
 * TCP connection to NATS and with it its subscriptions, so from that instant no call goes to it;
 * the heartbeats (seconds later) only tidy up the registry. The gateway (moleculer-web) resolves an
 * endpoint itself and would address that node directly: `ResilienceMiddleware` sends such calls to
 * the queue group too. A call that names its node (the `nodeID` call option) goes to that node, and
 * an action the calling node runs itself is run there (preferLocal), while that node is not stopping.
 *
 * What is sent again. Only what is safe to repeat, as each action says in its schema:
 *   idempotent: true    reads, and writes that set absolute values or are conditional
 *   idempotent: "key"   writes that are safe to repeat when the call carries an Idempotency-Key
 * - A call to such an action that has no answer after CALL_HEDGE_MS is sent once more (NATS picks
 *   the node, never a dead one); the first answer wins and the other is dropped. This bounds what
 *   a call in flight on a node that dies costs its client (its answer never comes) without ever
 *   cutting short a slow call that would have answered. Copies are rationed (a token bucket: on
 *   average one copy per ten calls, ten at once), so an overloaded cluster is not sent more work.
 * - A transient failure of such a call (the node went away while it waited, a 503 of that node) is
 *   sent again at once, at most CALL_REPEATS copies in all, within the call's deadline.
 * - Any call, idempotent or not, that a node refused before running it (it was stopping: Moleculer
 *   answers ServiceNotAvailableError for that very action) is sent again: nothing ran.
 * A non-idempotent write is never repeated blindly: it either ran or was refused unrun.
 *
 * The circuit breaker is per endpoint (node); with NATS choosing the node no endpoint is known
 * before the answer, so moleculer.config.ts turns it off in that mode.
 *
 * It reads Moleculer's registry (endpoint lists, preferLocal), transit (pending requests) and a
 * context's start time, as Moleculer's own declarations describe them.
 */
import { Errors, type ActionEndpoint, type ActionSchema, type Context, type Middleware, type ServiceBroker } from "moleculer";

/** The `idempotent` property of an action schema (lib/broker/service.ts). */
export type Idempotency = true | "key";

export interface ResilienceOptions {
	/** Calls go to the action's NATS queue group (Moleculer's `disableBalancer`). */
	natsBalanced: boolean;
	/** An idempotent call with no answer after this long is sent once more; 0: never. */
	hedgeMs: number;
	/** The most copies of one call after the first (a call option `retries` overrides it). */
	repeats: number;
}

export const REPEATS_METRIC = "shop_call_repeats_total";

type Send = (ctx: Context) => Promise<unknown>;
type RemoteAction = Pick<ActionSchema, "idempotent"> & { name: string };
type ErrorLike = { name?: string; retryable?: boolean; data?: { action?: string } };

/** Moleculer's answers for a call a node refused before running it (stopping, or the service gone there). */
const NOT_RUN = new Set(["ServiceNotAvailableError", "ServiceNotFoundError", "QueueIsFullError", "BulkheadError"]);

/** True when the node refused this very call before running it (not an error of a call it made further on). */
export function refusedUnrun(err: unknown, action: string): boolean {
	const e = err as ErrorLike;
	return !!e && NOT_RUN.has(e.name ?? "") && e.data?.action === action;
}

/** True when a call that may have run is safe to send again: the action says so, for this call. */
export function repeatable(action: RemoteAction, ctx: Context): boolean {
	if (action.idempotent === true) return true;
	return action.idempotent === "key" && typeof (ctx.meta as { idempotencyKey?: unknown }).idempotencyKey === "string";
}

/** A token bucket rationing copies (gRPC's retry throttling): each call adds `ratio`, each copy costs one. */
class CopyBudget {
	private tokens: number;
	constructor(
		private readonly max = 10,
		private readonly ratio = 0.1,
	) {
		this.tokens = max;
	}
	called(): void {
		this.tokens = Math.min(this.max, this.tokens + this.ratio);
	}
	take(): boolean {
		if (this.tokens < 1) return false;
		this.tokens -= 1;
		return true;
	}
}

export function ResilienceMiddleware(opts: ResilienceOptions): Middleware {
	let broker: ServiceBroker;
	const budget = new CopyBudget();

	function count(action: string, reason: "hedge" | "transient" | "refused"): void {
		if (broker.isMetricsEnabled()) broker.metrics.increment(REPEATS_METRIC, { action, reason });
	}

	/** An available endpoint of this node for the action, when the registry prefers local ones. */
	function localEndpoint(action: string): ActionEndpoint | undefined {
		if (broker.registry.opts.preferLocal === false) return undefined;
		return broker.registry.getActionEndpoints(action)?.localEndpoints.find(ep => ep.isAvailable);
	}

	/** The action's endpoints (none when no node has it: Moleculer answers nothing then). */
	function endpointsOf(action: string): ActionEndpoint[] {
		return broker.registry.getActionEndpoints(action)?.endpoints ?? [];
	}

	/** Another node for a copy when Moleculer balances: any available remote endpoint not tried yet. */
	function retarget(copy: Context, action: string, tried: Set<string>): void {
		if (opts.natsBalanced) {
			copy.nodeID = null;
			return;
		}
		const live = endpointsOf(action).filter(ep => ep.isAvailable && !ep.local);
		const fresh = live.filter(ep => !tried.has(ep.id));
		const pick = (fresh.length ? fresh : live)[Math.floor(Math.random() * (fresh.length || live.length))];
		if (!pick) return;
		copy.setEndpoint(pick);
		copy.nodeID = pick.id;
	}

	/** Send `ctx` to one available remote node of the action, picked at random. */
	function pinToOneNode(ctx: Context, action: string): void {
		const live = endpointsOf(action).filter(ep => ep.isAvailable && !ep.local);
		const pick = live[Math.floor(Math.random() * live.length)];
		if (!pick) return;
		ctx.setEndpoint(pick);
		ctx.nodeID = pick.id;
	}

	function call(send: Send, action: RemoteAction, ctx: Context): Promise<unknown> {
		const transit = broker.transit;
		const mayRepeat = repeatable(action, ctx);
		const maxCopies = typeof ctx.options.retries === "number" ? ctx.options.retries : opts.repeats;
		// The call's deadline, as the Timeout middleware (around this one) counts it.
		const startHr = ctx.startHrTime;
		const elapsed = startHr ? (([sec, ns]) => sec * 1000 + ns / 1e6)(process.hrtime(startHr)) : 0;
		const deadline = ctx.options.timeout && ctx.options.timeout > 0 ? Date.now() - elapsed + ctx.options.timeout : Infinity;
		budget.called();

		return new Promise((resolve, reject) => {
			const running = new Map<string, Context>();
			const tried = new Set<string>();
			let copies = 0;
			let settled = false;
			let lastError: unknown;
			let hedgeTimer: NodeJS.Timeout | undefined;
			let deadlineTimer: NodeJS.Timeout | undefined;

			const finish = (err: unknown, result?: unknown, winner?: Context) => {
				if (settled) return;
				settled = true;
				clearTimeout(hedgeTimer);
				clearTimeout(deadlineTimer);
				// The other copies' answers are dropped when they come (Moleculer logs them as orphans).
				for (const [id, c] of running) if (c !== winner) transit?.removePendingRequest(id);
				running.clear();
				if (winner && winner !== ctx) ctx.nodeID = winner.nodeID;
				if (err) reject(err);
				else resolve(result);
			};

			const launch = (c: Context) => {
				running.set(c.id, c);
				if (c.nodeID) tried.add(c.nodeID);
				send(c).then(
					result => finish(null, result, c),
					err => failed(c, err),
				);
			};

			const another = (reason: "hedge" | "transient" | "refused"): boolean => {
				if (settled || copies >= maxCopies || Date.now() >= deadline) return false;
				if (reason !== "refused" && !budget.take()) return false;
				copies++;
				count(action.name, reason);
				const c = ctx.copy();
				retarget(c, action.name, tried);
				launch(c);
				return true;
			};

			const failed = (c: Context, err: unknown) => {
				running.delete(c.id);
				if (settled) return;
				lastError = err;
				const refused = refusedUnrun(err, action.name);
				const transient = !refused && mayRepeat && (err as ErrorLike)?.retryable === true;
				if (refused || transient) {
					// A short pause: a stopping node is leaving its queue group, a reconnecting transporter may be back.
					const delay = refused ? 25 * 2 ** copies : 0;
					setTimeout(() => {
						if (!another(refused ? "refused" : "transient") && running.size === 0) finish(lastError);
					}, delay).unref();
					return;
				}
				// An answer of the service (a 4xx, a failure that is not transient) is the answer, unless another copy of
				// the call still runs: a copy may have been refused because the first one holds its Idempotency-Key.
				if (running.size === 0) finish(err);
			};

			const hedge = () => {
				if (settled || !another("hedge")) return;
				hedgeTimer = setTimeout(hedge, opts.hedgeMs);
				hedgeTimer.unref();
			};

			if (deadline !== Infinity) {
				// Just before the Timeout middleware gives up: answer what a copy answered (a 409, say), and let go of every copy.
				deadlineTimer = setTimeout(
					() => finish(lastError ?? new Errors.RequestTimeoutError({ action: action.name, nodeID: ctx.nodeID ?? "" })),
					Math.max(0, deadline - Date.now() - 50),
				);
				deadlineTimer.unref();
			}
			launch(ctx);
			if (mayRepeat && opts.hedgeMs > 0 && maxCopies > 0) {
				hedgeTimer = setTimeout(hedge, opts.hedgeMs);
				hedgeTimer.unref();
			}
		});
	}

	return {
		name: "Resilience",
		created(b: ServiceBroker) {
			broker = b;
			if (b.isMetricsEnabled() && !b.metrics.hasMetric(REPEATS_METRIC)) {
				b.metrics.register({
					name: REPEATS_METRIC,
					type: "counter",
					labelNames: ["action", "reason"],
					description: "Calls sent again to another node: hedge (no answer in time), transient (failed), refused (a stopping node did not run it)",
				} as Parameters<ServiceBroker["metrics"]["register"]>[0]);
			}
		},
		remoteAction(next, action) {
			// Moleculer declares `next` with a service `this` it never passes (the innermost handler is bound to its service).
			const send = next as Send;
			const remote: RemoteAction = { idempotent: action.idempotent, name: action.name! };
			return function resilientCall(ctx: Context) {
				// A stream is many packets: balanced by NATS, each would go to any node of the queue group
				// (an upload's chunks spread over the media nodes), so it goes to one node, named.
				if (ctx.options.stream && !ctx.options.nodeID && opts.natsBalanced) pinToOneNode(ctx, remote.name);
				// A call that names its node, or streams, goes as it is.
				if (ctx.options.nodeID || ctx.options.stream) return send(ctx);
				// An action this node runs itself is run here while the node is up (Moleculer's preferLocal, which
				// disableBalancer ignores: every call would go through NATS to any node). Above all a gateway's own
				// /api/ready, which would otherwise be answered by any gateway, a draining one too.
				const local = opts.natsBalanced && broker.started ? localEndpoint(remote.name) : undefined;
				if (local) {
					ctx.setEndpoint(local);
					ctx.nodeID = broker.nodeID;
					// The action's handler as the local middlewares wrapped it; bound to its service, it takes no `this`.
					return (local.action.handler as Send)(ctx);
				}
				// The gateway (or a caller) resolved an endpoint: let NATS pick a connected node instead.
				if (opts.natsBalanced) ctx.nodeID = null;
				return call(send, remote, ctx);
			};
		},
	};
}
