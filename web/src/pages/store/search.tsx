import { useEffect, useState } from "preact/hooks";
import { get } from "../../api/client";
import type { ProductPage } from "../../api/types";
import { CategoryTree, ProductCard, categoryTree } from "../../components/catalog";
import { ErrorAlert, Loading, Page, Pagination } from "../../components/ui";
import { formatMoney, moneyInput, parseMoney, t, type MessageKey } from "../../i18n";
import { useDebounced, useLoad } from "../../lib/hooks";
import { location, replaceQuery } from "../../lib/router";
import { useStore } from "../../lib/store";

const SORTS = ["relevance", "price", "-price", "name", "-createdAt"] as const;
const PAGE_SIZE = 12;
/** Price inputs are in the shop's main currency (the demo catalog's). */
const CURRENCY = "EUR";

export function Search() {
	const loc = useStore(location);
	const query = loc.query;
	const [text, setText] = useState(query.get("q") ?? "");
	const debounced = useDebounced(text, 250);
	const [minText, setMinText] = useState(query.get("minPrice") ? moneyInput(Number(query.get("minPrice")), CURRENCY) : "");
	const [maxText, setMaxText] = useState(query.get("maxPrice") ? moneyInput(Number(query.get("maxPrice")), CURRENCY) : "");
	const minDebounced = useDebounced(minText, 400);
	const maxDebounced = useDebounced(maxText, 400);

	const update = (change: Record<string, string | string[] | null>, keepPage = false) => {
		const next = new URLSearchParams(location.get().query);
		for (const [k, v] of Object.entries(change)) {
			next.delete(k);
			if (Array.isArray(v)) v.forEach(x => next.append(k, x));
			else if (v !== null && v !== "") next.set(k, v);
		}
		if (!keepPage) next.delete("page");
		replaceQuery(next);
	};

	// Search as you type: the query string follows the box (no new history entry per key).
	useEffect(() => {
		if ((location.get().query.get("q") ?? "") !== debounced.trim()) update({ q: debounced.trim() || null });
	}, [debounced]);
	useEffect(() => {
		const min = minDebounced.trim() ? parseMoney(minDebounced, CURRENCY) : null;
		const max = maxDebounced.trim() ? parseMoney(maxDebounced, CURRENCY) : null;
		const cur = location.get().query;
		const minS = min === null || Number.isNaN(min) ? null : String(min);
		const maxS = max === null || Number.isNaN(max) ? null : String(max);
		if ((cur.get("minPrice") ?? null) !== minS || (cur.get("maxPrice") ?? null) !== maxS) update({ minPrice: minS, maxPrice: maxS });
	}, [minDebounced, maxDebounced]);

	const q = query.get("q") ?? "";
	const category = query.get("category");
	const inStock = query.get("inStock") === "true";
	const sort = query.get("sort") ?? (q ? "relevance" : "");
	const options = query.getAll("option");
	const page = Number(query.get("page") ?? "1") || 1;
	const apiQuery = {
		q: q || undefined,
		category: category || undefined,
		minPrice: query.get("minPrice") || undefined,
		maxPrice: query.get("maxPrice") || undefined,
		inStock: inStock ? "true" : undefined,
		sort: sort || undefined,
		option: options,
		facets: "true",
		page,
		pageSize: PAGE_SIZE,
	};
	const key = JSON.stringify(apiQuery);
	const results = useLoad(signal => get<ProductPage>("/products", apiQuery, { signal }), [key]);
	const cats = useLoad(() => categoryTree(), []);
	const facets = results.data?.facets;
	const categoryCounts = facets ? Object.fromEntries(facets.categories.map(c => [c.slug, c.count])) : undefined;

	const toggleOption = (name: string, value: string, on: boolean) => {
		const v = `${name}:${value}`;
		update({ option: on ? [...options.filter(o => o !== v), v] : options.filter(o => o !== v) });
	};

	return (
		<Page title={category ? t("search.titleCategory", { category: findName(cats.data, category) ?? category }) : t("search.title")} wide>
			<div class="search-layout">
				<aside class="filters" aria-labelledby="filters-h">
					<h2 id="filters-h">{t("search.filters")}</h2>
					<section aria-labelledby="f-cat">
						<h3 id="f-cat">{t("search.categories")}</h3>
						<p>
							<button type="button" class="link-button" aria-pressed={!category} onClick={() => update({ category: null })}>
								{t("search.allCategories")}
							</button>
						</p>
						{cats.data ? (
							<CategoryTree
								nodes={cats.data}
								current={category}
								counts={categoryCounts}
								href={slug => {
									const next = new URLSearchParams(query);
									next.set("category", slug);
									next.delete("page");
									return `/search?${next}`;
								}}
							/>
						) : null}
					</section>
					<fieldset>
						<legend>{t("search.price")}</legend>
						<div class="price-range">
							<div class="field">
								<label for="f-min">{t("search.minPrice")}</label>
								<input id="f-min" inputMode="decimal" value={minText} onInput={e => setMinText((e.currentTarget as HTMLInputElement).value)} />
							</div>
							<div class="field">
								<label for="f-max">{t("search.maxPrice")}</label>
								<input id="f-max" inputMode="decimal" value={maxText} onInput={e => setMaxText((e.currentTarget as HTMLInputElement).value)} />
							</div>
						</div>
						{facets && facets.price.length > 0 ? (
							<ul class="facet-list">
								{facets.price.map(b => (
									<li key={`${b.min}-${b.max}`}>
										<button
											type="button"
											class="link-button"
											onClick={() => {
												setMinText(moneyInput(b.min, CURRENCY));
												setMaxText(b.max === null ? "" : moneyInput(b.max, CURRENCY));
											}}
										>
											{b.max === null
												? t("search.priceOver", { min: formatMoney(b.min, CURRENCY) })
												: `${formatMoney(b.min, CURRENCY)} – ${formatMoney(b.max, CURRENCY)}`}
										</button>{" "}
										<span class="facet-count">({b.count})</span>
									</li>
								))}
							</ul>
						) : null}
					</fieldset>
					{facets
						? Object.entries(facets.options).map(([name, values]) => (
								<fieldset key={name}>
									<legend>{name}</legend>
									{values.map(v => {
										const id = `f-opt-${name}-${v.value}`.replace(/[^A-Za-z0-9_-]/g, "_");
										return (
											<div class="field field-check" key={v.value}>
												<input
													id={id}
													type="checkbox"
													checked={options.includes(`${name}:${v.value}`)}
													onChange={e => toggleOption(name, v.value, (e.currentTarget as HTMLInputElement).checked)}
												/>
												<label for={id}>
													{v.value} <span class="facet-count">({v.count})</span>
												</label>
											</div>
										);
									})}
								</fieldset>
							))
						: null}
					<div class="field field-check">
						<input
							id="f-stock"
							type="checkbox"
							checked={inStock}
							onChange={e => update({ inStock: (e.currentTarget as HTMLInputElement).checked ? "true" : null })}
						/>
						<label for="f-stock">
							{t("search.inStockOnly")}
							{facets ? <span class="facet-count"> ({facets.inStock})</span> : null}
						</label>
					</div>
				</aside>
				<section class="results" aria-labelledby="results-h">
					<div class="results-bar">
						<div class="field search-field">
							<label for="search-q">{t("search.label")}</label>
							<input
								id="search-q"
								type="search"
								value={text}
								placeholder={t("search.placeholder")}
								autoComplete="off"
								onInput={e => setText((e.currentTarget as HTMLInputElement).value)}
							/>
						</div>
						<div class="field">
							<label for="search-sort">{t("search.sort")}</label>
							<select id="search-sort" value={sort} onChange={e => update({ sort: (e.currentTarget as HTMLSelectElement).value || null })}>
								{!q ? <option value="">{t("search.sort.default")}</option> : null}
								{SORTS.map(s => (
									<option key={s} value={s}>
										{t(`search.sort.${s}` as MessageKey)}
									</option>
								))}
							</select>
						</div>
					</div>
					<h2 id="results-h" class="visually-hidden">
						{t("search.results")}
					</h2>
					<p class="result-count" role="status" aria-live="polite">
						{results.data ? t("search.count", { count: results.data.total }) : ""}
					</p>
					{results.error ? <ErrorAlert error={results.error} /> : null}
					{results.loading && !results.data ? <Loading /> : null}
					{results.data ? (
						results.data.rows.length === 0 ? (
							<p class="empty">{t("search.none")}</p>
						) : (
							<ul class={results.loading ? "product-grid stale" : "product-grid"} aria-busy={results.loading ? "true" : undefined}>
								{results.data.rows.map(p => (
									<ProductCard key={p.id} product={p} />
								))}
							</ul>
						)
					) : null}
					{results.data ? (
						<Pagination
							page={results.data.page}
							totalPages={results.data.totalPages}
							total={results.data.total}
							onPage={p => update({ page: String(p) }, true)}
						/>
					) : null}
				</section>
			</div>
		</Page>
	);
}

function findName(nodes: { slug: string; name: string; children?: unknown[] }[] | undefined, slug: string): string | undefined {
	for (const n of nodes ?? []) {
		if (n.slug === slug) return n.name;
		const below = findName(n.children as never, slug);
		if (below) return below;
	}
	return undefined;
}
