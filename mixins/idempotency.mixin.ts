/**
 * Idempotency keys, the way Stripe does them: a client sends `Idempotency-Key` with a write
 * that must happen once (a checkout), and may retry it safely.
 *
 * - The same key and the same request replay the first answer.
 * - The same key with another request is a 409.
 * - Concurrent requests with one key: the key's record is inserted first (its `_id` is
 *   `<userId>:<key>`, unique), so one request proceeds and the others wait for its answer.
 * - The record fixes the id of the resource the write makes before it is made, so a retry after
 *   a crash can only ever make (or find) that same resource.
 * - A failed attempt (nothing made) frees the key; a record left "started" by a request that died
 *   is taken over after IDEMPOTENCY_STALE_MS. Answered keys are forgotten after a day.
 */
import { randomUUID } from "node:crypto";
import type { Service, ServiceSchema } from "moleculer";
import { conflict } from "../lib/errors.js";
import { defineMixin } from "../lib/service.js";
import { DuplicateKeyError, type Collection, type Doc } from "../lib/store/index.js";

interface IdempotencyRecord<T = unknown> extends Doc {
	userId: string;
	/** What the request said (see lib/domain/checkout.ts requestFingerprint); never card data. */
	fingerprint: string;
	/** The id of the resource this key makes, chosen when the key is first used. */
	resourceId: string;
	state: "started" | "failed" | "done";
	response: T | null;
	lockedAt: string;
	createdAt: string;
	updatedAt: string;
}

/** How long a second request with a busy key waits for the first one's answer. */
const IDEMPOTENCY_WAIT_MS = 5_000;
/** A "started" key older than this belongs to a request that died; another may take it over. */
const IDEMPOTENCY_STALE_MS = 60_000;
/** Answered keys are kept this long (Stripe keeps them 24 hours). */
const IDEMPOTENCY_RETENTION_MS = 24 * 3600_000;

const COLLECTION = "idempotency_keys";
const now = () => new Date().toISOString();
const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

export interface IdempotencyMethods {
	/**
	 * Runs `perform(resourceId)` once per (user, key) and answers what it answered, to this
	 * request and to every retry of it.
	 */
	idempotent<T>(userId: string, key: string, fingerprint: string, perform: (resourceId: string) => Promise<T>): Promise<T>;
	/** Drops answered keys older than a day; call it from a periodic job. */
	forgetOldIdempotencyKeys(): Promise<void>;
}

type IdempotencyThis = Service &
	IdempotencyMethods & {
		collection<T extends Doc>(name: string): Collection<T>;
		claimIdempotencyKey<T>(userId: string, key: string, fingerprint: string): Promise<{ resourceId: string } | { replay: T }>;
	};

export function IdempotencyMixin(): Partial<ServiceSchema> {
	return defineMixin<IdempotencyThis>({
		settings: { $collections: { [COLLECTION]: { indexes: [{ fields: { createdAt: 1 } }] } } },
		methods: {
			async idempotent<T>(
				this: IdempotencyThis,
				userId: string,
				key: string,
				fingerprint: string,
				perform: (resourceId: string) => Promise<T>,
			): Promise<T> {
				const claim = await this.claimIdempotencyKey<T>(userId, key, fingerprint);
				if ("replay" in claim) return claim.replay;
				const keys = this.collection<IdempotencyRecord<T>>(COLLECTION);
				const _id = `${userId}:${key}`;
				try {
					const response = await perform(claim.resourceId);
					await keys.updateWhere({ _id, resourceId: claim.resourceId }, { $set: { state: "done", response, updatedAt: now() } });
					return response;
				} catch (err) {
					// Nothing was made: the key may be used again (with a fixed cart, say).
					await keys.updateWhere({ _id, state: "started" }, { $set: { state: "failed", updatedAt: now() } }).catch(() => undefined);
					throw err;
				}
			},

			async claimIdempotencyKey<T>(
				this: IdempotencyThis,
				userId: string,
				key: string,
				fingerprint: string,
			): Promise<{ resourceId: string } | { replay: T }> {
				const keys = this.collection<IdempotencyRecord<T>>(COLLECTION);
				const _id = `${userId}:${key}`;
				const reused = () =>
					conflict("This Idempotency-Key was already used with a different request", "IDEMPOTENCY_KEY_REUSED", { field: "Idempotency-Key" });
				const deadline = Date.now() + IDEMPOTENCY_WAIT_MS;
				for (;;) {
					const at = now();
					const resourceId = randomUUID();
					try {
						await keys.insert({
							_id,
							userId,
							fingerprint,
							resourceId,
							state: "started",
							response: null,
							lockedAt: at,
							createdAt: at,
							updatedAt: at,
						});
						return { resourceId };
					} catch (err) {
						if (!(err instanceof DuplicateKeyError)) throw err;
					}
					const record = await keys.findById(_id);
					if (!record) continue;
					if (record.state === "done") {
						if (record.fingerprint !== fingerprint) throw reused();
						return { replay: record.response as T };
					}
					const stale = Date.now() - Date.parse(record.lockedAt) > IDEMPOTENCY_STALE_MS;
					if (record.state === "failed" || stale) {
						// Take the key over, keeping its resource id: if the earlier attempt did make it, this finds it.
						const n = await keys.updateWhere(
							{ _id, state: record.state, lockedAt: record.lockedAt },
							{ $set: { state: "started", fingerprint, lockedAt: at, updatedAt: at } },
						);
						if (n === 1) return { resourceId: record.resourceId };
						continue;
					}
					if (record.fingerprint !== fingerprint) throw reused();
					if (Date.now() > deadline)
						throw conflict("A request with this Idempotency-Key is still being processed; try again shortly", "IDEMPOTENCY_KEY_IN_USE", {
							field: "Idempotency-Key",
						});
					await sleep(25);
				}
			},

			async forgetOldIdempotencyKeys(this: IdempotencyThis): Promise<void> {
				const cutoff = new Date(Date.now() - IDEMPOTENCY_RETENTION_MS).toISOString();
				await this.collection(COLLECTION).removeWhere({ createdAt: { $lt: cutoff }, state: { $in: ["done", "failed"] } });
			},
		},
	});
}
