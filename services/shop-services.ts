/**
 * The shop's services behind the gateway, by name: what a node runs (services/index.ts) and whose
 * actions the gateway routes and documents (services/api/openapi-document.ts).
 */
import type { ServiceSchema } from "moleculer";
import UsersService from "./users/users.service.js";
import ProductsService from "./products/products.service.js";
import OrdersService from "./orders/orders.service.js";
import TicketsService from "./tickets/tickets.service.js";
import NotificationsService from "./notifications/notifications.service.js";
import PricingService from "./pricing/pricing.service.js";
import WebhooksService from "./webhooks/webhooks.service.js";
import MediaService from "./media/media.service.js";
import ReportsService from "./reports/reports.service.js";

export const SHOP_SERVICES: Record<string, ServiceSchema> = {
	users: UsersService,
	products: ProductsService,
	orders: OrdersService,
	pricing: PricingService,
	tickets: TicketsService,
	notifications: NotificationsService,
	webhooks: WebhooksService,
	media: MediaService,
	reports: ReportsService,
};
