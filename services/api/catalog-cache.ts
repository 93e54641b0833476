/**
 * The gateway's cache of public catalog reads (`GET /products`, `GET /products/:id`,
 * `GET /categories`): a hit is answered here, without an action call (in the cluster: without a
 * NATS round trip). The rules (what is cached, keys, surrogate keys, what each event purges) are
 * lib/http/cache/catalog-keys.ts; the store is lib/http/cache/tagged-lru.ts.
 *
 * Freshness: every gateway node follows the catalog's events itself, the way every products node's
 * search index does (mixins/events.mixin.ts `everyNodeEvents`): its own consumer group on the event
 * bus (`api.<nodeID>`, Kafka in the cluster), so every node gets every event, at least once, in the
 * order of each product, from the outbox of the write that caused it. A node that is not following
 * (not subscribed yet, or reading events more than a second old: catching up after a restart or an
 * outage) serves and stores nothing until it is current again. Writes that pass through this gateway
 * purge at once (read-your-writes here); answers that depend on the search index or the category
 * tree (which has no events) live only LIST_TTL, and a list page is stored only when it is asked
 * again within that time (most searches are not: storing them cost more than it saved).
 *
 * Image renditions have a sibling cache with its own budget (rendition-cache.ts), fed and purged
 * through this one.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, ServiceBroker } from "moleculer";
import { acquireBus, releaseBus } from "../../lib/events/registry.js";
import type { EventBus, EventHandler } from "../../lib/events/bus.js";
import { API_PREFIX } from "../../lib/http/routes.js";
import { SecondAsk } from "../../lib/http/cache/second-ask.js";
import { PURGE_ALL, TaggedLru, type CachedAnswer, type FillToken, type RemovalCause } from "../../lib/http/cache/tagged-lru.js";
import {
	PURGING_EVENTS,
	precedesItsWrite,
	bypassReason,
	cacheControl,
	cacheKey,
	catalogRead,
	etagOf,
	notModified,
	purgeTagsOf,
	purgeTagsOfWrite,
	representation,
	surrogateKeys,
	type CatalogRead,
	type Offered,
} from "../../lib/http/cache/catalog-keys.js";
import { RENDITION_PURGING_EVENTS } from "../../lib/http/cache/rendition-keys.js";
import { RenditionCache, type RenditionFill } from "./rendition-cache.js";

export interface CatalogCacheSettings {
	/** Bound of the cache in bytes; 0 turns it off (CATALOG_CACHE_BYTES). */
	bytes: number;
	/** How long a product's answer is kept here and by a CDN (s-maxage); events purge it sooner (CATALOG_CACHE_TTL_SECONDS). */
	ttlSeconds: number;
	/** How long list pages and the category tree are kept (CATALOG_CACHE_LIST_TTL_MS). */
	listTtlMs: number;
	/** stale-while-revalidate for shared caches, at most the s-maxage (CATALOG_CACHE_SWR_SECONDS). */
	staleWhileRevalidateSeconds: number;
	/** After a sale, release, restock or new gallery is announced, how long its products' answers are served uncached (CATALOG_CACHE_SETTLE_MS). */
	settleMs: number;
	/** Bound of the image cache (renditions) in bytes; 0 turns it off (IMAGE_CACHE_BYTES). */
	imageBytes: number;
}

/** The catalog has one language and the gateway does not compress: one representation. Add what the answers come to vary by. */
const OFFERED: Offered = { languages: ["en"], encodings: ["identity"] };
/** An event older than this when it arrives means this node is behind on purges. */
const BEHIND_AFTER_MS = 1000;
/** After the last late event, how long until the cache serves again. */
const CATCH_UP_MS = 2000;

export const CACHE_METRICS = {
	requests: "shop_catalog_cache_requests_total",
	removed: "shop_catalog_cache_removed_total",
	purges: "shop_catalog_cache_purges_total",
	bytes: "shop_catalog_cache_bytes",
	entries: "shop_catalog_cache_entries",
} as const;

type Result = "hit" | "miss" | "bypass";
type Headers = Record<string, string | string[] | undefined>;

