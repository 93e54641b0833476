/**
 * Variants: a product sold in several forms (a T-shirt in three sizes and two colours). The
 * product declares its options (at most 3, e.g. size and colour, each with its values); each
 * variant is one combination that is sold, with its own SKU, price and stock.
 *
 * Variants live inside their product's document, so that holding a variant's units and keeping
 * the product's sums right is one atomic update of one document. A variant is never removed
 * from the array (a deleted one is marked), so its index, which update paths name
 * (`variants.<i>.available`), stays its own for good.
 *
 * For a product with variants, the product's `price` is the lowest active variant price and its
 * `stock`/`available` are the sums over its variants (deleted ones aside). A product without
 * variants is sold as itself. Pure: the products service loads and stores.
 */
import type { FieldProblem } from "../errors.js";
import type { MinorUnits } from "./money.js";
import type { Static } from "typebox";
import type { Variant } from "../http/schemas.js";

export const MAX_OPTIONS = 3;
export const MAX_OPTION_VALUES = 30;
export const MAX_VARIANTS = 100;

export interface ProductOption {
	name: string;
	values: string[];
}

export interface VariantRecord {
	id: string;
	/** Unset once the variant is deleted, so the SKU can be used again. */
	sku?: string;
	deletedSku?: string;
	options: Record<string, string>;
	price: MinorUnits;
	stock: number;
	available: number;
	active: boolean;
	/** orderId → quantity this order holds of this variant. */
	holds: Record<string, number>;
	/** Put-back markers (a return or a cancelled paid order) → when. */
	restocked: Record<string, string>;
	deletedAt: string | null;
	createdAt: string;
	updatedAt: string;
}

/** What a new variant is made of: the admin's request, or a demo or generated product's variant. */
export interface NewVariant {
	id: string;
	sku: string;
	options: Record<string, string>;
	price: MinorUnits;
	stock?: number;
	active?: boolean;
}

/** A new variant as stored: its stock all available, nothing held. */
export function newVariant(v: NewVariant, at: string): VariantRecord {
	const stock = v.stock ?? 0;
	return {
		id: v.id,
		sku: v.sku,
		options: v.options,
		price: v.price,
		stock,
		available: stock,
		active: v.active ?? true,
		holds: {},
		restocked: {},
		deletedAt: null,
		createdAt: at,
		updatedAt: at,
	};
}

/** What a client sees of a variant (lib/http/schemas.ts); inside its product, with its images. */
export type PublicVariant = Static<typeof Variant>;

export function publicVariant(v: VariantRecord): PublicVariant {
	return { id: v.id, sku: v.sku ?? v.deletedSku ?? "", options: v.options, price: v.price, stock: v.stock, available: v.available, active: v.active };
}

/** The variants a client sees: the deleted ones are gone. */
export function liveVariants(variants: readonly VariantRecord[] | undefined): VariantRecord[] {
	return (variants ?? []).filter(v => v.deletedAt === null);
}

const key = (s: string) => s.toLocaleLowerCase("en");
/** Names an option cannot have: they are keys of a stored object, and these mean something to JavaScript. */
const RESERVED_NAMES = new Set(["__proto__", "constructor", "prototype", "hasownproperty", "tostring", "valueof"]);

/** What is wrong with a product's options (422 naming the field): unique names, unique values in each. */
export function optionsProblems(options: readonly ProductOption[]): FieldProblem[] {
	const problems: FieldProblem[] = [];
	const names = new Set<string>();
	options.forEach((o, i) => {
		if (RESERVED_NAMES.has(key(o.name)))
			problems.push({ field: `options[${i}].name`, message: `'${o.name}' cannot be an option's name.`, type: "reservedName" });
		if (names.has(key(o.name))) problems.push({ field: `options[${i}].name`, message: `The option '${o.name}' is named twice.`, type: "duplicateOption" });
		names.add(key(o.name));
		const values = new Set<string>();
		o.values.forEach((v, j) => {
			if (values.has(key(v)))
				problems.push({ field: `options[${i}].values[${j}]`, message: `The value '${v}' is listed twice.`, type: "duplicateValue" });
			values.add(key(v));
		});
	});
	return problems;
}

