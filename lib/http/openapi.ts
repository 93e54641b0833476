/** The OpenAPI 3.1 document of the public contract, made from the route table. */
import { API_PREFIX, ROUTES } from "./routes.js";
import { REQUEST_BODIES, RESOURCES, RESPONSES } from "./schemas.js";

const ERROR_RESPONSES: Record<string, string> = {
	"400": "Malformed request",
	"401": "Missing or invalid access token",
	"403": "Not allowed",
	"404": "Not found",
	"409": "Conflict",
	"422": "Invalid input; `data` lists the fields",
	"429": "Too many requests; see Retry-After",
	"503": "A dependency is unavailable",
};

export function openApiPath(path: string): string {
	return path.replace(/:(\w+)/g, "{$1}");
}

export function buildOpenApi(): Record<string, unknown> {
	const paths: Record<string, Record<string, unknown>> = {};
	for (const r of ROUTES) {
		const p = `${API_PREFIX}${openApiPath(r.path)}`;
		const params = [...r.path.matchAll(/:(\w+)/g)].map(m => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
		if (r.action === "orders.checkout") params.push({ name: "Idempotency-Key", in: "header", required: true, schema: { type: "string" } });
		const response = RESPONSES[r.action];
		const op: Record<string, unknown> = {
			operationId: r.action.replace(".", "_"),
			tags: [r.tag],
			summary: r.summary,
			description: `Who: ${r.access}.`,
			parameters: params,
			responses: {
				[String(r.status)]: r.status === 204 ? { description: "Done" } : { description: "OK", content: { "application/json": { schema: response ? { $ref: `#/components/schemas/${response}` } : {} } } },
				...Object.fromEntries(Object.entries(ERROR_RESPONSES).map(([code, description]) => [code, { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } }])),
			},
		};
		if (r.access !== "anyone") op.security = [{ bearerAuth: [] }];
		const body = REQUEST_BODIES[r.action];
		if (body) op.requestBody = { required: true, content: { "application/json": { schema: body } } };
		(paths[p] ??= {})[r.method.toLowerCase()] = op;
	}
	return {
		openapi: "3.1.0",
		info: { title: "Moleculer shop API", version: "1.0.0", description: "The public REST contract of the shop. Money is integer minor units plus an ISO 4217 currency." },
		servers: [{ url: "/" }],
		paths,
		components: { schemas: RESOURCES, securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
	};
}
