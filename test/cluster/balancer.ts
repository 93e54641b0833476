/**
 * A load balancer in front of several gateways, doing what nginx or a Kubernetes Service does in
 * production, so that a test can restart a gateway under load the way it is done for real:
 *
 * - active health checks: `GET /api/ready` on every gateway every `intervalMs`; only gateways that
 *   answered 200 last get requests (a draining gateway answers 503 and leaves the rotation);
 * - round-robin over the healthy gateways, keep-alive connections to them;
 * - like nginx's default `proxy_next_upstream error timeout` (without `non_idempotent`): a request
 *   whose connection could not be made (nothing was sent) goes to the next gateway, and so does a
 *   GET, PUT or DELETE whose connection failed before an answer; a POST or PATCH that may have
 *   reached a gateway is answered 502 and never sent again.
 *
 * It adds no retries of its own above the transport, so what the test's clients see is what the
 * shop answered.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** Methods nginx does not send to another upstream once they may have reached one. */
const NON_IDEMPOTENT = new Set(["POST", "PATCH", "LOCK"]);

export interface BalancerStats {
	/** Requests sent to another gateway (a connection could not be made, or a GET's failed). */
	redispatched: number;
	/** Requests answered 502 (no gateway, or one failed after the request was sent). */
	badGateway: number;
	/** Each 502: when, the request, and why (`no gateway in rotation`, or the failure of the gateway it was sent to). */
	failures: { at: number; request: string; reason: string }[];
	/** Health changes: when a gateway left or joined the rotation, and why it left. */
	changes: { at: number; upstream: string; ok: boolean; detail?: string }[];
}

export class Balancer {
	private server?: http.Server;
	private readonly healthy = new Map<string, boolean>();
	private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
	private timer?: NodeJS.Timeout;
	private next = 0;
	private checking = false;
	readonly stats: BalancerStats = { redispatched: 0, badGateway: 0, failures: [], changes: [] };
	url = "";

	constructor(
		private readonly upstreams: string[],
		private readonly intervalMs = 250,
	) {
		for (const u of upstreams) this.healthy.set(u, false);
	}

	async start(): Promise<string> {
		this.server = http.createServer((req, res) => void this.handle(req, res));
		this.server.keepAliveTimeout = 5000;
		await new Promise<void>(resolve => this.server!.listen(0, "127.0.0.1", resolve));
		this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
		await this.check();
		this.timer = setInterval(() => void this.check(), this.intervalMs);
		return this.url;
	}

	async stop(): Promise<void> {
		clearInterval(this.timer);
		this.agent.destroy();
		await new Promise<void>(resolve => {
			if (!this.server) return resolve();
			this.server.close(() => resolve());
			this.server.closeAllConnections();
		});
	}

	/** The gateways answering ready now. */
	inRotation(): string[] {
		return this.upstreams.filter(u => this.healthy.get(u));
	}

	private async check(): Promise<void> {
		if (this.checking) return;
		this.checking = true;
		try {
			await Promise.all(
				this.upstreams.map(async u => {
					let detail: string | undefined;
					const ok = await fetch(`${u}/api/ready`, { signal: AbortSignal.timeout(1000) }).then(
						r => r.status === 200 || ((detail = `ready ${r.status}`), false),
						(err: Error) => ((detail = err.name === "TimeoutError" ? "ready timed out" : err.message), false),
					);
					if (ok !== this.healthy.get(u)) this.stats.changes.push({ at: Date.now(), upstream: u, ok, detail });
					this.healthy.set(u, ok);
				}),
			);
		} finally {
			this.checking = false;
		}
	}

	private pick(exclude: Set<string>): string | undefined {
		const candidates = this.inRotation().filter(u => !exclude.has(u));
		if (candidates.length === 0) return undefined;
		return candidates[this.next++ % candidates.length];
	}

	private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
		const chunks: Buffer[] = [];
		for await (const c of req) chunks.push(c as Buffer);
		const body = Buffer.concat(chunks);
		const tried = new Set<string>();
		for (;;) {
			const upstream = this.pick(tried);
			if (!upstream) {
				this.stats.badGateway++;
				this.stats.failures.push({ at: Date.now(), request: `${req.method} ${req.url}`, reason: "no gateway in rotation" });
				res.writeHead(502, { "content-type": "application/json" });
				res.end(JSON.stringify({ name: "BadGateway", message: "no gateway in rotation", code: 502, type: "BAD_GATEWAY" }));
				return;
			}
			tried.add(upstream);
			const outcome = await this.forward(upstream, req, body, res);
			if (outcome === "done") return;
			if (!res.headersSent && (outcome === "refused" || !NON_IDEMPOTENT.has(req.method ?? "GET"))) {
				// Nothing was sent: the next gateway may take it; this one is out until its next health check says otherwise.
				if (this.healthy.get(upstream)) this.stats.changes.push({ at: Date.now(), upstream, ok: false, detail: outcome });
				this.healthy.set(upstream, false);
				this.stats.redispatched++;
				continue;
			}
			this.stats.badGateway++;
			this.stats.failures.push({ at: Date.now(), request: `${req.method} ${req.url}`, reason: `${upstream}: ${outcome}` });
			if (!res.headersSent) {
				res.writeHead(502, { "content-type": "application/json" });
				res.end(JSON.stringify({ name: "BadGateway", message: `gateway failed: ${outcome}`, code: 502, type: "BAD_GATEWAY" }));
			} else res.destroy();
			return;
		}
	}

	private forward(upstream: string, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<"done" | "refused" | string> {
		return new Promise(resolve => {
			const target = new URL(req.url ?? "/", upstream);
			const headers = { ...req.headers, host: target.host, "content-length": String(body.length) };
			delete headers.connection;
			const out = http.request(target, { method: req.method, headers, agent: this.agent }, upstreamRes => {
				const h = { ...upstreamRes.headers };
				delete h.connection;
				delete h["keep-alive"];
				res.writeHead(upstreamRes.statusCode ?? 502, h);
				upstreamRes.pipe(res);
				upstreamRes.on("end", () => resolve("done"));
				upstreamRes.on("error", err => resolve(err.message));
			});
			let connected = false;
			out.on("socket", socket => {
				if (!socket.connecting) connected = true;
				else socket.once("connect", () => (connected = true));
			});
			out.on("error", (err: NodeJS.ErrnoException) => {
				// Refused: the request did not reach the gateway.
				if (!connected || err.code === "ECONNREFUSED") return resolve("refused");
				resolve(err.code ?? err.message);
			});
			out.end(body);
		});
	}
}
