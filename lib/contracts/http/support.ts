/** Request shapes of the support and notification routes (tickets and notifications services). See lib/contracts/params.ts. */
import { pageParams } from "../../paging.js";
import { idRule } from "../ids.js";
import { text, type ParamsSchema } from "../params.js";

export const TICKET_TYPES = ["inquiry", "return", "complaint", "feedback"] as const;
export const TICKET_STATUSES = ["open", "pending", "resolved", "closed"] as const;
export const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
export const MAX_MESSAGE_LENGTH = 5000;
export const MAX_MESSAGES_PER_TICKET = 100;
export const MESSAGE_PAGE_SIZE = 20;

const message = text(MAX_MESSAGE_LENGTH);
const reason = text(1000);
const returnItem = {
	type: "object",
	strict: true,
	props: {
		itemId: { ...idRule, optional: true, description: "The order line's itemId; or give productId (and variantId)" },
		productId: { ...idRule, optional: true },
		variantId: { ...idRule, optional: true },
		quantity: { type: "number", integer: true, min: 1, max: 999 },
	},
} as const;

export const SUPPORT = {
	"tickets.create": {
		$$strict: true,
		type: { type: "enum", values: TICKET_TYPES },
		subject: text(200),
		message,
		orderId: { ...idRule, optional: true },
		items: { type: "array", optional: true, min: 1, max: 100, items: returnItem, description: "For a return: what of the order goes back" },
		rating: { type: "number", integer: true, min: 1, max: 5, optional: true, description: "For feedback" },
		// A return names its order and items, and only a return has items; only feedback (and all feedback) has a rating (lib/domain/tickets.ts newTicketProblems).
		$$allOf: [
			{ if: { properties: { type: { const: "return" } } }, then: { required: ["orderId", "items"] }, else: { not: { required: ["items"] } } },
			{ if: { properties: { type: { const: "feedback" } } }, then: { required: ["rating"] }, else: { not: { required: ["rating"] } } },
		],
	},
	"tickets.list": {
		...pageParams,
		status: { type: "enum", values: TICKET_STATUSES, optional: true },
		type: { type: "enum", values: TICKET_TYPES, optional: true },
		assigneeId: { ...idRule, optional: true },
	},
	"tickets.get": {
		id: idRule,
		before: {
			...idRule,
			optional: true,
			description: "Page back through the thread: a message id (the ticket's `olderMessages` cursor); the page ends just before it",
		},
		limit: {
			type: "number",
			integer: true,
			min: 1,
			max: 100,
			convert: true,
			optional: true,
			default: MESSAGE_PAGE_SIZE,
			description: "Messages per page of the thread",
		},
	},
	"tickets.reply": { $$strict: true, id: idRule, message },
	"tickets.update": {
		$$strict: true,
		id: idRule,
		status: { type: "enum", values: TICKET_STATUSES, optional: true },
		priority: { type: "enum", values: PRIORITIES, optional: true },
		assigneeId: { ...idRule, optional: true, nullable: true },
	},
	"tickets.approveReturn": { $$strict: true, id: idRule, reason: { ...reason, optional: true } },
	"tickets.rejectReturn": { $$strict: true, id: idRule, reason },
	"notifications.list": { ...pageParams },
	"notifications.markRead": { $$strict: true, id: idRule },
	"notifications.mailbox": {
		...pageParams,
		to: { type: "string", optional: true, min: 1, max: 254, description: "Only emails to this address" },
		state: { type: "enum", values: ["pending", "sent", "dead"], optional: true },
	},
	"notifications.mailboxMessage": { id: idRule },
} as const satisfies Record<string, ParamsSchema>;
