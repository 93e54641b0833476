/** Request shapes of the catalog routes (products service). See lib/contracts/params.ts. */
import { MAX_UNIT_PRICE } from "../../domain/money.js";
import { pageParams } from "../../paging.js";
import { idRule } from "../ids.js";
import { currencyRule } from "../currencies.js";
import { optional, patchOf, text, type ParamsSchema } from "../params.js";
import { MAX_OPTION_VALUES, MAX_OPTIONS } from "../../domain/variants.js";

export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const MAX_CATEGORIES_PER_PRODUCT = 20;
export const MAX_STOCK = 1_000_000_000;
export const PRODUCT_SORTS = ["relevance", "price", "-price", "name", "-createdAt"] as const;
/** `option=<name>:<value>` in a search. */
export const OPTION_FILTER_PATTERN = /^[^:]{1,40}:[^:]{1,40}$/u;

const sku = {
	type: "string",
	pattern: SKU_PATTERN,
	messages: { stringPattern: "The '{field}' field must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit." },
} as const;
const slug = {
	type: "string",
	min: 1,
	max: 64,
	pattern: SLUG_PATTERN,
	messages: { stringPattern: "The '{field}' field must be lowercase words joined by '-'." },
} as const;
const currency = currencyRule;
const price = { type: "number", integer: true, min: 0, max: MAX_UNIT_PRICE, description: "Integer minor units (cents)" } as const;
const stock = { type: "number", integer: true, min: 0, max: MAX_STOCK } as const;
const productFields = {
	sku,
	name: text(200),
	description: { type: "string", max: 5000 },
	price,
	currency,
	categories: { type: "array", unique: true, max: MAX_CATEGORIES_PER_PRODUCT, items: slug, description: "Category slugs" },
	active: { type: "boolean" },
} as const;
const categoryName = text(100);

/** An option's name ("size") or value ("M"): a few words, the characters of the Latin scripts. */
export const OPTION_TEXT_PATTERN = /^[0-9A-Za-zÀ-ÖØ-öø-ÿ][0-9A-Za-zÀ-ÖØ-öø-ÿ '/+&()_-]{0,39}$/;
const optionText = {
	type: "string",
	pattern: OPTION_TEXT_PATTERN,
	messages: { stringPattern: "The '{field}' field must be 1 to 40 letters, digits, spaces or ' / + & ( ) _ -, starting with a letter or digit." },
} as const;
const optionsRule = {
	type: "array",
	max: MAX_OPTIONS,
	description: "What the variants are combinations of, e.g. size and colour",
	items: {
		type: "object",
		strict: true,
		props: {
			name: optionText,
			values: { type: "array", min: 1, max: MAX_OPTION_VALUES, unique: true, items: optionText, description: "Each value once (case does not matter)" },
		},
	},
} as const;
const variantOptions = {
	type: "record",
	key: optionText,
	value: optionText,
	description: 'One value for each of the product\'s options, e.g. { "size": "M", "colour": "Black" }',
} as const;
const variantFields = { sku, options: variantOptions, price, active: { type: "boolean" } } as const;
const stockChange = {
	delta: {
		type: "number",
		integer: true,
		min: -MAX_STOCK,
		max: MAX_STOCK,
		optional: true,
		description: "Units to add (negative: remove); give this or `stock`",
	},
	stock: { ...stock, optional: true, description: "Units on hand; give this or `delta`" },
	// Exactly one of the two (the products service refuses both and neither).
	$$allOf: [{ oneOf: [{ required: ["delta"] }, { required: ["stock"] }] }],
} as const;
const parentId = { ...idRule, optional: true, nullable: true } as const;

export const CATALOG = {
	"products.search": {
		...pageParams,
		q: { type: "string", optional: true, max: 200, description: "Words to find in name, description, SKU and option values" },
		category: optional(slug),
		minPrice: { type: "number", integer: true, min: 0, convert: true, optional: true },
		maxPrice: { type: "number", integer: true, min: 0, convert: true, optional: true },
		inStock: { type: "boolean", convert: true, optional: true },
		sort: { type: "enum", values: PRODUCT_SORTS, optional: true },
		option: {
			type: "array",
			convert: true,
			optional: true,
			max: 20,
			items: {
				type: "string",
				pattern: OPTION_FILTER_PATTERN,
				messages: { stringPattern: "The '{field}' field must be '<option>:<value>', e.g. 'size:M'." },
			},
			description: "`<option>:<value>`, repeatable (`option=size:M&option=size:L&option=colour:Black`): a product with a variant that has them",
		},
		facets: {
			type: "boolean",
			convert: true,
			optional: true,
			description: "Also count categories, option values, price ranges and stock over the whole result",
		},
	},
	"products.get": { id: idRule },
	"products.create": {
		$$strict: true,
		...productFields,
		description: optional(productFields.description),
		categories: optional(productFields.categories),
		active: optional(productFields.active),
		stock: optional(stock),
		options: optional(optionsRule),
	},
	"products.update": { $$strict: true, id: idRule, ...patchOf({ ...productFields, options: optionsRule }) },
	"products.remove": { id: idRule },
	"products.adjustInventory": { $$strict: true, id: idRule, ...stockChange },
	"products.createVariant": { $$strict: true, id: idRule, ...variantFields, active: optional(variantFields.active), stock: optional(stock) },
	"products.updateVariant": { $$strict: true, id: idRule, variantId: idRule, ...patchOf(variantFields) },
	"products.removeVariant": { id: idRule, variantId: idRule },
	"products.adjustVariantInventory": { $$strict: true, id: idRule, variantId: idRule, ...stockChange },
	"products.categoryTree": {},
	"products.createCategory": { $$strict: true, slug, name: categoryName, parentId },
	"products.updateCategory": { $$strict: true, id: idRule, ...patchOf({ slug, name: categoryName }), parentId },
	"products.removeCategory": { id: idRule },
	/** The file is the multipart stream (services/products/csv-transfer.ts). */
	"products.importCsv": {},
	"products.importStatus": { jobId: { type: "string", max: 100, description: "The id POST /products/import answered (anything else: 404)" } },
	"products.exportCsv": {},
} as const satisfies Record<string, ParamsSchema>;
