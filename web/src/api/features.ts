/**
 * Which parts of the contract this server has. The "Additions to v1" (variants, promotions,
 * shipping methods, tax rates) are detected from the server's own OpenAPI document, which is
 * generated from the routes it serves; a field absent from an answer (facets, cart totals,
 * variants) hides its part of the page too. Before they land, nothing of them shows.
 */
import { createStore } from "../lib/store";

export interface Features {
	loaded: boolean;
	variants: boolean;
	promotions: boolean;
	cartPromotion: boolean;
	shippingMethods: boolean;
	taxRates: boolean;
}

export const features = createStore<Features>({
	loaded: false,
	variants: false,
	promotions: false,
	cartPromotion: false,
	shippingMethods: false,
	taxRates: false,
});

export async function loadFeatures(): Promise<void> {
	try {
		const res = await fetch("/api/openapi.json", { headers: { accept: "application/json" }, credentials: "omit" });
		if (!res.ok) throw new Error(String(res.status));
		const doc = (await res.json()) as { paths?: Record<string, Record<string, unknown>> };
		const paths = doc.paths ?? {};
		const has = (method: string, path: string) => Boolean(paths[`/api/v1${path}`]?.[method]);
		features.set({
			loaded: true,
			variants: has("post", "/products/{id}/variants"),
			promotions: has("get", "/promotions") && has("post", "/promotions"),
			cartPromotion: has("put", "/cart/promotion"),
			shippingMethods: has("get", "/shipping-methods"),
			taxRates: has("get", "/tax-rates"),
		});
	} catch {
		features.set(f => ({ ...f, loaded: true }));
	}
}
