import { useState } from "preact/hooks";
import { del, get, patch, post } from "../../api/client";
import type { Page as ListPage, Promotion } from "../../api/types";
import { Checkbox, Empty, ErrorAlert, Field, Loading, Money, Notice, Page, Pagination, Select } from "../../components/ui";
import { formatDate, moneyInput, parseMoney, t } from "../../i18n";
import { useLoad, useSubmit } from "../../lib/hooks";

/** `datetime-local` value ↔ ISO 8601 UTC. */
function toLocalInput(iso: string | null | undefined): string {
	if (!iso) return "";
	const d = new Date(iso);
	const pad = (n: number) => String(n).padStart(2, "0");
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function fromLocalInput(v: string): string | undefined {
	return v ? new Date(v).toISOString() : undefined;
}

export function AdminPromotions() {
	const [page, setPage] = useState(1);
	const [editing, setEditing] = useState<Promotion | null>(null);
	const list = useLoad(signal => get<ListPage<Promotion>>("/promotions", { page, pageSize: 20 }, { signal }), [page]);
	const toggle = useSubmit(async (_k, p: Promotion) => {
		await patch(`/promotions/${encodeURIComponent(p.id)}`, { active: !p.active });
		list.reload();
	});
	const remove = useSubmit(async (_k, p: Promotion) => {
		await del(`/promotions/${encodeURIComponent(p.id)}`);
		list.reload();
	});
	return (
		<Page title={t("admin.promotions.title")} wide>
			<ErrorAlert error={list.error} />
			<div class="two-columns">
				<section aria-labelledby="promo-list">
					<h2 id="promo-list">{t("admin.promotions.list")}</h2>
					{!list.data ? (
						list.error ? null : (
							<Loading />
						)
					) : list.data.rows.length === 0 ? (
						<Empty>{t("admin.promotions.none")}</Empty>
					) : (
						<>
							<table class="table">
								<caption class="visually-hidden">{t("admin.promotions.list")}</caption>
								<thead>
									<tr>
										<th scope="col">{t("admin.promotions.code")}</th>
										<th scope="col">{t("admin.promotions.value")}</th>
										<th scope="col">{t("admin.promotions.validity")}</th>
										<th scope="col">{t("admin.promotions.status")}</th>
										<th scope="col">{t("common.actions")}</th>
									</tr>
								</thead>
								<tbody>
									{list.data.rows.map(p => (
										<tr key={p.id}>
											<th scope="row">{p.code}</th>
											<td>{p.type === "percent" ? `${p.value} %` : <Money amount={p.value} currency={p.currency ?? "EUR"} />}</td>
											<td>
												{p.startsAt ? formatDate(p.startsAt) : "…"} – {p.endsAt ? formatDate(p.endsAt) : "…"}
											</td>
											<td>{!p.active ? t("admin.promotions.inactive") : t("admin.promotions.active")}</td>
											<td class="row-actions">
												<button
													type="button"
													class="button-secondary"
													onClick={() => setEditing(p)}
													aria-label={t("admin.promotions.editNamed", { code: p.code })}
												>
													{t("common.edit")}
												</button>
												<button type="button" class="button-secondary" disabled={toggle.busy} onClick={() => void toggle.run(p)}>
													{!p.active ? t("admin.products.activate") : t("admin.products.deactivate")}
												</button>
												<button
													type="button"
													class="button-danger"
													disabled={remove.busy}
													onClick={() => void remove.run(p)}
													aria-label={t("admin.promotions.deleteNamed", { code: p.code })}
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
					<ErrorAlert error={toggle.error ?? remove.error} />
				</section>
				<PromotionForm
					key={editing?.id ?? "new"}
					promotion={editing}
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

function PromotionForm(props: { promotion: Promotion | null; onSaved(): void; onCancel(): void }) {
	const p = props.promotion;
	const currency0 = p?.currency ?? "EUR";
	const [form, setForm] = useState({
		code: p?.code ?? "",
		type: p?.type ?? "percent",
		value: p ? (p.type === "fixed" ? moneyInput(p.value, currency0) : String(p.value)) : "10",
		currency: currency0,
		minSubtotal: p?.minSubtotal ? moneyInput(p.minSubtotal, currency0) : "",
		startsAt: toLocalInput(p?.startsAt),
		endsAt: toLocalInput(p?.endsAt),
		maxRedemptions: p?.maxRedemptions ? String(p.maxRedemptions) : "",
		perCustomerLimit: p?.perCustomerLimit ? String(p.perCustomerLimit) : "",
		active: p?.active ?? true,
	});
	const set = (k: keyof typeof form) => (v: unknown) => setForm(s => ({ ...s, [k]: v }));
	const submit = useSubmit(async keys => {
		const body: Record<string, unknown> = {
			code: form.code.trim(),
			type: form.type,
			value: form.type === "fixed" ? parseMoney(form.value, form.currency) : Number(form.value),
			active: form.active,
		};
		if (form.type === "fixed" || form.minSubtotal) body.currency = form.currency.trim().toUpperCase();
		if (form.minSubtotal) body.minSubtotal = parseMoney(form.minSubtotal, form.currency);
		if (form.startsAt) body.startsAt = fromLocalInput(form.startsAt);
		if (form.endsAt) body.endsAt = fromLocalInput(form.endsAt);
		if (form.maxRedemptions) body.maxRedemptions = Number(form.maxRedemptions);
		if (form.perCustomerLimit) body.perCustomerLimit = Number(form.perCustomerLimit);
		if (p) await patch(`/promotions/${encodeURIComponent(p.id)}`, body);
		else await post("/promotions", body, { idempotencyKey: keys.for(body) });
		props.onSaved();
	});
	const e = submit.fields;
	return (
		<section aria-labelledby="promo-form">
			<h2 id="promo-form">{p ? t("admin.promotions.editNamed", { code: p.code }) : t("admin.promotions.new")}</h2>
			<form
				onSubmit={ev => {
					ev.preventDefault();
					void submit.run();
				}}
			>
				<Field label={t("admin.promotions.code")} name="code" value={form.code} onValue={set("code")} errors={e} required autoComplete="off" />
				<Select
					label={t("admin.promotions.type")}
					name="type"
					value={form.type}
					onValue={set("type")}
					errors={e}
					options={[
						{ value: "percent", label: t("admin.promotions.percent") },
						{ value: "fixed", label: t("admin.promotions.fixed") },
					]}
				/>
				<Field
					label={form.type === "percent" ? t("admin.promotions.percentValue") : t("admin.promotions.amount")}
					name="value"
					value={form.value}
					onValue={set("value")}
					errors={e}
					required
					inputMode="decimal"
				/>
				<Field label={t("admin.products.currency")} name="currency" value={form.currency} onValue={set("currency")} errors={e} maxLength={3} />
				<Field
					label={t("admin.promotions.minSubtotal")}
					name="minSubtotal"
					value={form.minSubtotal}
					onValue={set("minSubtotal")}
					errors={e}
					inputMode="decimal"
				/>
				<Field
					label={t("admin.promotions.startsAt")}
					name="startsAt"
					type="datetime-local"
					value={form.startsAt}
					onValue={set("startsAt")}
					errors={e}
				/>
				<Field label={t("admin.promotions.endsAt")} name="endsAt" type="datetime-local" value={form.endsAt} onValue={set("endsAt")} errors={e} />
				<Field
					label={t("admin.promotions.maxRedemptions")}
					name="maxRedemptions"
					type="number"
					min={1}
					value={form.maxRedemptions}
					onValue={set("maxRedemptions")}
					errors={e}
				/>
				<Field
					label={t("admin.promotions.perCustomerLimit")}
					name="perCustomerLimit"
					type="number"
					min={1}
					value={form.perCustomerLimit}
					onValue={set("perCustomerLimit")}
					errors={e}
				/>
				<Checkbox label={t("admin.promotions.active")} name="active" checked={form.active} onValue={set("active")} errors={e} />
				<ErrorAlert error={submit.error} shown={Object.keys(form)} />
				{submit.done ? (
					<Notice kind="success" live>
						{t("common.saved")}
					</Notice>
				) : null}
				<button type="submit" disabled={submit.busy}>
					{p ? t("common.save") : t("admin.promotions.create")}
				</button>{" "}
				{p ? (
					<button type="button" class="button-secondary" onClick={props.onCancel}>
						{t("common.cancel")}
					</button>
				) : null}
			</form>
		</section>
	);
}
