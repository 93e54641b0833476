import { Images } from "./images";
import { useState } from "preact/hooks";
import { del, get, patch, post } from "../../api/client";
import type { Product, ProductOption, ProductPage, Variant } from "../../api/types";
import { categoryTree, flatten } from "../../components/catalog";
import { Checkbox, Empty, ErrorAlert, Field, Loading, Money, Notice, Page, Pagination, TextArea } from "../../components/ui";
import { moneyInput, parseMoney, t } from "../../i18n";
import { useDebounced, useLoad, useSubmit } from "../../lib/hooks";
import { navigate } from "../../lib/router";
import { Filters } from "./common";

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

function ProductForm(props: { product: Product | null; onSaved(p: Product): void }) {
	const p = props.product;
	const cats = useLoad(() => categoryTree(), []);
	const [form, setForm] = useState({
		sku: p?.sku ?? "",
		name: p?.name ?? "",
		description: p?.description ?? "",
		price: p ? moneyInput(p.price, p.currency) : "",
		currency: p?.currency ?? "EUR",
		stock: "0",
		active: p?.active ?? true,
		categories: p?.categories ?? ([] as string[]),
		options: (p?.options ?? []).map(o => ({ name: o.name, values: o.values.join(", ") })),
	});
	const set = (k: keyof typeof form) => (v: unknown) => setForm(s => ({ ...s, [k]: v }));
	const [priceError, setPriceError] = useState<string | null>(null);
	const submit = useSubmit(async keys => {
		const price = parseMoney(form.price, form.currency);
		if (Number.isNaN(price)) {
			setPriceError(t("admin.products.priceInvalid"));
			throw new Error("price");
		}
		setPriceError(null);
		const body: Record<string, unknown> = {
			sku: form.sku.trim(),
			name: form.name.trim(),
			description: form.description.trim(),
			price,
			currency: form.currency.trim().toUpperCase(),
			categories: form.categories,
			active: form.active,
		};
		{
			const options: ProductOption[] = form.options
				.filter(o => o.name.trim())
				.map(o => ({
					name: o.name.trim(),
					values: o.values
						.split(",")
						.map(v => v.trim())
						.filter(Boolean),
				}));
			if (options.length > 0 || (p?.options.length ?? 0) > 0) body.options = options;
		}
		if (p) {
			const change = Object.fromEntries(
				Object.entries(body).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify((p as unknown as Record<string, unknown>)[k])),
			);
			props.onSaved(Object.keys(change).length ? await patch<Product>(`/products/${encodeURIComponent(p.id)}`, change) : p);
		} else {
			body.stock = Number(form.stock) || 0;
			props.onSaved(await post<Product>("/products", body, { idempotencyKey: keys.for(body) }));
		}
	});
	const errors: Record<string, string> = priceError ? { ...submit.fields, price: priceError } : submit.fields;
	const flat = flatten(cats.data ?? []);
	return (
		<section aria-labelledby="pf-h">
			<h2 id="pf-h">{t("admin.products.details")}</h2>
			<form
				class="grid-form"
				onSubmit={e => {
					e.preventDefault();
					void submit.run();
				}}
			>
				<Field label={t("admin.products.name")} name="name" value={form.name} onValue={set("name")} errors={errors} required />
				<Field label={t("product.sku")} name="sku" value={form.sku} onValue={set("sku")} errors={errors} required />
				<Field
					label={t("admin.products.price")}
					name="price"
					value={form.price}
					onValue={set("price")}
					errors={errors}
					required
					inputMode="decimal"
					hint={t("admin.products.priceHint")}
				/>
				<Field
					label={t("admin.products.currency")}
					name="currency"
					value={form.currency}
					onValue={set("currency")}
					errors={errors}
					required
					maxLength={3}
				/>
				{!p ? (
					<Field
						label={t("admin.products.initialStock")}
						name="stock"
						type="number"
						min={0}
						value={form.stock}
						onValue={set("stock")}
						errors={errors}
					/>
				) : null}
				<div class="span-2">
					<TextArea
						label={t("admin.products.description")}
						name="description"
						value={form.description}
						onValue={set("description")}
						errors={errors}
						rows={3}
					/>
				</div>
				<fieldset class="span-2">
					<legend>{t("admin.products.categories")}</legend>
					<div class="check-grid">
						{flat.map(c => (
							<Checkbox
								key={c.id}
								label={`${"— ".repeat(c.depth)}${c.name}`}
								name={`cat-${c.slug}`}
								checked={form.categories.includes(c.slug)}
								onValue={on => set("categories")(on ? [...form.categories, c.slug] : form.categories.filter(s => s !== c.slug))}
							/>
						))}
					</div>
					{errors.categories ? <p class="field-error">{errors.categories}</p> : null}
				</fieldset>
				<fieldset class="span-2">
					<legend>{t("admin.products.options")}</legend>
					<p class="hint">{t("admin.products.optionsHint")}</p>
					{form.options.map((o, i) => (
						<div class="row" key={i}>
							<Field
								label={t("admin.products.optionName", { n: i + 1 })}
								name={`options[${i}].name`}
								value={o.name}
								onValue={v => set("options")(form.options.map((x, j) => (j === i ? { ...x, name: v } : x)))}
								errors={errors}
							/>
							<Field
								label={t("admin.products.optionValues", { n: i + 1 })}
								name={`options[${i}].values`}
								value={o.values}
								onValue={v => set("options")(form.options.map((x, j) => (j === i ? { ...x, values: v } : x)))}
								errors={errors}
							/>
							<button type="button" class="button-secondary" onClick={() => set("options")(form.options.filter((_, j) => j !== i))}>
								{t("common.remove")}
							</button>
						</div>
					))}
					{form.options.length < 3 ? (
						<button type="button" class="button-secondary" onClick={() => set("options")([...form.options, { name: "", values: "" }])}>
							{t("admin.products.addOption")}
						</button>
					) : null}
					{errors.options ? <p class="field-error">{errors.options}</p> : null}
				</fieldset>
				<Checkbox label={t("admin.products.active")} name="active" checked={form.active} onValue={set("active")} errors={errors} />
				<div class="span-2">
					<ErrorAlert
						error={priceError ? null : submit.error}
						shown={["sku", "name", "description", "price", "currency", "stock", "active", "categories", "options"]}
					/>
					{submit.done ? (
						<Notice kind="success" live>
							{t("common.saved")}
						</Notice>
					) : null}
					<button type="submit" disabled={submit.busy}>
						{p ? t("common.save") : t("admin.products.create")}
					</button>
				</div>
			</form>
		</section>
	);
}

