/** The contract's list shape: `?page&pageSize` in, `{ rows, total, page, pageSize, totalPages }` out. */
export const MAX_PAGE_SIZE = 100;

export const pageParams = {
	page: { type: "number", integer: true, min: 1, convert: true, optional: true, default: 1 },
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

export function offsetOf(page: number, pageSize: number): number {
	return (page - 1) * pageSize;
}
