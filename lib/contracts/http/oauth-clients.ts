/** Request shapes of the OAuth client routes (users service, admin only). See lib/contracts/params.ts. */
import { idRule } from "../ids.js";
import { patchOf, text, type ParamsSchema } from "../params.js";
import { CLIENT_SCOPES, GRANT_TYPES } from "../../identity/clients.js";

const name = text(100);
const uris = { type: "array", max: 20, unique: true, items: { type: "string", min: 1, max: 2000 } } as const;
const grantTypes = { type: "array", min: 1, unique: true, items: { type: "enum", values: GRANT_TYPES } } as const;
const scopes = { type: "array", max: 20, unique: true, items: { type: "enum", values: CLIENT_SCOPES } } as const;

export const OAUTH_CLIENTS = {
	"users.createOAuthClient": {
		$$strict: true,
		name,
		type: { type: "enum", values: ["public", "confidential"] },
		redirectUris: { ...uris, optional: true },
		postLogoutRedirectUris: { ...uris, optional: true },
		grantTypes,
		scopes: { ...scopes, optional: true },
	},
	"users.listOAuthClients": {},
	"users.updateOAuthClient": { $$strict: true, id: idRule, ...patchOf({ name, redirectUris: uris, postLogoutRedirectUris: uris, grantTypes, scopes }) },
	"users.removeOAuthClient": { id: idRule },
	"users.rotateOAuthClientSecret": { id: idRule },
} as const satisfies Record<string, ParamsSchema>;
