/** Sales at a glance (admins): the reports service's figures for the last 30 days, low stock and open tickets by age. */
import { get } from "../../api/client";
import type { ReportsOverview as Overview, SalesReport, TopProducts } from "../../api/types";
import { formatMoney, formatNumber, t, type MessageKey } from "../../i18n";
import { useLoad } from "../../lib/hooks";

const AGE_BANDS = ["under1d", "1to3d", "3to7d", "over7d"] as const;
const WIDTH = 600;
const HEIGHT = 160;

/** Bars of revenue per day; the table after it says the same in words (the chart is hidden from screen readers). */
function SalesChart({ report }: { report: SalesReport }) {
	const max = Math.max(1, ...report.buckets.map(b => b.revenue));
	const step = WIDTH / Math.max(1, report.buckets.length);
	return (
		<figure class="sales-chart">
			<figcaption>{t("admin.reports.chart")}</figcaption>
			<svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" aria-hidden="true" focusable="false">
				{report.buckets.map((b, i) => {
					const h = Math.round((b.revenue / max) * (HEIGHT - 10));
					return <rect key={b.start} x={i * step + 1} y={HEIGHT - h} width={Math.max(1, step - 2)} height={h} fill="currentColor" />;
				})}
			</svg>
			<table class="visually-hidden">
				<caption>{t("admin.reports.chart")}</caption>
				<thead>
					<tr>
						<th scope="col">{t("admin.reports.day")}</th>
						<th scope="col">{t("admin.reports.orders")}</th>
						<th scope="col">{t("admin.reports.revenue")}</th>
						<th scope="col">{t("admin.reports.refunds")}</th>
					</tr>
				</thead>
				<tbody>
					{report.buckets.map(b => (
						<tr key={b.start}>
							<th scope="row">{b.start}</th>
							<td>{formatNumber(b.orders)}</td>
							<td>{formatMoney(b.revenue, report.currency)}</td>
							<td>{formatMoney(b.refunds, report.currency)}</td>
						</tr>
					))}
				</tbody>
			</table>
		</figure>
	);
}

export function SalesAtAGlance() {
	const sales = useLoad(signal => get<SalesReport>("/reports/sales", { interval: "day" }, { signal }), []);
	const top = useLoad(signal => get<TopProducts>("/reports/top-products", {}, { signal }), []);
	const overview = useLoad(signal => get<Overview>("/reports/overview", {}, { signal }), []);
	const report = sales.data;
	const stat = (label: string, value: string) => (
		<li class="stat stat-static">
			<span class="stat-value">{value}</span>
			<span class="stat-label">{label}</span>
		</li>
	);
	return (
		<section aria-labelledby="sales-title">
			<h2 id="sales-title">{t("admin.reports.title")}</h2>
			{report ? (
				<>
					<p>{t("admin.reports.timeZone", { zone: report.timeZone })}</p>
					<ul class="stats">
						{stat(t("admin.reports.revenue"), formatMoney(report.totals.revenue, report.currency))}
						{stat(t("admin.reports.orders"), formatNumber(report.totals.orders))}
						{stat(t("admin.reports.aov"), formatMoney(report.totals.averageOrderValue, report.currency))}
						{stat(t("admin.reports.refunds"), formatMoney(report.totals.refunds, report.currency))}
						{stat(t("admin.reports.net"), formatMoney(report.totals.net, report.currency))}
					</ul>
					<SalesChart report={report} />
				</>
			) : (
				<p>…</p>
			)}
			<h3>{t("admin.reports.topProducts")}</h3>
			{top.data && report ? (
				top.data.products.length ? (
					<table>
						<thead>
							<tr>
								<th scope="col">{t("admin.reports.product")}</th>
								<th scope="col">{t("admin.reports.units")}</th>
								<th scope="col">{t("admin.reports.revenue")}</th>
							</tr>
						</thead>
						<tbody>
							{top.data.products.map(p => (
								<tr key={`${p.productId}|${p.variantId ?? ""}`}>
									<th scope="row">
										<a href={`/admin/products/${p.productId}`}>{p.name}</a> <small>{p.sku}</small>
									</th>
									<td>{formatNumber(p.units)}</td>
									<td>{formatMoney(p.revenue, report.currency)}</td>
								</tr>
							))}
						</tbody>
					</table>
				) : (
					<p>{t("admin.reports.none")}</p>
				)
			) : null}
			<h3>{t("admin.reports.lowStock")}</h3>
			{overview.data ? (
				overview.data.lowStock.length ? (
					<table>
						<thead>
							<tr>
								<th scope="col">{t("admin.reports.product")}</th>
								<th scope="col">{t("admin.reports.available")}</th>
							</tr>
						</thead>
						<tbody>
							{overview.data.lowStock.map(p => (
								<tr key={`${p.productId}|${p.variantId ?? ""}`}>
									<th scope="row">
										<a href={`/admin/products/${p.productId}`}>{p.name}</a> <small>{p.sku}</small>
									</th>
									<td>{formatNumber(p.available)}</td>
								</tr>
							))}
						</tbody>
					</table>
				) : (
					<p>{t("admin.reports.noLowStock")}</p>
				)
			) : null}
			<h3>{t("admin.reports.ticketsByAge")}</h3>
			{overview.data ? (
				<ul class="stats">
					{AGE_BANDS.map(band => stat(t(`admin.reports.age.${band}` as MessageKey), formatNumber(overview.data!.openTickets.byAge[band])))}
				</ul>
			) : null}
		</section>
	);
}
