/**
 * moleculer-web settings of the gateway, built from the config of the broker being made (tests
 * run several brokers in one process):
 *
 *   /api/v1/*                the contract's routes (lib/http/routes.ts), in two groups:
 *     credentials            /auth/* and POST /me/password, at AUTH_RATE_LIMIT_PER_MINUTE per client
 *     everything else        at RATE_LIMIT_PER_MINUTE per client
 *   /api/health, /ready, /openapi.json, /asyncapi.json   operations, never rate-limited
 *   /oidc/*                  the OpenID provider (identity.ts), body parsers off: it reads the raw request
 *
 * Every response carries `X-Content-Type-Options: nosniff`; credential and profile responses
 * `Cache-Control: no-store` (tokens must not sit in any cache); errors are JSON in the
 * contract's shape (lib/http/errors.ts) with `Retry-After` on 429 and 503.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { Context } from "moleculer";
import type { ShopConfig } from "../../lib/config.js";
import { API_PREFIX, ROUTES, aliasesOf, routesFor, type RouteSpec } from "../../lib/http/routes.js";
import { toClientError } from "../../lib/http/errors.js";
import { SharedWindowStore } from "../../lib/http/rate-limit.js";
import { isId } from "../../lib/contracts/ids.js";
import { isCountryCode } from "../../lib/contracts/countries.js";
import { invalidField, methodNotAllowed, notFound, payloadTooLarge, unsupportedMediaType } from "../../lib/errors.js";
import type { Role, ShopMeta } from "../../lib/auth/access.js";
import { catalogCacheLookup, type CatalogCache } from "./catalog-cache.js";
import { isOutputFormat, isPreset } from "../../lib/media/presets.js";
import { MAX_UPLOAD_BYTES, MULTIPART_OVERHEAD_BYTES } from "../../lib/media/limits.js";
import { paymentRoutes } from "./payment-routes.js";

export type GatewayRequest = IncomingMessage & {
	$action?: { name: string; auth?: "public" | "required"; roles?: Role[] };
	$ctx?: Context<unknown, ShopMeta>;
	$route?: { rateLimit?: { store?: { resetTime?: number } } };
	$alias?: { keys?: { name: string }[]; type?: string; action?: string };
	$params?: Record<string, unknown>;
	body?: unknown;
	originalUrl?: string;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id: X-Request-ID when it is sane, a new UUID otherwise. */
export function requestIdOf(req: IncomingMessage): string {
	const given = req.headers["x-request-id"];
	return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}
/** Path parameters that are ids: anything not in the id format names nothing (404). */
const PATH_IDS = new Set(["id", "productId", "itemId", "variantId", "imageId"]);
/** Other path parameters from a closed set: a value outside it names nothing either (404). */
const PATH_NAMES: Record<string, (value: string) => boolean> = { country: isCountryCode, preset: isPreset, format: isOutputFormat };
const statusByAction = new Map(ROUTES.map(r => [r.action, r.status]));
/** Routes that take credentials, by the path moleculer-web mounts them under (one route per path: it keys routes by path). */
const CREDENTIAL_BASES = ["/auth", "/me/password"];
const credentialBaseOf = (path: string) => CREDENTIAL_BASES.find(base => path === base || path.startsWith(`${base}/`));
const NO_STORE_PREFIXES = [`${API_PREFIX}/auth/`, `${API_PREFIX}/me`];

/** Headers every response gets, set before anything else runs (the server's first `request` listener). */
export function baseHeaders(req: IncomingMessage, res: ServerResponse): void {
	res.setHeader("X-Content-Type-Options", "nosniff");
	const url = req.url ?? "";
	if (NO_STORE_PREFIXES.some(p => url.startsWith(p))) res.setHeader("Cache-Control", "no-store");
}

/** The client a rate limit counts against: the TCP peer, or with TRUST_PROXY the address our proxy saw. */
export function clientKey(cfg: ShopConfig, req: IncomingMessage): string {
	if (cfg.trustProxy) {
		const forwarded = String(req.headers["x-forwarded-for"] ?? "")
			.split(",")
			.map(s => s.trim())
			.filter(Boolean);
		const last = forwarded[forwarded.length - 1];
		if (last) return last;
	}
	return req.socket.remoteAddress ?? "unknown";
}

function onAfterCall(
	this: { catalogCache?: CatalogCache },
	ctx: Context<unknown, ShopMeta>,
	_route: unknown,
	req: GatewayRequest,
	res: ServerResponse,
	data: unknown,
) {
	const status = req.$action ? statusByAction.get(req.$action.name) : undefined;
	if (status && !ctx.meta.$statusCode) ctx.meta.$statusCode = status;
	if (this.catalogCache) data = this.catalogCache.afterCall(ctx, req, res, data);
	if (ctx.meta.$statusCode === 204) return null;
	if (ctx.meta.$statusCode === 201) {
		const id = (data as { id?: string } | null)?.id ?? (data as { user?: { id?: string } } | null)?.user?.id;
		(ctx.meta as Record<string, unknown>).$location = id ? `${(req.originalUrl ?? req.url ?? "").split("?")[0]}/${id}` : (req.originalUrl ?? req.url);
	}
	return data;
}

