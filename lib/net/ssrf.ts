/**
 * Outgoing requests to addresses that admins type in (webhook endpoints) must not reach the
 * shop's own network: no loopback, private, link-local (cloud metadata at 169.254.169.254),
 * unique-local, carrier-grade NAT, multicast or reserved address. Only globally routed unicast
 * addresses pass (ipaddr.js's `range()` is `unicast`); an IPv4-mapped IPv6 address is judged as
 * the IPv4 address it carries.
 *
 * A name is judged by every address it resolves to (one bad answer refuses it). The check
 * happens where the connection is made: `guardedLookup` is the socket's `lookup`, so the socket
 * connects to exactly the address that was checked, and a DNS answer that changes between an
 * earlier check and the request cannot redirect it. `allowPrivate` (WEBHOOKS_ALLOW_PRIVATE_TARGETS,
 * development and tests only) lifts the address rule, never the scheme rule.
 */
import dns from "node:dns";
import net from "node:net";
import ipaddr from "ipaddr.js";

export interface ResolvedAddress {
	address: string;
	family: 4 | 6;
}
/** Every address a host name resolves to. Injected in tests; DNS by default. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async hostname => {
	const answers = await dns.promises.lookup(hostname, { all: true, verbatim: true });
	return answers.map(a => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export class ForbiddenTargetError extends Error {
	constructor(
		readonly target: string,
		readonly reason: string,
	) {
		super(`Refused target ${target}: ${reason}`);
		this.name = "ForbiddenTargetError";
	}
}

/** Why an IP address may not be a target, or null when it may (a public unicast address). */
export function forbiddenAddressReason(address: string): string | null {
	if (!ipaddr.isValid(address)) return "not an IP address";
	let parsed = ipaddr.parse(address);
	if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
	const range = parsed.range();
	return range === "unicast" ? null : `${parsed.toString()} is a ${range} address`;
}

export interface GuardOptions {
	allowPrivate: boolean;
	resolver?: Resolver;
}

/** The host of a URL as a resolver or socket takes it: IPv6 literals without their brackets. */
function hostOf(url: URL): string {
	return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

/** The problem with a URL's form (scheme, credentials), or null. Addresses are judged by `resolveTarget`. */
export function targetUrlProblem(raw: string): string | null {
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		return "is not an absolute URL";
	}
	if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an http or https URL";
	if (url.username || url.password) return "must not carry credentials";
	if (!url.hostname) return "has no host";
	return null;
}

/**
 * The addresses a URL's host stands for, each one allowed; throws ForbiddenTargetError naming
 * the first refused one (or a host that does not resolve).
 */
export async function resolveTarget(raw: string, opts: GuardOptions): Promise<ResolvedAddress[]> {
	const problem = targetUrlProblem(raw);
	if (problem) throw new ForbiddenTargetError(raw, problem);
	const host = hostOf(new URL(raw));
	return resolveHost(host, opts);
}

async function resolveHost(host: string, opts: GuardOptions): Promise<ResolvedAddress[]> {
	const literal = net.isIP(host);
	let answers: ResolvedAddress[];
	if (literal !== 0) answers = [{ address: host, family: literal === 6 ? 6 : 4 }];
	else {
		try {
			answers = await (opts.resolver ?? systemResolver)(host);
		} catch (err) {
			throw new ForbiddenTargetError(host, `does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
		}
		if (answers.length === 0) throw new ForbiddenTargetError(host, "does not resolve");
	}
	if (!opts.allowPrivate) {
		for (const a of answers) {
			const reason = forbiddenAddressReason(a.address);
			if (reason) throw new ForbiddenTargetError(host, reason);
		}
	}
	return answers;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | ResolvedAddress[], family?: number) => void;

/**
 * A `lookup` for sockets (http.request's option): resolves, checks every answer, and hands the
 * socket the checked address, so what is connected to is what was checked.
 */
export function guardedLookup(opts: GuardOptions) {
	return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
		resolveHost(hostname.startsWith("[") ? hostname.slice(1, -1) : hostname, opts).then(
			answers => {
				if (options.all) callback(null, answers);
				else callback(null, answers[0]!.address, answers[0]!.family);
			},
			(err: Error) => callback(Object.assign(err, { code: "EFORBIDDENTARGET" }), ""),
		);
	};
}
