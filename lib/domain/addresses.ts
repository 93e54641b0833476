/**
 * The address book of a customer: at most 20 addresses, each a shipping address with an optional
 * label; exactly one is the default while there are any (the first one added, or the one last
 * made default; removing the default makes the oldest left the default). Pure: the users service
 * stores the list in the user's record.
 */
import type { Static } from "typebox";
import type { ShippingAddress } from "../contracts/http/orders.js";
import type { AddressBookEntry } from "../http/schemas.js";

export const MAX_ADDRESSES = 20;

/** An entry of the address book, as stored and as answered (lib/http/schemas.ts). */
export type AddressEntry = Static<typeof AddressBookEntry>;

export type AddressInput = ShippingAddress & { label?: string; isDefault?: boolean };
export type AddressPatch = Partial<AddressInput>;

export class AddressBookFull extends Error {
	constructor() {
		super(`An address book holds at most ${MAX_ADDRESSES} addresses.`);
	}
}

const ADDRESS_KEYS = ["name", "line1", "line2", "city", "region", "postalCode", "country"] as const;

/** Only one default: `defaultId`'s entry, or the first one when none is. */
function withOneDefault(list: AddressEntry[], defaultId: string | null): AddressEntry[] {
	const chosen = defaultId ?? list.find(a => a.isDefault)?.id ?? list[0]?.id ?? null;
	return list.map(a => (a.isDefault === (a.id === chosen) ? a : { ...a, isDefault: a.id === chosen }));
}

export function addAddress(list: readonly AddressEntry[], input: AddressInput, id: string, at: string): AddressEntry[] {
	if (list.length >= MAX_ADDRESSES) throw new AddressBookFull();
	const { label, isDefault, ...address } = input;
	const entry: AddressEntry = { ...address, id, label: label ?? null, isDefault: false, createdAt: at, updatedAt: at };
	return withOneDefault([...list, entry], isDefault || list.length === 0 ? id : null);
}

/** The list with `id` changed, or null when it has no such address. */
export function updateAddress(list: readonly AddressEntry[], id: string, patch: AddressPatch, at: string): AddressEntry[] | null {
	if (!list.some(a => a.id === id)) return null;
	const changed = list.map(a => {
		if (a.id !== id) return a;
		const next: AddressEntry = { ...a, updatedAt: at };
		copyDefined(next, patch, ADDRESS_KEYS);
		if (patch.label !== undefined) next.label = patch.label;
		return next;
	});
	const current = list.find(a => a.isDefault)?.id ?? null;
	const defaultId = patch.isDefault === true ? id : patch.isDefault === false && current === id ? (list.find(a => a.id !== id)?.id ?? id) : current;
	return withOneDefault(changed, defaultId);
}

/** The list without `id`, or null when it has no such address. */
export function removeAddress(list: readonly AddressEntry[], id: string): AddressEntry[] | null {
	if (!list.some(a => a.id === id)) return null;
	return withOneDefault(
		list.filter(a => a.id !== id),
		null,
	);
}

/** The default first, then oldest first. */
export function sortedAddresses(list: readonly AddressEntry[]): AddressEntry[] {
	return [...list].sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.createdAt.localeCompare(b.createdAt));
}

/** What an order copies: the address without the book's own fields. */
export function shippingAddressOf(entry: AddressEntry): ShippingAddress {
	const out: Record<string, unknown> = {};
	for (const k of ADDRESS_KEYS) if (entry[k] !== undefined) out[k] = entry[k];
	return out as ShippingAddress;
}

/** Sets on `to` each of these fields that `from` has (an undefined field leaves it as it is). */
function copyDefined<T, K extends keyof T>(to: T, from: Partial<T>, keys: readonly K[]): void {
	for (const k of keys) {
		const value = from[k];
		if (value !== undefined) to[k] = value;
	}
}
