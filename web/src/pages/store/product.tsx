import { useState } from "preact/hooks";
import { get, post } from "../../api/client";
import { refreshBadges, setCart } from "../../api/account";
import { session } from "../../api/session";
import type { Cart, Product, Variant } from "../../api/types";
import { Availability, categoryTree, flatten } from "../../components/catalog";
import { ErrorAlert, Field, Loading, Money, Notice, Page } from "../../components/ui";
import { t } from "../../i18n";
import { useLoad, usePolling, useSubmit } from "../../lib/hooks";
import { navigate } from "../../lib/router";
import { altOf, Picture } from "../../components/picture";
import { useStore } from "../../lib/store";

export function ProductPage(props: { params: Record<string, string> }) {
	const id = props.params.id!;
	const product = useLoad(signal => get<Product>(`/products/${encodeURIComponent(id)}`, undefined, { signal }), [id]);
	// Live availability: the product is read again every few seconds while the page is open.
	usePolling(
		async () => {
			if (document.visibilityState !== "visible") return;
			product.set(await get<Product>(`/products/${encodeURIComponent(id)}`));
		},
		Boolean(product.data),
		{ first: 5000, factor: 1.2, max: 15000 },
		[id],
	);
	if (product.error) {
		return (
			<Page title={t("product.notFound")}>
				<ErrorAlert error={product.error} />
				<p>
					<a href="/search">{t("home.browseAll")}</a>
				</p>
			</Page>
		);
	}
	if (!product.data) return <Loading />;
	return <ProductView product={product.data} />;
}

/** The chosen variant's images first, then the product's own; all of them before a choice. */
function Gallery(props: { product: Product; variant: Variant | undefined }) {
	const { product: p, variant } = props;
	const all = p.images ?? [];
	const images = variant?.images?.length ? [...variant.images, ...all.filter(i => i.variantId === null)] : all;
	const [picked, setPicked] = useState<string | null>(null);
	const main = images.find(i => i.id === picked) ?? images[0];
	if (!main)
		return (
			<div class="product-visual" aria-hidden="true">
				{p.name.slice(0, 1)}
			</div>
		);
	return (
		<div class="product-gallery">
			<Picture image={main} fallbackAlt={p.name} sizes="(max-width: 700px) 100vw, 560px" eager class="product-main-picture" />
			{images.length > 1 ? (
				<ul class="gallery-thumbs" aria-label={t("product.pictures")}>
					{images.map(i => (
						<li key={i.id}>
							<button type="button" aria-pressed={i.id === main.id} onClick={() => setPicked(i.id)} aria-label={altOf(i, p.name)}>
								<Picture image={i} fallbackAlt="" sizes="64px" presets={["thumb"]} />
							</button>
						</li>
					))}
				</ul>
			) : null}
		</div>
	);
}

function initialChoice(p: Product): Record<string, string> {
	const variants = p.variants.filter(v => v.active);
	const first = variants.find(v => v.available > 0) ?? variants[0];
	return first ? { ...first.options } : {};
}

function ProductView(props: { product: Product }) {
	const p = props.product;
	const user = useStore(session).user;
	const options = p.options;
	const variants = p.variants.filter(v => v.active);
	const hasVariants = variants.length > 0;
	const [choice, setChoice] = useState<Record<string, string>>(() => initialChoice(p));
	const [quantity, setQuantity] = useState("1");
	const [added, setAdded] = useState(false);
	const cats = useLoad(() => categoryTree(), []);

	const selected: Variant | undefined = hasVariants ? variants.find(v => options.every(o => v.options[o.name] === choice[o.name])) : undefined;
	const price = selected?.price ?? p.price;
	const available = hasVariants ? (selected?.available ?? 0) : p.available;
	const sku = selected?.sku ?? p.sku;

	/** A value is offered when some active variant has it together with the other current choices. */
	const offered = (name: string, value: string) =>
		variants.some(v => v.options[name] === value && options.every(o => o.name === name || !choice[o.name] || v.options[o.name] === choice[o.name]));

	const add = useSubmit(async keys => {
		if (!user) {
			navigate(`/login?next=${encodeURIComponent(`/products/${p.id}`)}`);
			return;
		}
		const body: Record<string, unknown> = { productId: p.id, quantity: Number(quantity) };
		if (hasVariants) body.variantId = selected?.id;
		await post("/cart/items", body, { idempotencyKey: keys.for(body) });
		setCart(await get<Cart>("/cart"));
		setAdded(true);
		void refreshBadges();
	});

	const catNames = flatten(cats.data ?? []);
	return (
		<Page title={p.name}>
			<div class="product-layout">
				<Gallery product={p} variant={selected} />
				<div class="product-info">
					<p class="product-price-big">
						<Money amount={price} currency={p.currency} />
					</p>
					<p class="sku">
						{t("product.sku")}: {sku}
					</p>
					<p aria-live="polite" class="availability">
						<Availability available={available} />
					</p>
					<p>{p.description}</p>
					{p.categories.length > 0 ? (
						<p class="tags">
							{t("product.categories")}:{" "}
							{p.categories.map((slug, i) => (
								<span key={slug}>
									{i > 0 ? ", " : ""}
									<a href={`/search?category=${encodeURIComponent(slug)}`}>{catNames.find(c => c.slug === slug)?.name ?? slug}</a>
								</span>
							))}
						</p>
					) : null}
					<form
						class="add-form"
						onSubmit={e => {
							e.preventDefault();
							setAdded(false);
							void add.run();
						}}
					>
						{hasVariants
							? options.map(o => (
									<fieldset key={o.name} class="variant-picker">
										<legend>{o.name}</legend>
										<div class="chips">
											{o.values.map(value => {
												const id = `opt-${o.name}-${value}`.replace(/[^A-Za-z0-9_-]/g, "_");
												const isOffered = offered(o.name, value);
												return (
													<span class="chip" key={value}>
														<input
															type="radio"
															id={id}
															name={`option-${o.name}`}
															value={value}
															checked={choice[o.name] === value}
															disabled={!variants.some(v => v.options[o.name] === value)}
															onChange={() => {
																const next = { ...choice, [o.name]: value };
																// Keep the other choices when that combination is sold; otherwise take the first one that is.
																if (!variants.some(v => options.every(x => v.options[x.name] === next[x.name]))) {
																	const v =
																		variants.find(v => v.options[o.name] === value && v.available > 0) ??
																		variants.find(v => v.options[o.name] === value);
																	if (v) Object.assign(next, v.options);
																}
																setChoice(next);
																setAdded(false);
															}}
														/>
														<label for={id} class={isOffered ? "" : "chip-unavailable"}>
															{value}
														</label>
													</span>
												);
											})}
										</div>
									</fieldset>
								))
							: null}
						{hasVariants && !selected ? <Notice kind="warning">{t("product.combinationUnavailable")}</Notice> : null}
						<Field
							label={t("product.quantity")}
							name="quantity"
							type="number"
							min={1}
							max={99}
							value={quantity}
							onValue={setQuantity}
							errors={add.fields}
						/>
						<button type="submit" disabled={add.busy || available <= 0 || (hasVariants && !selected)}>
							{t("product.addToCart")}
						</button>
						<ErrorAlert error={add.error} shown={["quantity"]} />
						{added ? (
							<Notice kind="success" live>
								{t("product.added")} <a href="/cart">{t("product.viewCart")}</a>
							</Notice>
						) : null}
					</form>
				</div>
			</div>
		</Page>
	);
}
