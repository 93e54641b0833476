/** The product's own fields: SKU, name, description, price, category, options and active flag. */
import { useState } from "preact/hooks";
import { patch, post } from "../../../api/client";
import type { Product, ProductOption } from "../../../api/types";
import { categoryTree, flatten } from "../../../components/catalog";
import { Checkbox, ErrorAlert, Field, Notice, TextArea } from "../../../components/ui";
import { moneyInput, parseMoney, t } from "../../../i18n";
import { useLoad, useSubmit } from "../../../lib/hooks";

export function ProductForm(props: { product: Product | null; onSaved(p: Product): void }) {
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
