/**
 * Outbox backlog readiness: a node whose outboxes hold more than OUTBOX_BACKLOG_MAX documents
 * with unpublished events (default 1000) is not ready; GET /api/ready answers 503 naming it.
 */
export const DEFAULT_OUTBOX_BACKLOG_MAX = 1000;

/** OUTBOX_BACKLOG_MAX, read when asked so tests and operators can change it. */
export function outboxBacklogMax(): number {
	const v = process.env.OUTBOX_BACKLOG_MAX;
	if (v === undefined || v === "") return DEFAULT_OUTBOX_BACKLOG_MAX;
	const n = Number(v);
	if (!Number.isInteger(n) || n < 0) throw new Error(`Environment variable OUTBOX_BACKLOG_MAX must be a non-negative integer, got '${v}'`);
	return n;
}

/** The readiness verdict for a backlog of `documents`. */
export function backlogCheck(documents: number, max = outboxBacklogMax()): { ok: boolean; detail?: string } {
	return documents <= max ? { ok: true, detail: `${documents} waiting` } : { ok: false, detail: `${documents} documents with unpublished events (more than OUTBOX_BACKLOG_MAX=${max})` };
}
