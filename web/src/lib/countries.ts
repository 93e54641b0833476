import { language } from "../i18n";

/** Countries offered in address and shipping forms (ISO 3166-1 alpha-2). */
export const COUNTRIES = ["AT", "BE", "CA", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IT", "MX", "NL", "NO", "PL", "PT", "SE", "US", "AR"];

export function countryName(code: string): string {
	try {
		return new Intl.DisplayNames([language.get()], { type: "region" }).of(code) ?? code;
	} catch {
		return code;
	}
}

export function countryOptions(): { value: string; label: string }[] {
	return COUNTRIES.map(c => ({ value: c, label: countryName(c) })).sort((a, b) => a.label.localeCompare(b.label, language.get()));
}

const KEY = "shop.country";
/** The last country chosen on this device (not personal data worth protecting), else one from the browser's locale. */
export function preferredCountry(): string {
	try {
		const saved = localStorage.getItem(KEY);
		if (saved && COUNTRIES.includes(saved)) return saved;
	} catch {
		/* ignore */
	}
	const region = (navigator.language.split("-")[1] ?? "").toUpperCase();
	return COUNTRIES.includes(region) ? region : language.get() === "es" ? "ES" : "DE";
}
export function rememberCountry(code: string): void {
	try {
		localStorage.setItem(KEY, code);
	} catch {
		/* ignore */
	}
}
