/** Every service of the shop, by name. SERVICES picks a subset for one node. */
import type { ServiceSchema } from "moleculer";
import ApiService from "./api.service.js";
import UsersService from "./users.service.js";

export const ALL_SERVICES: Record<string, ServiceSchema> = {
	users: UsersService,
	api: ApiService,
};
