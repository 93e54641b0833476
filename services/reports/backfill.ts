/**
 * The backfill: the read model rebuilt from what the owning services answer through their
 * actions (every order, every product, every open ticket), never from their databases. It runs
 * as the reports service's own admin, page by page. Live events may arrive meanwhile: each fact
 * is added once whoever sees it first (see read-model.ts).
 */
import type { Context } from "moleculer";
import type { Static } from "typebox";
import type { ReportsBackfill } from "../../lib/http/schemas.js";
import type { AuthUser } from "../../lib/auth/access.js";
import type { Page } from "../../lib/paging.js";
import { OPEN_TICKET_STATUSES } from "../../lib/domain/reports.js";
import type { OrderFacts, ProductFacts, ReportsReadModel } from "./read-model.js";

/** Who the reports service is when it asks the owning services (an admin, never a gateway caller). */
export const REPORTS_SERVICE_USER: AuthUser = { id: "service:reports", roles: ["admin"] };
export const asReportsService = { meta: { user: REPORTS_SERVICE_USER }, timeout: 10_000 };

const PAGE_SIZE = 100;

/** Every row of a paged list action, page by page. */
async function* pages<T>(ctx: Context, action: string, params: Record<string, unknown>): AsyncIterable<T> {
	for (let page = 1; ; page++) {
		const answer = await ctx.call<Page<T>, Record<string, unknown>>(action, { ...params, page, pageSize: PAGE_SIZE }, asReportsService);
		yield* answer.rows;
		if (page * PAGE_SIZE >= answer.total || answer.rows.length === 0) return;
	}
}

export type BackfillOutcome = Static<typeof ReportsBackfill>;

export async function backfill(model: ReportsReadModel, ctx: Context, opts: { reset: boolean }): Promise<BackfillOutcome> {
	const startedAt = new Date().toISOString();
	if (opts.reset) await model.clear();
	let orders = 0;
	for await (const order of pages<OrderFacts>(ctx, "orders.list", { all: true })) {
		await model.recordOrder(order);
		orders++;
	}
	let products = 0;
	for await (const product of pages<ProductFacts>(ctx, "products.search", {})) {
		await model.recordStock(product);
		products++;
	}
	let tickets = 0;
	for (const status of OPEN_TICKET_STATUSES) {
		for await (const t of pages<{ id: string; subject: string; status: string; createdAt: string }>(ctx, "tickets.list", { status })) {
			await model.recordTicket({ id: t.id, subject: t.subject, status: t.status, openedAt: t.createdAt });
			tickets++;
		}
	}
	return { orders, products, tickets, startedAt, finishedAt: new Date().toISOString() };
}
