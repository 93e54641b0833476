/**
 * Every service of the shop, by name, and the broker of one node: SERVICES picks the services
 * of a node (unset: all of them, the one-process shop).
 */
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { config } from "../lib/config.js";
import { brokerOptions } from "../moleculer.config.js";
import ApiService from "./api/api.service.js";
import { SHOP_SERVICES } from "./shop-services.js";

export const ALL_SERVICES: Record<string, ServiceSchema> = { ...SHOP_SERVICES, api: ApiService };

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