interface Fill {
	key: string;
	read: CatalogRead;
	query: URLSearchParams;
	token: FillToken;
	/** Kept here once answered (a list page only when asked again within its TTL); sent with its validators either way. */
	store: boolean;
}
export type CacheableRequest = IncomingMessage & {
	originalUrl?: string;
	$catalogFill?: Fill;
	$renditionFill?: RenditionFill;
	$route?: unknown;
	$alias?: { fullPath?: string; method?: string; keys?: { name: string }[] };
};
const ROUTE_OF: Record<CatalogRead["kind"], string> = { product: "/products/:id", list: "/products", categories: "/categories" };
type Next = (err?: unknown) => void;
const RENDITIONS_PREFIX = `${API_PREFIX}/media/`;
/** The route pattern the HTTP metrics count a rendition answered here under (lib/observability/middleware.ts). */
const RENDITION_ALIAS = { fullPath: `${API_PREFIX}/media/:imageId/:preset.:format`, method: "GET" };

function splitUrl(url: string): { path: string; query: URLSearchParams } | null {
	if (!url.startsWith(`${API_PREFIX}/`)) return null;
	const at = url.indexOf("?");
	const path = (at < 0 ? url : url.slice(0, at)).slice(API_PREFIX.length);
	return { path, query: new URLSearchParams(at < 0 ? "" : url.slice(at + 1)) };
}

export class CatalogCache {
	private readonly lru: TaggedLru;
	/** List pages asked lately: a page is stored only when asked again within LIST_TTL (lib/http/cache/second-ask.ts). */
	private readonly lists: SecondAsk;
	private readonly renditions: RenditionCache;
	private bus?: EventBus;
	private handler?: EventHandler;
	private subscribed = false;
	private behindUntil = 0;
	private stopped = false;
	private retry?: NodeJS.Timeout;

	constructor(
		private readonly broker: ServiceBroker,
		private readonly settings: CatalogCacheSettings,
	) {
		this.lru = new TaggedLru(settings.bytes, (cause, count) => this.removed(cause, count));
		this.lists = new SecondAsk(settings.listTtlMs);
		this.renditions = new RenditionCache(broker, settings.imageBytes);
		this.registerMetrics();
	}

	/** Either cache is on (both follow the events through this one). */
	get enabled(): boolean {
		return this.settings.bytes > 0 || this.renditions.enabled;
	}

	/** Serving from the cache: on, subscribed to the catalog's events, and not behind on them. */
	get following(): boolean {
		return this.enabled && this.subscribed && Date.now() >= this.behindUntil;
	}

	private get group(): string {
		return `api.${this.broker.nodeID}`;
	}

	/** Subscribe to the catalog's events; until that succeeds (retried in the background), nothing is cached. */
	async start(): Promise<void> {
		if (!this.enabled) return;
		this.handler = async event => this.onEvent(event.type, event.payload, event.occurredAt);
		const attempt = async (): Promise<void> => {
			if (this.stopped) return;
			try {
				this.bus ??= await acquireBus(this.broker);
				if (this.bus.kind === "in-process" && this.broker.transit) {
					// Other nodes' events never reach this process's own bus: nothing would purge.
					this.broker.logger.warn("Catalog cache off: a cluster without KAFKA_BROKERS gives the gateway no catalog events to follow");
					return;
				}
				// A new group reads the topics from their beginning: late events, so the node is "behind" until it has read them.
				await this.bus.subscribe(this.group, [...new Set([...PURGING_EVENTS, ...RENDITION_PURGING_EVENTS])], this.handler!);
				this.subscribed = true;
			} catch (err) {
				this.broker.logger.warn(`Catalog cache not following the catalog's events yet (${(err as Error).message}); serving uncached, will retry`);
				this.retry = setTimeout(() => void attempt(), 2000);
				this.retry.unref();
			}
		};
		// In one process the bus is there at once; in the cluster joining a Kafka group takes a moment: do not hold the start.
		const first = attempt();
		if (this.broker.transit === undefined) await first;
	}

	async stop(): Promise<void> {
		this.stopped = true;
		if (this.retry) clearTimeout(this.retry);
		this.subscribed = false;
		if (this.bus && this.handler) await this.bus.unsubscribe(this.group, this.handler).catch(() => undefined);
		if (this.bus) await releaseBus(this.broker);
		this.bus = undefined;
		this.lru.purge([PURGE_ALL]);
		this.renditions.clear();
		this.gauges();
	}

