import { get } from "../api/client";
import type { Category, Product } from "../api/types";
import { t } from "../i18n";
import { Money } from "./ui";
import { Picture } from "./picture";

let tree: Promise<Category[]> | null = null;
/** The category tree, fetched once per page load (an admin change calls `forgetCategories`). */
export function categoryTree(): Promise<Category[]> {
	tree ??= get<Category[]>("/categories").catch(err => {
		tree = null;
		throw err;
	});
	return tree;
}
export function forgetCategories(): void {
	tree = null;
}

export function flatten(nodes: Category[], depth = 0): (Category & { depth: number })[] {
	return nodes.flatMap(n => [{ ...n, depth }, ...flatten(n.children ?? [], depth + 1)]);
}

export function CategoryTree(props: { nodes: Category[]; current?: string | null; counts?: Record<string, number>; href(slug: string): string }) {
	return (
		<ul class="category-tree">
			{props.nodes.map(n => (
				<li key={n.id}>
					<a href={props.href(n.slug)} aria-current={props.current === n.slug ? "page" : undefined}>
						{n.name}
						{props.counts && props.counts[n.slug] !== undefined ? <span class="facet-count"> ({props.counts[n.slug]})</span> : null}
					</a>
					{n.children && n.children.length > 0 ? <CategoryTree {...props} nodes={n.children} /> : null}
				</li>
			))}
		</ul>
	);
}

export function Availability(props: { available: number }) {
	if (props.available <= 0) return <span class="stock stock-out">{t("product.outOfStock")}</span>;
	if (props.available <= 5) return <span class="stock stock-low">{t("product.fewLeft", { count: props.available })}</span>;
	return <span class="stock stock-in">{t("product.inStock")}</span>;
}

export function ProductCard(props: { product: Product }) {
	const p = props.product;
	const hasVariants = p.variants.length > 0;
	return (
		<li class="product-card">
			<a href={`/products/${encodeURIComponent(p.id)}`} class="product-link">
				{p.images?.[0] ? (
					<Picture
						image={p.images[0]}
						fallbackAlt={p.name}
						sizes="(max-width: 600px) 50vw, 240px"
						presets={["thumb", "card"]}
						class="product-thumb-picture"
					/>
				) : (
					<span class="product-thumb" aria-hidden="true">
						{p.name.slice(0, 1)}
					</span>
				)}
				<span class="product-name">{p.name}</span>
			</a>
			<p class="product-price">
				{hasVariants ? <span>{t("product.from")} </span> : null}
				<Money amount={p.price} currency={p.currency} />
			</p>
			<p>
				<Availability available={p.available} />
			</p>
		</li>
	);
}
