/**
 * Security events (OWASP ASVS V7): one `warn` line per event an auditor or an operator looks for,
 * with the request id (and trace id) of the request that caused it, never a secret.
 *
 * Every line has `data.security` set to the event's kind, so `jq 'select(.data.security)'` finds
 * them all. Call `logSecurityEvent` where the shop refuses something: the users service (failed
 * logins, lockouts, refresh-token reuse), the gateway (every 403), webhook endpoints (a rejected
 * signature) and uploads (a refused file). Inside an action the request id comes from the
 * request's store (lib/observability/context.ts); code outside one passes `requestId`.
 */
import { runForRequest } from "./context.js";

export const SECURITY_EVENTS = [
	"login_failed",
	"login_locked",
	"refresh_token_reuse",
	"permission_denied",
	"webhook_signature_rejected",
	"upload_refused",
] as const;
export type SecurityEvent = (typeof SECURITY_EVENTS)[number];

/** What may go into a security line: identifiers and reasons, never bodies, tokens or passwords. */
export type SecurityDetails = Record<string, string | number | boolean | null | undefined>;

interface WarnLogger {
	warn(...args: unknown[]): unknown;
}

/** Log one security event at warn. `requestId` is only needed outside a request's store. */
export function logSecurityEvent(logger: WarnLogger, event: SecurityEvent, details: SecurityDetails = {}, requestId?: string | null): void {
	const fields: SecurityDetails = { security: event };
	for (const [k, v] of Object.entries(details)) if (v !== undefined) fields[k] = v;
	// Inside a request's store this adds nothing; outside one, the line gets the id it was given.
	runForRequest(requestId, () => logger.warn(`Security event: ${event}`, fields));
}
