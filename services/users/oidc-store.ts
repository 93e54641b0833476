/**
 * The identity provider's storage (oidc-provider's adapter models: sessions, interactions,
 * authorization and device codes, refresh tokens, grants...), one collection shared by every
 * node that serves /oidc, so any of them continues a flow another began. The provider runs on
 * the gateway nodes and reaches this through the users actions of oidc-accounts.ts.
 *
 * Each document keeps its model's payload as oidc-provider gave it, the fields it looks things
 * up by (grantId, userCode, uid), and `removeAt`: a while after the artifact expires, so an
 * expired device code still answers `expired_token` instead of "not found". A sweep on every
 * users node removes them (a MongoDB TTL index would do, but FerretDB v1, the cluster's stand-in,
 * does not implement `expireAfterSeconds`).
 */
import type { Collection } from "../../lib/store/index.js";

export interface OidcModelRecord {
	_id: string;
	model: string;
	/** The payload as JSON text: its keys (resource URLs, claim names) are not field names the store accepts. */
	payload: string;
	consumed?: number;
	grantId?: string;
	userCode?: string;
	uid?: string;
	/** When the artifact expires (epoch ms); absent: it does not. */
	expiresAt?: number;
	removeAt?: Date;
}

/** How long an expired artifact is kept, so that its use is refused as expired rather than unknown. */
const KEEP_EXPIRED_MS = 10 * 60_000;

export class OidcModels {
	constructor(private readonly docs: Collection<OidcModelRecord>) {}

	private static key(model: string, id: string): string {
		return `${model}:${id}`;
	}

	async upsert(model: string, id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
		const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
		const doc: OidcModelRecord = {
			_id: OidcModels.key(model, id),
			model,
			payload: JSON.stringify(payload),
			...(typeof payload.grantId === "string" ? { grantId: payload.grantId } : {}),
			...(typeof payload.userCode === "string" ? { userCode: payload.userCode } : {}),
			...(typeof payload.uid === "string" ? { uid: payload.uid } : {}),
			...(expiresAt ? { expiresAt, removeAt: new Date(expiresAt + KEEP_EXPIRED_MS) } : {}),
		};
		const { _id, ...fields } = doc;
		const unset = Object.fromEntries(["consumed", "grantId", "userCode", "uid", "expiresAt", "removeAt"].filter(k => !(k in fields)).map(k => [k, 1]));
		const changed = await this.docs.updateWhere({ _id }, { $set: fields, ...(Object.keys(unset).length ? { $unset: unset } : {}) });
		if (changed === 0)
			await this.docs.insertOrGet(doc).then(async existing => {
				// Lost a race with another insert of the same artifact: the later write wins, as an upsert would.
				if (existing !== doc) await this.docs.updateWhere({ _id }, { $set: fields });
			});
	}

	async find(model: string, id: string): Promise<Record<string, unknown> | undefined> {
		return this.live(await this.docs.findById(OidcModels.key(model, id)));
	}

	async findBy(model: string, field: "uid" | "userCode", value: string): Promise<Record<string, unknown> | undefined> {
		return this.live(await this.docs.findOne({ model, [field]: value }));
	}

	/** Marks the artifact used (a second use of a code or a rotated refresh token is then detected). */
	async consume(model: string, id: string): Promise<void> {
		await this.docs.updateWhere({ _id: OidcModels.key(model, id) }, { $set: { consumed: Math.floor(Date.now() / 1000) } });
	}

	async destroy(model: string, id: string): Promise<void> {
		await this.docs.removeById(OidcModels.key(model, id));
	}

	async revokeByGrantId(grantId: string): Promise<void> {
		await this.docs.removeWhere({ grantId });
	}

	/** Removes what is past its keeping time. */
	sweep(): Promise<number> {
		return this.docs.removeWhere({ removeAt: { $lte: new Date() } });
	}

	private live(doc: OidcModelRecord | null): Record<string, unknown> | undefined {
		if (!doc) return undefined;
		if (doc.removeAt && new Date(doc.removeAt).getTime() <= Date.now()) return undefined;
		const payload = JSON.parse(doc.payload) as Record<string, unknown>;
		return doc.consumed ? { ...payload, consumed: doc.consumed } : payload;
	}
}
