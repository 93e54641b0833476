/**
 * The OpenID provider on this gateway node, at /oidc (lib/identity/provider.ts): a moleculer-web
 * route with its body parsers off hands each request here, and here to the provider's Koa
 * callback, after three things of our own:
 *
 * - the sign-in and consent pages (GET/POST /oidc/interaction/:uid[/login|/consent]): the shop's
 *   pages, CSRF-protected by a double-submit cookie, the password checked by the users service
 *   (its lockout and rate limits apply); consent is skipped for the shop's own clients;
 * - client secrets are stored hashed (services/users/oauth-clients.ts), so the secret in a Basic
 *   Authorization header is replaced by its SHA-256 before the provider compares it;
 * - the device flow's polling interval is announced (`interval`) and enforced (`slow_down`, per node).
 *
 * The provider keeps nothing here: its models and keys are the users service's, so any gateway
 * node continues a flow another began. It is built once the users service answers, and again
 * when the signing keys change; until then /oidc answers 503.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServiceBroker } from "moleculer";
import type { Provider, KoaContextWithOIDC } from "oidc-provider";
import type { ShopConfig } from "../../lib/config.js";
import { createProvider, type Call } from "../../lib/identity/provider.js";
import { CSP, consentPage, loginPage, messagePage, pickLang, texts, type Lang } from "../../lib/identity/pages.js";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]{1,100})(?:\/(login|consent))?\/?(?:\?.*)?$/;
const FORM_LIMIT = 16 * 1024;
const hashSecret = (s: string) => createHash("sha256").update(s).digest("hex");

type Logger = { info(m: string): void; warn(m: string): void; error(m: string, e?: unknown): void };

export class IdentityHost {
	private provider?: Provider;
	private callback?: (req: IncomingMessage, res: ServerResponse) => void;
	private readonly polls = new Map<string, number>();
	private building?: Promise<void>;
	private stopped = false;

	constructor(
		private readonly broker: ServiceBroker,
		private readonly cfg: ShopConfig,
		private readonly log: Logger,
	) {}

	private readonly call: Call = <T>(action: string, params: Record<string, unknown>) =>
		this.broker.call<T, Record<string, unknown>>(action, params, { timeout: 5000 });

	/** Builds the provider in the background, retrying until the users service answers. */
	start(): void {
		const attempt = async (): Promise<void> => {
			while (!this.stopped) {
				try {
					await this.build();
					return;
				} catch (err) {
					this.log.warn(`Identity provider not built yet: ${(err as Error).message}`);
					await new Promise(r => setTimeout(r, 1000).unref());
				}
			}
		};
		this.building = attempt();
	}

	stop(): void {
		this.stopped = true;
	}

	/** The signing keys changed: a provider with the new key. */
	reload(): void {
		void this.build().catch(err => this.log.warn(`Identity provider rebuild failed: ${(err as Error).message}`));
	}

	get ready(): boolean {
		return this.callback !== undefined;
	}

	private async build(): Promise<void> {
		await this.broker.waitForServices(["users"], 10_000);
		const [{ keys }, cookieKeys] = await Promise.all([
			this.call<{ keys: Record<string, unknown>[] }>("users.oidcSigningKeys", {}),
			this.cfg.oidc.cookieKeys.length > 0 ? this.cfg.oidc.cookieKeys : this.call<string[]>("users.oidcCookieKeys", {}),
		]);
		const provider = createProvider(
			{
				publicUrl: this.cfg.publicUrl,
				accessTtlSeconds: this.cfg.jwt.accessTtlSeconds,
				refreshTtlSeconds: this.cfg.jwt.refreshTtlSeconds,
				authorizationCodeTtlSeconds: this.cfg.oidc.authorizationCodeTtlSeconds,
				deviceCodeTtlSeconds: this.cfg.oidc.deviceCodeTtlSeconds,
				signingKeys: keys,
				cookieKeys,
			},
			this.call,
		);
		provider.use((ctx, next) => this.unavailableAs503(ctx, next));
		provider.use((ctx, next) => this.devicePolling(ctx, next));
		provider.on("grant.revoked", ((_ctx: unknown, grantId: string) => {
			this.call("users.oidcGrantRevoked", { grantId }).catch(err => this.log.error(`Revoking grant ${grantId} failed`, err));
		}) as never);
		provider.on("server_error", ((ctx: { state?: Record<string, unknown> }, err: Error & { retryable?: boolean }) => {
			// The users service not answering is an outage, not a bug: 503 (unavailableAs503).
			if (err.retryable || err.name === "ServiceNotFoundError" || err.name === "ServiceNotAvailableError") {
				if (ctx.state) ctx.state.dependencyDown = true;
				this.log.warn(`Identity provider: the users service did not answer (${err.message})`);
			} else this.log.error("Identity provider error", err);
		}) as never);
		this.provider = provider;
		this.callback = provider.callback();
	}

	/** One request under /oidc (req.url is relative to it). */
	async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		if (!this.provider || !this.callback) {
			res.setHeader("Retry-After", "2");
			res.writeHead(503, { "Content-Type": "application/json" });
			res.end(JSON.stringify({ error: "temporarily_unavailable", error_description: "The identity provider is starting" }));
			return;
		}
		const m = INTERACTION.exec(req.url ?? "");
		if (m) return this.interaction(this.provider, req, res, m[1]!, m[2] as "login" | "consent" | undefined);
		hashBasicSecret(req);
		this.callback(req, res);
	}

	private async interaction(
		provider: Provider,
		req: IncomingMessage,
		res: ServerResponse,
		uid: string,
		step: "login" | "consent" | undefined,
	): Promise<void> {
		const lang = pickLang(undefined, req.headers["accept-language"]);
		let details;
		try {
			details = await provider.interactionDetails(req, res);
		} catch {
			return sendHtml(res, 400, messagePage(lang, "expired"));
		}
		if (details.uid !== uid) return sendHtml(res, 400, messagePage(lang, "expired"));
		const pageLang = pickLang(details.params.ui_locales as string | undefined, req.headers["accept-language"]);
		const client = await provider.Client.find(String(details.params.client_id));
		const clientName = client?.clientName ?? String(details.params.client_id);
		const firstParty = client?.["shop_first_party"] === true;
		const base = `${issuerPath(this.cfg.publicUrl)}/interaction/${uid}`;

		if (req.method === "GET" && !step) {
			if (details.prompt.name === "login") {
				const hint = typeof details.params.login_hint === "string" ? details.params.login_hint.slice(0, 320) : "";
				return this.showLogin(res, pageLang, base, uid, clientName, hint);
			}
			if (firstParty) return this.consent(provider, req, res, details);
			const csrf = this.issueCsrf(res, uid);
			const scopes = [
				...((details.prompt.details.missingOIDCScope as string[] | undefined) ?? []),
				...Object.values((details.prompt.details.missingResourceScopes as Record<string, string[]> | undefined) ?? {}).flat(),
			];
			return sendHtml(res, 200, consentPage(pageLang, `${base}/consent`, csrf, clientName, [...new Set(scopes)]));
		}
		if (req.method !== "POST" || !step) return sendHtml(res, 405, messagePage(pageLang, "expired"));
		const form = await readForm(req);
		if (!form || !this.csrfMatches(req, uid, form.get("csrf"))) return sendHtml(res, 403, messagePage(pageLang, "expired"));

		if (step === "login" && details.prompt.name === "login") {
			const email = form.get("email") ?? "";
			const t = texts(pageLang);
			try {
				const { accountId } = await this.call<{ accountId: string }>("users.oidcAuthenticate", { email, password: form.get("password") ?? "" });
				return provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
			} catch (err) {
				const e = err as { code?: number; data?: { retryAfter?: number } };
				if (e.code === 429) return this.showLogin(res, pageLang, base, uid, clientName, email, t.locked(e.data?.retryAfter ?? 60), 429);
				if (e.code === 401 || e.code === 422) return this.showLogin(res, pageLang, base, uid, clientName, email, t.badCredentials, 401);
				throw err;
			}
		}
		if (step === "consent" && details.prompt.name === "consent") {
			if (form.get("decision") !== "allow")
				return provider.interactionFinished(
					req,
					res,
					{ error: "access_denied", error_description: "The user denied access" },
					{ mergeWithLastSubmission: false },
				);
			return this.consent(provider, req, res, details);
		}
		return sendHtml(res, 400, messagePage(pageLang, "expired"));
	}

	private showLogin(res: ServerResponse, lang: Lang, base: string, uid: string, client: string, email = "", error?: string, status = 200): void {
		const csrf = this.issueCsrf(res, uid);
		sendHtml(res, status, loginPage(lang, `${base}/login`, csrf, client, email, error));
	}

	/** Grants what the prompt says is missing (the API scopes were already narrowed to the user's roles by the provider). */
	private async consent(provider: Provider, req: IncomingMessage, res: ServerResponse, details: Awaited<ReturnType<Provider["interactionDetails"]>>) {
		const accountId = details.session?.accountId;
		if (!accountId) return sendHtml(res, 400, messagePage("en", "expired"));
		const grant =
			(details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
			new provider.Grant({ accountId, clientId: String(details.params.client_id) });
		const missing = details.prompt.details;
		if (Array.isArray(missing.missingOIDCScope)) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
		if (Array.isArray(missing.missingOIDCClaims)) grant.addOIDCClaims(missing.missingOIDCClaims as string[]);
		for (const [resource, scopes] of Object.entries((missing.missingResourceScopes as Record<string, string[]> | undefined) ?? {}))
			grant.addResourceScope(resource, scopes.join(" "));
		const grantId = await grant.save();
		await provider.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
	}

	private issueCsrf(res: ServerResponse, uid: string): string {
		const token = randomBytes(24).toString("base64url");
		const secure = this.cfg.publicUrl.startsWith("https:") ? "; Secure" : "";
		res.setHeader("Set-Cookie", `shop_csrf=${token}; Path=${issuerPath(this.cfg.publicUrl)}/interaction/${uid}; HttpOnly; SameSite=Strict${secure}`);
		return token;
	}

	private csrfMatches(req: IncomingMessage, _uid: string, given: string | null): boolean {
		const cookie = /(?:^|;\s*)shop_csrf=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? "")?.[1];
		if (!cookie || !given || cookie.length !== given.length) return false;
		return timingSafeEqual(Buffer.from(cookie), Buffer.from(given));
	}

	/** A request that failed because the users service did not answer is a 503 with Retry-After (temporarily_unavailable), not a 500. */
	private async unavailableAs503(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
		await next();
		const state = ctx.state as Record<string, unknown> | undefined;
		if (ctx.status !== 500 || !state?.dependencyDown) return;
		ctx.status = 503;
		ctx.set("Retry-After", "2");
		if (ctx.type !== "text/html") ctx.body = { error: "temporarily_unavailable", error_description: "Try again in a moment" };
	}

	/** RFC 8628 §3.2, §3.5: announce the polling interval, and answer `slow_down` to a device polling faster. */
	private async devicePolling(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
		await next();
		const intervalMs = this.cfg.oidc.devicePollIntervalSeconds * 1000;
		const body = ctx.body as Record<string, unknown> | undefined;
		if (ctx.oidc?.route === "device_authorization" && ctx.status === 200 && body) body.interval = this.cfg.oidc.devicePollIntervalSeconds;
		if (ctx.oidc?.route !== "token" || ctx.oidc.params?.grant_type !== DEVICE_GRANT || body?.error !== "authorization_pending") return;
		const key = hashSecret(String(ctx.oidc.params.device_code));
		const now = Date.now();
		const last = this.polls.get(key);
		this.polls.set(key, now);
		if (this.polls.size > 10_000) for (const [k, t] of this.polls) if (now - t > this.cfg.oidc.deviceCodeTtlSeconds * 1000) this.polls.delete(k);
		if (last !== undefined && now - last < intervalMs)
			ctx.body = { error: "slow_down", error_description: "Poll at the announced interval plus 5 seconds" };
	}
}

function issuerPath(publicUrl: string): string {
	return `${new URL(publicUrl).pathname.replace(/\/$/, "")}/oidc`;
}

function sendHtml(res: ServerResponse, status: number, body: string): void {
	res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CSP, "Cache-Control": "no-store" });
	res.end(body);
}

/** The form of a POST, bounded; null when it is too large or not a form. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams | null> {
	if (!String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) return null;
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req as AsyncIterable<Buffer>) {
		size += chunk.length;
		if (size > FORM_LIMIT) return null;
		chunks.push(chunk);
	}
	return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** A client secret in a Basic header becomes its SHA-256: what the provider has on record (see the top of this file). */
function hashBasicSecret(req: IncomingMessage): void {
	const m = /^basic +([A-Za-z0-9+/=]+) *$/i.exec(req.headers.authorization ?? "");
	if (!m) return;
	const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
	const colon = decoded.indexOf(":");
	if (colon < 0) return;
	const id = decoded.slice(0, colon);
	let secret: string;
	try {
		secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, "%20"));
	} catch {
		return; // not form-encoded: the provider refuses it as it stands
	}
	req.headers.authorization = `Basic ${Buffer.from(`${id}:${hashSecret(secret)}`).toString("base64")}`;
}
