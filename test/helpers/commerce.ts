/** Catalog and order steps that many in-process tests share, all through the public API. */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { eventually, type Account } from "./shop.js";

const V1 = "/api/v1";

/** The fields a 4xx names in `data`. */
export function fieldsOf(body: { data?: { field: string }[] }): string[] {
	return (body.data ?? []).map(p => p.field);
}

/** A product made by an admin (201 asserted); `over` changes any field. */
export async function newProduct<T = Record<string, any> & { id: string; sku: string; name: string; price: number }>(
	adm: Account,
	over: Record<string, unknown> = {},
): Promise<T> {
	const sku = `T-${randomUUID().slice(0, 8).toUpperCase()}`;
	const res = await adm.http.post(`${V1}/products`, { sku, name: `Product ${sku}`, price: 1000, currency: "EUR", stock: 10, ...over });
	expect(res.status, JSON.stringify(res.body)).toBe(201);
	return res.body as T;
}

export async function stockOf(adm: Account, productId: string): Promise<{ stock: number; available: number }> {
	return (await adm.http.get(`${V1}/products/${productId}`)).body;
}

/**
 * The order once it has settled: out of `pending` (or whatever `final` says), and, when it was
 * cancelled, with its card authorization resolved (the void follows the cancel).
 */
export function settledOrder(acc: Account, orderId: string, final = (status: string) => status !== "pending", timeoutMs = 15_000) {
	return eventually(
		async () => {
			const res = await acc.http.get(`${V1}/orders/${orderId}`);
			const authorizationOpen = res.body.status === "cancelled" && res.body.payment?.status === "authorized";
			return final(res.body.status) && !authorizationOpen ? res.body : undefined;
		},
		timeoutMs,
		`order ${orderId} to settle`,
	);
}
