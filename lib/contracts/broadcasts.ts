/**
 * Moleculer broadcasts: news every node of the cluster needs at once, sent over the transporter
 * (NATS) to every node that listens. They are cache invalidations, not integration events: the
 * truth stays in the sender's database, and a listener that missed one (it was disconnected)
 * catches up by asking (the gateway re-reads revoked sessions periodically and at start).
 * Integration events, which must never be lost, go through the outbox and Kafka instead
 * (lib/contracts/events.ts, mixins/events.mixin.ts).
 */

/** Sessions ended (logout, refresh-token reuse, password change, role change, deactivation, deletion): their access tokens are void. */
export const SESSIONS_REVOKED = "identity.sessionsRevoked";
export interface SessionsRevoked {
	/** Each session id, with the moment after which no access token of it can be valid any more (so the entry can be forgotten). */
	sessions: { id: string; until: string }[];
}

/** The users service rotated its signing keys: gateways refetch the JWKS now rather than on the next unknown `kid`. */
export const SIGNING_KEYS_CHANGED = "identity.signingKeysChanged";
export type SigningKeysChanged = Record<string, never>;