/** A variant's options must name every option of the product, once, with one of its values (422 naming the option). */
export function variantOptionsProblems(productOptions: readonly ProductOption[], options: Readonly<Record<string, string>>): FieldProblem[] {
	const problems: FieldProblem[] = [];
	if (productOptions.length === 0)
		return [{ field: "options", message: "This product has no options; declare them on the product first.", type: "noOptions" }];
	for (const name of Object.keys(options)) {
		if (!productOptions.some(o => o.name === name))
			problems.push({
				field: `options.${name}`,
				message: `The product has no option '${name}'; its options are ${productOptions.map(o => o.name).join(", ")}.`,
				type: "unknownOption",
			});
	}
	for (const o of productOptions) {
		const value = Object.hasOwn(options, o.name) ? options[o.name] : undefined;
		if (value === undefined) problems.push({ field: `options.${o.name}`, message: `Give a value for the option '${o.name}'.`, type: "missingOption" });
		else if (!o.values.includes(value))
			problems.push({
				field: `options.${o.name}`,
				message: `'${value}' is not a value of '${o.name}'; its values are ${o.values.join(", ")}.`,
				type: "unknownValue",
			});
	}
	return problems;
}

export function sameCombination(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
	const ka = Object.keys(a);
	return ka.length === Object.keys(b).length && ka.every(k => Object.hasOwn(b, k) && b[k] === a[k]);
}

/** Which options changing them to `next` would strand: a value or an option a live variant uses (422). */
export function optionChangeProblems(next: readonly ProductOption[], variants: readonly VariantRecord[]): FieldProblem[] {
	const problems: FieldProblem[] = [];
	for (const v of liveVariants(variants)) {
		for (const [name, value] of Object.entries(v.options)) {
			const option = next.find(o => o.name === name);
			if (!option)
				problems.push({ field: "options", message: `The variant ${v.sku} uses the option '${name}'; change or delete it first.`, type: "optionInUse" });
			else if (!option.values.includes(value))
				problems.push({ field: "options", message: `The variant ${v.sku} uses '${name}: ${value}'; change or delete it first.`, type: "valueInUse" });
		}
		if (Object.keys(v.options).length !== next.length)
			problems.push({ field: "options", message: `The variant ${v.sku} would no longer name every option.`, type: "optionInUse" });
	}
	return problems.filter((p, i) => problems.findIndex(q => q.message === p.message) === i);
}

/**
 * The product's price, stock and available as its variants make them: the lowest price of an
 * active variant (the product's own price when none is active), and the sums over the variants
 * that are not deleted. Null for a product without variants: it keeps its own.
 */
export function variantAggregates(
	variants: readonly VariantRecord[] | undefined,
	ownPrice: MinorUnits,
): { price: MinorUnits; stock: number; available: number } | null {
	const live = liveVariants(variants);
	if (live.length === 0) return null;
	const prices = live.filter(v => v.active).map(v => v.price);
	return {
		price: prices.length ? Math.min(...prices) : ownPrice,
		stock: live.reduce((s, v) => s + v.stock, 0),
		available: live.reduce((s, v) => s + v.available, 0),
	};
}

/** The index of a live variant in its product's array, -1 when there is none with this id. */
export function variantIndex(variants: readonly VariantRecord[] | undefined, variantId: string): number {
	return (variants ?? []).findIndex(v => v.id === variantId && v.deletedAt === null);
}

/** What a cart line or an order item is keyed by: the variant for a variant, the product otherwise. */
export function itemIdOf(item: { productId: string; variantId?: string | null }): string {
	return item.variantId ?? item.productId;
}
