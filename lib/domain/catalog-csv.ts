/**
 * The catalog as CSV (import and export, README "Catalog import and export"): one row per product,
 * followed by one row per variant of it. Pure: the products service streams the file, validates
 * the rows with the API's own request rules and writes through the API's write path.
 *
 * Columns (any order in an imported file, all of them named in its header):
 *   sku              the product's SKU (on a variant row too: the product it belongs to)
 *   variant_sku      empty on a product row; the variant's SKU on a variant row
 *   name, description, currency        the product's (product rows)
 *   categories       category slugs separated by `|`
 *   price            integer minor units (cents); a product sold in variants leaves it empty
 *   stock            units on hand; a product sold in variants leaves it empty
 *   active           `true` or `false` (empty: true)
 *   options          the product's options: `size=S|M|L;colour=Red|Blue`
 *   variant_options  a variant's combination: `size=M;colour=Red`
 *
 * Formula guard: a cell a spreadsheet would run as a formula (starting with = + - @, a tab or a
 * carriage return), or one starting with `'`, is written with a leading `'`; reading removes it,
 * so an export read back gives the same values.
 */
import type { ProductRecord } from "./catalog.js";
import { liveVariants, type ProductOption } from "./variants.js";

export const CSV_COLUMNS = [
	"sku",
	"variant_sku",
	"name",
	"description",
	"categories",
	"price",
	"currency",
	"stock",
	"active",
	"options",
	"variant_options",
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];
export type CsvRow = Record<CsvColumn, string>;

export interface CsvProblem {
	field: string;
	message: string;
}

/** A product as a row describes it (price and stock absent: not given). */
export interface ProductRow {
	kind: "product";
	sku: string;
	name: string;
	description: string;
	categories: string[];
	price?: number;
	currency: string;
	stock?: number;
	active: boolean;
	options: ProductOption[];
}
export interface VariantRow {
	kind: "variant";
	/** The product's SKU. */
	sku: string;
	variantSku: string;
	options: Record<string, string>;
	price: number;
	stock?: number;
	active: boolean;
}
export type CatalogRow = ProductRow | VariantRow;

