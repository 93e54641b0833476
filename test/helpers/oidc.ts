/**
 * Driving the identity provider's pages without a browser: plain HTTP with a cookie jar,
 * following redirects by hand and filling the shop's forms (sign-in, consent, device code).
 */
import * as oidc from "openid-client";

export class Browser {
	private readonly jar = new Map<string, string>();

	constructor(readonly acceptLanguage = "en") {}

	private remember(res: Response): void {
		for (const line of res.headers.getSetCookie()) {
			const [pair] = line.split(";");
			const eq = pair!.indexOf("=");
			const name = pair!.slice(0, eq).trim();
			const value = pair!.slice(eq + 1).trim();
			if (value === "" || /expires=Thu, 01 Jan 1970/i.test(line)) this.jar.delete(name);
			else this.jar.set(name, value);
		}
	}

	/** One request, no redirect followed. */
	async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
		const headers: Record<string, string> = { "accept-language": this.acceptLanguage };
		if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
		let body: string | undefined;
		if (init.form) {
			headers["content-type"] = "application/x-www-form-urlencoded";
			body = new URLSearchParams(init.form).toString();
		}
		const res = await fetch(url, { method: init.method ?? (init.form ? "POST" : "GET"), headers, body, redirect: "manual" });
		this.remember(res);
		return res;
	}

	/** Follows redirects until a page (2xx/4xx) or a redirect outside the shop (the client's redirect URI). */
	async follow(
		url: string,
		init: { method?: string; form?: Record<string, string> } = {},
		stopAt?: string,
	): Promise<{ url: string; res: Response; html: string }> {
		let res = await this.request(url, init);
		let current = url;
		for (let hops = 0; hops < 15 && res.status >= 300 && res.status < 400; hops++) {
			const next = new URL(res.headers.get("location")!, current).href;
			if (stopAt && next.startsWith(stopAt)) return { url: next, res, html: "" };
			current = next;
			res = await this.request(current);
		}
		return { url: current, res, html: await res.text() };
	}
}

export function formField(html: string, name: string): string | undefined {
	const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
	return m?.[1];
}
export function formAction(html: string, id?: string): string | undefined {
	const re = id ? new RegExp(`<form[^>]*id="${id.replace(".", "\\.")}"[^>]*action="([^"]+)"`) : /<form[^>]*action="([^"]+)"/;
	const m = re.exec(html) ?? (id ? new RegExp(`<form[^>]*action="([^"]+)"[^>]*id="${id.replace(".", "\\.")}"`).exec(html) : null);
	return m?.[1]?.replace(/&amp;/g, "&");
}

/**
 * Signs in on the login page an authorization request lands on, allows the consent page if one
 * comes, and answers the URL the provider finally sends the browser to (the client's redirect URI).
 */
export async function signIn(
	browser: Browser,
	start: string,
	email: string,
	password: string,
	redirectUri: string,
	base: string,
): Promise<{ url: string; html: string; status: number }> {
	let page = await browser.follow(start, {}, redirectUri);
	if (page.url.startsWith(redirectUri)) return { url: page.url, html: "", status: 303 };
	const loginAction = formAction(page.html);
	if (!loginAction) return { url: page.url, html: page.html, status: page.res.status };
	page = await browser.follow(new URL(loginAction, base).href, { form: { csrf: formField(page.html, "csrf") ?? "", email, password } }, redirectUri);
	if (!page.url.startsWith(redirectUri) && page.html.includes('name="decision"')) {
		const action = formAction(page.html)!;
		page = await browser.follow(new URL(action, base).href, { form: { csrf: formField(page.html, "csrf") ?? "", decision: "allow" } }, redirectUri);
	}
	return { url: page.url, html: page.html, status: page.res.status };
}

export async function discover(issuer: string, clientId: string, secret?: string): Promise<oidc.Configuration> {
	return oidc.discovery(new URL(issuer), clientId, secret ? { client_secret: secret } : undefined, secret ? oidc.ClientSecretBasic(secret) : oidc.None(), {
		execute: [oidc.allowInsecureRequests],
	});
}

/** The OAuth error code a failed openid-client call got (from the body, or a WWW-Authenticate challenge) with its HTTP status. */
export async function oauthError(call: Promise<unknown>): Promise<{ error: string; status: number }> {
	try {
		await call;
	} catch (err) {
		const e = err as { error?: string; status?: number; cause?: { parameters?: { error?: string } }[] | { status?: number } };
		const fromChallenge = Array.isArray(e.cause) ? e.cause[0]?.parameters?.error : undefined;
		return { error: e.error ?? fromChallenge ?? String(err), status: e.status ?? 0 };
	}
	throw new Error("The call succeeded");
}

function hiddenFields(html: string, formId: string): Record<string, string> {
	const start = html.indexOf(`id="${formId}"`);
	const form = html.slice(start, html.indexOf("</form>", start));
	const fields: Record<string, string> = {};
	for (const m of form.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
		const name = /name="([^"]+)"/.exec(m[0])?.[1];
		const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? "";
		if (name) fields[name] = value;
	}
	return fields;
}

/** A person approving a device: the verification page, the code, sign-in, consent; answers the last page. */
export async function approveDevice(
	browser: Browser,
	verificationUri: string,
	userCode: string,
	email: string,
	password: string,
	base: string,
): Promise<string> {
	let page = await browser.follow(verificationUri);
	for (let step = 0; step < 8; step++) {
		const html = page.html;
		const target = (action: string | undefined) => new URL(action ?? page.url, base).href;
		if (html.includes('id="op.deviceInputForm"')) {
			page = await browser.follow(target(formAction(html, "op.deviceInputForm")), {
				form: { ...hiddenFields(html, "op.deviceInputForm"), user_code: userCode },
			});
		} else if (html.includes('id="op.deviceConfirmForm"')) {
			page = await browser.follow(target(formAction(html, "op.deviceConfirmForm")), { form: hiddenFields(html, "op.deviceConfirmForm") });
		} else if (html.includes('name="password"')) {
			page = await browser.follow(target(formAction(html)), { form: { csrf: formField(html, "csrf") ?? "", email, password } });
		} else if (html.includes('name="decision"')) {
			page = await browser.follow(target(formAction(html)), { form: { csrf: formField(html, "csrf") ?? "", decision: "allow" } });
		} else if (html.includes("document.forms[0].submit()")) {
			// The provider's self-submitting form (what a browser's script would post).
			page = await browser.follow(target(formAction(html)), { form: hiddenFields(html.replace("<form", '<form id="auto"'), "auto") });
		} else return html;
	}
	return page.html;
}

/** Signs out through RP-initiated logout: the confirmation page, then "yes". Answers where the browser was sent. */
export async function signOut(browser: Browser, endSessionUrl: string, base: string, stopAt: string): Promise<string> {
	const page = await browser.follow(endSessionUrl, {}, stopAt);
	if (!page.html.includes('id="op.logoutForm"')) return page.url;
	const done = await browser.follow(
		new URL(formAction(page.html, "op.logoutForm")!, base).href,
		{ form: { ...hiddenFields(page.html, "op.logoutForm"), logout: "yes" } },
		stopAt,
	);
	return done.url;
}
