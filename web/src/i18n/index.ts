/**
 * Message catalogs (en.ts, es.ts: one key set, checked by test/e2e/i18n.test.ts) and Intl
 * formatting. The language is the signed-in user's `preferences.language`, before sign-in the
 * browser's language, English when neither is known.
 */
import { createStore, useStore } from "../lib/store";
import { en } from "./en";
import { es } from "./es";

export type MessageKey = keyof typeof en;
export const catalogs = { en, es } as const satisfies Record<string, Record<MessageKey, string>>;
export type Lang = keyof typeof catalogs;
export const LANGUAGES: Lang[] = ["en", "es"];

function supported(tag: string | undefined | null): Lang | null {
	const base = (tag ?? "").toLowerCase().split("-")[0] as Lang;
	return LANGUAGES.includes(base) ? base : null;
}

export function browserLanguage(): Lang {
	for (const tag of navigator.languages ?? [navigator.language]) {
		const lang = supported(tag);
		if (lang) return lang;
	}
	return "en";
}

export const language = createStore<Lang>(browserLanguage());

export function setLanguage(tag: string | null | undefined): void {
	const lang = supported(tag) ?? browserLanguage();
	document.documentElement.lang = lang;
	if (language.get() !== lang) language.set(lang);
}

export function t(key: MessageKey, params?: Record<string, string | number>): string {
	const catalog: Record<string, string> = catalogs[language.get()];
	let text = catalog[key] ?? en[key] ?? key;
	if (params) text = text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
	return text;
}

/** A message whose key is made at run time (a status, a reason); `fallback` when the catalog has none. */
export function tDynamic(key: string, fallback: string): string {
	const catalog: Record<string, string> = catalogs[language.get()];
	return catalog[key] ?? (en as Record<string, string>)[key] ?? fallback;
}

export function useLanguage(): Lang {
	return useStore(language);
}

const moneyFormats = new Map<string, Intl.NumberFormat>();
function moneyFormat(currency: string): Intl.NumberFormat {
	const k = `${language.get()}:${currency}`;
	let f = moneyFormats.get(k);
	if (!f) {
		f = new Intl.NumberFormat(language.get(), { style: "currency", currency });
		moneyFormats.set(k, f);
	}
	return f;
}

/** Digits after the decimal point of a currency (2 for EUR, 0 for JPY). */
export function currencyDigits(currency: string): number {
	try {
		return moneyFormat(currency).resolvedOptions().maximumFractionDigits ?? 2;
	} catch {
		return 2;
	}
}

/** Integer minor units → "€12.50" / "12,50 €". */
export function formatMoney(minor: number, currency: string): string {
	try {
		return moneyFormat(currency).format(minor / 10 ** currencyDigits(currency));
	} catch {
		return `${(minor / 100).toFixed(2)} ${currency}`;
	}
}

/** "12.50" (what a person types, either decimal mark) → 1250 minor units; NaN when it is not a number. */
export function parseMoney(text: string, currency: string): number {
	const clean = text.trim().replace(/\s/g, "").replace(",", ".");
	if (!/^\d+(\.\d+)?$/.test(clean)) return Number.NaN;
	return Math.round(Number(clean) * 10 ** currencyDigits(currency));
}

/** Minor units → the plain number a person edits ("12.50"). */
export function moneyInput(minor: number, currency: string): string {
	const digits = currencyDigits(currency);
	return (minor / 10 ** digits).toFixed(digits);
}

export function formatDate(iso: string | null | undefined): string {
	if (!iso) return "";
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return iso;
	return new Intl.DateTimeFormat(language.get(), { dateStyle: "medium", timeStyle: "short" }).format(d);
}

export function formatNumber(n: number): string {
	return new Intl.NumberFormat(language.get()).format(n);
}

export function formatPercent(basisPoints: number): string {
	return new Intl.NumberFormat(language.get(), { style: "percent", maximumFractionDigits: 2 }).format(basisPoints / 10000);
}
