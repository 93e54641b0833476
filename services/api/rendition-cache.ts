/**
 * The gateway's cache of image renditions (`GET /media/:imageId/:preset.:format`): a hit is answered
 * here, with the headers the media service gives it, without an action call. A sibling of the
 * catalog cache with its own byte budget (IMAGE_CACHE_BYTES), following the same events through
 * it (catalog-cache.ts): renditions never change, so only a removed image or a deleted product
 * removes them. The rules are lib/http/cache/rendition-keys.ts; the store is lib/http/cache/tagged-lru.ts.
 */
import { Transform, type Readable, type TransformCallback } from "node:stream";
import type { ServerResponse } from "node:http";
import type { Context, ServiceBroker } from "moleculer";
import { PURGE_ALL, TaggedLru, type CachedAnswer, type FillToken } from "../../lib/http/cache/tagged-lru.js";
import { notModified } from "../../lib/http/cache/catalog-keys.js";
import {
	largestEntryBytes,
	renditionKey,
	renditionPurgeTagsOf,
	renditionPurgeTagsOfWrite,
	renditionRead,
	renditionTags,
	type RenditionRead,
} from "../../lib/http/cache/rendition-keys.js";

export const IMAGE_CACHE_METRICS = {
	requests: "shop_image_cache_requests_total",
	bytes: "shop_image_cache_bytes",
	entries: "shop_image_cache_entries",
} as const;

/** A stored rendition: the answer and the headers it is sent with. */
interface StoredRendition extends CachedAnswer {
	contentType: string;
}

export interface RenditionFill {
	key: string;
	read: RenditionRead;
	token: FillToken;
}

/**
 * After an image or product is deleted, how long its renditions are not stored again: another media
 * node may still answer from its memory until it has read the same event (its image → hash memory
 * lasts a minute at most).
 */
const GONE_HOLD_MS = 60_000;

type Meta = { $statusCode?: number; $responseType?: string; $responseHeaders?: Record<string, string> };

/** Passes a rendition's stream to the client as it comes, and keeps its bytes to store at the end. */
class Recorder extends Transform {
	private readonly chunks: Buffer[] = [];
	private length = 0;
	constructor(
		private readonly limit: number,
		private readonly done: (body: Buffer) => void,
	) {
		super();
	}
	override _transform(chunk: Buffer, _enc: BufferEncoding, next: TransformCallback): void {
		this.length += chunk.length;
		if (this.length <= this.limit) this.chunks.push(chunk);
		next(null, chunk);
	}
	override _flush(next: TransformCallback): void {
		if (this.length <= this.limit) this.done(Buffer.concat(this.chunks, this.length));
		next();
	}
}

export class RenditionCache {
	private readonly lru: TaggedLru;
	private readonly largest: number;

	constructor(
		private readonly broker: ServiceBroker,
		readonly budgetBytes: number,
	) {
		this.lru = new TaggedLru(budgetBytes);
		this.largest = largestEntryBytes(budgetBytes);
		this.registerMetrics();
	}

	get enabled(): boolean {
		return this.budgetBytes > 0;
	}

	/** The rendition a request (path under the API prefix) asks for, when this cache answers such requests. */
	read(method: string | undefined, path: string): RenditionRead | null {
		return this.enabled ? renditionRead(method, path) : null;
	}

	/** Answer a hit (true), or return the fill the request is (the action's answer will be stored). */
	lookup(
		read: RenditionRead,
		ifNoneMatch: string | string[] | undefined,
		res: ServerResponse,
		following: boolean,
		writeCors?: () => void,
	): true | RenditionFill | undefined {
		if (!following) {
			this.count("bypass");
			return undefined;
		}
		if (this.answer(read, ifNoneMatch, res, writeCors)) return true;
		this.count("miss");
		return { key: renditionKey(read), read, token: this.lru.beginFill() };
	}

