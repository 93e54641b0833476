/**
 * The identity provider on two gateway nodes without sticky sessions: a proxy in front of them
 * sends each request to the other node in turn (what a round-robin load balancer does), so one
 * sign-in is served alternately by both; then the node that rendered the login page is killed,
 * and the flow still completes through the other. Storage, keys and cookie keys are the users
 * service's (FerretDB here), so neither node holds any of the flow.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import { skipWithoutInfra } from "./infra.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { customer, freePort, HttpClient } from "../helpers/shop.js";
import { Browser, discover, formAction, formField } from "../helpers/oidc.js";

const skip = await skipWithoutInfra(["nats", "mongo", "kafka"]);
const REDIRECT = "http://127.0.0.1:9/callback";

/** Round-robin over the upstreams with no stickiness; an upstream that refuses the connection is skipped (as a load balancer would). */
class Alternating {
	upstreams: string[] = [];
	readonly served: string[] = [];
	private next = 0;
	private server?: http.Server;
	url = "";

	async start(): Promise<string> {
		this.server = http.createServer((req, res) => void this.forward(req, res, 0));
		await new Promise<void>(r => this.server!.listen(0, "127.0.0.1", r));
		this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
		return this.url;
	}

	private async forward(req: http.IncomingMessage, res: http.ServerResponse, tried: number): Promise<void> {
		const chunks: Buffer[] = [];
		for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
		const body = Buffer.concat(chunks);
		const send = (attempt: number): void => {
			const upstream = this.upstreams[this.next++ % this.upstreams.length]!;
			const target = new URL(req.url!, upstream);
			const out = http.request(
				target,
				{ method: req.method, headers: { ...req.headers, "x-forwarded-host": new URL(this.url).host, "x-forwarded-proto": "http" } },
				up => {
					this.served.push(`${req.method} ${req.url!.split("?")[0]} -> ${upstream}`);
					res.writeHead(up.statusCode!, up.headers);
					up.pipe(res);
				},
			);
			out.on("error", err => {
				if (attempt + 1 < this.upstreams.length && (err as NodeJS.ErrnoException).code === "ECONNREFUSED") return send(attempt + 1);
				res.writeHead(502).end();
			});
			out.end(body);
		};
		send(tried);
	}

	async stop(): Promise<void> {
		await new Promise(r => this.server?.close(r));
	}
}

describe.skipIf(skip)("identity provider on two gateways, no sticky sessions", () => {
	let cluster: TestCluster;
	let proxy: Alternating;
	let api2: string;

	beforeAll(async () => {
		proxy = new Alternating();
		const publicUrl = await proxy.start();
		const port2 = await freePort();
		api2 = `http://127.0.0.1:${port2}`;
		cluster = await startCluster({
			name: "identity",
			nodes: [
				{ name: "users", services: ["users"] },
				{ name: "api-1", services: ["api"] },
				{ name: "api-2", services: ["api"], env: { PORT: String(port2) } },
			],
			env: { PUBLIC_URL: publicUrl, TRUST_PROXY: "true" },
		});
		proxy.upstreams = [cluster.baseUrl, api2];
		await cluster.waitNodeReady("api-2");
	}, 180_000);

	afterAll(async () => {
		await cluster?.stop();
		await proxy?.stop();
	}, 60_000);

	it("one sign-in alternates between both nodes, survives the loss of the one that rendered the login page, and its token works on both", async () => {
		const shop = { ...cluster.asShop(), baseUrl: proxy.url, http: new HttpClient(proxy.url) };
		const ann = await customer(shop, "Ann");
		const adm = await (await import("../helpers/shop.js")).admin(shop);
		const made = await adm.http.post("/api/v1/oauth-clients", {
			name: "App",
			type: "public",
			redirectUris: [REDIRECT],
			grantTypes: ["authorization_code", "refresh_token"],
		});
		expect(made.status).toBe(201);
		const config = await discover(`${proxy.url}/oidc`, made.body.clientId);
		const verifier = oidc.randomPKCECodeVerifier();
		const state = oidc.randomState();
		const url = oidc.buildAuthorizationUrl(config, {
			redirect_uri: REDIRECT,
			scope: "openid offline_access",
			code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
			code_challenge_method: "S256",
			state,
		});
		const browser = new Browser();
		const login = await browser.follow(url.href, {}, REDIRECT);
		expect(login.html).toContain('name="password"');
		const flowSoFar = proxy.served.filter(s => s.includes("/oidc/"));
		expect(new Set(flowSoFar.map(s => s.split(" -> ")[1])).size).toBe(2); // both nodes served a part

		// The node that rendered the login page dies; the rest of the flow goes to the other one.
		const renderedBy = proxy.served.at(-1)!.split(" -> ")[1]!;
		await cluster.kill(renderedBy === api2 ? "api-2" : "api-1");
		let done = await browser.follow(
			new URL(formAction(login.html)!, proxy.url).href,
			{ form: { csrf: formField(login.html, "csrf")!, email: ann.email, password: ann.password } },
			REDIRECT,
		);
		expect(done.html).toContain("Allow access?"); // a third-party client: the consent page, from the surviving node
		done = await browser.follow(
			new URL(formAction(done.html)!, proxy.url).href,
			{ form: { csrf: formField(done.html, "csrf")!, decision: "allow" } },
			REDIRECT,
		);
		expect(done.url.startsWith(REDIRECT), done.html.slice(0, 300)).toBe(true);
		const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state });
		expect(tokens.claims()?.sub).toBe(ann.id);
		const me = await new HttpClient(proxy.url).as(tokens.access_token).get("/api/v1/me");
		expect(me.status).toBe(200);

		// Back with both nodes: the refresh token rotates on whichever node gets it.
		cluster.spawn(renderedBy === api2 ? "api-2" : "api-1");
		await cluster.waitNodeReady(renderedBy === api2 ? "api-2" : "api-1");
		const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
		for (const base of [cluster.baseUrl, api2]) expect((await new HttpClient(base).as(refreshed.access_token).get("/api/v1/me")).status).toBe(200);
	}, 120_000);
});
