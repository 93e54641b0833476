/**
 * When a gateway may take API requests (the contract's Operations section): every service it
 * routes to has an available instance, and its deny-list of revoked sessions has been read.
 * Until then every API request is answered at once with 503 and `Retry-After` (never a request
 * that fails halfway because a service is not there yet). Once ready, the gate stays open: a
 * service that goes away later answers 503 for its own routes only, and /api/ready says so.
 *
 * Draining (scripts/start.ts calls `drain` on SIGTERM, before the broker stops): /api/ready answers
 * 503 at once, so a load balancer takes this gateway out of rotation, while every request that
 * still comes is served, with `Connection: close` so no connection is kept for the next one. After
 * the drain delay the listener closes, idle connections are closed, and the requests in flight
 * finish (bounded); only then does the broker stop.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { ServiceBroker } from "moleculer";
import { routesFor, serviceOf } from "../../lib/http/routes.js";
import { UNAVAILABLE_BODY } from "../../lib/http/errors.js";
import type { ReadyCheck } from "../../lib/readiness.js";
import type { GatewayAccess } from "./access.js";

const RETRY_AFTER_SECONDS = 2;

export class GatewayReadiness {
	private open = false;
	private draining = false;
	private readonly actionsByService = new Map<string, string[]>();

	constructor(
		private readonly broker: ServiceBroker,
		private readonly access: GatewayAccess,
		routedServices: readonly string[],
	) {
		for (const r of routesFor(routedServices)) this.actionsByService.set(serviceOf(r), [...(this.actionsByService.get(serviceOf(r)) ?? []), r.action]);
	}

	/** One check per routed service, plus the deny-list. */
	checks(): Record<string, ReadyCheck> {
		const checks: Record<string, ReadyCheck> = {};
		for (const [service, actions] of this.actionsByService) {
			const missing = actions.filter(a => !this.broker.registry.getActionEndpoints(a)?.hasAvailable());
			checks[`service:${service}`] = missing.length === 0 ? { ok: true } : { ok: false, detail: `no available instance for ${missing.join(", ")}` };
		}
		checks.revocations = this.access.revocationsLoaded ? { ok: true } : { ok: false, detail: "revoked sessions not read from the users service yet" };
		if (this.draining) checks.draining = { ok: false, detail: "stopping: serving what still comes, taking no new connections soon" };
		return checks;
	}

	/** Take this gateway out of rotation, then stop its listener once what it serves is done (bounded by `timeoutMs`). */
	async drain(server: Server | undefined, delayMs: number, timeoutMs: number): Promise<void> {
		if (this.draining) return;
		this.draining = true;
		if (!server?.listening) return;
		server.prependListener("request", (_req: IncomingMessage, res: ServerResponse) => res.setHeader("Connection", "close"));
		await new Promise(resolve => setTimeout(resolve, delayMs));
		await new Promise<void>(resolve => {
			const timer = setTimeout(() => {
				server.closeAllConnections();
				resolve();
			}, timeoutMs);
			server.close(() => {
				clearTimeout(timer);
				resolve();
			});
			server.closeIdleConnections();
		});
	}

	isOpen(): boolean {
		if (!this.open) this.open = Object.values(this.checks()).every(c => c.ok);
		return this.open;
	}

	/** Route middleware: next() once ready, a 503 with Retry-After before. */
	gate = (_req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
		if (this.isOpen()) return next();
		res.setHeader("Retry-After", String(RETRY_AFTER_SECONDS));
		res.setHeader("Content-Type", "application/json; charset=utf-8");
		res.writeHead(503);
		res.end(JSON.stringify({ ...UNAVAILABLE_BODY, message: "The shop is starting; try again in a moment" }));
	};
}
