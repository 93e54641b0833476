import { useState } from "preact/hooks";
import { del, get, patch, post } from "../../api/client";
import type { ShippingMethod } from "../../api/types";
import { Empty, ErrorAlert, Field, Loading, Money, Notice, Page, Pagination } from "../../components/ui";
import { moneyInput, parseMoney, t } from "../../i18n";
import { useLoad, useSubmit } from "../../lib/hooks";
import { pageOf } from "./common";

const PAGE_SIZE = 20;

export function AdminShipping() {
	const [page, setPage] = useState(1);
	const [editing, setEditing] = useState<ShippingMethod | null>(null);
	// GET /shipping-methods answers the active methods, cheapest first (a plain array): paged here.
	const list = useLoad(
		async signal => {
			const rows = await get<ShippingMethod[]>("/shipping-methods", undefined, { signal });
			return pageOf(rows, page, PAGE_SIZE);
		},
		[page],
	);
	const remove = useSubmit(async (_k, m: ShippingMethod) => {
		await del(`/shipping-methods/${encodeURIComponent(m.id)}`);
		list.reload();
	});
	return (
		<Page title={t("admin.shipping.title")} wide>
			<ErrorAlert error={list.error} />
			<div class="two-columns">
				<section aria-labelledby="ship-list">
					<h2 id="ship-list">{t("admin.shipping.list")}</h2>
					{!list.data ? (
						list.error ? null : (
							<Loading />
						)
					) : list.data.rows.length === 0 ? (
						<Empty>{t("admin.shipping.none")}</Empty>
					) : (
						<>
							<table class="table">
								<caption class="visually-hidden">{t("admin.shipping.list")}</caption>
								<thead>
									<tr>
										<th scope="col">{t("admin.shipping.name")}</th>
										<th scope="col">{t("admin.shipping.countries")}</th>
										<th scope="col">{t("admin.products.price")}</th>
										<th scope="col">{t("admin.shipping.days")}</th>
										<th scope="col">{t("common.actions")}</th>
									</tr>
								</thead>
								<tbody>
									{list.data.rows.map(m => (
										<tr key={m.id}>
											<th scope="row">{m.name}</th>
											<td>{m.countries.join(", ")}</td>
											<td>
												<Money amount={m.price} currency={m.currency} />
												{m.freeOver ? (
													<>
														{" "}
														({t("cart.freeOver")} <Money amount={m.freeOver} currency={m.currency} />)
													</>
												) : null}
											</td>
											<td>{t("cart.days", { min: m.minDays, max: m.maxDays })}</td>
											<td class="row-actions">
												<button
													type="button"
													class="button-secondary"
													onClick={() => setEditing(m)}
													aria-label={t("admin.shipping.editNamed", { name: m.name })}
												>
													{t("common.edit")}
												</button>
												<button
													type="button"
													class="button-danger"
													disabled={remove.busy}
													onClick={() => void remove.run(m)}
													aria-label={t("admin.shipping.deleteNamed", { name: m.name })}
												>
													{t("common.delete")}
												</button>
											</td>
										</tr>
									))}
								</tbody>
							</table>
							<Pagination page={list.data.page} totalPages={list.data.totalPages} total={list.data.total} onPage={setPage} />
						</>
					)}
					<ErrorAlert error={remove.error} />
				</section>
				<ShippingForm
					key={editing?.id ?? "new"}
					method={editing}
					onSaved={() => {
						setEditing(null);
						list.reload();
					}}
					onCancel={() => setEditing(null)}
				/>
			</div>
		</Page>
	);
}

function ShippingForm(props: { method: ShippingMethod | null; onSaved(): void; onCancel(): void }) {
	const m = props.method;
	const cur = m?.currency ?? "EUR";
	const [form, setForm] = useState({
		name: m?.name ?? "",
		countries: m?.countries.join(", ") ?? "*",
		price: m ? moneyInput(m.price, cur) : "",
		currency: cur,
		freeOver: m?.freeOver ? moneyInput(m.freeOver, cur) : "",
		minDays: String(m?.minDays ?? 2),
		maxDays: String(m?.maxDays ?? 5),
	});
	const set = (k: keyof typeof form) => (v: string) => setForm(s => ({ ...s, [k]: v }));
	const submit = useSubmit(async keys => {
		const body: Record<string, unknown> = {
			name: form.name.trim(),
			countries: form.countries
				.split(/[\s,]+/)
				.map(c => c.trim().toUpperCase())
				.filter(Boolean),
			price: parseMoney(form.price, form.currency),
			currency: form.currency.trim().toUpperCase(),
			minDays: Number(form.minDays),
			maxDays: Number(form.maxDays),
		};
		if (form.freeOver) body.freeOver = parseMoney(form.freeOver, form.currency);
		if (m) await patch(`/shipping-methods/${encodeURIComponent(m.id)}`, body);
		else await post("/shipping-methods", body, { idempotencyKey: keys.for(body) });
		props.onSaved();
	});
	const e = submit.fields;
	return (
		<section aria-labelledby="ship-form">
			<h2 id="ship-form">{m ? t("admin.shipping.editNamed", { name: m.name }) : t("admin.shipping.new")}</h2>
			<form
				onSubmit={ev => {
					ev.preventDefault();
					void submit.run();
				}}
			>
				<Field label={t("admin.shipping.name")} name="name" value={form.name} onValue={set("name")} errors={e} required />
				<Field
					label={t("admin.shipping.countries")}
					name="countries"
					value={form.countries}
					onValue={set("countries")}
					errors={e}
					required
					hint={t("admin.shipping.countriesHint")}
				/>
				<Field label={t("admin.products.price")} name="price" value={form.price} onValue={set("price")} errors={e} required inputMode="decimal" />
				<Field label={t("admin.products.currency")} name="currency" value={form.currency} onValue={set("currency")} errors={e} required maxLength={3} />
				<Field label={t("admin.shipping.freeOver")} name="freeOver" value={form.freeOver} onValue={set("freeOver")} errors={e} inputMode="decimal" />
				<div class="row">
					<Field
						label={t("admin.shipping.minDays")}
						name="minDays"
						type="number"
						min={0}
						value={form.minDays}
						onValue={set("minDays")}
						errors={e}
						required
					/>
					<Field
						label={t("admin.shipping.maxDays")}
						name="maxDays"
						type="number"
						min={0}
						value={form.maxDays}
						onValue={set("maxDays")}
						errors={e}
						required
					/>
				</div>
				<ErrorAlert error={submit.error} shown={Object.keys(form)} />
				{submit.done ? (
					<Notice kind="success" live>
						{t("common.saved")}
					</Notice>
				) : null}
				<button type="submit" disabled={submit.busy}>
					{m ? t("common.save") : t("admin.shipping.create")}
				</button>{" "}
				{m ? (
					<button type="button" class="button-secondary" onClick={props.onCancel}>
						{t("common.cancel")}
					</button>
				) : null}
			</form>
		</section>
	);
}
