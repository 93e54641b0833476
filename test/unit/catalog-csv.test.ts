import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
	CSV_COLUMNS,
	guardCell,
	headerProblems,
	parseRow,
	productChanges,
	rowOf,
	rowsOfProduct,
	unguardCell,
	variantChanges,
	type ProductRow,
	type VariantRow,
} from "../../lib/domain/catalog-csv.js";
import { newProduct, type ProductRecord } from "../../lib/domain/catalog.js";

const AT = "2026-01-01T00:00:00.000Z";
const header = [...CSV_COLUMNS];
const row = (cells: Partial<Record<(typeof CSV_COLUMNS)[number], string>>) =>
	rowOf(
		header,
		header.map(c => cells[c] ?? ""),
	)!;

describe("formula guard", () => {
	it("prefixes the cells a spreadsheet would run, and only those (and those starting with a quote mark)", () => {
		expect(guardCell('=HYPERLINK("http://x","y")')).toBe(`'=HYPERLINK("http://x","y")`);
		for (const c of ["+1", "-1", "@SUM(A1)", "\tx", "\rx", "'quoted"]) expect(guardCell(c)).toBe(`'${c}`);
		for (const c of ["Mug", "", "1999", "a=b"]) expect(guardCell(c)).toBe(c);
	});

	it("reads back every cell as it was (property)", () => {
		fc.assert(fc.property(fc.string(), s => unguardCell(guardCell(s)) === s));
		fc.assert(fc.property(fc.constantFrom("=", "+", "-", "@", "\t", "\r", "'"), fc.string(), (start, rest) => guardCell(start + rest).startsWith("'")));
	});

	it("leaves a hand-typed leading quote mark that guards nothing", () => {
		expect(unguardCell("'tis")).toBe("'tis");
	});
});

describe("header", () => {
	it("takes the columns in any order and names what is unknown, twice or missing", () => {
		expect(headerProblems([...CSV_COLUMNS].reverse())).toEqual([]);
		const problems = headerProblems(["sku", "sku", "colour"]);
		expect(problems.map(p => p.field)).toEqual(expect.arrayContaining(["sku", "colour", "name", "variant_options"]));
	});
	it("refuses a row with another number of cells", () => {
		expect(rowOf(header, ["a"])).toBeNull();
	});
});

describe("rows", () => {
	it("reads a product row and a variant row", () => {
		expect(parseRow(row({ sku: "TEE", name: "Tee", categories: "a|b", currency: "EUR", options: "size=S|M;colour=Red", active: "FALSE" }))).toEqual({
			row: {
				kind: "product",
				sku: "TEE",
				name: "Tee",
				description: "",
				categories: ["a", "b"],
				currency: "EUR",
				active: false,
				options: [
					{ name: "size", values: ["S", "M"] },
					{ name: "colour", values: ["Red"] },
				],
			},
		});
		expect(parseRow(row({ sku: "TEE", variant_sku: "TEE-S", price: "1500", stock: "3", variant_options: "size=S;colour=Red" }))).toEqual({
			row: { kind: "variant", sku: "TEE", variantSku: "TEE-S", options: { size: "S", colour: "Red" }, price: 1500, stock: 3, active: true },
		});
	});

	it("names the field of each problem", () => {
		const fields = (cells: Parameters<typeof row>[0]) => {
			const parsed = parseRow(row(cells));
			return "problems" in parsed ? parsed.problems.map(p => p.field) : [];
		};
		expect(fields({ sku: "", price: "1" })).toEqual(["sku"]);
		expect(fields({ sku: "A", price: "1.5" })).toEqual(["price"]);
		expect(fields({ sku: "A", price: "1", stock: "-2" })).toEqual(["stock"]);
		expect(fields({ sku: "A", price: "1", active: "maybe" })).toEqual(["active"]);
		expect(fields({ sku: "A" })).toEqual(["price"]);
		expect(fields({ sku: "A", variant_sku: "A-1", price: "1", variant_options: "size" })).toEqual(["variant_options"]);
	});
});

const optionText = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ]{0,8}[A-Za-z0-9]$/);
const product = fc
	.record({
		sku: fc.stringMatching(/^[A-Z][A-Z0-9-]{0,10}$/),
		name: fc.string({ minLength: 1 }),
		description: fc.string(),
		price: fc.nat(1_000_000),
		currency: fc.constantFrom("EUR", "USD"),
		categories: fc.uniqueArray(fc.stringMatching(/^[a-z]+(-[a-z0-9]+)?$/), { maxLength: 3 }),
		stock: fc.nat(1000),
		active: fc.boolean(),
		values: fc.uniqueArray(optionText, { maxLength: 4 }),
		prices: fc.array(fc.nat(100_000), { minLength: 4, maxLength: 4 }),
	})
	.map((r): ProductRecord =>
		newProduct(
			"p1",
			{
				...r,
				...(r.values.length && {
					options: [{ name: "size", values: r.values }],
					variants: r.values.map((v, i) => ({
						id: `v${i}`,
						sku: `${r.sku}-${i}`,
						options: { size: v },
						price: r.prices[i]!,
						stock: i,
						active: i % 2 === 0,
					})),
				}),
			},
			AT,
		),
	);

describe("round trip (property)", () => {
	it("a product exported and read back changes nothing", () => {
		fc.assert(
			fc.property(product, p => {
				const [own, ...variants] = rowsOfProduct(p).map(cells => {
					const parsed = parseRow(rowOf(header, cells)!);
					if ("problems" in parsed) throw new Error(JSON.stringify(parsed.problems));
					return parsed.row;
				});
				expect(productChanges(p, own as ProductRow)).toEqual({});
				if ((p.variants ?? []).length === 0) expect((own as ProductRow).stock).toBe(p.stock);
				expect(variants).toHaveLength(p.variants?.length ?? 0);
				variants.forEach((v, i) => {
					expect(variantChanges(p.variants![i]!, v as VariantRow)).toEqual({});
					expect((v as VariantRow).stock).toBe(p.variants![i]!.stock);
				});
			}),
		);
	});

	it("sees a change of any field", () => {
		const p = newProduct("p1", { sku: "A", name: "A", price: 100, currency: "EUR" }, AT);
		const base: ProductRow = {
			kind: "product",
			sku: "A",
			name: "A",
			description: "",
			categories: [],
			price: 100,
			currency: "EUR",
			active: true,
			options: [],
		};
		expect(productChanges(p, base)).toEqual({});
		expect(productChanges(p, { ...base, name: "B", price: 200, categories: ["x"] })).toEqual({ name: "B", price: 200, categories: ["x"] });
	});
});
