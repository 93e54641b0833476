/**
 * Every setting of the shop, read once from the environment.
 * Unset means the embedded default: one process, no transporter, NeDB files, in-process events.
 * The README has a table of these variables; keep the two in step.
 */
import path from "node:path";
import { DEFAULT_DISABLE_AFTER_SECONDS, parseRetrySchedule } from "./domain/webhooks.js";

function str(name: string, fallback: string): string {
	const v = process.env[name];
	return v === undefined || v === "" ? fallback : v;
}
function optional(name: string): string | undefined {
	const v = process.env[name];
	return v === undefined || v === "" ? undefined : v;
}
function int(name: string, fallback: number): number {
	const v = process.env[name];
	if (v === undefined || v === "") return fallback;
	const n = Number(v);
	if (!Number.isInteger(n) || n < 0) throw new Error(`Environment variable ${name} must be a non-negative integer, got '${v}'`);
	return n;
}
function seconds(name: string, fallback: number): number {
	const v = process.env[name];
	if (v === undefined || v === "") return fallback;
	const n = Number(v);
	if (!Number.isFinite(n) || n <= 0) throw new Error(`Environment variable ${name} must be a positive number of seconds, got '${v}'`);
	return n;
}
function bool(name: string, fallback: boolean): boolean {
	const v = process.env[name];
	if (v === undefined || v === "") return fallback;
	return ["1", "true", "yes", "on"].includes(v.toLowerCase());
}
function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
	const v = str(name, fallback);
	if (!(allowed as readonly string[]).includes(v)) throw new Error(`Environment variable ${name} must be one of ${allowed.join(", ")}, got '${v}'`);
	return v as T;
}
function rate(name: string, fallback: number): number {
	const raw = process.env[name];
	if (raw === undefined || raw === "") return fallback;
	const n = Number(raw);
	if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(`Environment variable ${name} must be a number from 0 to 1, got '${raw}'`);
	return n;
}

function list(name: string): string[] {
	return (process.env[name] ?? "")
		.split(",")
		.map(s => s.trim())
		.filter(Boolean);
}

function secondsList(name: string, fallback: number[]): number[] {
	const v = list(name);
	if (v.length === 0) return fallback;
	const n = v.map(Number);
	if (!n.every(x => Number.isFinite(x) && x >= 0))
		throw new Error(`Environment variable ${name} must be comma-separated seconds, got '${process.env[name]}'`);
	return n;
}

function dbPrefix(v: string): string {
	// MongoDB database names: no '/', '\\', '.', ' ', '"', '$'; keep it to the safe set.
	if (!/^[A-Za-z0-9_-]{1,40}$/.test(v)) throw new Error(`Environment variable DB_PREFIX must be 1 to 40 letters, digits, '_' or '-', got '${v}'`);
	return v;
}

function publicUrl(v: string): string {
	let url: URL;
	try {
		url = new URL(v);
	} catch {
		throw new Error(`Environment variable PUBLIC_URL must be an absolute http(s) URL, got '${v}'`);
	}
	if (!/^https?:$/.test(url.protocol) || url.search || url.hash)
		throw new Error(`Environment variable PUBLIC_URL must be an http(s) origin and path, got '${v}'`);
	return url.href.replace(/\/$/, "");
}

