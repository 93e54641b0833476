/**
 * The identity provider's own pages, server-rendered in the web shop's colours and in English or
 * Spanish: sign-in, consent (third-party clients), the device code entry and confirmation, sign-out,
 * and errors. Everything interpolated is escaped; the only style is the <style> element, which the
 * Content-Security-Policy of these pages (CSP below) allows by its hash.
 */
import { createHash } from "node:crypto";

export type Lang = "en" | "es";

const TEXT = {
	en: {
		signIn: "Sign in",
		signInTo: (client: string) => `Sign in to continue to ${client}`,
		email: "Email",
		password: "Password",
		continue: "Continue",
		badCredentials: "Invalid email or password.",
		locked: (s: number) => `Too many failed attempts. Try again in ${s} seconds.`,
		consentTitle: "Allow access?",
		consentBody: (client: string) => `${client} asks to:`,
		allow: "Allow",
		deny: "Deny",
		deviceTitle: "Connect a device",
		deviceBody: "Enter the code shown on your device.",
		deviceWrong: "The code is wrong or has expired. Try again.",
		deviceConfirm: (client: string, code: string) => `Connect ${client} with the code ${code}?`,
		deviceDone: "Done. You can return to your device.",
		logoutTitle: "Sign out of the shop?",
		logoutYes: "Yes, sign me out",
		logoutNo: "No, stay signed in",
		loggedOut: "You are signed out.",
		errorTitle: "Something went wrong",
		expired: "This sign-in page has expired. Go back to the app and start again.",
		scopes: {
			openid: "Know who you are",
			profile: "See your name",
			email: "See your email address",
			offline_access: "Stay signed in",
			"catalog:write": "Change the catalog",
			"inventory:write": "Change stock",
			"orders:read": "See orders",
			"orders:write": "Change orders",
			"tickets:write": "Answer support tickets",
		} as Record<string, string>,
	},
	es: {
		signIn: "Iniciar sesión",
		signInTo: (client: string) => `Inicia sesión para continuar en ${client}`,
		email: "Correo electrónico",
		password: "Contraseña",
		continue: "Continuar",
		badCredentials: "Correo o contraseña incorrectos.",
		locked: (s: number) => `Demasiados intentos fallidos. Inténtalo de nuevo en ${s} segundos.`,
		consentTitle: "¿Permitir el acceso?",
		consentBody: (client: string) => `${client} quiere:`,
		allow: "Permitir",
		deny: "Rechazar",
		deviceTitle: "Conectar un dispositivo",
		deviceBody: "Escribe el código que muestra tu dispositivo.",
		deviceWrong: "El código es incorrecto o ha caducado. Inténtalo de nuevo.",
		deviceConfirm: (client: string, code: string) => `¿Conectar ${client} con el código ${code}?`,
		deviceDone: "Listo. Puedes volver a tu dispositivo.",
		logoutTitle: "¿Cerrar sesión en la tienda?",
		logoutYes: "Sí, cerrar sesión",
		logoutNo: "No, seguir conectado",
		loggedOut: "Has cerrado la sesión.",
		errorTitle: "Algo salió mal",
		expired: "Esta página de inicio de sesión ha caducado. Vuelve a la aplicación y empieza de nuevo.",
		scopes: {
			openid: "Saber quién eres",
			profile: "Ver tu nombre",
			email: "Ver tu correo electrónico",
			offline_access: "Mantener la sesión iniciada",
			"catalog:write": "Modificar el catálogo",
			"inventory:write": "Modificar el stock",
			"orders:read": "Ver pedidos",
			"orders:write": "Modificar pedidos",
			"tickets:write": "Responder tickets de soporte",
		} as Record<string, string>,
	},
} as const;

export type Texts = (typeof TEXT)[Lang];

/** The language of a page: `ui_locales` first, then Accept-Language, English otherwise. */
export function pickLang(uiLocales: string | undefined, acceptLanguage: string | undefined): Lang {
	const wanted = [...(uiLocales ?? "").split(" "), ...(acceptLanguage ?? "").split(",").map(s => s.split(";")[0]!.trim())];
	for (const tag of wanted) {
		const base = tag.toLowerCase().slice(0, 2);
		if (base === "es" || base === "en") return base;
	}
	return "en";
}

export function texts(lang: Lang): Texts {
	return TEXT[lang];
}

