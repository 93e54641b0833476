/**
 * OAuth clients of the identity provider (the admin's /oauth-clients routes): registration
 * under the rules of lib/identity/clients.ts, a confidential client's secret made here, shown
 * once and stored only as its SHA-256 hash, rotated on demand. The web shop's own client is
 * seeded at start. oidc-provider reads a client's metadata through `metadataOf`.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { invalidField, notFound } from "../../lib/errors.js";
import type { Collection } from "../../lib/store/index.js";
import {
	grantProblem,
	providerMetadata,
	publicClient,
	redirectUriProblem,
	type GrantType,
	type OAuthClientRecord,
	type PublicOAuthClient,
} from "../../lib/identity/clients.js";
import type { OAUTH_CLIENTS } from "../../lib/contracts/http/oauth-clients.js";
import type { ParamsOf } from "../../lib/contracts/params.js";

type Params<A extends keyof typeof OAUTH_CLIENTS> = ParamsOf<(typeof OAUTH_CLIENTS)[A]>;

/** The client id of the web shop (a public client using code + PKCE). */
export const WEB_SHOP_CLIENT_ID = "shop-web";

export const hashClientSecret = (secret: string) => createHash("sha256").update(secret).digest("hex");

export class OAuthClients {
	constructor(readonly clients: Collection<OAuthClientRecord>) {}

	async create(p: Params<"users.createOAuthClient">): Promise<PublicOAuthClient & { clientSecret?: string }> {
		const redirectUris = p.redirectUris ?? [];
		const postLogoutRedirectUris = p.postLogoutRedirectUris ?? [];
		this.check(p.type, p.grantTypes as GrantType[], redirectUris, postLogoutRedirectUris);
		const secret = p.type === "confidential" ? randomBytes(32).toString("base64url") : undefined;
		const at = new Date().toISOString();
		const id = randomUUID();
		const record: OAuthClientRecord = {
			_id: id,
			clientId: id,
			name: p.name,
			type: p.type,
			redirectUris,
			postLogoutRedirectUris,
			grantTypes: [...new Set(p.grantTypes as GrantType[])],
			scopes: [...new Set(p.scopes ?? [])],
			...(secret ? { secretHash: hashClientSecret(secret) } : {}),
			firstParty: false,
			createdAt: at,
			updatedAt: at,
		};
		await this.clients.insert(record);
		return { ...publicClient(record), ...(secret ? { clientSecret: secret } : {}) };
	}

	async list(): Promise<PublicOAuthClient[]> {
		return (await this.clients.find({ sort: ["createdAt"] })).map(publicClient);
	}

	async update({ id, ...change }: Params<"users.updateOAuthClient">): Promise<PublicOAuthClient> {
		const current = await this.find(id);
		const next = {
			redirectUris: change.redirectUris ?? current.redirectUris,
			postLogoutRedirectUris: change.postLogoutRedirectUris ?? current.postLogoutRedirectUris,
			grantTypes: (change.grantTypes as GrantType[] | undefined) ?? current.grantTypes,
		};
		this.check(current.type, next.grantTypes, next.redirectUris, next.postLogoutRedirectUris);
		const $set: Record<string, unknown> = { ...next, updatedAt: new Date().toISOString() };
		if (change.name !== undefined) $set.name = change.name;
		if (change.scopes !== undefined) $set.scopes = [...new Set(change.scopes)];
		return publicClient((await this.clients.updateById(id, { $set }))!);
	}

	async remove(id: string): Promise<OAuthClientRecord> {
		const current = await this.find(id);
		await this.clients.removeById(id);
		return current;
	}

	async rotateSecret(id: string): Promise<{ id: string; clientId: string; clientSecret: string }> {
		const current = await this.find(id);
		if (current.type !== "confidential") throw invalidField("type", "A public client has no secret.", "publicClient");
		const secret = randomBytes(32).toString("base64url");
		await this.clients.updateById(id, { $set: { secretHash: hashClientSecret(secret), updatedAt: new Date().toISOString() } });
		return { id, clientId: current.clientId, clientSecret: secret };
	}

	async metadataOf(clientId: string): Promise<Record<string, unknown> | undefined> {
		const c = await this.clients.findOne({ clientId });
		return c ? providerMetadata(c) : undefined;
	}

	/** The web shop's client: code + PKCE and refresh tokens, its callback on the shop's own origin. */
	async seedWebShop(publicUrl: string): Promise<void> {
		const at = new Date().toISOString();
		const uris = { redirectUris: [`${publicUrl}/auth/callback`], postLogoutRedirectUris: [`${publicUrl}/`] };
		const seeded = await this.clients.insertOrGet({
			_id: WEB_SHOP_CLIENT_ID,
			clientId: WEB_SHOP_CLIENT_ID,
			name: "Web shop",
			type: "public",
			...uris,
			grantTypes: ["authorization_code", "refresh_token"],
			scopes: [],
			firstParty: true,
			createdAt: at,
			updatedAt: at,
		});
		// PUBLIC_URL may have changed since the first start.
		if (seeded.redirectUris[0] !== uris.redirectUris[0]) await this.clients.updateById(WEB_SHOP_CLIENT_ID, { $set: { ...uris, updatedAt: at } });
	}

	private async find(id: string): Promise<OAuthClientRecord> {
		const c = await this.clients.findById(id);
		if (!c || c._id === WEB_SHOP_CLIENT_ID) throw notFound("OAuth client", id);
		return c;
	}

	private check(type: "public" | "confidential", grants: GrantType[], redirectUris: string[], postLogout: string[]): void {
		redirectUris.forEach((u, i) => {
			const problem = redirectUriProblem(u, type);
			if (problem) throw invalidField(`redirectUris[${i}]`, problem, "redirectUri");
		});
		postLogout.forEach((u, i) => {
			const problem = redirectUriProblem(u, type);
			if (problem) throw invalidField(`postLogoutRedirectUris[${i}]`, problem, "redirectUri");
		});
		const problem = grantProblem(type, grants, redirectUris);
		if (problem) throw invalidField("grantTypes", problem, "grantTypes");
	}
}
