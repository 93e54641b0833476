/** Every service of the shop, by name. SERVICES picks a subset for one node. */
import type { ServiceSchema } from "moleculer";
import ApiService from "./api.service.js";
import UsersService from "./users.service.js";
import ProductsService from "./products.service.js";
import OrdersService from "./orders.service.js";
import TicketsService from "./tickets.service.js";
import NotificationsService from "./notifications.service.js";

export const ALL_SERVICES: Record<string, ServiceSchema> = {
	users: UsersService,
	products: ProductsService,
	orders: OrdersService,
	tickets: TicketsService,
	notifications: NotificationsService,
	api: ApiService,
};
