/**
 * The gateway: the shop's single HTTP entry point (moleculer-web).
 *
 *   /api/v1/*   the public contract, exactly the routes of lib/http/routes.ts
 *   /api/health, /api/ready, /api/openapi.json, /api/asyncapi.json   operations
 *
 * It authenticates every request locally (JWT checked against the users service's JWKS, fetched
 * once), authorizes from the called action's `auth`/`roles`, rate-limits per client, and turns
 * every error into the contract's error shape.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import ApiGateway from "moleculer-web";
import type { Context, Service, ServiceSchema } from "moleculer";
import { defineService } from "../lib/service.js";
import { config, type ShopConfig } from "../lib/config.js";
import { API_PREFIX, ROUTES, aliasesOf, allowedMethods } from "../lib/http/routes.js";
import { webAssets, type WebAssetHandler } from "../lib/http/web-assets.js";
import { toClientError } from "../lib/http/errors.js";
import { buildOpenApi } from "../lib/http/openapi.js";
import { buildAsyncApi } from "../lib/events/asyncapi.js";
import { AccessTokenVerifier, InvalidTokenError, type Jwks } from "../lib/auth/tokens.js";
import type { AuthUser, Role, ShopMeta } from "../lib/auth/access.js";
import { forbidden, methodNotAllowed, notFound, unauthorized } from "../lib/errors.js";
import { checkReadiness } from "../lib/readiness.js";

type Req = IncomingMessage & {
	$action?: { name: string; auth?: "public" | "required"; roles?: Role[] };
	$ctx?: Context<unknown, ShopMeta>;
	$route?: { rateLimit?: { store?: { resetTime?: number } } };
	originalUrl?: string;
};
type Res = ServerResponse;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const statusByAction = new Map(ROUTES.map(r => [r.action, r.status]));
const authRoutes = ROUTES.filter(r => r.path.startsWith("/auth/"));
const otherRoutes = ROUTES.filter(r => !r.path.startsWith("/auth/"));

/** The client a rate limit counts against: the TCP peer, or with TRUST_PROXY the address our proxy saw. */
function clientKey(req: IncomingMessage): string {
	if (config.trustProxy) {
		const forwarded = String(req.headers["x-forwarded-for"] ?? "").split(",").map(s => s.trim()).filter(Boolean);
		const last = forwarded[forwarded.length - 1];
		if (last) return last;
	}
	return req.socket.remoteAddress ?? "unknown";
}

function rateLimit(perMinute: number) {
	return { window: 60_000, limit: perMinute, headers: true, key: clientKey };
}

function onBeforeCall(ctx: Context<unknown, ShopMeta>, _route: unknown, req: Req) {
	ctx.meta.requestId = ctx.requestID ?? undefined;
	ctx.meta.clientIp = clientKey(req);
	const key = req.headers["idempotency-key"];
	if (typeof key === "string") ctx.meta.idempotencyKey = key;
}

function onAfterCall(ctx: Context<unknown, ShopMeta>, _route: unknown, req: Req, _res: Res, data: unknown) {
	const status = req.$action ? statusByAction.get(req.$action.name) : undefined;
	if (status && !ctx.meta.$statusCode) ctx.meta.$statusCode = status;
	if (ctx.meta.$statusCode === 204) return null;
	if (ctx.meta.$statusCode === 201) {
		const id = (data as { id?: string } | null)?.id ?? (data as { user?: { id?: string } } | null)?.user?.id;
		(ctx.meta as Record<string, unknown>).$location = id ? `${(req.originalUrl ?? req.url ?? "").split("?")[0]}/${id}` : (req.originalUrl ?? req.url);
	}
	return data;
}

function onError(this: { logger: { error(...a: unknown[]): void; warn(...a: unknown[]): void } }, req: Req, res: Res, err: unknown) {
	const body = toClientError(err);
	if (body.code === 503) this.logger.warn(`Request ${req.method} ${req.url} (request ${req.$ctx?.requestID}): dependency unavailable: ${(err as Error)?.message}`);
	else if (body.code >= 500) this.logger.error(`Request ${req.method} ${req.url} failed (request ${req.$ctx?.requestID}):`, err);
	if (body.code === 429) {
		const fromError = (body.data as { retryAfter?: number } | undefined)?.retryAfter;
		const reset = req.$route?.rateLimit?.store?.resetTime;
		const seconds = fromError ?? (reset ? Math.max(1, Math.ceil((reset - Date.now()) / 1000)) : 60);
		res.setHeader("Retry-After", String(seconds));
	}
	const requestId = req.$ctx?.requestID;
	if (requestId && !res.headersSent) res.setHeader("X-Request-ID", requestId);
	if (res.headersSent) return res.end();
	res.setHeader("Content-Type", "application/json; charset=utf-8");
	res.writeHead(body.code);
	res.end(JSON.stringify(body));
}

