/**
 * The contract's list shape: `?page&pageSize` in, `{ rows, total, page, pageSize, totalPages }` out.
 * A list is never read deeper than MAX_ROWS_DEEP rows (page × pageSize): skipping further costs
 * the store a scan for nothing a person would page to; past that the answer is a 422 that says
 * to narrow the search.
 */
import { invalidField } from "./errors.js";

export const MAX_PAGE_SIZE = 100;
export const MAX_ROWS_DEEP = 10_000;

export const pageParams = {
	page: {
		type: "number",
		integer: true,
		min: 1,
		max: MAX_ROWS_DEEP,
		convert: true,
		optional: true,
		default: 1,
		description: `1-based; page × pageSize may be at most ${MAX_ROWS_DEEP}`,
	},
	pageSize: { type: "number", integer: true, min: 1, max: MAX_PAGE_SIZE, convert: true, optional: true, default: 20 },
} as const;

export interface Page<T> {
	rows: T[];
	total: number;
	page: number;
	pageSize: number;
	totalPages: number;
}

export function paged<T>(rows: T[], total: number, page: number, pageSize: number): Page<T> {
	return { rows, total, page, pageSize, totalPages: Math.max(1, Math.ceil(total / pageSize)) };
}

/** The rows to skip for a page; a page deeper than MAX_ROWS_DEEP is refused (422 on `page`). */
export function offsetOf(page: number, pageSize: number): number {
	if (page * pageSize > MAX_ROWS_DEEP) {
		throw invalidField("page", `Lists go at most ${MAX_ROWS_DEEP} rows deep (page × pageSize); narrow the search with filters instead.`, "pageTooDeep");
	}
	return (page - 1) * pageSize;
}
