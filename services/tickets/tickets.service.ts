/**
 * tickets: customer support. Tickets with a message thread, priority, assignee and status, and
 * returns (RMA) of delivered orders that agents approve or reject. Its own database; what
 * happens to a ticket leaves as events through the outbox (an approved return is refunded by
 * orders and restocked by products from `return.approved`). The rules are lib/domain/tickets.ts;
 * the work is in the modules beside this file:
 *
 *   desk.ts      opening tickets, replies, staff changes
 *   returns.ts   opening a return, the decision on it
 *   lookups.ts   what it asks the orders and users services
 */
import type { Service } from "moleculer";
import { defineService } from "../../lib/broker/service.js";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin.js";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin.js";
import { PersonalDataMixin } from "../../mixins/personal-data.mixin.js";
import { ticketsPersonalData } from "./personal-data.js";
import { MetricsMixin } from "../../mixins/metrics.mixin.js";
import { invalidField } from "../../lib/errors.js";
import { requireUser, type ShopContext } from "../../lib/auth/access.js";
import { offsetOf, paged } from "../../lib/paging.js";
import { SUPPORT } from "../../lib/contracts/http/support.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import { publicTicket, type PublicTicket, type TicketRecord } from "../../lib/domain/tickets.js";
import { SupportDesk } from "./desk.js";
import { Returns } from "./returns.js";
import { customerDetails, orderDetails } from "./lookups.js";

type Params<A extends keyof typeof SUPPORT> = ParamsOf<(typeof SUPPORT)[A]>;

interface TicketsState {
	desk: SupportDesk;
	returns: Returns;
}
type TicketsThis = Service & DbMethods & EventsMethods & TicketsState;

const TicketsService = defineService<TicketsThis>({
	name: "tickets",
	// Moleculer runs the last mixin's hooks first: the database connects before the gauges and
	// events start (events also wait for the whole broker to start, see mixins/events.mixin.ts).
	mixins: [
		MetricsMixin({ gauges: [{ metric: "shop_tickets_open", collection: "tickets", query: { status: { $in: ["open", "pending"] } } }] }),
		EventsMixin({ outbox: ["tickets", "erasures"] }),
		DbMixin({
			tickets: {
				indexes: [
					{ fields: { userId: 1 } },
					{ fields: { orderId: 1 } },
					{ fields: { status: 1 } },
					{ fields: { returnSlot: 1 }, unique: true, sparse: true },
				],
			},
		}),
		PersonalDataMixin(ticketsPersonalData),
	],

	actions: {
		create: {
			params: SUPPORT["tickets.create"],
			handler(ctx: ShopContext<Params<"tickets.create">>) {
				return this.desk.open(ctx);
			},
		},

		list: {
			idempotent: true,
			params: SUPPORT["tickets.list"],
			async handler(ctx: ShopContext<Params<"tickets.list">>) {
				const { page, pageSize } = ctx.params;
				const query = this.desk.listQuery(requireUser(ctx), ctx.params);
				const offset = offsetOf(page, pageSize);
				const [rows, total] = await Promise.all([
					this.desk.tickets.find({ query, sort: ["-createdAt", "-_id"], limit: pageSize, offset }),
					this.desk.tickets.count(query),
				]);
				// A list shows each ticket's latest message only; the thread is read ticket by ticket.
				return paged(
					rows.map(t => publicTicket(t, 1)),
					total,
					page,
					pageSize,
				);
			},
		},

		/** The ticket with a page of its thread, and who the customer is and what the order is (each marked unavailable when it cannot be had). */
		get: {
			ownerOr: ["agent", "admin"],
			idempotent: true,
			params: SUPPORT["tickets.get"],
			async handler(ctx: ShopContext<Params<"tickets.get">>) {
				const ticket = await this.desk.visible(ctx, ctx.params.id);
				const { before, limit } = ctx.params;
				if (before !== undefined && !ticket.messages.some(m => m.id === before))
					throw invalidField("before", "No message of this ticket has this id.", "unknownCursor");
				const [customer, order] = await Promise.all([
					customerDetails(ctx, ticket.userId, this.logger),
					ticket.orderId ? orderDetails(ctx, ticket.orderId, this.logger) : Promise.resolve(null),
				]);
				return { ...publicTicket(ticket, limit, before), customer, order } satisfies PublicTicket;
			},
		},

		reply: {
			ownerOr: ["agent", "admin"],
			params: SUPPORT["tickets.reply"],
			handler(ctx: ShopContext<Params<"tickets.reply">>) {
				return this.desk.reply(ctx);
			},
		},

		update: {
			roles: ["agent", "admin"],
			params: SUPPORT["tickets.update"],
			handler(ctx: ShopContext<Params<"tickets.update">>) {
				return this.desk.update(ctx);
			},
		},

		approveReturn: {
			roles: ["agent", "admin"],
			params: SUPPORT["tickets.approveReturn"],
			handler(ctx: ShopContext<Params<"tickets.approveReturn">>) {
				return this.returns.decide(ctx, "approved");
			},
		},

		rejectReturn: {
			roles: ["agent", "admin"],
			params: SUPPORT["tickets.rejectReturn"],
			handler(ctx: ShopContext<Params<"tickets.rejectReturn">>) {
				return this.returns.decide(ctx, "rejected");
			},
		},
	},

	created() {
		const tickets = this.collection<TicketRecord>("tickets");
		this.returns = new Returns(tickets);
		this.desk = new SupportDesk(tickets, this.returns, this.logger);
	},
});

export default TicketsService;