export interface ShopConfig {
	nodeId?: string;
	namespace: string;
	transporter?: string;
	mongoUrl?: string;
	/** The embedded store when MONGO_URL is unset (EMBEDDED_STORE): SQLite files (default) or NeDB files. */
	embeddedStore: "sqlite" | "nedb";
	/** MongoDB database of a service: `<dbPrefix><service>` (default `shop_users`, ...). */
	dbPrefix: string;
	kafkaBrokers: string[];
	/** Partitions, replication factor and min.insync.replicas of the topics the shop creates (KAFKA_PARTITIONS, KAFKA_REPLICATION_FACTOR, KAFKA_MIN_INSYNC_REPLICAS). */
	kafkaTopics: { partitions: number; replicationFactor: number; minInsyncReplicas?: number };
	services: string[];
	/** The services a gateway routes to (API_SERVICES; empty: all of them). Its routes and its readiness cover only these. */
	gatewayServices: string[];
	port: number;
	host: string;
	metricsPort: number;
	metricsHost: string;
	metricsEnabled: boolean;
	dataDir: string;
	logLevel: string;
	logFormat: "json" | "text";
	adminEmail?: string;
	adminPassword?: string;
	corsOrigins: string[];
	seedDemo: boolean;
	/** Catalog prices contain tax (PRICES_INCLUDE_TAX, default true); false: tax is added on top. */
	pricesIncludeTax: boolean;
	/** The shop's public origin (PUBLIC_URL): the OpenID provider's issuer is `<publicUrl>/oidc`, the API's resource `<publicUrl>/api/v1`. */
	publicUrl: string;
	/**
	 * The OpenID provider: cookie keys (OIDC_COOKIE_KEYS, comma-separated; unset: made once and
	 * kept in the users database), the device flow's polling interval (DEVICE_POLL_INTERVAL_S) and
	 * device code lifetime (DEVICE_CODE_TTL), the authorization code's (AUTHORIZATION_CODE_TTL).
	 */
	oidc: { cookieKeys: string[]; devicePollIntervalSeconds: number; deviceCodeTtlSeconds: number; authorizationCodeTtlSeconds: number };
	jwt: { issuer: string; audience: string; accessTtlSeconds: number; refreshTtlSeconds: number; privateKeyPem?: string; retiredKeysPem?: string };
	bcryptCost: number;
	rateLimit: {
		perMinute: number;
		authPerMinute: number;
		loginFailures: number;
		loginLockSeconds: number;
		/** Password-reset and verification emails per address per hour (ACCOUNT_EMAILS_PER_ADDRESS_PER_HOUR). */
		accountEmailsPerAddress: number;
		/** The same per client (ACCOUNT_EMAILS_PER_CLIENT_PER_HOUR). */
		accountEmailsPerClient: number;
	};
	trustProxy: boolean;
	requestTimeoutMs: number;
	/**
	 * How calls between nodes survive a node dying (lib/broker/call-resilience.ts): `nats` (CALL_BALANCER, the
	 * default) lets NATS hand each call to a connected node of the service; `broker` is Moleculer's
	 * own round-robin over the nodes its registry knows. `hedgeMs` (CALL_HEDGE_MS, 0: off): an
	 * idempotent call with no answer after this long is sent once more; `repeats` (CALL_REPEATS):
	 * the most copies of one call after the first.
	 */
	calls: { balancer: "nats" | "broker"; hedgeMs: number; repeats: number };
	/** Moleculer heartbeats (HEARTBEAT_INTERVAL_S, HEARTBEAT_TIMEOUT_S): a node silent this long is removed from the registry. */
	heartbeat: { intervalSeconds: number; timeoutSeconds: number };
	/**
	 * Graceful stop: a gateway reports itself not ready and keeps serving for DRAIN_DELAY_MS before
	 * it stops taking connections (a load balancer takes it out of rotation meanwhile);
	 * STOP_TIMEOUT_MS bounds the whole stop (then the process exits anyway).
	 */
	stop: { drainDelayMs: number; timeoutMs: number };
	reservationTtlSeconds: number;
	payments: PaymentSettings;
	outboxPollMs: number;
	/** How often document outboxes (the catalog's) are swept for events a writer did not relay. */
	outboxSweepMs: number;
	/** A node with more outbox documents waiting than this is not ready (OUTBOX_BACKLOG_MAX). */
	outboxBacklogMax: number;
	tracingExporter: string;
	zipkinUrl?: string;
	/** Where spans go (Zipkin v2 JSON, e.g. Jaeger's http://127.0.0.1:9411); unset: no tracing (unless TRACING_EXPORTER says). */
	tracingExporterUrl?: string;
	/** The share of requests traced, 0..1 (TRACING_SAMPLE_RATE, default 1). */
	tracingSampleRate: number;
	/** One info line per HTTP request at the gateway (ACCESS_LOG, default true). */
	accessLog: boolean;
	/**
	 * Outgoing webhooks (services/webhooks): the retry schedule in seconds (WEBHOOK_RETRY_SCHEDULE),
	 * the timeout of one delivery (WEBHOOK_TIMEOUT_MS), deliveries in flight per endpoint on one node
	 * (WEBHOOK_CONCURRENCY), how long an endpoint may fail before it is disabled
	 * (WEBHOOK_DISABLE_AFTER_SECONDS), how often due deliveries are looked for (WEBHOOK_POLL_MS), and
	 * WEBHOOKS_ALLOW_PRIVATE_TARGETS (development and tests only: loopback and private targets allowed).
	 */
	webhooks: {
		retrySchedule: number[];
		timeoutMs: number;
		concurrencyPerEndpoint: number;
		disableAfterSeconds: number;
		pollMs: number;
		allowPrivateTargets: boolean;
		/** Finished deliveries stay in the log this many days (WEBHOOK_LOG_RETENTION_DAYS). */
		logRetentionDays: number;
	};
	/** The largest catalog CSV an import takes (IMPORT_MAX_BYTES, default 100 MB; read as it arrives, never whole). Images keep 10 MB. */
	importMaxBytes: number;
	/** The gateway's cache of public catalog reads (services/api/catalog-cache.ts). */
	catalogCache: { bytes: number; ttlSeconds: number; listTtlMs: number; staleWhileRevalidateSeconds: number; settleMs: number; imageBytes: number };
	/** The shop's name in emails (SHOP_NAME). */
	shopName: string;
	/**
	 * Email (lib/notify): SMTP_URL (e.g. `smtp://user:pass@relay:587`, `smtps://…:465`) sends through that relay,
	 * from MAIL_FROM (required with SMTP_URL); without SMTP_URL every email is kept in the notifications
	 * database, the development mailbox. EMAIL_RETRY_SCHEDULE: seconds between attempts, then dead-lettered.
	 */
	mail: { smtpUrl?: string; from?: string; retrySchedule: number[] };
	/** The key that signs links in emails (EMAIL_LINK_SECRET; without it the users service keeps one in its database). */
	emailLinkSecret?: string;
}

