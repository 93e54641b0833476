/** A rule's refusal (lib/domain/tickets.ts) as the 409 a client sees. */
import { conflict } from "../../lib/errors.js";
import type { Refusal } from "../../lib/domain/tickets.js";

export function refuse(refusal: Refusal, data?: unknown): void {
	if (!refusal.ok) throw conflict(refusal.reason, refusal.type, data);
}