type Logger = { error(...a: unknown[]): void; warn(...a: unknown[]): void };

function onError(this: { logger: Logger }, req: GatewayRequest, res: ServerResponse, err: unknown) {
	const body = toClientError(err);
	if (body.code === 503)
		this.logger.warn(`Request ${req.method} ${req.url} (request ${req.$ctx?.requestID}): dependency unavailable: ${(err as Error)?.message}`);
	else if (body.code >= 500) this.logger.error(`Request ${req.method} ${req.url} failed (request ${req.$ctx?.requestID}):`, err);
	if (body.code === 429) {
		const fromError = (body.data as { retryAfter?: number } | undefined)?.retryAfter;
		const reset = req.$route?.rateLimit?.store?.resetTime;
		const seconds = fromError ?? (reset ? Math.max(1, Math.ceil((reset - Date.now()) / 1000)) : 60);
		res.setHeader("Retry-After", String(seconds));
	}
	if (body.code === 503 && !res.hasHeader("Retry-After")) res.setHeader("Retry-After", "2");
	const requestId = req.$ctx?.requestID;
	if (requestId && !res.headersSent) res.setHeader("X-Request-ID", requestId);
	if (res.headersSent) return res.end();
	res.setHeader("Content-Type", "application/json; charset=utf-8");
	res.writeHead(body.code);
	res.end(JSON.stringify(body));
}

type Next = (err?: unknown) => void;
/** Route middleware in front of every API call (moleculer-web calls it with the gateway service as `this`): 503 until ready. */
/** Route middleware of /oidc: the request goes to the OpenID provider (services/api/identity.ts) and never further. */
function identityProvider(
	this: { identity: { handle(req: IncomingMessage, res: ServerResponse): Promise<void> } },
	req: IncomingMessage,
	res: ServerResponse,
	next: Next,
) {
	this.identity.handle(req, res).catch(next);
}

function readinessGate(
	this: { gateway: { gate(req: IncomingMessage, res: ServerResponse, next: Next): void } },
	req: IncomingMessage,
	res: ServerResponse,
	next: Next,
) {
	this.gateway.gate(req, res, next);
}

/** The most an upload to this action may be: a catalog CSV its own limit (IMPORT_MAX_BYTES, read as a stream), an image 10 MB. */
export function uploadLimitOf(action: string | undefined, cfg: ShopConfig): number {
	return action === "products.importCsv" ? cfg.importMaxBytes : MAX_UPLOAD_BYTES;
}