/**
 * Payments (lib/payments/*): the provider, how long a session may wait for its confirmation, when
 * an unsettled one is asked about, and each provider's secrets (never defaulted, never logged).
 */
export interface PaymentSettings {
	provider: "simulated" | "stripe";
	sessionTtlSeconds: number;
	reconcileAfterSeconds: number;
	/** Applied provider event ids are kept this long (at least PAYMENT_EVENTS_MIN_RETENTION_DAYS), then forgotten. */
	eventsRetentionDays: number;
	stripe: { secretKey?: string; webhookSecret?: string; publishableKey?: string; apiBase?: string };
	simulated: {
		/** Standard Webhooks secret (`whsec_…`); unset: a random one per process (one-process shop only). */
		webhookSecret?: string;
		/** Where the simulated service delivers its webhooks (default: this process's gateway). */
		webhookUrl?: string;
		/** The confirmation page's public origin (default: this process's gateway). */
		publicUrl?: string;
		delayMs: number;
		/** Each webhook is delivered this many times. */
		copies: number;
		/** A session's webhooks go out in reverse order. */
		reorder: boolean;
		/** Webhooks are never delivered (tests of a lost webhook). */
		drop: boolean;
	};
}

/**
 * An event id must be remembered for as long as its provider may deliver it again: Stripe retries
 * an unacknowledged webhook for up to 3 days (each retry newly signed, so the 300 s signature
 * tolerance does not stop it). A shorter retention would let a retry be applied twice.
 */
export const PAYMENT_EVENTS_MIN_RETENTION_DAYS = 4;

function paymentSettings(): PaymentSettings {
	const eventsRetentionDays = int("PAYMENT_EVENTS_RETENTION_DAYS", 30);
	if (eventsRetentionDays < PAYMENT_EVENTS_MIN_RETENTION_DAYS)
		throw new Error(
			`Environment variable PAYMENT_EVENTS_RETENTION_DAYS must be at least ${PAYMENT_EVENTS_MIN_RETENTION_DAYS} (longer than a provider retries a webhook), got ${eventsRetentionDays}`,
		);
	return {
		eventsRetentionDays,
		provider: oneOf("PAYMENT_PROVIDER", ["simulated", "stripe"], "simulated"),
		sessionTtlSeconds: int("PAYMENT_SESSION_TTL_SECONDS", 900),
		reconcileAfterSeconds: int("PAYMENT_RECONCILE_AFTER_SECONDS", 60),
		stripe: {
			secretKey: optional("STRIPE_SECRET_KEY"),
			webhookSecret: optional("STRIPE_WEBHOOK_SECRET"),
			publishableKey: optional("STRIPE_PUBLISHABLE_KEY"),
			apiBase: optional("STRIPE_API_BASE"),
		},
		simulated: {
			webhookSecret: optional("SIMULATED_WEBHOOK_SECRET"),
			webhookUrl: optional("SIMULATED_WEBHOOK_URL"),
			publicUrl: optional("PUBLIC_URL"),
			delayMs: int("SIMULATED_WEBHOOK_DELAY_MS", 0),
			copies: int("SIMULATED_WEBHOOK_COPIES", 1),
			reorder: bool("SIMULATED_WEBHOOK_REORDER", false),
			drop: bool("SIMULATED_WEBHOOK_DROP", false),
		},
	};
}

