/** HTTP helpers of the benchmark: JSON calls to the gateway, accounts, and the Prometheus endpoint. */

export interface Answer<T> {
	status: number;
	body: T;
}

export async function api<T = any>(base: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
	const res = await fetch(base + url, {
		method,
		headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
		body: body === undefined ? undefined : JSON.stringify(body),
		signal: AbortSignal.timeout(60_000),
	});
	const text = await res.text();
	return { status: res.status, body: parseJson(text) as T };
}

function parseJson(text: string): unknown {
	try {
		return text ? JSON.parse(text) : null;
	} catch {
		return text;
	}
}

export function bearer(token: string): Record<string, string> {
	return { authorization: `Bearer ${token}` };
}

export async function login(base: string, email: string, password: string): Promise<string> {
	const res = await api<{ accessToken: string }>(base, "POST", "/api/v1/auth/login", { email, password });
	if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body.accessToken;
}

let customers = 0;

/** A new customer account, signed in: its access token. */
export async function newCustomer(base: string): Promise<string> {
	const n = ++customers;
	const email = `bench-${process.pid}-${n}-${Date.now().toString(36)}@shop.test`;
	const password = "bench-customer-password";
	const reg = await api(base, "POST", "/api/v1/auth/register", { email, password, name: `Bench ${n}` });
	if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
	return login(base, email, password);
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
	const out = new Array<R>(items.length);
	let next = 0;
	await Promise.all(
		Array.from({ length: Math.min(limit, items.length) }, async () => {
			while (next < items.length) {
				const i = next++;
				out[i] = await fn(items[i]!, i);
			}
		}),
	);
	return out;
}

export async function scrape(metricsUrl: string): Promise<string | undefined> {
	try {
		const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) });
		return res.ok ? await res.text() : undefined;
	} catch {
		return undefined;
	}
}

/** Sum of a Prometheus series over the label sets that include `labels`; undefined when no line has it. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
	let sum: number | undefined;
	for (const line of text.split("\n")) {
		if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
		if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
		const value = Number(line.slice(line.lastIndexOf(" ") + 1));
		if (Number.isFinite(value)) sum = (sum ?? 0) + value;
	}
	return sum;
}

/** Every series whose name starts with `prefix` (name with labels → value), for figures the shop may add. */
export function seriesStartingWith(text: string, prefix: string): Record<string, number> {
	const out: Record<string, number> = {};
	for (const line of text.split("\n")) {
		if (!line.startsWith(prefix)) continue;
		const at = line.lastIndexOf(" ");
		const value = Number(line.slice(at + 1));
		if (Number.isFinite(value)) out[line.slice(0, at)] = value;
	}
	return out;
}
