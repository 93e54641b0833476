/**
 * Shipping methods (admin) and the one a cart ships with: the one asked for, or the cheapest
 * that ships to the destination in the cart's currency (lib/domain/shipping.ts). A shop with no
 * methods at all ships for nothing; a shop with methods refuses a destination none of them serves.
 */
import { randomUUID } from "node:crypto";
import type { Static } from "typebox";
import type { ShippingMethod as ShippingMethodSchema } from "../../lib/http/schemas.js";
import { notFound, validationError } from "../../lib/errors.js";
import type { Collection } from "../../lib/store/index.js";
import type { PRICING } from "../../lib/contracts/http/pricing.js";
import { definedOnly, type ParamsOf } from "../../lib/contracts/params.js";
import type { PricingTerms } from "../../lib/contracts/calls.js";
import { defaultShippingMethod, shippingMethodInputProblems, shippingMethodsFor, shipsTo, type ShippingMethod } from "../../lib/domain/shipping.js";

type Params<A extends keyof typeof PRICING> = ParamsOf<(typeof PRICING)[A]>;
const now = () => new Date().toISOString();

export interface ShippingMethodRecord extends Omit<ShippingMethod, "id"> {
	_id: string;
	active: boolean;
	deletedAt: string | null;
	createdAt: string;
	updatedAt: string;
}
export type PublicShippingMethod = Static<typeof ShippingMethodSchema>;

function publicMethod(m: ShippingMethodRecord): PublicShippingMethod {
	return {
		id: m._id,
		name: m.name,
		countries: m.countries,
		price: m.price,
		currency: m.currency,
		freeOver: m.freeOver ?? null,
		minDays: m.minDays,
		maxDays: m.maxDays,
		active: m.active,
		createdAt: m.createdAt,
		updatedAt: m.updatedAt,
	};
}
const method = (m: ShippingMethodRecord): ShippingMethod => ({ ...m, id: m._id });

export class ShippingMethods {
	constructor(private readonly methods: Collection<ShippingMethodRecord>) {}

	private async record(id: string): Promise<ShippingMethodRecord> {
		const m = await this.methods.findById(id);
		if (!m || m.deletedAt !== null) throw notFound("Shipping method", id);
		return m;
	}

	private live(): Promise<ShippingMethodRecord[]> {
		return this.methods.find({ query: { deletedAt: null }, sort: ["price", "name", "_id"] });
	}

	async create(p: Params<"pricing.createShippingMethod">): Promise<PublicShippingMethod> {
		const problems = shippingMethodInputProblems(p);
		if (problems.length) throw validationError(problems);
		const at = now();
		const record: ShippingMethodRecord = {
			_id: randomUUID(),
			...p,
			freeOver: p.freeOver ?? null,
			active: p.active ?? true,
			deletedAt: null,
			createdAt: at,
			updatedAt: at,
		};
		await this.methods.insert(record);
		return publicMethod(record);
	}

	async update({ id, ...asked }: Params<"pricing.updateShippingMethod">): Promise<PublicShippingMethod> {
		const before = await this.record(id);
		const change = definedOnly(asked);
		const problems = shippingMethodInputProblems({ ...before, ...change });
		if (problems.length) throw validationError(problems);
		const $set: Record<string, unknown> = { updatedAt: now() };
		for (const [k, v] of Object.entries(change)) if (v !== undefined) $set[k] = v;
		await this.methods.updateWhere({ _id: id, deletedAt: null }, { $set });
		return publicMethod(await this.record(id));
	}

	async remove(id: string): Promise<void> {
		await this.record(id);
		await this.methods.updateWhere({ _id: id, deletedAt: null }, { $set: { deletedAt: now(), active: false, updatedAt: now() } });
	}

	/** The active methods, those that ship to `country` when it is given, cheapest first. */
	async list(country: string | undefined): Promise<PublicShippingMethod[]> {
		return (await this.live()).filter(m => m.active && (country === undefined || shipsTo(m, country))).map(publicMethod);
	}

	/** The method a cart to `country` ships with, or why none can be chosen. */
	async forCart(
		country: string | undefined,
		currency: string,
		goods: number,
		chosenId: string | undefined,
	): Promise<Pick<PricingTerms, "shippingMethod" | "shippingProblem">> {
		if (country === undefined) {
			if (chosenId === undefined) return { shippingMethod: null, shippingProblem: null };
			return {
				shippingMethod: null,
				shippingProblem: { field: "country", message: "Say where the order goes (country) to choose a shipping method.", type: "countryNeeded" },
			};
		}
		const all = (await this.live()).filter(m => m.active).map(method);
		if (all.length === 0 && chosenId === undefined) return { shippingMethod: null, shippingProblem: null };
		if (chosenId !== undefined) {
			const chosen = shippingMethodsFor(all, country, currency).find(m => m.id === chosenId);
			if (chosen) return { shippingMethod: chosen, shippingProblem: null };
			return {
				shippingMethod: null,
				shippingProblem: {
					field: "shippingMethodId",
					message: `This shipping method does not ship to ${country} in ${currency}.`,
					type: "noSuchShipping",
				},
			};
		}
		const cheapest = defaultShippingMethod(all, country, currency, goods);
		if (cheapest) return { shippingMethod: cheapest, shippingProblem: null };
		return {
			shippingMethod: null,
			shippingProblem: { field: "country", message: `No shipping method ships to ${country} in ${currency}.`, type: "noShipping" },
		};
	}
}
