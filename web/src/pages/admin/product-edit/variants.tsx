/** The variants of a product: one row each (SKU, options, price, stock, active), and a new one. */
import { useState } from "preact/hooks";
import { del, patch, post } from "../../../api/client";
import type { Product, Variant } from "../../../api/types";
import { ErrorAlert, Field } from "../../../components/ui";
import { moneyInput, parseMoney, t } from "../../../i18n";
import { useSubmit } from "../../../lib/hooks";

export function Variants(props: { product: Product; onChanged(): void }) {
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