const megabytes = (bytes: number) => `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;

/**
 * An upload whose Content-Length says it is over its limit: 413 before a byte of it is read,
 * and the connection is closed rather than drained. (A chunked upload is stopped by busboy's limit.)
 */
export function refuseOversizedUpload(req: GatewayRequest, res: ServerResponse, cfg: ShopConfig): void {
	if (req.$alias?.type !== "multipart") return;
	if (!/^multipart\/form-data\b.*;\s*boundary=/i.test(req.headers["content-type"] ?? ""))
		throw unsupportedMediaType("Send the file as multipart/form-data with its boundary (field `file`)");
	const limit = uploadLimitOf(req.$alias.action, cfg);
	const declared = Number(req.headers["content-length"]);
	if (Number.isFinite(declared) && declared > limit + MULTIPART_OVERHEAD_BYTES) {
		res.setHeader("Connection", "close");
		throw payloadTooLarge(`The file is larger than ${megabytes(limit)}`);
	}
}

/** moleculer-web's aliases, each upload with busboy's limit for its action (past it busboy ends the file with a 413). */
function aliasesWithLimits(routes: RouteSpec[], cfg: ShopConfig) {
	return Object.fromEntries(
		Object.entries(aliasesOf(routes)).map(([path, target]) => {
			if (!target.startsWith("multipart:")) return [path, target];
			const action = target.slice("multipart:".length);
			return [path, { type: "multipart", action, busboyConfig: { limits: { fileSize: uploadLimitOf(action, cfg) } } }];
		}),
	);
}

export function gatewaySettings(cfg: ShopConfig) {
	const rateLimit = (perMinute: number, store?: SharedWindowStore) => ({
		window: 60_000,
		limit: perMinute,
		headers: true,
		key: (req: IncomingMessage) => clientKey(cfg, req),
		...(store ? { StoreFactory: store.factory() } : {}),
	});
	function onBeforeCall(ctx: Context<unknown, ShopMeta>, _route: unknown, req: GatewayRequest, res: ServerResponse) {
		// An id in the path that is not in the shop's id format can name nothing; when the path is
		// another route's own (PATCH /products/export), it is that route taken with the wrong method.
		for (const key of req.$alias?.keys ?? []) {
			if (PATH_IDS.has(key.name) && !isId(req.$params?.[key.name])) {
				const path = (req.originalUrl ?? req.url ?? "").split("?")[0]!.slice(API_PREFIX.length);
				const literal = [...new Set(ROUTES.filter(r => r.path === path).map(r => r.method))].sort();
				if (literal.length > 0) {
					res.setHeader("Allow", literal.join(", "));
					throw methodNotAllowed(req.method ?? "", literal);
				}
				throw notFound("Resource");
			}
			const known = PATH_NAMES[key.name];
			if (known && !known(String(req.$params?.[key.name]))) throw notFound("Resource");
		}
		// Every request body of the contract is a JSON object; merged into the params, an array (or a
		// string) would vanish and the request would pass as an empty one.
		if (req.body !== undefined && (typeof req.body !== "object" || req.body === null || Array.isArray(req.body)))
			throw invalidField("body", "The request body must be a JSON object.", "jsonObject");
		ctx.meta.requestId = ctx.requestID ?? undefined;
		ctx.meta.clientIp = clientKey(cfg, req);
		const key = req.headers["idempotency-key"];
		if (typeof key === "string") ctx.meta.idempotencyKey = key;
		const ifNoneMatch = req.headers["if-none-match"];
		if (req.method === "GET" && typeof ifNoneMatch === "string") ctx.meta.ifNoneMatch = ifNoneMatch;
	}
	const route = {
		mappingPolicy: "restrict",
		autoAliases: false,
		authentication: true,
		authorization: true,
		mergeParams: true,
		bodyParsers: { json: { limit: "1mb", strict: true }, urlencoded: false },
		// Multipart uploads (routes marked `multipart`): one file, streamed to the action as it arrives;
		// past its limit (uploadLimitOf, set per alias) busboy ends the file with a 413. A declared length over it is refused unread (refuseOversizedUpload).
		busboyConfig: { limits: { files: 1, fileSize: MAX_UPLOAD_BYTES, fields: 4, fieldSize: 16 * 1024, parts: 5 } },
		// The deadline of each request; what may be sent again to another node is lib/broker/call-resilience.ts (per action).
		callOptions: { timeout: cfg.requestTimeoutMs },
		use: [readinessGate],
		onBeforeCall,
		onAfterCall,
	};
	const credentialLimit = new SharedWindowStore(60_000);
	const routed = routesFor(cfg.gatewayServices);
	const otherRoutes = routed.filter(r => !credentialBaseOf(r.path));
	const credentialRoutes = CREDENTIAL_BASES.map(base => ({ base, routes: routed.filter(r => credentialBaseOf(r.path) === base) })).filter(
		g => g.routes.length > 0,
	);
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
			? {
					origin: cfg.corsOrigins,
					methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
					allowedHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
					exposedHeaders: ["X-Request-ID", "Retry-After", "Location"],
					maxAge: 600,
				}
			: undefined,
		// The request id: X-Request-ID when it is sane, a new UUID otherwise.
		rootCallOptions(options: { requestID?: string }, req: IncomingMessage) {
			options.requestID = requestIdOf(req);
		},
		routes: [
			// Before /api/v1: moleculer-web takes the first route whose path starts the URL.
			...(routed.some(r => r.action.startsWith("orders.")) ? paymentRoutes(cfg) : []),
			...credentialRoutes.map(({ base, routes }) => ({
				...route,
				path: `${API_PREFIX}${base}`,
				aliases: aliasesWithLimits(
					routes.map(r => ({ ...r, path: r.path.slice(base.length) || "/" })),
					cfg,
				),
				rateLimit: rateLimit(cfg.rateLimit.authPerMinute, credentialLimit),
			})),
			// Public catalog reads are answered from the gateway's cache before the rate limit (catalog-cache.ts).
			{
				...route,
				path: API_PREFIX,
				use: [readinessGate, catalogCacheLookup],
				aliases: aliasesWithLimits(otherRoutes, cfg),
				rateLimit: rateLimit(cfg.rateLimit.perMinute),
			},
			{
				...route,
				path: "/api",
				authentication: false,
				authorization: false,
				use: [],
				aliases: { "GET /health": "api.health", "GET /ready": "api.ready", "GET /openapi.json": "api.openapi", "GET /asyncapi.json": "api.asyncapi" },
			},
			{
				path: "/oidc",
				authentication: false,
				authorization: false,
				mappingPolicy: "restrict",
				autoAliases: false,
				bodyParsers: false,
				use: [readinessGate, identityProvider],
				rateLimit: rateLimit(cfg.rateLimit.perMinute),
			},
		],
		onError,
	};
}
