/**
 * The address book in the user's record: each change one compare-and-set on the record's
 * `addressVersion` (Collection.change), so two tabs adding at once cannot pass 20 or lose one.
 */
import { randomUUID } from "node:crypto";
import { conflict, invalidField, notFound } from "../../lib/errors.js";
import type { Collection } from "../../lib/store/index.js";
import type { UserRecord } from "../../lib/domain/users.js";
import {
	AddressBookFull,
	addAddress,
	removeAddress,
	shippingAddressOf,
	sortedAddresses,
	updateAddress,
	type AddressEntry,
	type AddressInput,
	type AddressPatch,
} from "../../lib/domain/addresses.js";
import type { ShippingAddress } from "../../lib/contracts/http/orders.js";

export class AddressBook {
	constructor(private readonly users: Collection<UserRecord>) {}

	private async write(userId: string, next: (list: AddressEntry[]) => AddressEntry[] | null): Promise<AddressEntry[] | null> {
		let missing = false;
		const outcome = await this.users.change(
			userId,
			user => {
				const list = next(user.addresses ?? []);
				if (!list) {
					missing = true;
					return null;
				}
				const version = user.addressVersion;
				return {
					expect: { addressVersion: version === undefined ? { $exists: false } : version },
					update: { $set: { addresses: list, addressVersion: (version ?? 0) + 1 } },
				};
			},
			// Each round one writer wins: enough rounds for a burst of a whole book's additions.
			{ attempts: 30, contended: () => conflict("The address book kept changing; try again", "ADDRESS_BOOK_BUSY") },
		);
		if (!outcome.doc) throw notFound("User", userId);
		return missing ? null : (outcome.doc.addresses ?? []);
	}

	async list(userId: string): Promise<AddressEntry[]> {
		const user = await this.users.findById(userId);
		if (!user) throw notFound("User", userId);
		return sortedAddresses(user.addresses ?? []);
	}

	async add(userId: string, input: AddressInput): Promise<AddressEntry> {
		const id = randomUUID();
		try {
			const list = await this.write(userId, l => addAddress(l, input, id, new Date().toISOString()));
			return list!.find(a => a.id === id)!;
		} catch (err) {
			if (err instanceof AddressBookFull) throw invalidField("addresses", err.message, "tooMany");
			throw err;
		}
	}

	async update(userId: string, id: string, patch: AddressPatch): Promise<AddressEntry> {
		const list = await this.write(userId, l => updateAddress(l, id, patch, new Date().toISOString()));
		const entry = list?.find(a => a.id === id);
		if (!entry) throw notFound("Address", id);
		return entry;
	}

	async remove(userId: string, id: string): Promise<void> {
		if (!(await this.write(userId, l => removeAddress(l, id)))) throw notFound("Address", id);
	}

	/** For checkout: the address to copy into the order, or null when the user has no such address. */
	async forCheckout(userId: string, id: string): Promise<ShippingAddress | null> {
		const user = await this.users.findById(userId);
		const entry = user?.addresses?.find(a => a.id === id);
		return entry ? shippingAddressOf(entry) : null;
	}
}