	/** An event that may change what answers show: purge them; one that arrives late: this node is behind. */
	onEvent(type: string, payload: unknown, occurredAt: string): void {
		const late = Date.now() - Date.parse(occurredAt) > BEHIND_AFTER_MS;
		if (late) {
			if (Date.now() >= this.behindUntil) {
				this.purge([PURGE_ALL], "behind");
				this.renditions.clear();
			}
			this.behindUntil = Date.now() + CATCH_UP_MS;
			return;
		}
		this.renditions.purgeEvent(type, payload);
		const tags = purgeTagsOf({ type, payload } as Parameters<typeof purgeTagsOf>[0]);
		this.purge(tags, "event", precedesItsWrite(type) ? this.settings.settleMs : undefined);
	}

	/**
	 * Before moleculer-web (api.service.ts `httpHandler`): a rendition held here is answered without
	 * routing, a context or the `rest` action (most of what a hit cost on the route's middleware).
	 * True when answered; anything else goes on to moleculer-web, whose route middleware counts the miss.
	 */
	answerRendition(req: CacheableRequest, res: ServerResponse, writeCors: () => void): boolean {
		const url = req.url;
		if (req.method !== "GET" || !url?.startsWith(RENDITIONS_PREFIX) || !this.following) return false;
		const at = url.indexOf("?");
		const read = this.renditions.read(req.method, (at < 0 ? url : url.slice(0, at)).slice(API_PREFIX.length));
		if (!read || !this.renditions.answer(read, req.headers["if-none-match"], res, writeCors)) return false;
		req.$alias = RENDITION_ALIAS;
		return true;
	}

	/** Route middleware (moleculer-web `use`): answer a hit, or mark the request as a fill. */
	lookup(req: CacheableRequest, res: ServerResponse, next: Next, writeCors?: () => void): void {
		if (!this.enabled) return next();
		const url = splitUrl(req.originalUrl ?? req.url ?? "");
		if (!url) return next();
		const rendition = this.renditions.read(req.method, url.path);
		if (rendition) {
			const answered = this.renditions.lookup(rendition, req.headers["if-none-match"], res, this.following, writeCors);
			if (answered === true) req.$alias = RENDITION_ALIAS;
			else {
				req.$renditionFill = answered;
				next();
			}
			return;
		}
		const read = this.settings.bytes > 0 && catalogRead(req.method, url.path, url.query);
		if (!read) return next();
		if (bypassReason(req.headers as Headers)) {
			// What a caller who said who they are gets is theirs: no shared cache keeps it.
			res.setHeader("Cache-Control", "private, no-cache");
			this.count("bypass");
			return next();
		}
		if (!this.following) {
			this.count("bypass");
			return next();
		}
		const key = cacheKey(url.path, url.query, representation(req.headers as Headers, OFFERED));
		const hit = this.lru.get(key, Date.now());
		if (!hit) {
			this.count("miss");
			const store = read.kind !== "list" || this.lists.askedAgain(key, Date.now());
			req.$catalogFill = { key, read, query: url.query, token: this.lru.beginFill(), store };
			return next();
		}
		this.count("hit");
		// The route pattern the HTTP metrics count this response under (lib/observability/middleware.ts).
		req.$alias = { fullPath: `${API_PREFIX}${ROUTE_OF[read.kind]}`, method: "GET" };
		writeCors?.();
		this.writeHeaders(res, hit, "HIT");
		res.setHeader("Age", String(Math.max(0, Math.floor((Date.now() - hit.storedAt) / 1000))));
		if (notModified(req.headers["if-none-match"], hit.etag)) {
			res.writeHead(304);
			res.end();
			return;
		}
		res.setHeader("Content-Type", "application/json; charset=utf-8");
		res.setHeader("Content-Length", String(hit.body.length));
		res.writeHead(200);
		res.end(hit.body);
	}

