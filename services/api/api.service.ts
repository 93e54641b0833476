/**
 * api: the gateway (moleculer-web), the shop's single HTTP entry point.
 *
 *   /api/v1/*   the public contract: the routes of lib/http/routes.ts
 *   /api/health, /api/ready, /api/openapi.json, /api/asyncapi.json   operations
 *   everything else   the web shop (lib/http/web-assets.ts)
 *
 *   http-settings.ts  routes, rate limits, headers, error bodies
 *   access.ts         who calls (JWT + deny-list of revoked sessions) and whether they may
 *   readiness.ts      when the gateway takes requests
 *   catalog-cache.ts  public catalog reads answered from a cache the catalog's events keep fresh
 *   rendition-cache.ts  image renditions answered from the gateway's memory before moleculer-web
 *   identity.ts       the OpenID provider at /oidc
 */
import type { IncomingMessage, ServerResponse, Server } from "node:http";
import ApiGateway from "moleculer-web";
import type { Context, Service, ServiceSchema } from "moleculer";
import { defineService } from "../../lib/broker/service.js";
import { config } from "../../lib/config.js";
import { API_PREFIX, allowedMethods, routesFor } from "../../lib/http/routes.js";
import { openApiDocument } from "./openapi-document.js";
import { webAssets, type WebAssetHandler } from "../../lib/http/web-assets.js";
import { buildAsyncApi } from "../../lib/events/asyncapi.js";
import { methodNotAllowed, routeNotFound } from "../../lib/errors.js";
import { checkReadiness, publicReadiness } from "../../lib/readiness.js";
import type { AuthUser, ShopMeta } from "../../lib/auth/access.js";
import { SESSIONS_REVOKED, SIGNING_KEYS_CHANGED, type SessionsRevoked } from "../../lib/contracts/broadcasts.js";
import { baseHeaders, gatewaySettings, refuseOversizedUpload, requestIdOf, type GatewayRequest } from "./http-settings.js";
import { GatewayAccess } from "./access.js";
import { apiResourceOf, issuerOf } from "../../lib/identity/provider.js";
import { GatewayReadiness } from "./readiness.js";
import { CatalogCache } from "./catalog-cache.js";
import { IdentityHost } from "./identity.js";

interface ApiState {
	access: GatewayAccess;
	gateway: GatewayReadiness;
	identity: IdentityHost;
	webAssets: WebAssetHandler;
	catalogCache: CatalogCache;
	server?: Server;
	corsHandler(settings: unknown, req: IncomingMessage, res: ServerResponse): boolean;
	sendError(req: IncomingMessage, res: ServerResponse, err: unknown): void;
}
type ApiThis = Service & ApiState;

const ApiService = defineService<ApiThis>({
	name: "api",
	mixins: [ApiGateway],
	// Settings come from the config of the broker being built (tests run several in one process).
	merged(schema: ServiceSchema) {
		schema.settings = { ...schema.settings, ...gatewaySettings(config) };
	},

	actions: {
		health: { auth: "public", visibility: "published", handler: () => ({ status: "ok" }) },
		ready: {
			auth: "public",
			async handler(ctx: Context<unknown, ShopMeta>) {
				const report = await checkReadiness(this.broker);
				if (!report.ready) {
					ctx.meta.$statusCode = 503;
					ctx.meta.$responseHeaders = { "Retry-After": "2" };
				}
				return publicReadiness(report);
			},
		},
		openapi: { auth: "public", handler: () => openApiDocument() },
		asyncapi: { auth: "public", handler: () => buildAsyncApi() },
	},

	events: {
		// The gate opens as soon as everything is there, not only when a request asks.
		"$broker.started"(this: ApiThis) {
			this.gateway.isOpen();
		},
		"$services.changed"(this: ApiThis) {
			this.gateway.isOpen();
		},
		[SESSIONS_REVOKED](this: ApiThis, ctx: Context<SessionsRevoked>) {
			this.access.revoked.add(ctx.params);
		},
		[SIGNING_KEYS_CHANGED](this: ApiThis) {
			void this.access.verifier.reload().catch(err => this.logger.warn(`JWKS reload failed: ${(err as Error).message}`));
			this.identity.reload();
		},
	},

	methods: {
		/** The gateway's part of this node's readiness (lib/readiness.ts). */
		readinessChecks(this: ApiThis) {
			return this.gateway.checks();
		},

		/**
		 * What moleculer-web found no route for. Under /api: 405 with `Allow` for a known path
		 * taken with another method, 404 otherwise. Anywhere else: the web shop (a file, or
		 * index.html for a client route), 404 when there is no such file.
		 */
		send404(this: ApiThis, req: GatewayRequest, res: ServerResponse) {
			const url = (req.originalUrl ?? req.url ?? "/").split("?")[0] ?? "/";
			if (url === "/api" || url.startsWith("/api/")) {
				const allowed = url.startsWith(`${API_PREFIX}/`) ? allowedMethods(routesFor(config.gatewayServices), url.slice(API_PREFIX.length)) : [];
				if (allowed.length > 0) {
					res.setHeader("Allow", allowed.join(", "));
					return this.sendError(req, res, methodNotAllowed(req.method ?? "", allowed));
				}
				return this.sendError(req, res, routeNotFound());
			}
			req.url = req.originalUrl ?? req.url;
			this.webAssets(req, res, () => this.sendError(req, res, routeNotFound()));
		},

		/** Every request: a rendition the gateway holds is answered before moleculer-web (catalog-cache.ts `answerRendition`). */
		httpHandler(this: ApiThis, req: GatewayRequest, res: ServerResponse, next?: unknown) {
			const answered = this.catalogCache?.answerRendition(req, res, () => {
				res.setHeader("X-Request-ID", requestIdOf(req));
				this.corsHandler(this.settings, req, res);
			});
			if (!answered) return ApiGateway.methods!.httpHandler!.call(this, req, res, next);
		},

		// moleculer-web's default logs every non-4xx with a stack; onError (http-settings.ts) logs what matters.
		errorHandler(this: ApiThis, req: GatewayRequest, res: ServerResponse, err: unknown) {
			this.sendError(req, res, err);
		},

		authenticate(this: ApiThis, _ctx: Context, _route: unknown, req: GatewayRequest): Promise<AuthUser | null> {
			return this.access.authenticate(req);
		},

		authorize(this: ApiThis, ctx: Context<unknown, ShopMeta>, _route: unknown, req: GatewayRequest, res: ServerResponse) {
			this.access.authorize(ctx.meta.user, req.$action);
			// The last step before an upload's body is read: who may upload is known by now.
			refuseOversizedUpload(req, res, config);
		},
	},

	created() {
		this.access = new GatewayAccess(this.broker, [
			{ issuer: config.jwt.issuer, audience: config.jwt.audience },
			{ issuer: issuerOf(config.publicUrl), audience: apiResourceOf(config.publicUrl) },
		]);
		this.identity = new IdentityHost(this.broker, config, this.logger);
		this.gateway = new GatewayReadiness(this.broker, this.access, config.gatewayServices);
		this.access.onLoaded = () => void this.gateway.isOpen();
		this.webAssets = webAssets();
		this.catalogCache = new CatalogCache(this.broker, config.catalogCache);
		// Before moleculer-web's own handler: the headers every response carries.
		this.server?.prependListener("request", baseHeaders);
	},

	async started() {
		this.identity.start();
		await this.access.start();
		await this.catalogCache.start();
	},

	async stopped() {
		this.identity.stop();
		this.access.stop();
		await this.catalogCache.stop();
	},
});

export default ApiService;
