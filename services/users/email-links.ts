/**
 * Links in emails that act without a login: the one-click unsubscribe (RFC 8058). A link carries
 * the user id and an HMAC-SHA256 of it under the shop's link key: EMAIL_LINK_SECRET when set (a
 * secret store), otherwise a random key the users service makes once and keeps in its database
 * (as it does with signing keys). Every users node reads the same key.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Collection } from "../../lib/store/index.js";

export interface LinkKeyRecord {
	_id: string;
	secret: string;
	createdAt: string;
}

const UNSUBSCRIBE = "unsubscribe";

export class EmailLinks {
	private secret?: Buffer;

	constructor(
		private readonly keys: Collection<LinkKeyRecord>,
		private readonly configured: () => string | undefined,
	) {}

	async load(): Promise<void> {
		const given = this.configured();
		if (given) {
			this.secret = Buffer.from(given, "utf8");
			return;
		}
		const made = await this.keys.insertOrGet({ _id: "email-links", secret: randomBytes(32).toString("base64url"), createdAt: new Date().toISOString() });
		this.secret = Buffer.from(made.secret, "base64url");
	}

	private mac(purpose: string, userId: string): string {
		if (!this.secret) throw new Error("The email link key is not loaded");
		return createHmac("sha256", this.secret).update(`${purpose}\u0000${userId}`).digest("base64url");
	}

	unsubscribeToken(userId: string): string {
		return `${Buffer.from(userId, "utf8").toString("base64url")}.${this.mac(UNSUBSCRIBE, userId)}`;
	}

	/** The user an unsubscribe token was made for, or null when it was not made by this shop. */
	unsubscribeUser(token: string): string | null {
		const [encoded, mac, extra] = token.split(".");
		if (!encoded || !mac || extra !== undefined) return null;
		const userId = Buffer.from(encoded, "base64url").toString("utf8");
		const expected = Buffer.from(this.mac(UNSUBSCRIBE, userId));
		const given = Buffer.from(mac);
		return given.length === expected.length && timingSafeEqual(given, expected) ? userId : null;
	}
}
