/**
 * The OpenAPI 3.1 document of the public contract, made from the route table (lib/http/routes.ts)
 * and, for every request, from the validator schema the action itself validates with
 * (lib/contracts/http/*), so the document says exactly what the server accepts. Who may call a
 * route (its `security` and "Who:") is read from the routed action's own definition, which the
 * caller passes (services/api/openapi-document.ts), since lib/ does not import the services.
 */
import { whoMayCall, type ActionAccess } from "../auth/access.js";
import { REQUESTS } from "../contracts/http/index.js";
import { IDEMPOTENCY_KEY_PATTERN } from "../contracts/http/orders.js";
import { requestOf } from "./json-schema.js";
import { API_PREFIX, ROUTES } from "./routes.js";
import { RESOURCES } from "./schemas.js";
import { RESPONSES } from "./responses.js";

const ERROR_RESPONSES: Record<string, string> = {
	"400": "Malformed request",
	"401": "Missing or invalid access token",
	"403": "Not allowed",
	"404": "Not found",
	"405": "Method not allowed on this path; see Allow",
	"409": "Conflict",
	"413": "Request body (or uploaded file) too large",
	"415": "Unsupported body encoding, or an upload that is not a JPEG, PNG, WebP or AVIF image",
	"422": "Invalid input; `data` lists the fields",
	"429": "Too many requests; see Retry-After",
	"503": "A dependency is unavailable, or the gateway is not ready yet; see Retry-After",
};

type Link = { operationId: string; parameters?: Record<string, string>; requestBody?: Record<string, unknown> };
const byId = (expr: string) => ({ id: expr });
/**
 * OpenAPI links: where an id an answer carries can be used next. Clients (and the stateful phase
 * of schemathesis, which follows them) learn from these how the resources hang together.
 */
const LINKS: Record<string, Record<string, Link>> = {
	"products.create": {
		GetProduct: { operationId: "products_get", parameters: byId("$response.body#/id") },
		UpdateProduct: { operationId: "products_update", parameters: byId("$response.body#/id") },
		AdjustInventory: { operationId: "products_adjustInventory", parameters: byId("$response.body#/id") },
		DeleteProduct: { operationId: "products_remove", parameters: byId("$response.body#/id") },
		AddToCart: { operationId: "orders_addCartItem", requestBody: { productId: "$response.body#/id", quantity: 1 } },
		// A product sold as itself is its cart line's itemId.
		ChangeCartLine: { operationId: "orders_updateCartItem", parameters: { itemId: "$response.body#/id" } },
		RemoveCartLine: { operationId: "orders_removeCartItem", parameters: { itemId: "$response.body#/id" } },
	},
	"products.createCategory": {
		UpdateCategory: { operationId: "products_updateCategory", parameters: byId("$response.body#/id") },
		DeleteCategory: { operationId: "products_removeCategory", parameters: byId("$response.body#/id") },
	},
	"orders.checkout": {
		GetOrder: { operationId: "orders_get", parameters: byId("$response.body#/id") },
		CancelOrder: { operationId: "orders_cancel", parameters: byId("$response.body#/id") },
		ShipOrder: { operationId: "orders_ship", parameters: byId("$response.body#/id") },
		DeliverOrder: { operationId: "orders_deliver", parameters: byId("$response.body#/id") },
	},
	"orders.list": { GetOrder: { operationId: "orders_get", parameters: byId("$response.body#/rows/0/id") } },
	"tickets.create": {
		GetTicket: { operationId: "tickets_get", parameters: byId("$response.body#/id") },
		UpdateTicket: { operationId: "tickets_update", parameters: byId("$response.body#/id") },
		ReplyToTicket: { operationId: "tickets_reply", parameters: byId("$response.body#/id") },
		ApproveReturn: { operationId: "tickets_approveReturn", parameters: byId("$response.body#/id") },
		RejectReturn: { operationId: "tickets_rejectReturn", parameters: byId("$response.body#/id") },
	},
	"tickets.list": { GetTicket: { operationId: "tickets_get", parameters: byId("$response.body#/rows/0/id") } },
	"users.register": {
		GetUser: { operationId: "users_get", parameters: byId("$response.body#/user/id") },
		UpdateUser: { operationId: "users_update", parameters: byId("$response.body#/user/id") },
		DeleteUser: { operationId: "users_remove", parameters: byId("$response.body#/user/id") },
	},
	"notifications.list": { MarkRead: { operationId: "notifications_markRead", parameters: byId("$response.body#/rows/0/id") } },
};

/** Actions that take (and honour) an Idempotency-Key header, and whether it is required. */
const IDEMPOTENT_POSTS: Record<string, boolean> = { "orders.checkout": true, "orders.addCartItem": false };

