import { Images } from "./images";
import { useState } from "preact/hooks";
import { get } from "../../api/client";
import type { Product, ProductPage } from "../../api/types";
import { Empty, ErrorAlert, Loading, Money, Page, Pagination } from "../../components/ui";
import { t } from "../../i18n";
import { useDebounced, useLoad } from "../../lib/hooks";
import { navigate } from "../../lib/router";
import { Filters } from "./common";
import { ProductForm } from "./product-edit/product-form";
import { Inventory } from "./product-edit/inventory";
import { Variants } from "./product-edit/variants";
import { DeleteProduct } from "./product-edit/delete-product";

export function AdminProducts() {
	const [q, setQ] = useState("");
	const [page, setPage] = useState(1);
	const query = useDebounced(q, 250);
	const list = useLoad(
		signal =>
			get<ProductPage>("/products", { q: query.trim() || undefined, sort: query.trim() ? "relevance" : "-createdAt", page, pageSize: 20 }, { signal }),
		[query, page],
	);
	return (
		<Page
			title={t("admin.products.title")}
			wide
			actions={
				<>
					<a class="button button-secondary" href="/admin/products/import">
						{t("admin.nav.import")}
					</a>
					<a class="button" href="/admin/products/new">
						{t("admin.products.new")}
					</a>
				</>
			}
		>
			<Filters label={t("admin.products.search")}>
				<div class="field">
					<label for="ap-q">{t("admin.products.search")}</label>
					<input
						id="ap-q"
						type="search"
						value={q}
						onInput={e => {
							setQ((e.currentTarget as HTMLInputElement).value);
							setPage(1);
						}}
					/>
				</div>
			</Filters>
			<p class="hint">{t("admin.products.inactiveHint")}</p>
			{list.error ? <ErrorAlert error={list.error} /> : null}
			{!list.data ? (
				<Loading />
			) : list.data.rows.length === 0 ? (
				<Empty>{t("search.none")}</Empty>
			) : (
				<>
					<table class="table">
						<caption class="visually-hidden">{t("admin.products.title")}</caption>
						<thead>
							<tr>
								<th scope="col">{t("admin.products.name")}</th>
								<th scope="col">{t("product.sku")}</th>
								<th scope="col">{t("admin.products.price")}</th>
								<th scope="col">{t("admin.products.stock")}</th>
								<th scope="col">{t("admin.products.available")}</th>
								<th scope="col">{t("admin.products.variants")}</th>
							</tr>
						</thead>
						<tbody>
							{list.data.rows.map(p => (
								<tr key={p.id}>
									<th scope="row">
										<a href={`/admin/products/${p.id}`}>{p.name}</a>
									</th>
									<td>{p.sku}</td>
									<td>
										<Money amount={p.price} currency={p.currency} />
									</td>
									<td>{p.stock}</td>
									<td>{p.available}</td>
									<td>{p.variants.length || "—"}</td>
								</tr>
							))}
						</tbody>
					</table>
					<Pagination page={list.data.page} totalPages={list.data.totalPages} total={list.data.total} onPage={setPage} />
				</>
			)}
		</Page>
	);
}

export function AdminProductEdit(props: { params: Record<string, string> }) {
	const id = props.params.id;
	const product = useLoad(async signal => (id ? get<Product>(`/products/${encodeURIComponent(id)}`, undefined, { signal }) : null), [id]);
	if (id && product.error) {
		return (
			<Page title={t("admin.products.edit")}>
				<ErrorAlert error={product.error} />
			</Page>
		);
	}
	if (id && !product.data) return <Loading />;
	const p = product.data ?? null;
	return (
		<Page title={p ? t("admin.products.editNamed", { name: p.name }) : t("admin.products.new")} wide>
			<p>
				<a href="/admin/products">{t("admin.products.back")}</a>
				{p ? (
					<>
						{" · "}
						<a href={`/products/${p.id}`}>{t("admin.products.viewInStore")}</a>
					</>
				) : null}
			</p>
			<ProductForm key={p?.id ?? "new"} product={p} onSaved={saved => (p ? product.set(saved) : navigate(`/admin/products/${saved.id}`))} />
			{p ? (
				<>
					<Inventory product={p} onSaved={product.set} />
					<Variants product={p} onChanged={() => product.reload()} />
					<Images product={p} onChanged={() => product.reload()} />
					<DeleteProduct product={p} />
				</>
			) : null}
		</Page>
	);
}
