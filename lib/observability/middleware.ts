/**
 * The observability middleware (moleculer.config.ts `middlewares`):
 * - registers the shop_* metrics on the broker;
 * - runs every local action and event handler with its request id in the AsyncLocalStorage
 *   that the logger reads, so each line logged while serving a request carries `requestId`;
 * - wraps moleculer-web's HTTP handler: the whole HTTP request runs in one store (which learns
 *   its id from the gateway's root context, so the error and response lines written after the
 *   action returned carry it too), each response is counted by route and status, and logged in
 *   one access line (`accessLine`); a 403 is also a security event.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, Logger, Middleware, Service, ServiceBroker } from "moleculer";
import { runForRequest, runPendingRequest } from "./context.js";
import { recordHttpResponse, registerShopMetrics } from "./metrics.js";
import { logSecurityEvent } from "./security-log.js";
import { TrustedFields } from "./logging.js";

type HttpReq = IncomingMessage & {
	$alias?: { fullPath?: string; method?: string };
	$ctx?: { requestID?: string | null; meta?: { user?: { id?: string } } };
};
/** A middleware's `next`: Moleculer declares it with a service `this` it never passes (the innermost handler is bound to its service). */
type CtxHandler = (ctx: Context) => unknown;

export interface ObservabilityOptions {
	/** One info line per HTTP request (ACCESS_LOG, default true). */
	accessLog?: boolean;
}

/**
 * The access line's fields: the route pattern, never the URL (a path holds ids, a query string
 * may hold a secret), and no body, header or token. The request id and trace id are added by
 * the logger from the request's store.
 */
export function accessLine(req: HttpReq, status: number, startedAt: number) {
	return {
		method: req.method ?? "GET",
		route: req.$alias?.fullPath ?? "unmatched",
		status,
		durationMs: Math.round((performance.now() - startedAt) * 10) / 10,
		userId: req.$ctx?.meta?.user?.id ?? null,
	};
}

export function ObservabilityMiddleware(opts: ObservabilityOptions = {}): Middleware {
	const accessLog = opts.accessLog ?? true;
	return {
		name: "Observability",
		created(broker: ServiceBroker) {
			registerShopMetrics(broker);
		},
		localAction(next) {
			const handler = next as CtxHandler;
			return function observedAction(ctx: Context) {
				return runForRequest(ctx.requestID, () => handler(ctx));
			};
		},
		localEvent(next) {
			return function observedEvent(ctx: Context) {
				return runForRequest(ctx.requestID, () => next(ctx));
			};
		},
		localMethod(next, method) {
			// Moleculer passes the method's definition ({ name, handler, service }), not the function its declaration names.
			const m = method as { name?: string; service?: Service };
			if (m.name !== "httpHandler" || !m.service) return next;
			const broker = m.service.broker;
			const logger: Logger = broker.getLogger("access", { svc: m.service.name });
			const metrics = broker.isMetricsEnabled();
			return function observedHttpHandler(req: HttpReq, res: ServerResponse, ...rest: unknown[]) {
				const startedAt = performance.now();
				res.once("finish", () => {
					const status = res.statusCode;
					if (metrics) recordHttpResponse(broker, req.method ?? "GET", req.$alias?.fullPath ?? "unmatched", status);
					if (!accessLog && status !== 403) return;
					const line = accessLine(req, status, startedAt);
					runForRequest(req.$ctx?.requestID, () => {
						if (accessLog) logger.info(`${line.method} ${line.route} ${status} ${line.durationMs} ms`, new TrustedFields(line));
						if (status === 403) logSecurityEvent(logger, "permission_denied", { method: line.method, route: line.route, userId: line.userId });
					});
				});
				return runPendingRequest(() => next(req, res, ...rest));
			};
		},
	};
}
