/**
 * Outbox backlog readiness: a node whose outboxes hold more than OUTBOX_BACKLOG_MAX documents
 * with unpublished events (default 1000) is not ready; GET /api/ready answers 503 naming it.
 */
import { config } from "../config.js";

/** The readiness verdict for a backlog of `documents`. */
export function backlogCheck(documents: number, max = config.outboxBacklogMax): { ok: boolean; detail?: string } {
	return documents <= max
		? { ok: true, detail: `${documents} waiting` }
		: { ok: false, detail: `${documents} documents with unpublished events (more than OUTBOX_BACKLOG_MAX=${max})` };
}