	/** Answer the rendition when it is held (true); nothing is written otherwise. */
	answer(read: RenditionRead, ifNoneMatch: string | string[] | undefined, res: ServerResponse, writeCors?: () => void): boolean {
		const hit = this.lru.get(renditionKey(read), Date.now()) as StoredRendition | undefined;
		if (!hit) return false;
		this.count("hit");
		writeCors?.();
		res.setHeader("Cache-Control", hit.cacheControl);
		res.setHeader("ETag", hit.etag);
		res.setHeader("Surrogate-Key", hit.tags.join(" "));
		res.setHeader("X-Cache", "HIT");
		if (notModified(ifNoneMatch, hit.etag)) {
			res.writeHead(304);
			res.end();
			return true;
		}
		res.setHeader("Content-Type", hit.contentType);
		res.setHeader("Content-Length", String(hit.body.length));
		res.writeHead(200);
		res.end(hit.body);
		return true;
	}

	/** The action's answer to a fill: passed on as it streams, stored once whole (when not too large). */
	afterCall(ctx: Context<unknown, Meta>, fill: RenditionFill, res: ServerResponse, data: unknown, following: () => boolean): unknown {
		const meta = ctx.meta;
		const headers = meta.$responseHeaders ?? {};
		res.setHeader("X-Cache", "MISS");
		if ((meta.$statusCode ?? 200) !== 200 || !headers.ETag || !headers["Cache-Control"] || !meta.$responseType) return data;
		const declared = Number(headers["Content-Length"]);
		if (!(declared <= this.largest) || !data || typeof (data as Readable).pipe !== "function") return data;
		const make = (body: Buffer): StoredRendition => ({
			body,
			etag: headers.ETag!,
			cacheControl: headers["Cache-Control"]!,
			contentType: meta.$responseType!,
			tags: renditionTags(fill.read, headers["Surrogate-Key"]),
			storedAt: Date.now(),
			expiresAt: Number.MAX_SAFE_INTEGER,
		});
		const recorder = new Recorder(declared, body => {
			if (body.length !== declared || !following()) return;
			this.lru.put(fill.key, make(body), fill.token);
			this.gauges();
		});
		(data as Readable).on("error", err => recorder.destroy(err));
		return (data as Readable).pipe(recorder);
	}

	purgeEvent(type: string, payload: unknown): void {
		this.purge(renditionPurgeTagsOf({ type, payload } as Parameters<typeof renditionPurgeTagsOf>[0]));
	}

	purgeWrite(method: string | undefined, path: string): void {
		this.purge(renditionPurgeTagsOfWrite(method, path));
	}

	clear(): void {
		if (!this.enabled) return;
		this.lru.purge([PURGE_ALL]);
		this.gauges();
	}

	private purge(tags: string[]): void {
		if (!this.enabled || tags.length === 0) return;
		const now = Date.now();
		this.lru.purge(tags, { now, until: now + GONE_HOLD_MS });
		this.gauges();
	}

	private metrics() {
		return this.broker.isMetricsEnabled() ? this.broker.metrics : null;
	}

	private registerMetrics(): void {
		const m = this.metrics();
		if (!m) return;
		const defs = [
			{
				name: IMAGE_CACHE_METRICS.requests,
				type: "counter",
				labelNames: ["result"],
				description: "Rendition reads at the gateway by result (hit, miss, bypass)",
			},
			{ name: IMAGE_CACHE_METRICS.bytes, type: "gauge", labelNames: [], description: "Bytes held by the gateway's image cache" },
			{ name: IMAGE_CACHE_METRICS.entries, type: "gauge", labelNames: [], description: "Renditions held by the gateway's image cache" },
		];
		for (const def of defs) if (!m.hasMetric(def.name)) m.register(def as Parameters<typeof m.register>[0]);
	}

	private count(result: "hit" | "miss" | "bypass"): void {
		this.metrics()?.increment(IMAGE_CACHE_METRICS.requests, { result });
	}

	private gauges(): void {
		const m = this.metrics();
		if (!m) return;
		m.set(IMAGE_CACHE_METRICS.bytes, this.lru.bytes);
		m.set(IMAGE_CACHE_METRICS.entries, this.lru.size);
	}
}
