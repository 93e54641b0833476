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
 * - A failed attempt (nothing made) frees the key; when the database is away at that moment, the
 *   key is freed as soon as it is back (a retry then takes it over, not after IDEMPOTENCY_STALE_MS). A record left "started" by a request whose
 *   node died is taken over as soon as a waiting request sees that its holder is gone: the record
 *   names the node and the process (Moleculer's instance id) that holds it, and the holder is gone
 *   when that node restarted (another instance id in the registry), is known dead, or does not
 *   answer a ping (IDEMPOTENCY_HOLDER_PING_MS). A killed orders node's keys are thus free for a
 *   retry on another node within a second or two, not after IDEMPOTENCY_STALE_MS (the fallback
 *   for records without a holder). Answered keys are forgotten after a day.
 */
import { randomUUID } from "node:crypto";
import type { Service, ServiceSchema } from "moleculer";
import { conflict } from "../lib/errors.js";
import { defineMixin } from "../lib/broker/service.js";
import { DuplicateKeyError, type Collection, type Doc } from "../lib/store/index.js";

interface IdempotencyRecord<T = unknown> extends Doc {
	userId: string;
	/** What the request said (see lib/domain/cart-lines.ts requestFingerprint); never card data. */
	fingerprint: string;
	/** The id of the resource this key makes, chosen when the key is first used. */
	resourceId: string;
	state: "started" | "failed" | "done";
	response: T | null;
	lockedAt: string;
	/** The node and process that hold a "started" key. */
	lockedBy?: { nodeID: string; instanceID: string };
	createdAt: string;
	updatedAt: string;
}

/** How long a second request with a busy key waits for the first one's answer. */
const IDEMPOTENCY_WAIT_MS = 5_000;
/** A "started" key older than this belongs to a request that died; another may take it over. */
const IDEMPOTENCY_STALE_MS = 60_000;
/** How long the holder of a busy key has to answer a ping before its key is taken over. */
const IDEMPOTENCY_HOLDER_PING_MS = 1_000;
/** Answered keys are kept this long (Stripe keeps them 24 hours). */
const IDEMPOTENCY_RETENTION_MS = 24 * 3600_000;

const COLLECTION = "idempotency_keys";
const now = () => new Date().toISOString();
const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

/** Runs `write` again, with backoff, until it succeeds or `forMs` has passed (the database may be away a while). */
async function keepTrying(write: () => Promise<unknown>, forMs: number): Promise<void> {
	const until = Date.now() + forMs;
	for (let wait = 250; Date.now() < until; wait = Math.min(wait * 2, 2000)) {
		await sleep(wait);
		if (
			await write().then(
				() => true,
				() => false,
			)
		)
			return;
	}
}

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
		claimIdempotencyKey<T>(userId: string, key: string, fingerprint: string): Promise<{ resourceId: string; lockedAt: string } | { replay: T }>;
		idempotencyHolderGone(holder: { nodeID: string; instanceID: string }): Promise<boolean>;
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
					// Nothing was made (or it was, under the key's resource id, which a retry keeps): the key may be used again
					// (with a fixed cart, say). Only this attempt's lock is released, never a later one's.
					const release = () =>
						keys.updateWhere({ _id, state: "started", lockedAt: claim.lockedAt }, { $set: { state: "failed", updatedAt: now() } });
					await release().catch(() => void keepTrying(release, IDEMPOTENCY_STALE_MS));
					throw err;
				}
			},

			async claimIdempotencyKey<T>(
				this: IdempotencyThis,
				userId: string,
				key: string,
				fingerprint: string,
			): Promise<{ resourceId: string; lockedAt: string } | { replay: T }> {
				const keys = this.collection<IdempotencyRecord<T>>(COLLECTION);
				const _id = `${userId}:${key}`;
				const reused = () =>
					conflict("This Idempotency-Key was already used with a different request", "IDEMPOTENCY_KEY_REUSED", { field: "Idempotency-Key" });
				const deadline = Date.now() + IDEMPOTENCY_WAIT_MS;
				const me = { nodeID: this.broker.nodeID, instanceID: this.broker.instanceID };
				/** The holder found gone, by the lock it held (asked once per lock). */
				const gone = new Map<string, Promise<boolean>>();
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
							lockedBy: me,
							createdAt: at,
							updatedAt: at,
						});
						return { resourceId, lockedAt: at };
					} catch (err) {
						if (!(err instanceof DuplicateKeyError)) throw err;
					}
					const record = await keys.findById(_id);
					if (!record) continue;
					if (record.state === "done") {
						if (record.fingerprint !== fingerprint) throw reused();
						return { replay: record.response as T };
					}
					let stale = Date.now() - Date.parse(record.lockedAt) > IDEMPOTENCY_STALE_MS;
					if (record.state === "started" && !stale && record.lockedBy && record.fingerprint === fingerprint) {
						const lock = `${record.lockedBy.nodeID}/${record.lockedBy.instanceID}/${record.lockedAt}`;
						if (!gone.has(lock)) gone.set(lock, this.idempotencyHolderGone(record.lockedBy));
						stale = await gone.get(lock)!;
					}
					if (record.state === "failed" || stale) {
						// Take the key over, keeping its resource id: if the earlier attempt did make it, this finds it.
						const n = await keys.updateWhere(
							{ _id, state: record.state, lockedAt: record.lockedAt },
							{ $set: { state: "started", fingerprint, lockedAt: at, lockedBy: me, updatedAt: at } },
						);
						if (n === 1) return { resourceId: record.resourceId, lockedAt: at };
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

			/** True when the process that holds a key is no more: restarted, known dead, or silent to a ping. */
			async idempotencyHolderGone(this: IdempotencyThis, holder: { nodeID: string; instanceID: string }): Promise<boolean> {
				if (holder.nodeID === this.broker.nodeID) return holder.instanceID !== this.broker.instanceID;
				const node = this.broker.registry.nodes.get(holder.nodeID) as { available?: boolean; instanceID?: string | null } | undefined;
				if (node?.instanceID && node.instanceID !== holder.instanceID) return true;
				if (!this.broker.transit) return false;
				if (node && !node.available) return true;
				return (await this.broker.ping(holder.nodeID, IDEMPOTENCY_HOLDER_PING_MS).catch(() => null)) === null;
			},

			async forgetOldIdempotencyKeys(this: IdempotencyThis): Promise<void> {
				const cutoff = new Date(Date.now() - IDEMPOTENCY_RETENTION_MS).toISOString();
				await this.collection(COLLECTION).removeWhere({ createdAt: { $lt: cutoff }, state: { $in: ["done", "failed"] } });
			},
		},
	});
}
