import { describe, expect, it } from "vitest";
import { forbiddenAddressReason, ForbiddenTargetError, resolveTarget, targetUrlProblem, type Resolver } from "../../lib/net/ssrf.js";

/** A resolver that answers from a table and never asks DNS. */
const table =
	(answers: Record<string, string[]>): Resolver =>
	async host => {
		const found = answers[host];
		if (!found) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: "ENOTFOUND" });
		return found.map(address => ({ address, family: address.includes(":") ? 6 : 4 }));
	};

const strict = { allowPrivate: false, resolver: table({}) };

describe("SSRF guard: addresses", () => {
	it("refuses loopback, private, link-local (metadata), unique-local, CGNAT, multicast and unspecified addresses", () => {
		for (const address of [
			"127.0.0.1",
			"127.8.9.10",
			"::1",
			"10.0.0.1",
			"172.16.5.4",
			"192.168.1.1",
			"169.254.169.254",
			"fe80::1",
			"fd00:ec2::254",
			"100.100.100.200",
			"0.0.0.0",
			"::",
			"224.0.0.1",
			"255.255.255.255",
			"::ffff:127.0.0.1",
			"::ffff:169.254.169.254",
		])
			expect(forbiddenAddressReason(address), address).not.toBeNull();
	});

	it("lets public unicast addresses through", () => {
		for (const address of ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
			expect(forbiddenAddressReason(address), address).toBeNull();
	});
});

describe("SSRF guard: targets", () => {
	it.each(["http://127.0.0.1/hook", "http://[::1]:8080/hook", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "https://[::ffff:7f00:1]/"])(
		"refuses %s without the development flag",
		async url => {
			await expect(resolveTarget(url, strict)).rejects.toBeInstanceOf(ForbiddenTargetError);
		},
	);

	it("refuses a host name that resolves to loopback, or to any private address among public ones", async () => {
		const resolver = table({ "evil.example": ["127.0.0.1"], "mixed.example": ["93.184.216.34", "10.1.2.3"], "ok.example": ["93.184.216.34"] });
		await expect(resolveTarget("https://evil.example/hook", { allowPrivate: false, resolver })).rejects.toThrow(/loopback/);
		await expect(resolveTarget("https://mixed.example/hook", { allowPrivate: false, resolver })).rejects.toThrow(/private/);
		await expect(resolveTarget("https://ok.example/hook", { allowPrivate: false, resolver })).resolves.toEqual([{ address: "93.184.216.34", family: 4 }]);
	});

	it("refuses a host that does not resolve, and URLs that are not plain http(s)", async () => {
		await expect(resolveTarget("https://nowhere.example/", strict)).rejects.toThrow(/does not resolve/);
		expect(targetUrlProblem("ftp://example.com/")).toMatch(/http/);
		expect(targetUrlProblem("file:///etc/passwd")).toMatch(/http/);
		expect(targetUrlProblem("https://user:pw@example.com/")).toMatch(/credentials/);
		expect(targetUrlProblem("not a url")).toMatch(/absolute URL/);
		expect(targetUrlProblem("https://example.com/hook")).toBeNull();
	});

	it("lets loopback through only with the development flag", async () => {
		await expect(resolveTarget("http://127.0.0.1:9/hook", { allowPrivate: true })).resolves.toEqual([{ address: "127.0.0.1", family: 4 }]);
		// The flag lifts the address rule, never the scheme rule.
		await expect(resolveTarget("file:///etc/passwd", { allowPrivate: true })).rejects.toThrow(/http/);
	});
});
