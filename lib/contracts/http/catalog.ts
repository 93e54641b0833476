/** Request shapes of the catalog routes (products service). See lib/contracts/params.ts. */
import { MAX_UNIT_PRICE } from "../../domain/money.js";
import { pageParams } from "../../paging.js";
import { idRule } from "../ids.js";
import { currencyRule } from "../currencies.js";
import { optional, patchOf, text, type ParamsSchema } from "../params.js";

export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const MAX_CATEGORIES_PER_PRODUCT = 20;
export const MAX_STOCK = 1_000_000_000;
export const PRODUCT_SORTS = ["relevance", "price", "-price", "name", "-createdAt"] as const;

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
	},
	"products.get": { id: idRule },
	"products.create": {
		$$strict: true,
		...productFields,
		description: optional(productFields.description),
		categories: optional(productFields.categories),
		active: optional(productFields.active),
		stock: optional(stock),
	},
	"products.update": { $$strict: true, id: idRule, ...patchOf(productFields) },
	"products.remove": { id: idRule },
	"products.adjustInventory": {
		$$strict: true,
		id: idRule,
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
	},
	"products.categoryTree": {},
	"products.createCategory": { $$strict: true, slug, name: categoryName, parentId },
	"products.updateCategory": { $$strict: true, id: idRule, ...patchOf({ slug, name: categoryName }), parentId },
	"products.removeCategory": { id: idRule },
} as const satisfies Record<string, ParamsSchema>;