function Inventory(props: { product: Product; onSaved(p: Product): void }) {
	const p = props.product;
	const [stock, setStock] = useState(String(p.stock));
	const [delta, setDelta] = useState("");
	const setTo = useSubmit(async () => props.onSaved(await patch<Product>(`/products/${encodeURIComponent(p.id)}/inventory`, { stock: Number(stock) })));
	const adjust = useSubmit(async () => {
		props.onSaved(await patch<Product>(`/products/${encodeURIComponent(p.id)}/inventory`, { delta: Number(delta) }));
		setDelta("");
	});
	if (p.variants.length > 0) return null;
	return (
		<section aria-labelledby="inv-h">
			<h2 id="inv-h">{t("admin.products.inventory")}</h2>
			<p>{t("admin.products.stockNow", { stock: p.stock, available: p.available })}</p>
			<div class="row">
				<form
					onSubmit={e => {
						e.preventDefault();
						void setTo.run();
					}}
				>
					<Field label={t("admin.products.setStock")} name="stock" type="number" min={0} value={stock} onValue={setStock} errors={setTo.fields} />
					<ErrorAlert error={setTo.error} shown={["stock"]} />
					<button type="submit" class="button-secondary" disabled={setTo.busy}>
						{t("admin.products.setStockSubmit")}
					</button>
				</form>
				<form
					onSubmit={e => {
						e.preventDefault();
						if (delta.trim()) void adjust.run();
					}}
				>
					<Field
						label={t("admin.products.delta")}
						name="delta"
						type="number"
						value={delta}
						onValue={setDelta}
						errors={adjust.fields}
						hint={t("admin.products.deltaHint")}
					/>
					<ErrorAlert error={adjust.error} shown={["delta"]} />
					<button type="submit" class="button-secondary" disabled={adjust.busy}>
						{t("admin.products.adjust")}
					</button>
				</form>
			</div>
		</section>
	);
}