/** The form of an image upload (services/media/uploads.ts reads it in this order). */
const MULTIPART_IMAGE = {
	type: "object",
	required: ["file"],
	// The gateway takes at most the file and these two fields (busboy's limits).
	additionalProperties: false,
	properties: {
		alt: {
			type: "string",
			description: 'Alt text: a JSON object of language → text (`{"en":"Red mug","es":"Taza roja"}`), or plain text taken as English',
		},
		variantId: { type: "string", description: "The variant the image shows (empty: the whole product)" },
		file: {
			type: "string",
			contentMediaType: "application/octet-stream",
			description: "The image, last: JPEG, PNG, WebP or AVIF by content, at most 10 MB and 40 megapixels",
		},
	},
};

/** The form of a catalog import: one CSV file with the export's header (services/products/csv-transfer.ts). */
const MULTIPART_CSV = {
	type: "object",
	required: ["file"],
	additionalProperties: false,
	properties: {
		file: {
			type: "string",
			// application/octet-stream: a file part (with a filename), as OpenAPI 3.1 spells `format: binary`.
			contentMediaType: "application/octet-stream",
			description:
				"The CSV file (UTF-8, text/csv), whose first line is the export's header, at most IMPORT_MAX_BYTES (100 MB unless the shop sets otherwise)",
		},
	},
};

/**
 * The multipart form of each upload action. The accepted file types are stated in the part's
 * description, not in an `encoding` entry: the gateway judges a file by its bytes, not its declared type.
 */
const MULTIPART_FORMS: Record<string, object> = { "media.upload": MULTIPART_IMAGE, "products.importCsv": MULTIPART_CSV };

export function openApiPath(path: string): string {
	return path.replace(/:(\w+)/g, "{$1}");
}

/** The access of an action as its definition states it (`auth`, `roles`, `ownerOr`); undefined for an action no service defines. */
export type AccessOf = (action: string) => ActionAccess | undefined;

export function buildOpenApi(accessOf: AccessOf): Record<string, unknown> {
	const paths: Record<string, Record<string, unknown>> = {};
	for (const r of ROUTES) {
		const access = accessOf(r.action);
		if (!access) throw new Error(`No service defines the routed action ${r.action}`);
		const p = `${API_PREFIX}${openApiPath(r.path)}`;
		const params = REQUESTS[r.action];
		if (!params) throw new Error(`No request shape for ${r.action} (lib/contracts/http)`);
		const pathParams = [...r.path.matchAll(/:(\w+)/g)].map(m => m[1]!);
		const { parameters, body } = requestOf(params, r.method, pathParams);
		const headers: object[] = [];
		if (r.action in IDEMPOTENT_POSTS) {
			headers.push({
				name: "Idempotency-Key",
				in: "header",
				required: IDEMPOTENT_POSTS[r.action],
				schema: { type: "string", pattern: IDEMPOTENCY_KEY_PATTERN.source },
				description: "The same key and body again answer the first result",
			});
		}
		const response = RESPONSES[r.action];
		const op: Record<string, unknown> = {
			operationId: r.action.replace(".", "_"),
			tags: [r.tag],
			summary: r.summary,
			description: `Who: ${whoMayCall(access)}.`,
			parameters: [...parameters, ...headers],
			responses: {
				[String(r.status)]: {
					...(r.status === 204 || (r.status === 202 && !response && !r.produces)
						? { description: r.status === 204 ? "Done" : "Accepted" }
						: r.produces
							? {
									description: "OK",
									content: Object.fromEntries(r.produces.map(type => [type, { schema: { type: "string", contentMediaType: type } }])),
								}
							: { description: "OK", content: { "application/json": { schema: response ? { $ref: `#/components/schemas/${response}` } : {} } } }),
					...(LINKS[r.action] ? { links: LINKS[r.action] } : {}),
				},
				...Object.fromEntries(
					Object.entries(ERROR_RESPONSES).map(([code, description]) => [
						code,
						{ description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
					]),
				),
			},
		};
		if (access.auth !== "public") op.security = [{ bearerAuth: [] }];
		if (r.multipart) {
			const form = MULTIPART_FORMS[r.action];
			if (!form) throw new Error(`${r.action} takes a multipart body but has no form in MULTIPART_FORMS`);
			op.requestBody = {
				required: true,
				content: {
					"multipart/form-data": { schema: form },
				},
			};
		} else if (body && (body.required || Object.keys((body.schema.properties as object) ?? {}).length > 0)) {
			op.requestBody = { required: body.required, content: { "application/json": { schema: body.schema } } };
		}
		(paths[p] ??= {})[r.method.toLowerCase()] = op;
	}
	return {
		openapi: "3.1.0",
		info: {
			title: "Moleculer shop API",
			version: "1.0.0",
			description: "The public REST contract of the shop. Money is integer minor units plus an ISO 4217 currency.",
		},
		servers: [{ url: "/" }],
		paths,
		components: { schemas: RESOURCES, securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
	};
}