export function loadConfig(): ShopConfig {
	const production = process.env.NODE_ENV === "production";
	return {
		nodeId: optional("NODE_ID"),
		namespace: str("NAMESPACE", "shop"),
		transporter: optional("TRANSPORTER"),
		mongoUrl: optional("MONGO_URL"),
		embeddedStore: oneOfStores(str("EMBEDDED_STORE", "sqlite")),
		dbPrefix: dbPrefix(str("DB_PREFIX", "shop_")),
		kafkaBrokers: list("KAFKA_BROKERS"),
		kafkaTopics: {
			partitions: int("KAFKA_PARTITIONS", 6),
			// -1: the broker's default.
			replicationFactor: process.env.KAFKA_REPLICATION_FACTOR ? int("KAFKA_REPLICATION_FACTOR", 1) : -1,
			minInsyncReplicas: process.env.KAFKA_MIN_INSYNC_REPLICAS ? int("KAFKA_MIN_INSYNC_REPLICAS", 1) : undefined,
		},
		services: list("SERVICES"),
		gatewayServices: list("API_SERVICES"),
		port: int("PORT", 3000),
		host: str("HOST", "127.0.0.1"),
		metricsPort: int("METRICS_PORT", 3030),
		metricsHost: str("METRICS_HOST", "127.0.0.1"),
		metricsEnabled: bool("METRICS_ENABLED", true),
		dataDir: str("DATA_DIR", "./data") === ":memory:" ? ":memory:" : path.resolve(str("DATA_DIR", "./data")),
		logLevel: str("LOG_LEVEL", "info"),
		logFormat: str("LOG_FORMAT", production ? "json" : "text") === "json" ? "json" : "text",
		adminEmail: optional("ADMIN_EMAIL"),
		adminPassword: optional("ADMIN_PASSWORD"),
		corsOrigins: list("CORS_ORIGINS"),
		seedDemo: bool("SEED_DEMO", true),
		pricesIncludeTax: bool("PRICES_INCLUDE_TAX", true),
		publicUrl: publicUrl(
			str("PUBLIC_URL", `http://${str("HOST", "127.0.0.1") === "0.0.0.0" ? "127.0.0.1" : str("HOST", "127.0.0.1")}:${int("PORT", 3000)}`),
		),
		oidc: {
			cookieKeys: list("OIDC_COOKIE_KEYS"),
			devicePollIntervalSeconds: int("DEVICE_POLL_INTERVAL_S", 5),
			deviceCodeTtlSeconds: int("DEVICE_CODE_TTL", 600),
			authorizationCodeTtlSeconds: int("AUTHORIZATION_CODE_TTL", 60),
		},
		jwt: {
			issuer: str("JWT_ISSUER", "moleculer-shop"),
			audience: str("JWT_AUDIENCE", "moleculer-shop-api"),
			accessTtlSeconds: int("ACCESS_TOKEN_TTL", 15 * 60),
			refreshTtlSeconds: int("REFRESH_TOKEN_TTL", 30 * 24 * 3600),
			privateKeyPem: optional("JWT_PRIVATE_KEY")?.replace(/\\n/g, "\n"),
			retiredKeysPem: optional("JWT_RETIRED_KEYS")?.replace(/\\n/g, "\n"),
		},
		bcryptCost: int("BCRYPT_COST", 12),
		rateLimit: {
			perMinute: int("RATE_LIMIT_PER_MINUTE", 600),
			authPerMinute: int("AUTH_RATE_LIMIT_PER_MINUTE", 60),
			loginFailures: int("LOGIN_MAX_FAILURES", 5),
			loginLockSeconds: int("LOGIN_LOCK_SECONDS", 60),
			accountEmailsPerAddress: int("ACCOUNT_EMAILS_PER_ADDRESS_PER_HOUR", 5),
			accountEmailsPerClient: int("ACCOUNT_EMAILS_PER_CLIENT_PER_HOUR", 30),
		},
		trustProxy: bool("TRUST_PROXY", false),
		requestTimeoutMs: int("REQUEST_TIMEOUT_MS", 10_000),
		calls: { balancer: oneOf("CALL_BALANCER", ["nats", "broker"], "nats"), hedgeMs: int("CALL_HEDGE_MS", 1000), repeats: int("CALL_REPEATS", 2) },
		heartbeat: { intervalSeconds: seconds("HEARTBEAT_INTERVAL_S", 2), timeoutSeconds: seconds("HEARTBEAT_TIMEOUT_S", 6) },
		stop: { drainDelayMs: int("DRAIN_DELAY_MS", 2000), timeoutMs: int("STOP_TIMEOUT_MS", 20_000) },
		reservationTtlSeconds: int("RESERVATION_TTL_SECONDS", 15 * 60),
		payments: paymentSettings(),
		outboxPollMs: int("OUTBOX_POLL_MS", 1000),
		outboxSweepMs: int("OUTBOX_SWEEP_MS", 30_000),
		outboxBacklogMax: int("OUTBOX_BACKLOG_MAX", 1000),
		tracingExporter: str("TRACING_EXPORTER", "none"),
		zipkinUrl: optional("ZIPKIN_URL"),
		tracingExporterUrl: optional("TRACING_EXPORTER_URL"),
		tracingSampleRate: rate("TRACING_SAMPLE_RATE", 1),
		accessLog: bool("ACCESS_LOG", true),
		webhooks: {
			retrySchedule: parseRetrySchedule(optional("WEBHOOK_RETRY_SCHEDULE")),
			timeoutMs: int("WEBHOOK_TIMEOUT_MS", 10_000),
			concurrencyPerEndpoint: Math.max(1, int("WEBHOOK_CONCURRENCY", 4)),
			disableAfterSeconds: seconds("WEBHOOK_DISABLE_AFTER_SECONDS", DEFAULT_DISABLE_AFTER_SECONDS),
			pollMs: int("WEBHOOK_POLL_MS", 1000),
			allowPrivateTargets: bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", false),
			logRetentionDays: seconds("WEBHOOK_LOG_RETENTION_DAYS", 30),
		},
		importMaxBytes: int("IMPORT_MAX_BYTES", 100 * 1024 * 1024) || 1,
		catalogCache: {
			bytes: int("CATALOG_CACHE_BYTES", 64 * 1024 * 1024),
			ttlSeconds: int("CATALOG_CACHE_TTL_SECONDS", 300) || 1,
			listTtlMs: int("CATALOG_CACHE_LIST_TTL_MS", 1000),
			staleWhileRevalidateSeconds: int("CATALOG_CACHE_SWR_SECONDS", 30),
			settleMs: int("CATALOG_CACHE_SETTLE_MS", 3000),
			imageBytes: int("IMAGE_CACHE_BYTES", 64 * 1024 * 1024),
		},
		shopName: str("SHOP_NAME", "Moleculer Shop"),
		mail: {
			smtpUrl: optional("SMTP_URL"),
			from: optional("MAIL_FROM"),
			retrySchedule: secondsList("EMAIL_RETRY_SCHEDULE", [5, 15, 30, 60, 120, 300, 600]),
		},
		emailLinkSecret: optional("EMAIL_LINK_SECRET"),
	};
}

/** The settings of this process. Tests that change the environment call `reloadConfig()`. */
export let config: ShopConfig = loadConfig();
export function reloadConfig(): ShopConfig {
	config = loadConfig();
	return config;
}

function oneOfStores(v: string): "sqlite" | "nedb" {
	if (v !== "sqlite" && v !== "nedb") throw new Error(`EMBEDDED_STORE must be sqlite or nedb, got '${v}'`);
	return v;
}
