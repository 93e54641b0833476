import { get } from "../../api/client";
import type { ProductPage } from "../../api/types";
import { CategoryTree, ProductCard, categoryTree } from "../../components/catalog";
import { ErrorAlert, Loading, Page } from "../../components/ui";
import { t } from "../../i18n";
import { useLoad } from "../../lib/hooks";
import { navigate } from "../../lib/router";

export function Home() {
	const cats = useLoad(() => categoryTree(), []);
	const newest = useLoad(signal => get<ProductPage>("/products", { sort: "-createdAt", pageSize: 8 }, { signal }), []);
	return (
		<Page title={t("home.title")}>
			<form
				class="search-bar"
				role="search"
				onSubmit={e => {
					e.preventDefault();
					const q = new FormData(e.currentTarget as HTMLFormElement).get("q");
					navigate(`/search?q=${encodeURIComponent(String(q ?? ""))}`);
				}}
			>
				<label for="home-q">{t("search.label")}</label>
				<input id="home-q" name="q" type="search" placeholder={t("search.placeholder")} />
				<button type="submit">{t("search.submit")}</button>
			</form>
			<div class="home-grid">
				<section aria-labelledby="home-cats">
					<h2 id="home-cats">{t("home.categories")}</h2>
					{cats.error ? (
						<ErrorAlert error={cats.error} />
					) : cats.data ? (
						<CategoryTree nodes={cats.data} href={slug => `/search?category=${encodeURIComponent(slug)}`} />
					) : (
						<Loading />
					)}
				</section>
				<section aria-labelledby="home-new">
					<h2 id="home-new">{t("home.newest")}</h2>
					{newest.error ? (
						<ErrorAlert error={newest.error} />
					) : newest.data ? (
						<ul class="product-grid">
							{newest.data.rows.map(p => (
								<ProductCard key={p.id} product={p} />
							))}
						</ul>
					) : (
						<Loading />
					)}
					<p>
						<a href="/search">{t("home.browseAll")}</a>
					</p>
				</section>
			</div>
		</Page>
	);
}