export function escapeHtml(value: unknown): string {
	return String(value).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const STYLE = `body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;line-height:1.5;color:#1b1f24;background:#f4f6f8}
header{background:#0b57a4;color:#fff;padding:.75rem 1.25rem;font-weight:700}
main{max-width:24rem;margin:2rem auto;background:#fff;border:1px solid #c9d0d8;border-radius:8px;padding:1.5rem}
h1{font-size:1.4rem;margin:0 0 1rem}label{display:block;margin:.75rem 0 .25rem}
input[type=email],input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #c9d0d8;border-radius:8px;font-size:1rem}
button{margin-top:1rem;width:100%;padding:.65rem;border:0;border-radius:8px;background:#0b57a4;color:#fff;font-size:1rem;cursor:pointer}
button.secondary{background:#fff;color:#0b57a4;border:1px solid #0b57a4}button:focus,input:focus{outline:3px solid #f0a000}
.error{background:#fdecec;color:#8a1116;padding:.5rem .75rem;border-radius:8px}ul{padding-left:1.25rem}`;

/** The pages' Content-Security-Policy: nothing but their own style element (no form-action: browsers apply it to the redirect to the client after a form). */
export const CSP = `default-src 'none'; style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'; frame-ancestors 'none'; base-uri 'none'`;

export function page(lang: Lang, title: string, body: string): string {
	return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Moleculer Shop</title><style>${STYLE}</style></head>
<body><header>Moleculer Shop</header><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

export function loginPage(lang: Lang, action: string, csrf: string, client: string, email = "", error?: string): string {
	const t = texts(lang);
	return page(
		lang,
		t.signIn,
		`<p>${escapeHtml(t.signInTo(client))}</p>${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<label for="email">${t.email}</label><input id="email" type="email" name="email" autocomplete="username" required value="${escapeHtml(email)}" autofocus>
<label for="password">${t.password}</label><input id="password" type="password" name="password" autocomplete="current-password" required>
<button type="submit">${t.continue}</button></form>`,
	);
}

export function consentPage(lang: Lang, action: string, csrf: string, client: string, scopes: string[]): string {
	const t = texts(lang);
	const items = scopes.map(s => `<li>${escapeHtml(t.scopes[s] ?? s)}</li>`).join("");
	return page(
		lang,
		t.consentTitle,
		`<p>${escapeHtml(t.consentBody(client))}</p><ul>${items}</ul>
<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<button type="submit" name="decision" value="allow">${t.allow}</button><button class="secondary" type="submit" name="decision" value="deny">${t.deny}</button></form>`,
	);
}

export function devicePage(lang: Lang, form: string, error: boolean): string {
	const t = texts(lang);
	return page(
		lang,
		t.deviceTitle,
		`${error ? `<p class="error" role="alert">${t.deviceWrong}</p>` : `<p>${t.deviceBody}</p>`}${form}
<label for="user_code">Code</label><input id="user_code" type="text" name="user_code" form="op.deviceInputForm" autocomplete="off" required>
<button type="submit" form="op.deviceInputForm">${t.continue}</button>`,
	);
}

export function deviceConfirmPage(lang: Lang, form: string, client: string, userCode: string): string {
	const t = texts(lang);
	return page(
		lang,
		t.deviceTitle,
		`<p>${escapeHtml(t.deviceConfirm(client, userCode))}</p>${form}
<button type="submit" form="op.deviceConfirmForm">${t.continue}</button><button class="secondary" type="submit" form="op.deviceConfirmForm" name="abort" value="yes">${t.deny}</button>`,
	);
}

export function messagePage(lang: Lang, which: "deviceDone" | "loggedOut" | "expired"): string {
	const t = texts(lang);
	return page(lang, which === "expired" ? t.errorTitle : t.signIn, `<p>${escapeHtml(t[which])}</p>`);
}

export function logoutPage(lang: Lang, form: string): string {
	const t = texts(lang);
	return page(
		lang,
		t.logoutTitle,
		`${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">${t.logoutYes}</button><button class="secondary" type="submit" form="op.logoutForm">${t.logoutNo}</button>`,
	);
}

export function errorPage(lang: Lang, error: string, description: string | undefined): string {
	const t = texts(lang);
	return page(lang, t.errorTitle, `<p class="error" role="alert">${escapeHtml(error)}</p>${description ? `<p>${escapeHtml(description)}</p>` : ""}`);
}
