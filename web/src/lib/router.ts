/**
 * A small history router: client routes are real paths (`/products/123`, `/admin/orders`), which
 * the gateway answers with index.html. After every navigation the page's <h1> gets the focus
 * (screen readers announce the new page) and the window scrolls to the top.
 */
import { createStore } from "./store";

export interface Location {
	path: string;
	query: URLSearchParams;
	/** Changes on every navigation (even to the same path). */
	key: number;
}

let key = 0;
function current(): Location {
	return { path: window.location.pathname, query: new URLSearchParams(window.location.search), key: key++ };
}

export const location = createStore<Location>(current());
let focusOnNextRender = false;

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
	if (opts.replace) history.replaceState(null, "", to);
	else history.pushState(null, "", to);
	focusOnNextRender = true;
	location.set(current());
}

/** Change the query string of the current page without a new history entry and without moving the focus. */
export function replaceQuery(query: URLSearchParams): void {
	const s = query.toString();
	history.replaceState(null, "", window.location.pathname + (s ? `?${s}` : ""));
	location.set({ ...current(), key: location.get().key });
}

window.addEventListener("popstate", () => {
	focusOnNextRender = true;
	location.set(current());
});

/** Called by the page component once it has rendered its heading. */
export function focusPageHeading(title: string): void {
	document.title = title;
	if (!focusOnNextRender) return;
	focusOnNextRender = false;
	const h1 = document.querySelector<HTMLElement>("main h1");
	if (h1) {
		h1.setAttribute("tabindex", "-1");
		h1.focus({ preventScroll: true });
	}
	window.scrollTo(0, 0);
}

export interface Match {
	params: Record<string, string>;
}

/** `/products/:id` against `/products/123` → `{ id: "123" }`. */
export function matchPath(pattern: string, path: string): Match | null {
	const a = pattern.split("/").filter(Boolean);
	const b = path.split("/").filter(Boolean);
	if (a.length !== b.length) return null;
	const params: Record<string, string> = {};
	for (let i = 0; i < a.length; i++) {
		const seg = a[i]!;
		if (seg.startsWith(":")) params[seg.slice(1)] = decodeURIComponent(b[i]!);
		else if (seg !== b[i]) return null;
	}
	return { params };
}

/** Clicks on same-origin links become client navigations (not with a modifier key or another target). */
export function interceptLinks(): void {
	document.addEventListener("click", e => {
		if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
		const a = (e.target as Element | null)?.closest?.("a");
		if (!a || a.target || a.hasAttribute("download") || a.origin !== window.location.origin) return;
		if (a.pathname.startsWith("/api/")) return;
		e.preventDefault();
		navigate(a.pathname + a.search + a.hash);
	});
}