/** moleculer-web settings from the current config (built per service instance, see `merged`). */
function gatewaySettings(cfg: ShopConfig) {
	const route = {
		mappingPolicy: "restrict",
		autoAliases: false,
		authentication: true,
		authorization: true,
		mergeParams: true,
		bodyParsers: { json: { limit: "1mb", strict: true }, urlencoded: false },
		callOptions: { timeout: cfg.requestTimeoutMs, retries: 0 },
		onBeforeCall,
		onAfterCall,
	};
	return {
		port: cfg.port,
		ip: cfg.host,
		log4XXResponses: false,
		logRequest: "debug",
		logResponse: "debug",
		logRequestParams: null,
		logResponseData: null,
		httpServerTimeout: 30_000,
		cors: cfg.corsOrigins.length
			? { origin: cfg.corsOrigins, methods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"], allowedHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"], exposedHeaders: ["X-Request-ID", "Retry-After", "Location"], maxAge: 600 }
			: undefined,
		// The request id: X-Request-ID when it is sane, a new UUID otherwise.
		rootCallOptions(options: { requestID?: string }, req: IncomingMessage) {
			const given = req.headers["x-request-id"];
			options.requestID = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
		},
		routes: [
			{ ...route, path: `${API_PREFIX}/auth`, aliases: aliasesOf(authRoutes.map(r => ({ ...r, path: r.path.slice("/auth".length) }))), rateLimit: rateLimit(cfg.rateLimit.authPerMinute) },
			{ ...route, path: API_PREFIX, aliases: aliasesOf(otherRoutes), rateLimit: rateLimit(cfg.rateLimit.perMinute) },
			{
				...route,
				path: "/api",
				authentication: false,
				authorization: false,
				aliases: { "GET /health": "api.health", "GET /ready": "api.ready", "GET /openapi.json": "api.openapi", "GET /asyncapi.json": "api.asyncapi" },
			},
		],
		onError,
	};
}

type Self = Service & { verifier: AccessTokenVerifier; webAssets: WebAssetHandler; sendError(req: Req, res: Res, err: unknown): void };

const ApiService = defineService<Self>({
	name: "api",
	mixins: [ApiGateway as unknown as Partial<ServiceSchema>],
	// Settings come from the config of the broker being built (tests run several in one process).
	merged(schema: ServiceSchema) {
		schema.settings = { ...schema.settings, ...gatewaySettings(config) };
	},

	actions: {
		health: { auth: "public", visibility: "published", handler: () => ({ status: "ok" }) },
		ready: {
			auth: "public",
			async handler(ctx) {
				const report = await checkReadiness(this.broker);
				if (!report.ready) ctx.meta.$statusCode = 503;
				return report;
			},
		},
		openapi: { auth: "public", handler: () => buildOpenApi() },
		asyncapi: { auth: "public", handler: () => buildAsyncApi() },
	},

	created() {
		const verifier = new AccessTokenVerifier(() => this.broker.call<Jwks, Record<string, never>>("users.jwks", {}, { timeout: 5000, retries: 2 }), { issuer: config.jwt.issuer, audience: config.jwt.audience });
		this.verifier = verifier;
		this.webAssets = webAssets();
	},

	methods: {
		/**
		 * What moleculer-web found no route for. Under /api: 405 with `Allow` for a known path
		 * taken with another method, 404 otherwise. Anywhere else: the web shop (a file, or
		 * index.html for a client route), 404 when there is no such file.
		 */
		send404(req: Req, res: Res) {
			const url = (req.originalUrl ?? req.url ?? "/").split("?")[0] ?? "/";
			if (url === "/api" || url.startsWith("/api/")) {
				const allowed = url.startsWith(`${API_PREFIX}/`) ? allowedMethods(url.slice(API_PREFIX.length)) : [];
				if (allowed.length > 0) {
					res.setHeader("Allow", allowed.join(", "));
					return this.sendError(req, res, methodNotAllowed(req.method ?? "", allowed));
				}
				return this.sendError(req, res, notFound("Route"));
			}
			req.url = req.originalUrl ?? req.url;
			this.webAssets(req, res, () => this.sendError(req, res, notFound("Route")));
		},

		// moleculer-web's default logs every non-4xx with a stack; onError logs what matters.
		errorHandler(req: Req, res: Res, err: unknown) {
			(this as unknown as { sendError(req: Req, res: Res, err: unknown): void }).sendError(req, res, err);
		},

		async authenticate(ctx: Context<unknown, ShopMeta>, _route: unknown, req: Req): Promise<AuthUser | null> {
			const header = req.headers.authorization;
			if (!header) return null;
			const m = /^Bearer ([A-Za-z0-9_\-.=]+)$/.exec(header);
			if (!m?.[1]) throw unauthorized("The Authorization header must be 'Bearer <accessToken>'", "INVALID_TOKEN");
			try {
				const claims = await this.verifier.verify(m[1]);
				return { id: claims.sub, roles: claims.roles as Role[], sessionId: claims.sid };
			} catch (err) {
				if (err instanceof InvalidTokenError) throw unauthorized("The access token is invalid or expired", "INVALID_TOKEN");
				throw err;
			}
		},
		authorize(ctx: Context<unknown, ShopMeta>, _route: unknown, req: Req) {
			const action = req.$action;
			if (!action || action.auth === "public") return;
			const user = ctx.meta.user;
			if (!user) throw unauthorized();
			if (action.roles && !user.roles.some(r => action.roles!.includes(r))) throw forbidden();
		},
	},
});

export default ApiService;
