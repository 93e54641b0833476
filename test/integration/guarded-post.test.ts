/**
 * The outgoing request of a webhook against real sockets, all on 127.0.0.1: each receiver counts
 * the requests it gets, so a refusal is seen as "no request arrived". Host names come from an
 * injected resolver; nothing is asked of DNS and nothing leaves loopback.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guardedPost } from "../../lib/net/guarded-post.js";
import type { Resolver } from "../../lib/net/ssrf.js";

interface Receiver {
	port: number;
	hits: number;
	close(): Promise<void>;
}

async function receiver(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Receiver> {
	const sockets = new Set<Socket>();
	const state = { hits: 0 };
	const server = http.createServer((req, res) => {
		state.hits++;
		answer(req, res);
	});
	server.on("connection", s => {
		sockets.add(s);
		s.on("close", () => sockets.delete(s));
	});
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	return {
		port: (server.address() as AddressInfo).port,
		get hits() {
			return state.hits;
		},
		close: () =>
			new Promise<void>(resolve => {
				for (const s of sockets) s.destroy();
				server.close(() => resolve());
			}),
	};
}

const body = JSON.stringify({ type: "order.paid" });
const strict = { allowPrivate: false, timeoutMs: 2000 };

describe("guarded POST", () => {
	let ok: Receiver;
	let redirecting: Receiver;
	let hanging: Receiver;
	beforeAll(async () => {
		ok = await receiver((_req, res) => res.writeHead(204).end());
		redirecting = await receiver((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${ok.port}/elsewhere` }).end());
		hanging = await receiver(() => undefined);
	});
	afterAll(async () => {
		await Promise.all([ok, redirecting, hanging].map(r => r?.close()));
	});

	it("refuses loopback without the development flag: no request arrives", async () => {
		const before = ok.hits;
		for (const url of [`http://127.0.0.1:${ok.port}/`, `http://[::1]:${ok.port}/`, `http://localhost:${ok.port}/`]) {
			const outcome = await guardedPost(url, body, {}, { ...strict, resolver: async () => [{ address: "127.0.0.1", family: 4 }] });
			expect(outcome.status, url).toBeNull();
			expect(outcome.error, url).toMatch(/Refused target/);
		}
		expect(ok.hits).toBe(before);
	});

	it("refuses a host name that resolves to loopback", async () => {
		const before = ok.hits;
		const resolver: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
		const outcome = await guardedPost(`http://hooks.example:${ok.port}/`, body, {}, { ...strict, resolver });
		expect(outcome).toMatchObject({ status: null, error: expect.stringMatching(/loopback/) });
		expect(ok.hits).toBe(before);
	});

	it("checks the address the socket connects to: a DNS answer that turns to loopback after the check is refused", async () => {
		const before = ok.hits;
		let asked = 0;
		// First a public address (the check passes), then loopback (what a rebinding attacker answers next).
		const resolver: Resolver = async () => [asked++ === 0 ? { address: "93.184.216.34", family: 4 } : { address: "127.0.0.1", family: 4 }];
		const outcome = await guardedPost(`http://rebind.example:${ok.port}/`, body, {}, { ...strict, resolver });
		expect(asked).toBe(2);
		expect(outcome).toMatchObject({ status: null, error: expect.stringMatching(/loopback/) });
		expect(ok.hits).toBe(before);
	});

	it("does not follow a redirect (to loopback here): the 302 is the answer", async () => {
		const before = ok.hits;
		const outcome = await guardedPost(`http://127.0.0.1:${redirecting.port}/`, body, {}, { allowPrivate: true, timeoutMs: 2000 });
		expect(outcome).toMatchObject({ status: 302, error: null });
		expect(redirecting.hits).toBeGreaterThan(0);
		expect(ok.hits).toBe(before);
	});

	it("posts the body with its headers where allowed, and cuts off a receiver that hangs", async () => {
		const seen: { headers?: http.IncomingHttpHeaders; body?: string } = {};
		const echo = await receiver((req, res) => {
			let text = "";
			req.on("data", (c: Buffer) => (text += c.toString()));
			req.on("end", () => {
				seen.headers = req.headers;
				seen.body = text;
				res.writeHead(200).end("thanks");
			});
		});
		try {
			const outcome = await guardedPost(`http://127.0.0.1:${echo.port}/hook`, body, { "webhook-id": "msg_1" }, { allowPrivate: true, timeoutMs: 2000 });
			expect(outcome).toMatchObject({ status: 200, error: null });
			expect(seen.body).toBe(body);
			expect(seen.headers?.["webhook-id"]).toBe("msg_1");
			expect(seen.headers?.["content-type"]).toBe("application/json");
		} finally {
			await echo.close();
		}
		const hung = await guardedPost(`http://127.0.0.1:${hanging.port}/`, body, {}, { allowPrivate: true, timeoutMs: 300 });
		expect(hung).toMatchObject({ status: null, error: "timed out after 300 ms" });
		expect(hanging.hits).toBe(1);
	});
});
