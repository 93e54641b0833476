import { useState } from "preact/hooks";
import { get, put } from "../../api/client";
import type { TaxRate } from "../../api/types";
import { Empty, ErrorAlert, Field, Loading, Notice, Page, Pagination, Select } from "../../components/ui";
import { formatPercent, t } from "../../i18n";
import { countryName, countryOptions } from "../../lib/countries";
import { useLoad, useSubmit } from "../../lib/hooks";
import { pageOf } from "./common";

const PAGE_SIZE = 20;

export function AdminTax() {
	const [page, setPage] = useState(1);
	// GET /tax-rates answers every rate (a plain array): paged here.
	const list = useLoad(
		async signal => {
			const rows = await get<TaxRate[]>("/tax-rates", undefined, { signal });
			return pageOf(rows, page, PAGE_SIZE);
		},
		[page],
	);
	const [country, setCountry] = useState("DE");
	const [rate, setRate] = useState("19");
	const submit = useSubmit(async () => {
		const bp = Math.round(Number(rate.replace(",", ".")) * 100);
		await put(`/tax-rates/${encodeURIComponent(country)}`, { rate: bp });
		list.reload();
	});
	return (
		<Page title={t("admin.tax.title")} wide>
			<ErrorAlert error={list.error} />
			<div class="two-columns">
				<section aria-labelledby="tax-list">
					<h2 id="tax-list">{t("admin.tax.list")}</h2>
					{!list.data ? (
						list.error ? null : (
							<Loading />
						)
					) : list.data.rows.length === 0 ? (
						<Empty>{t("admin.tax.none")}</Empty>
					) : (
						<>
							<table class="table">
								<caption class="visually-hidden">{t("admin.tax.list")}</caption>
								<thead>
									<tr>
										<th scope="col">{t("address.country")}</th>
										<th scope="col">{t("admin.tax.rate")}</th>
										<th scope="col">{t("common.actions")}</th>
									</tr>
								</thead>
								<tbody>
									{list.data.rows.map(r => (
										<tr key={r.country}>
											<th scope="row">
												{countryName(r.country)} ({r.country})
											</th>
											<td>{formatPercent(r.rate)}</td>
											<td>
												<button
													type="button"
													class="button-secondary"
													onClick={() => {
														setCountry(r.country);
														setRate(String(r.rate / 100));
													}}
													aria-label={t("admin.tax.editNamed", { country: countryName(r.country) })}
												>
													{t("common.edit")}
												</button>
											</td>
										</tr>
									))}
								</tbody>
							</table>
							<Pagination page={list.data.page} totalPages={list.data.totalPages} total={list.data.total} onPage={setPage} />
						</>
					)}
				</section>
				<section aria-labelledby="tax-form">
					<h2 id="tax-form">{t("admin.tax.set")}</h2>
					<form
						onSubmit={e => {
							e.preventDefault();
							void submit.run();
						}}
					>
						<Select
							label={t("address.country")}
							name="country"
							value={country}
							onValue={setCountry}
							options={countryOptions()}
							errors={submit.fields}
						/>
						<Field
							label={t("admin.tax.ratePercent")}
							name="rate"
							value={rate}
							onValue={setRate}
							errors={submit.fields}
							inputMode="decimal"
							required
							hint={t("admin.tax.rateHint")}
						/>
						<ErrorAlert error={submit.error} shown={["rate", "country"]} />
						{submit.done ? (
							<Notice kind="success" live>
								{t("common.saved")}
							</Notice>
						) : null}
						<button type="submit" disabled={submit.busy}>
							{t("common.save")}
						</button>
					</form>
				</section>
			</div>
		</Page>
	);
}