function Variants(props: { product: Product; onChanged(): void }) {
	const p = props.product;
	const options = p.options;
	return (
		<section aria-labelledby="var-h">
			<h2 id="var-h">{t("admin.products.variants")}</h2>
			{options.length === 0 ? <p class="hint">{t("admin.products.noOptions")}</p> : null}
			{p.variants.length > 0 ? (
				<table class="table">
					<caption class="visually-hidden">{t("admin.products.variants")}</caption>
					<thead>
						<tr>
							<th scope="col">{t("product.sku")}</th>
							<th scope="col">{t("admin.products.options")}</th>
							<th scope="col">{t("admin.products.price")}</th>
							<th scope="col">{t("admin.products.stock")}</th>
							<th scope="col">{t("admin.products.available")}</th>
							<th scope="col">{t("common.actions")}</th>
						</tr>
					</thead>
					<tbody>
						{p.variants.map(v => (
							<VariantRow key={`${v.id}:${v.stock}:${v.price}:${v.active}`} product={p} variant={v} onChanged={props.onChanged} />
						))}
					</tbody>
				</table>
			) : null}
			{options.length > 0 ? <NewVariant product={p} onCreated={props.onChanged} /> : null}
		</section>
	);
}

function VariantRow(props: { product: Product; variant: Variant; onChanged(): void }) {
	const { product: p, variant: v } = props;
	const base = `/products/${encodeURIComponent(p.id)}/variants/${encodeURIComponent(v.id)}`;
	const [price, setPrice] = useState(moneyInput(v.price, p.currency));
	const [stock, setStock] = useState(String(v.stock));
	const save = useSubmit(async () => {
		const change: Record<string, unknown> = {};
		const np = parseMoney(price, p.currency);
		if (!Number.isNaN(np) && np !== v.price) change.price = np;
		if (Object.keys(change).length) await patch(base, change);
		if (Number(stock) !== v.stock) await patch(`${base}/inventory`, { stock: Number(stock) });
		props.onChanged();
	});
	const toggle = useSubmit(async () => {
		await patch(base, { active: !v.active });
		props.onChanged();
	});
	const remove = useSubmit(async () => {
		await del(base);
		props.onChanged();
	});
	const label = Object.entries(v.options)
		.map(([k, x]) => `${k}: ${x}`)
		.join(", ");
	return (
		<tr>
			<th scope="row">{v.sku}</th>
			<td>
				{label}
				{!v.active ? ` (${t("admin.products.inactive")})` : ""}
			</td>
			<td>
				<label class="visually-hidden" for={`vp-${v.id}`}>
					{t("admin.products.priceOf", { name: label })}
				</label>
				<input
					id={`vp-${v.id}`}
					class="small-input"
					inputMode="decimal"
					value={price}
					onInput={e => setPrice((e.currentTarget as HTMLInputElement).value)}
				/>
			</td>
			<td>
				<label class="visually-hidden" for={`vs-${v.id}`}>
					{t("admin.products.stockOf", { name: label })}
				</label>
				<input
					id={`vs-${v.id}`}
					class="small-input"
					type="number"
					min={0}
					value={stock}
					onInput={e => setStock((e.currentTarget as HTMLInputElement).value)}
				/>
			</td>
			<td>{v.available}</td>
			<td class="row-actions">
				<button
					type="button"
					class="button-secondary"
					disabled={save.busy}
					onClick={() => void save.run()}
					aria-label={t("admin.products.saveVariant", { name: label })}
				>
					{t("common.save")}
				</button>
				<button type="button" class="button-secondary" disabled={toggle.busy} onClick={() => void toggle.run()}>
					{v.active ? t("admin.products.deactivate") : t("admin.products.activate")}
				</button>
				<button
					type="button"
					class="button-danger"
					disabled={remove.busy}
					onClick={() => void remove.run()}
					aria-label={t("admin.products.deleteVariant", { name: label })}
				>
					{t("common.delete")}
				</button>
				<ErrorAlert error={save.error ?? toggle.error ?? remove.error} />
			</td>
		</tr>
	);
}

