/**
 * One POST to an address an admin typed in, through the SSRF guard (lib/net/ssrf.ts): the
 * target is checked, the socket connects to the checked address, a redirect is never followed
 * (a 3xx is an answer like any other non-2xx), and the whole exchange is bounded by `timeoutMs`
 * (a receiver that hangs or trickles is cut off). The answer's body is read up to a small bound
 * and dropped: only the status matters. Never throws: the outcome says what happened.
 */
import http from "node:http";
import https from "node:https";
import { guardedLookup, resolveTarget, ForbiddenTargetError, type GuardOptions } from "./ssrf.js";

export interface PostOutcome {
	/** The HTTP status, or null when there was no answer (refused target, connection error, timeout). */
	status: number | null;
	durationMs: number;
	/** What went wrong, or null for an answer (whatever its status). */
	error: string | null;
}

export interface PostOptions extends GuardOptions {
	timeoutMs: number;
	/**
	 * Keep-alive pool for the target's origin (made with `keepAliveAgent`): its new sockets go
	 * through the same lookup check; a kept socket stays connected to the address checked when it
	 * was opened. Without it, one connection per request.
	 */
	agent?: http.Agent;
}

/** A keep-alive pool whose connections go through the guard's lookup. */
export function keepAliveAgent(protocol: string, maxSockets: number, guard: GuardOptions): http.Agent {
	const options = { keepAlive: true, maxSockets, lookup: guardedLookup(guard) as never };
	return protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
}

const MAX_ANSWER_BYTES = 64 * 1024;

export async function guardedPost(url: string, body: string, headers: Record<string, string>, opts: PostOptions): Promise<PostOutcome> {
	const started = performance.now();
	const elapsed = () => Math.round(performance.now() - started);
	try {
		await resolveTarget(url, opts);
	} catch (err) {
		return { status: null, durationMs: elapsed(), error: err instanceof ForbiddenTargetError ? err.message : String(err) };
	}
	const target = new URL(url);
	const send = target.protocol === "https:" ? https.request : http.request;
	return new Promise<PostOutcome>(resolve => {
		let settled = false;
		const finish = (status: number | null, error: string | null) => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			resolve({ status, durationMs: elapsed(), error });
		};
		const req = send(
			target,
			{
				method: "POST",
				headers: { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
				agent: opts.agent ?? false,
				lookup: guardedLookup(opts) as never,
			},
			res => {
				let read = 0;
				res.on("data", (chunk: Buffer) => {
					read += chunk.length;
					if (read > MAX_ANSWER_BYTES) res.destroy();
				});
				const done = () => finish(res.statusCode ?? null, null);
				res.on("end", done);
				res.on("close", done);
				res.on("error", done);
			},
		);
		const timer = setTimeout(() => {
			finish(null, `timed out after ${opts.timeoutMs} ms`);
			req.destroy();
		}, opts.timeoutMs);
		req.on("error", err => finish(null, err.message));
		req.end(body);
	});
}
