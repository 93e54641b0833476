/**
 * Every service of the shop, by name, and the broker of one node: SERVICES picks the services
 * of a node (unset: all of them, the one-process shop).
 */
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { config } from "../lib/config.js";
import { brokerOptions } from "../moleculer.config.js";
import ApiService from "./api/api.service.js";
import UsersService from "./users/users.service.js";
import ProductsService from "./products/products.service.js";
import OrdersService from "./orders/orders.service.js";
import TicketsService from "./tickets/tickets.service.js";
import NotificationsService from "./notifications/notifications.service.js";
import PricingService from "./pricing/pricing.service.js";
import WebhooksService from "./webhooks/webhooks.service.js";
import MediaService from "./media/media.service.js";
import ReportsService from "./reports/reports.service.js";

export const ALL_SERVICES: Record<string, ServiceSchema> = {
	users: UsersService,
	products: ProductsService,
	orders: OrdersService,
	pricing: PricingService,
	tickets: TicketsService,
	notifications: NotificationsService,
	webhooks: WebhooksService,
	media: MediaService,
	reports: ReportsService,
	api: ApiService,
};

export function createShopBroker(services = config.services): ServiceBroker {
	const broker = new ServiceBroker(brokerOptions(config));
	const names = services.length > 0 ? services : Object.keys(ALL_SERVICES);
	for (const name of names) {
		const schema = ALL_SERVICES[name];
		if (!schema) throw new Error(`Unknown service '${name}' in SERVICES; known: ${Object.keys(ALL_SERVICES).join(", ")}`);
		broker.createService(schema);
	}
	return broker;
}
