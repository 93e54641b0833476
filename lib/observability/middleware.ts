/**
 * The observability middleware (moleculer.config.ts `middlewares`):
 * - registers the shop_* metrics on the broker;
 * - runs every local action and event handler with its request id in the AsyncLocalStorage
 *   that the logger reads, so each line logged while serving a request carries `requestId`;
 * - wraps moleculer-web's HTTP handler: the whole HTTP request runs in one store (which learns
 *   its id from the gateway's root context, so the error and response lines written after the
 *   action returned carry it too), and each response is counted by route and status.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, Middleware, Service, ServiceBroker } from "moleculer";
import { runForRequest, runPendingRequest } from "./context.js";
import { recordHttpResponse, registerShopMetrics } from "./metrics.js";

type HttpReq = IncomingMessage & { $alias?: { fullPath?: string; method?: string } };
type Handler = (...args: unknown[]) => unknown;
type CtxHandler = (ctx: Context) => unknown;

export function ObservabilityMiddleware(): Middleware {
	return {
		name: "Observability",
		created(broker: ServiceBroker) {
			registerShopMetrics(broker);
		},
		localAction(next) {
			const handler = next as unknown as CtxHandler;
			return function observedAction(ctx: Context) {
				return runForRequest(ctx.requestID, () => handler(ctx));
			} as unknown as typeof next;
		},
		localEvent(next) {
			const handler = next as unknown as CtxHandler;
			return function observedEvent(ctx: Context) {
				return runForRequest(ctx.requestID, () => handler(ctx));
			} as unknown as typeof next;
		},
		localMethod(next, method) {
			const m = method as unknown as { name?: string; service?: Service };
			if (m.name !== "httpHandler" || !m.service) return next;
			const broker = m.service.broker;
			const handler = next as unknown as Handler;
			return function observedHttpHandler(req: HttpReq, res: ServerResponse, ...rest: unknown[]) {
				if (broker.isMetricsEnabled()) {
					res.once("finish", () => recordHttpResponse(broker, req.method ?? "GET", req.$alias?.fullPath ?? "unmatched", res.statusCode));
				}
				return runPendingRequest(() => handler(req, res, ...rest));
			} as unknown as typeof next;
		},
	};
}
