/** Every routed action's request shape, by action name: the gateway's OpenAPI document reads them here. */
import type { ParamsSchema } from "../params.js";
import { CATALOG } from "./catalog.js";
import { IDENTITY } from "./identity.js";
import { MEDIA } from "./media.js";
import { OAUTH_CLIENTS } from "./oauth-clients.js";
import { ORDERS } from "./orders.js";
import { PRICING } from "./pricing.js";
import { REPORTS } from "./reports.js";
import { SUPPORT } from "./support.js";
import { WEBHOOKS } from "./webhooks.js";

export const REQUESTS: Readonly<Record<string, ParamsSchema>> = {
	...IDENTITY,
	...OAUTH_CLIENTS,
	...CATALOG,
	...MEDIA,
	...ORDERS,
	...PRICING,
	...SUPPORT,
	...WEBHOOKS,
	...REPORTS,
};
