/**
 * Every call to the public API goes through `api()`: JSON in and out, the access token in the
 * Authorization header (never in a URL), one retry after a 401 with a freshly rotated token,
 * and errors as `ApiError` with the 422 field problems keyed by field.
 */
import { currentAccessToken, refreshAccessToken, tokenGeneration } from "./session";

export const API = "/api/v1";

export interface FieldProblem {
	field: string;
	message: string;
	type?: string;
}

export class ApiError extends Error {
	readonly status: number;
	readonly type: string;
	readonly data: unknown;
	/** 422 problems by field (`shippingAddress.city`, `payment.cardNumber`, `price`...). */
	readonly fields: Record<string, string>;
	readonly retryAfter: number | null;

	constructor(status: number, body: { message?: string; type?: string; data?: unknown } | null, retryAfter: string | null = null) {
		super(body?.message ?? `HTTP ${status}`);
		this.status = status;
		this.type = body?.type ?? "";
		this.data = body?.data;
		this.fields = {};
		if (Array.isArray(body?.data)) {
			for (const p of body.data as FieldProblem[]) {
				if (p && typeof p.field === "string" && !(p.field in this.fields)) this.fields[p.field] = p.message;
			}
		}
		this.retryAfter = retryAfter ? Number(retryAfter) : null;
	}
}

/** A network failure (no answer at all). */
export class NetworkError extends Error {}

export type Query = Record<string, string | number | boolean | undefined | null | (string | number)[]>;

export interface RequestOptions {
	body?: unknown;
	query?: Query;
	/** Send the access token (default true: it is sent whenever the user is signed in). */
	auth?: boolean;
	/** For POSTs: the Idempotency-Key, stable across retries of one submit. */
	idempotencyKey?: string;
	signal?: AbortSignal;
}

export function queryString(query: Query | undefined): string {
	if (!query) return "";
	const params = new URLSearchParams();
	for (const [k, v] of Object.entries(query)) {
		if (v === undefined || v === null || v === "") continue;
		if (Array.isArray(v)) for (const item of v) params.append(k, String(item));
		else params.set(k, String(v));
	}
	const s = params.toString();
	return s ? `?${s}` : "";
}

async function send(method: string, url: string, opts: RequestOptions, token: string | null): Promise<Response> {
	const headers: Record<string, string> = { accept: "application/json" };
	if (opts.body !== undefined) headers["content-type"] = "application/json";
	if (token) headers.authorization = `Bearer ${token}`;
	if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
	try {
		return await fetch(url, {
			method,
			headers,
			body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
			credentials: "omit",
			signal: opts.signal,
		});
	} catch (err) {
		if ((err as Error)?.name === "AbortError") throw err;
		throw new NetworkError((err as Error)?.message ?? "network error");
	}
}

async function parse(res: Response): Promise<unknown> {
	if (res.status === 204) return null;
	const text = await res.text();
	if (!text) return null;
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}

export async function api<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
	const url = API + path + queryString(opts.query);
	// Every POST outside /auth carries an Idempotency-Key: the form's own (stable across its retries), or one for this call
	// (the same for the retry after a 401 below).
	if (method === "POST" && !path.startsWith("/auth/") && !opts.idempotencyKey) opts = { ...opts, idempotencyKey: uuid() };
	const useAuth = opts.auth !== false;
	const gen = tokenGeneration();
	let token = useAuth ? await currentAccessToken().catch(() => null) : null;
	let res = await send(method, url, opts, token);
	if (res.status === 401 && useAuth && token) {
		// The token was refused (expired early, key rotated, session revoked): rotate once and retry once.
		// When another request already rotated it meanwhile, the new token is used without a second refresh.
		token = tokenGeneration() !== gen ? await currentAccessToken().catch(() => null) : await refreshAccessToken().catch(() => null);
		if (token) res = await send(method, url, opts, token);
	}
	const body = await parse(res);
	if (!res.ok) throw new ApiError(res.status, body as never, res.headers.get("retry-after"));
	return body as T;
}

export const get = <T>(path: string, query?: Query, opts: Omit<RequestOptions, "query"> = {}) => api<T>("GET", path, { ...opts, query });
export const post = <T>(path: string, body: unknown = {}, opts: Omit<RequestOptions, "body"> = {}) => api<T>("POST", path, { ...opts, body });
export const patch = <T>(path: string, body: unknown = {}, opts: Omit<RequestOptions, "body"> = {}) => api<T>("PATCH", path, { ...opts, body });
export const put = <T>(path: string, body: unknown = {}, opts: Omit<RequestOptions, "body"> = {}) => api<T>("PUT", path, { ...opts, body });
export const del = <T>(path: string, opts: RequestOptions = {}) => api<T>("DELETE", path, opts);

/**
 * Idempotency keys for one form: the same key while the same body is submitted again (a retry
 * after a timeout or a network error answers the first result), a new one once the body changes
 * or the submit succeeded.
 */
export class IdempotencyKeys {
	private key: string | null = null;
	private body: string | null = null;

	for(body: unknown): string {
		const json = JSON.stringify(body);
		if (!this.key || this.body !== json) {
			this.key = uuid();
			this.body = json;
		}
		return this.key;
	}

	done(): void {
		this.key = null;
		this.body = null;
	}
}

/** A v4 UUID (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function uuid(): string {
	const b = crypto.getRandomValues(new Uint8Array(16));
	b[6] = (b[6]! & 0x0f) | 0x40;
	b[8] = (b[8]! & 0x3f) | 0x80;
	const h = [...b].map(x => x.toString(16).padStart(2, "0")).join("");
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