function NewVariant(props: { product: Product; onCreated(): void }) {
	const p = props.product;
	const options = p.options;
	const [sku, setSku] = useState("");
	const [price, setPrice] = useState(moneyInput(p.price, p.currency));
	const [stock, setStock] = useState("0");
	const [choice, setChoice] = useState<Record<string, string>>(Object.fromEntries(options.map(o => [o.name, o.values[0] ?? ""])));
	const submit = useSubmit(async keys => {
		const body = { sku: sku.trim(), options: choice, price: parseMoney(price, p.currency), stock: Number(stock) || 0 };
		await post(`/products/${encodeURIComponent(p.id)}/variants`, body, { idempotencyKey: keys.for(body) });
		setSku("");
		props.onCreated();
	});
	const errors: Record<string, string> = {};
	for (const [k, v] of Object.entries(submit.fields)) errors[k.replace(/^options\./, "opt.")] = v;
	return (
		<form
			class="grid-form"
			onSubmit={e => {
				e.preventDefault();
				void submit.run();
			}}
		>
			<h3 class="span-2">{t("admin.products.addVariant")}</h3>
			<Field label={t("product.sku")} name="sku" value={sku} onValue={setSku} errors={errors} required />
			{options.map(o => (
				<div class="field" key={o.name}>
					<label for={`nv-${o.name}`}>{o.name}</label>
					<select
						id={`nv-${o.name}`}
						value={choice[o.name]}
						onChange={e => setChoice(c => ({ ...c, [o.name]: (e.currentTarget as HTMLSelectElement).value }))}
						aria-invalid={errors[`opt.${o.name}`] ? "true" : undefined}
						aria-describedby={errors[`opt.${o.name}`] ? `nv-${o.name}-error` : undefined}
					>
						{o.values.map(v => (
							<option key={v} value={v}>
								{v}
							</option>
						))}
					</select>
					{errors[`opt.${o.name}`] ? (
						<p class="field-error" id={`nv-${o.name}-error`}>
							{errors[`opt.${o.name}`]}
						</p>
					) : null}
				</div>
			))}
			<Field label={t("admin.products.price")} name="price" value={price} onValue={setPrice} errors={errors} required inputMode="decimal" />
			<Field label={t("admin.products.initialStock")} name="stock" type="number" min={0} value={stock} onValue={setStock} errors={errors} />
			<div class="span-2">
				<ErrorAlert error={submit.error} shown={["sku", "price", "stock", ...options.map(o => `options.${o.name}`)]} />
				<button type="submit" disabled={submit.busy}>
					{t("admin.products.addVariantSubmit")}
				</button>
			</div>
		</form>
	);
}

function DeleteProduct(props: { product: Product }) {
	const [confirming, setConfirming] = useState(false);
	const remove = useSubmit(async () => {
		await del(`/products/${encodeURIComponent(props.product.id)}`);
		navigate("/admin/products");
	});
	return (
		<section aria-labelledby="del-h">
			<h2 id="del-h">{t("admin.products.delete")}</h2>
			<p class="hint">{t("admin.products.deleteHint")}</p>
			{confirming ? (
				<>
					<button type="button" class="button-danger" disabled={remove.busy} onClick={() => void remove.run()}>
						{t("admin.products.deleteConfirm")}
					</button>{" "}
					<button type="button" class="button-secondary" onClick={() => setConfirming(false)}>
						{t("common.cancel")}
					</button>
				</>
			) : (
				<button type="button" class="button-danger" onClick={() => setConfirming(true)}>
					{t("admin.products.delete")}
				</button>
			)}
			<ErrorAlert error={remove.error} />
		</section>
	);
}
