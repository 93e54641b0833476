/**
 * The request a piece of code is working for, carried across `await`s by AsyncLocalStorage.
 *
 * Moleculer's loggers are per service, not per request, so the request id cannot be a logger
 * binding. Instead the observability middleware runs every action and event handler inside a
 * store holding its `ctx.requestID`, and the pino `mixin()` adds that id to each line written
 * while the store is active (lib/observability/logging.ts).
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface RequestStore {
	/** The X-Request-ID of the request being served (Moleculer's ctx.requestID). Filled in lazily by the gateway. */
	requestId?: string;
}

const storage = new AsyncLocalStorage<RequestStore>();

/** The request id of the code running now, if it runs for a request. */
export function currentRequestId(): string | undefined {
	return storage.getStore()?.requestId;
}

/**
 * Run `fn` for `requestId`. The store of a caller that does not know its request id yet (the
 * gateway's HTTP handler, before moleculer-web made the root context) learns it here, so what
 * it logs after the action returned (errors, the response line) carries the id too.
 */
export function runForRequest<T>(requestId: string | null | undefined, fn: () => T): T {
	const outer = storage.getStore();
	if (!requestId) return fn();
	if (outer) {
		if (outer.requestId === requestId) return fn();
		if (outer.requestId === undefined) {
			outer.requestId = requestId;
			return fn();
		}
	}
	return storage.run({ requestId }, fn);
}

/** Run `fn` in a store whose request id is not known yet (see `runForRequest`). */
export function runPendingRequest<T>(fn: () => T): T {
	return storage.run({}, fn);
}
