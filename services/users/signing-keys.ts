/**
 * The keys access tokens are signed with, and the JWKS that publishes them.
 *
 * - Production: `JWT_PRIVATE_KEY` (from a secret store) signs; `JWT_RETIRED_KEYS` (PEM keys,
 *   public or private) stay published so that tokens signed before a rotation keep verifying
 *   until they expire. To rotate: move the old key into JWT_RETIRED_KEYS, set the new one,
 *   restart the users nodes, and drop the retired key after ACCESS_TOKEN_TTL.
 * - Otherwise: the keys live in the users database (`keys`), one record per key, made on first
 *   start; `rotate()` (the `users.rotateSigningKey` action, from the REPL) adds a new key that
 *   signs from then on and retires the others, which stay in the JWKS for ACCESS_TOKEN_TTL.
 *   Every users node reloads on the SIGNING_KEYS_CHANGED broadcast (and every minute).
 */
import type { ServiceBroker } from "moleculer";
import { DuplicateKeyError, type Collection } from "../../lib/store/index.js";
import { generateSigningKeyPem, signingKeyFromPem, verificationKeyFromPem, type Jwk, type Jwks, type SigningKey } from "../../lib/auth/tokens.js";
import { SIGNING_KEYS_CHANGED } from "../../lib/contracts/broadcasts.js";

export interface KeyRecord {
	/** The key id (RFC 7638 thumbprint); `signing` for the one key made by earlier versions. */
	_id: string;
	privateKeyPem: string;
	createdAt: string;
	retiredAt?: string | null;
}

export interface KeySettings {
	privateKeyPem?: string;
	retiredKeysPem?: string;
	accessTtlSeconds: number;
}

/** The record id of the first key (as earlier versions named their one key). */
const FIRST_KEY_ID = "signing";
const PEM_BLOCK = /-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g;

export class SigningKeys {
	private active?: SigningKey;
	private published: Jwk[] = [];

	constructor(
		private readonly keys: Collection<KeyRecord>,
		private readonly broker: ServiceBroker,
		private readonly settings: () => KeySettings,
		private readonly log: { info(msg: string): void },
	) {}

	/** The key that signs now. */
	get signing(): SigningKey {
		if (!this.active) throw new Error("Signing keys are not loaded");
		return this.active;
	}

	jwks(): Jwks {
		return { keys: this.published };
	}

	async load(): Promise<void> {
		const { privateKeyPem, retiredKeysPem, accessTtlSeconds } = this.settings();
		if (privateKeyPem) {
			this.active = signingKeyFromPem(privateKeyPem);
			const retired = (retiredKeysPem?.match(PEM_BLOCK) ?? []).map(pem => verificationKeyFromPem(pem));
			this.published = [this.active.publicJwk, ...retired.filter(k => k.kid !== this.active!.kid)];
			return;
		}
		let records = await this.keys.find({ sort: ["createdAt"] });
		if (records.length === 0) {
			// The first key has a fixed id, so that users nodes starting together on an empty database agree on
			// one key: the others' inserts are duplicates, and they read the winner's.
			if (await this.insert(generateSigningKeyPem(), FIRST_KEY_ID)) this.log.info("Generated a new JWT signing key");
			records = await this.keys.find({ sort: ["createdAt"] });
		}
		const current = records.filter(r => !r.retiredAt).at(-1) ?? records.at(-1)!;
		this.active = signingKeyFromPem(current.privateKeyPem);
		const horizon = new Date(Date.now() - accessTtlSeconds * 1000 - 60_000).toISOString();
		this.published = records.filter(r => r === current || (r.retiredAt && r.retiredAt > horizon)).map(r => signingKeyFromPem(r.privateKeyPem).publicJwk);
	}

	/** A new key signs from now on; the others are retired (published until their tokens expire). */
	async rotate(): Promise<{ kid: string }> {
		if (this.settings().privateKeyPem) throw new Error("JWT_PRIVATE_KEY is set: rotate it in the secret store (see the README)");
		const before = await this.keys.find({});
		const pem = generateSigningKeyPem();
		const fresh = (await this.insert(pem)) ?? signingKeyFromPem(pem);
		const at = new Date().toISOString();
		for (const r of before) if (!r.retiredAt) await this.keys.updateWhere({ _id: r._id }, { $set: { retiredAt: at } });
		await this.load();
		this.broker.broadcast(SIGNING_KEYS_CHANGED, {});
		this.log.info(`Rotated the JWT signing key: ${fresh.kid} signs now`);
		return { kid: fresh.kid };
	}

	/** The key, or undefined when a record with its id was there already. */
	private async insert(pem: string, id?: string): Promise<SigningKey | undefined> {
		const key = signingKeyFromPem(pem);
		try {
			await this.keys.insert({ _id: id ?? key.kid, privateKeyPem: pem, createdAt: new Date().toISOString(), retiredAt: null });
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
			return undefined;
		}
		return key;
	}
}
