/** Tax rates by destination country (admin), in basis points; a country without one is taxed at 0 (lib/domain/tax.ts). */
import type { Collection } from "../../lib/store/index.js";
import type { Static } from "typebox";
import type { TaxRate } from "../../lib/http/schemas.js";
import { taxRateFor } from "../../lib/domain/tax.js";

export interface TaxRateRecord {
	/** ISO 3166-1 alpha-2. */
	_id: string;
	rate: number;
	updatedAt: string;
}
export type PublicTaxRate = Static<typeof TaxRate>;

const publicRate = (r: TaxRateRecord): PublicTaxRate => ({ country: r._id, rate: r.rate, updatedAt: r.updatedAt });

export class TaxRates {
	constructor(private readonly rates: Collection<TaxRateRecord>) {}

	async list(): Promise<PublicTaxRate[]> {
		return (await this.rates.find({ sort: ["_id"] })).map(publicRate);
	}

	/** Set (or change) a country's rate. */
	async set(country: string, rate: number): Promise<PublicTaxRate> {
		const updatedAt = new Date().toISOString();
		if ((await this.rates.updateWhere({ _id: country }, { $set: { rate, updatedAt } })) === 0) {
			const made = await this.rates.insertOrGet({ _id: country, rate, updatedAt });
			if (made.rate !== rate) await this.rates.updateWhere({ _id: country }, { $set: { rate, updatedAt } });
		}
		return publicRate((await this.rates.findById(country))!);
	}

	async rateFor(country: string | undefined): Promise<number> {
		if (country === undefined) return 0;
		const r = await this.rates.findById(country);
		return taxRateFor(r ? { [country]: r.rate } : {}, country);
	}
}