	/**
	 * After the action answered (moleculer-web `onAfterCall`): a catalog write purges what it changed
	 * on this node at once; a fill is stored and sent as its stored bytes, with its validators.
	 */
	afterCall(ctx: Context<unknown, { $statusCode?: number; $responseType?: string }>, req: CacheableRequest, res: ServerResponse, data: unknown): unknown {
		if (!this.enabled) return data;
		const url = splitUrl(req.originalUrl ?? req.url ?? "");
		if (!url) return data;
		const writeTags = purgeTagsOfWrite(req.method, url.path);
		if (writeTags.length) this.purge(writeTags, "write");
		this.renditions.purgeWrite(req.method, url.path);
		if (req.$renditionFill) return this.renditions.afterCall(ctx, req.$renditionFill, res, data, () => this.following);
		const fill = req.$catalogFill;
		if (!fill || (ctx.meta.$statusCode ?? 200) !== 200 || data === null || data === undefined) return data;
		const body = Buffer.from(JSON.stringify(data));
		const product = fill.read.kind === "product";
		const ttlMs = product ? this.settings.ttlSeconds * 1000 : this.settings.listTtlMs;
		const sMaxAge = Math.max(1, Math.ceil(ttlMs / 1000));
		const now = Date.now();
		const answer: CachedAnswer = {
			body,
			etag: etagOf(body),
			tags: surrogateKeys(fill.read, data, fill.query),
			cacheControl: cacheControl({ sMaxAge, staleWhileRevalidate: Math.min(sMaxAge, this.settings.staleWhileRevalidateSeconds) }),
			storedAt: now,
			expiresAt: now + ttlMs,
		};
		if (this.following && fill.store) this.lru.put(fill.key, answer, fill.token, now);
		this.gauges();
		this.writeHeaders(res, answer, "MISS");
		// The cache is the origin's, kept current by purges: a request's `Cache-Control: no-cache` (which
		// fetch adds to conditional requests) changes nothing, so the 304 is decided here, not by moleculer-web.
		if (notModified(req.headers["if-none-match"], answer.etag)) {
			ctx.meta.$statusCode = 304;
			return null;
		}
		ctx.meta.$responseType = "application/json; charset=utf-8";
		return body;
	}

	private writeHeaders(res: ServerResponse, a: CachedAnswer, state: "HIT" | "MISS"): void {
		res.setHeader("ETag", a.etag);
		res.setHeader("Cache-Control", a.cacheControl);
		res.setHeader("Surrogate-Key", a.tags.join(" "));
		res.setHeader("X-Cache", state);
	}

	private purge(tags: string[], source: "event" | "write" | "behind", settleMs?: number): void {
		if (tags.length === 0) return;
		const now = Date.now();
		this.lru.purge(tags, settleMs ? { now, until: now + settleMs } : undefined);
		this.metrics()?.increment(CACHE_METRICS.purges, { source });
		this.gauges();
	}

	// ---------------------------------------------------------------- metrics

	private metrics() {
		return this.broker.isMetricsEnabled() ? this.broker.metrics : null;
	}

	private registerMetrics(): void {
		const m = this.metrics();
		if (!m) return;
		const defs = [
			{
				name: CACHE_METRICS.requests,
				type: "counter",
				labelNames: ["result"],
				description: "Public catalog reads at the gateway by result (hit, miss, bypass)",
			},
			{
				name: CACHE_METRICS.removed,
				type: "counter",
				labelNames: ["cause"],
				description: "Answers leaving the gateway's catalog cache (purged, evicted, expired, replaced)",
			},
			{
				name: CACHE_METRICS.purges,
				type: "counter",
				labelNames: ["source"],
				description: "Purges of the catalog cache (event: a catalog event; write: a write through this gateway; behind: late events, all purged)",
			},
			{ name: CACHE_METRICS.bytes, type: "gauge", labelNames: [], description: "Bytes held by the gateway's catalog cache" },
			{ name: CACHE_METRICS.entries, type: "gauge", labelNames: [], description: "Answers held by the gateway's catalog cache" },
		];
		for (const def of defs) if (!m.hasMetric(def.name)) m.register(def as Parameters<typeof m.register>[0]);
	}

	private count(result: Result): void {
		this.metrics()?.increment(CACHE_METRICS.requests, { result });
	}

	private removed(cause: RemovalCause, count: number): void {
		this.metrics()?.increment(CACHE_METRICS.removed, { cause }, count);
	}

	private gauges(): void {
		const m = this.metrics();
		if (!m) return;
		m.set(CACHE_METRICS.bytes, this.lru.bytes);
		m.set(CACHE_METRICS.entries, this.lru.size);
	}
}

/** Route middleware in front of the catalog's reads (moleculer-web calls it with the gateway service as `this`). */
export function catalogCacheLookup(
	this: { catalogCache?: CatalogCache; corsHandler?: (route: unknown, req: IncomingMessage, res: ServerResponse) => boolean },
	req: CacheableRequest,
	res: ServerResponse,
	next: Next,
): void {
	if (!this.catalogCache) return next();
	this.catalogCache.lookup(req, res, next, () => this.corsHandler?.(req.$route, req, res));
}
