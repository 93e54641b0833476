import type { ComponentChildren } from "preact";

/** One page of a list the API answers whole (shipping methods, tax rates). */
export function pageOf<T>(rows: T[], page: number, pageSize: number): { rows: T[]; total: number; page: number; totalPages: number } {
	const totalPages = Math.max(1, Math.ceil(rows.length / pageSize));
	const p = Math.min(Math.max(1, page), totalPages);
	return { rows: rows.slice((p - 1) * pageSize, p * pageSize), total: rows.length, page: p, totalPages };
}

export function Filters(props: { children: ComponentChildren; label: string }) {
	return (
		<form class="filters-bar" role="search" aria-label={props.label} onSubmit={e => e.preventDefault()}>
			{props.children}
		</form>
	);
}
