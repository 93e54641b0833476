/**
 * Every setting of the shop, read once from the environment.
 * Unset means the embedded default: one process, no transporter, NeDB files, in-process events.
 * The README has a table of these variables; keep the two in step.
 */
import path from "node:path";

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

export interface ShopConfig {
	nodeId?: string;
	namespace: string;
	transporter?: string;
	mongoUrl?: string;
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
	 * How calls between nodes survive a node dying (lib/resilience.ts): `nats` (CALL_BALANCER, the
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
	outboxPollMs: number;
	/** How often document outboxes (the catalog's) are swept for events a writer did not relay. */
	outboxSweepMs: number;
	/** A node with more outbox documents waiting than this is not ready (OUTBOX_BACKLOG_MAX). */
	outboxBacklogMax: number;
	tracingExporter: string;
	zipkinUrl?: string;
	/** The shop's public origin, for links in emails (PUBLIC_URL; default the gateway's own address). */
	publicUrl: string;
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

export function loadConfig(): ShopConfig {
	const production = process.env.NODE_ENV === "production";
	return {
		nodeId: optional("NODE_ID"),
		namespace: str("NAMESPACE", "shop"),
		transporter: optional("TRANSPORTER"),
		mongoUrl: optional("MONGO_URL"),
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
		outboxPollMs: int("OUTBOX_POLL_MS", 1000),
		outboxSweepMs: int("OUTBOX_SWEEP_MS", 30_000),
		outboxBacklogMax: int("OUTBOX_BACKLOG_MAX", 1000),
		tracingExporter: str("TRACING_EXPORTER", "none"),
		zipkinUrl: optional("ZIPKIN_URL"),
		publicUrl: str("PUBLIC_URL", `http://${str("HOST", "127.0.0.1")}:${int("PORT", 3000)}`).replace(/\/+$/, ""),
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