const FORMULA_START = /^[=+\-@\t\r']/;

/** A cell as written: with a leading `'` when a spreadsheet would take it for a formula. */
export function guardCell(value: string): string {
	return FORMULA_START.test(value) ? `'${value}` : value;
}
/** A cell as read: the export's leading `'` removed again. */
export function unguardCell(value: string): string {
	return value.startsWith("'") && FORMULA_START.test(value.slice(1)) ? value.slice(1) : value;
}

/** What is wrong with a file's header row (empty: nothing). */
export function headerProblems(header: readonly string[]): CsvProblem[] {
	const known = new Set<string>(CSV_COLUMNS);
	const problems: CsvProblem[] = [];
	const seen = new Set<string>();
	for (const name of header) {
		if (!known.has(name)) problems.push({ field: name, message: `Unknown column '${name}'; the columns are ${CSV_COLUMNS.join(", ")}.` });
		else if (seen.has(name)) problems.push({ field: name, message: `The column '${name}' is named twice.` });
		seen.add(name);
	}
	for (const name of CSV_COLUMNS) if (!seen.has(name)) problems.push({ field: name, message: `The header has no column '${name}'.` });
	return problems;
}

/** A record of cells as the header names them, unguarded; null when it has not as many cells as the header. */
export function rowOf(header: readonly string[], cells: readonly string[]): CsvRow | null {
	if (cells.length !== header.length) return null;
	const row = Object.fromEntries(CSV_COLUMNS.map(c => [c, ""])) as CsvRow;
	header.forEach((name, i) => (row[name as CsvColumn] = unguardCell(cells[i]!)));
	return row;
}

function integer(row: CsvRow, field: "price" | "stock", problems: CsvProblem[]): number | undefined {
	const text = row[field].trim();
	if (text === "") return undefined;
	if (!/^\d{1,15}$/.test(text)) {
		problems.push({ field, message: `'${text.slice(0, 40)}' is not a whole number${field === "price" ? " of minor units (cents)" : ""}.` });
		return undefined;
	}
	return Number(text);
}

function flag(row: CsvRow, problems: CsvProblem[]): boolean {
	const text = row.active.trim().toLowerCase();
	if (text === "" || text === "true") return true;
	if (text === "false") return false;
	problems.push({ field: "active", message: "'active' must be true or false." });
	return true;
}

function pairs(text: string, field: string, problems: CsvProblem[]): [string, string][] {
	if (text.trim() === "") return [];
	return text.split(";").flatMap(part => {
		const at = part.indexOf("=");
		if (at < 1) {
			problems.push({ field, message: `'${part.slice(0, 40)}' is not 'name=value'.` });
			return [];
		}
		return [[part.slice(0, at).trim(), part.slice(at + 1).trim()] as [string, string]];
	});
}

/** A row read as a product or a variant, or what is wrong with it (the request rules check the rest). */
export function parseRow(row: CsvRow): { row: CatalogRow } | { problems: CsvProblem[] } {
	const problems: CsvProblem[] = [];
	const sku = row.sku.trim();
	if (sku === "") problems.push({ field: "sku", message: "Every row names its product's SKU." });
	const price = integer(row, "price", problems);
	const stock = integer(row, "stock", problems);
	const active = flag(row, problems);
	const variantSku = row.variant_sku.trim();
	if (variantSku !== "") {
		const options = Object.fromEntries(pairs(row.variant_options, "variant_options", problems));
		if (price === undefined && !problems.some(p => p.field === "price")) problems.push({ field: "price", message: "A variant row gives its price." });
		if (problems.length) return { problems };
		return { row: { kind: "variant", sku, variantSku, options, price: price!, ...(stock !== undefined && { stock }), active } };
	}
	const options = pairs(row.options, "options", problems).map(([name, values]) => ({ name, values: values.split("|").map(v => v.trim()) }));
	if (price === undefined && options.length === 0 && !problems.some(p => p.field === "price"))
		problems.push({ field: "price", message: "A product without options gives its price." });
	if (problems.length) return { problems };
	return {
		row: {
			kind: "product",
			sku,
			name: row.name,
			description: row.description,
			categories: row.categories
				.split("|")
				.map(c => c.trim())
				.filter(Boolean),
			...(price !== undefined && { price }),
			currency: row.currency.trim(),
			...(stock !== undefined && { stock }),
			active,
			options,
		},
	};
}

const formatOptions = (options: readonly ProductOption[]) => options.map(o => `${o.name}=${o.values.join("|")}`).join(";");
const formatCombination = (options: Readonly<Record<string, string>>) =>
	Object.entries(options)
		.map(([k, v]) => `${k}=${v}`)
		.join(";");

/** A product of the catalog as rows (itself, then its live variants), cells in CSV_COLUMNS order and guarded. */
export function rowsOfProduct(p: ProductRecord): string[][] {
	const variants = liveVariants(p.variants);
	const sku = p.sku ?? "";
	const cells = (row: CsvRow) => CSV_COLUMNS.map(c => guardCell(row[c]));
	const own: CsvRow = {
		sku,
		variant_sku: "",
		name: p.name,
		description: p.description,
		categories: p.categories.join("|"),
		price: variants.length ? "" : String(p.price),
		currency: p.currency,
		stock: variants.length ? "" : String(p.stock),
		active: String(p.active),
		options: formatOptions(p.options ?? []),
		variant_options: "",
	};
	return [
		cells(own),
		...variants.map(v =>
			cells({
				sku,
				variant_sku: v.sku ?? "",
				name: "",
				description: "",
				categories: "",
				price: String(v.price),
				currency: "",
				stock: String(v.stock),
				active: String(v.active),
				options: "",
				variant_options: formatCombination(v.options),
			}),
		),
	];
}

const sameOptions = (a: readonly ProductOption[], b: readonly ProductOption[]) =>
	a.length === b.length &&
	a.every((o, i) => o.name === b[i]!.name && o.values.length === b[i]!.values.length && o.values.every((v, j) => v === b[i]!.values[j]));
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const sameCombination = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
	Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** The fields of a product that a row changes (empty: the row says what the catalog says). Price and stock: only for a product without variants. */
export function productChanges(
	p: ProductRecord,
	row: ProductRow,
): Partial<Pick<ProductRow, "name" | "description" | "categories" | "price" | "currency" | "active" | "options">> {
	const changes: ReturnType<typeof productChanges> = {};
	if (row.name !== p.name) changes.name = row.name;
	if (row.description !== p.description) changes.description = row.description;
	if (!sameList(row.categories, p.categories)) changes.categories = row.categories;
	if (row.currency !== p.currency) changes.currency = row.currency;
	if (row.active !== p.active) changes.active = row.active;
	if (!sameOptions(row.options, p.options ?? [])) changes.options = row.options;
	if (liveVariants(p.variants).length === 0 && row.price !== undefined && row.price !== p.price) changes.price = row.price;
	return changes;
}

/** The fields of a variant that a row changes. */
export function variantChanges(
	v: { options: Record<string, string>; price: number; active: boolean },
	row: VariantRow,
): Partial<Pick<VariantRow, "options" | "price" | "active">> {
	const changes: ReturnType<typeof variantChanges> = {};
	if (!sameCombination(row.options, v.options)) changes.options = row.options;
	if (row.price !== v.price) changes.price = row.price;
	if (row.active !== v.active) changes.active = row.active;
	return changes;
}
