import { useState } from "preact/hooks";
import { get, post } from "../../api/client";
import type { Order, Page as ListPage } from "../../api/types";
import { Empty, ErrorAlert, Loading, Money, Notice, Page, Pagination, StatusBadge } from "../../components/ui";
import { formatDate, t, tDynamic } from "../../i18n";
import { countryName } from "../../lib/countries";
import { useLoad, usePolling, useSubmit } from "../../lib/hooks";
import { OptionsText } from "./cart";

export function cancelReason(order: Order): string | undefined {
	const entry = [...order.statusHistory].reverse().find(h => h.status === "cancelled");
	return entry?.reason;
}

export function reasonText(reason: string): string {
	return tDynamic(`order.reason.${reason}`, reason);
}

export function OrderList() {
	const [page, setPage] = useState(1);
	const orders = useLoad(signal => get<ListPage<Order>>("/orders", { page, pageSize: 10 }, { signal }), [page]);
	return (
		<Page title={t("orders.title")}>
			{orders.error ? <ErrorAlert error={orders.error} /> : null}
			{!orders.data ? (
				<Loading />
			) : orders.data.rows.length === 0 ? (
				<Empty>{t("orders.none")}</Empty>
			) : (
				<>
					<OrdersTable orders={orders.data.rows} href={o => `/orders/${o.id}`} />
					<Pagination page={orders.data.page} totalPages={orders.data.totalPages} total={orders.data.total} onPage={setPage} />
				</>
			)}
		</Page>
	);
}

export function OrdersTable(props: { orders: Order[]; href(o: Order): string; showCustomer?: boolean }) {
	return (
		<table class="table">
			<caption class="visually-hidden">{t("orders.title")}</caption>
			<thead>
				<tr>
					<th scope="col">{t("orders.number")}</th>
					<th scope="col">{t("orders.date")}</th>
					{props.showCustomer ? <th scope="col">{t("orders.customer")}</th> : null}
					<th scope="col">{t("orders.status")}</th>
					<th scope="col">{t("orders.total")}</th>
				</tr>
			</thead>
			<tbody>
				{props.orders.map(o => (
					<tr key={o.id}>
						<th scope="row">
							<a href={props.href(o)}>{shortId(o.id)}</a>
						</th>
						<td>{formatDate(o.createdAt)}</td>
						{props.showCustomer ? <td>{o.shippingAddress?.name}</td> : null}
						<td>
							<StatusBadge status={o.status} />
						</td>
						<td>
							<Money amount={o.total} currency={o.currency} />
						</td>
					</tr>
				))}
			</tbody>
		</table>
	);
}

export function shortId(id: string): string {
	return id.length > 8 ? id.slice(0, 8).toUpperCase() : id.toUpperCase();
}

export function OrderPage(props: { params: Record<string, string> }) {
	const id = props.params.id!;
	const order = useLoad(signal => get<Order>(`/orders/${encodeURIComponent(id)}`, undefined, { signal }), [id]);
	// Follow a pending order until it is paid or cancelled, without a reload: 0.5 s, then longer (at most 5 s).
	usePolling(
		async () => {
			if (document.visibilityState === "hidden") return true; // a hidden tab keeps its turn without asking
			const next = await get<Order>(`/orders/${encodeURIComponent(id)}`);
			order.set(next);
			return next.status === "pending";
		},
		order.data?.status === "pending",
		{ first: 500, factor: 1.5, max: 5000 },
		[id],
	);
	const cancel = useSubmit(async keys => {
		const next = await post<Order>(`/orders/${encodeURIComponent(id)}/cancel`, {}, { idempotencyKey: keys.for({ cancel: id }) });
		order.set(next);
	});
	const [confirming, setConfirming] = useState(false);

	if (order.error && !order.data) {
		return (
			<Page title={t("order.notFound")}>
				<ErrorAlert error={order.error} />
			</Page>
		);
	}
	if (!order.data) return <Loading />;
	const o = order.data;
	const shipped = o.statusHistory.some(h => h.status === "shipped");
	return (
		<Page title={t("order.title", { number: shortId(o.id) })}>
			<OrderStatusLine order={o} />
			<OrderDetail order={o} />
			<div class="actions">
				{(o.status === "pending" || o.status === "paid") && !shipped ? (
					confirming ? (
						<>
							<button type="button" class="button-danger" disabled={cancel.busy} onClick={() => void cancel.run()}>
								{t("order.cancelConfirm")}
							</button>
							<button type="button" class="button-secondary" onClick={() => setConfirming(false)}>
								{t("order.cancelKeep")}
							</button>
						</>
					) : (
						<button type="button" class="button-secondary" onClick={() => setConfirming(true)}>
							{t("order.cancel")}
						</button>
					)
				) : null}
				{o.status === "delivered" ? (
					<a class="button" href={`/support/new?type=return&orderId=${encodeURIComponent(o.id)}`}>
						{t("order.requestReturn")}
					</a>
				) : null}
				<a class="button-secondary button" href={`/support/new?type=inquiry&orderId=${encodeURIComponent(o.id)}`}>
					{t("order.askQuestion")}
				</a>
			</div>
			<ErrorAlert error={cancel.error} />
		</Page>
	);
}

/** The status, announced when it changes (the page polls a pending order). */
export function OrderStatusLine(props: { order: Order }) {
	const o = props.order;
	const reason = o.status === "cancelled" ? cancelReason(o) : undefined;
	return (
		<div class={`order-status order-status-${o.status}`} role="status" aria-live="polite">
			<p>
				{t("order.statusIs")} <StatusBadge status={o.status} />
			</p>
			{o.status === "pending" ? <p class="hint">{t("order.pendingHint")}</p> : null}
			{o.status === "paid" ? <p>{t("order.paidHint")}</p> : null}
			{reason ? <p class="cancel-reason">{t("order.cancelledBecause", { reason: reasonText(reason) })}</p> : null}
		</div>
	);
}

export function OrderDetail(props: { order: Order }) {
	const o = props.order;
	const a = o.shippingAddress;
	const refunded = o.refunds.reduce((n, r) => n + r.amount, 0);
	return (
		<div class="order-detail">
			<section aria-labelledby="od-items">
				<h2 id="od-items">{t("order.items")}</h2>
				<table class="table">
					<caption class="visually-hidden">{t("order.items")}</caption>
					<thead>
						<tr>
							<th scope="col">{t("cart.product")}</th>
							<th scope="col">{t("product.sku")}</th>
							<th scope="col">{t("cart.unitPrice")}</th>
							<th scope="col">{t("cart.quantity")}</th>
							<th scope="col">{t("cart.lineTotal")}</th>
						</tr>
					</thead>
					<tbody>
						{o.items.map(i => (
							<tr key={i.itemId}>
								<th scope="row">
									<a href={`/products/${encodeURIComponent(i.productId)}`}>{i.name}</a> <OptionsText options={i.options} />
								</th>
								<td>{i.sku}</td>
								<td>
									<Money amount={i.unitPrice} currency={o.currency} />
								</td>
								<td>{i.quantity}</td>
								<td>
									<Money amount={i.lineTotal} currency={o.currency} />
								</td>
							</tr>
						))}
					</tbody>
				</table>
				<dl class="totals">
					<div>
						<dt>{t("cart.subtotal")}</dt>
						<dd>
							<Money amount={o.subtotal} currency={o.currency} />
						</dd>
					</div>
					{o.discountTotal > 0 ? (
						<div>
							<dt>
								{t("cart.discount")}
								{o.promotion ? ` (${o.promotion.code})` : ""}
							</dt>
							<dd>
								−<Money amount={o.discountTotal} currency={o.currency} />
							</dd>
						</div>
					) : null}
					<div>
						<dt>
							{t("cart.shipping")}
							{o.shippingMethod ? ` (${o.shippingMethod.name})` : ""}
						</dt>
						<dd>
							<Money amount={o.shippingTotal} currency={o.currency} />
						</dd>
					</div>
					<div>
						<dt>{o.total === o.subtotal - o.discountTotal + o.shippingTotal ? t("cart.taxIncluded") : t("cart.tax")}</dt>
						<dd>
							<Money amount={o.taxTotal} currency={o.currency} />
						</dd>
					</div>
					<div class="total-row">
						<dt>{t("cart.total")}</dt>
						<dd>
							<Money amount={o.total} currency={o.currency} />
						</dd>
					</div>
				</dl>
			</section>
			{o.fulfilments && o.fulfilments.length > 0 ? <Parcels order={o} /> : null}
			{o.refunds.length > 0 ? (
				<section aria-labelledby="od-refunds">
					<h2 id="od-refunds">{t("order.refunds")}</h2>
					<Notice kind="success">
						{t("order.refundedTotal")} <Money amount={refunded} currency={o.currency} />
					</Notice>
					<ul class="refunds">
						{o.refunds.map(r => (
							<li key={r.id}>
								<Money amount={r.amount} currency={o.currency} /> · {reasonText(r.reason)} · {formatDate(r.at)}
							</li>
						))}
					</ul>
				</section>
			) : null}
			<div class="order-meta">
				<section aria-labelledby="od-ship">
					<h2 id="od-ship">{t("order.shipTo")}</h2>
					<address>
						{a.name}
						<br />
						{a.line1}
						{a.line2 ? (
							<>
								<br />
								{a.line2}
							</>
						) : null}
						<br />
						{a.postalCode} {a.city}
						{a.region ? `, ${a.region}` : ""}
						<br />
						{countryName(a.country)}
					</address>
				</section>
				<section aria-labelledby="od-pay">
					<h2 id="od-pay">{t("order.payment")}</h2>
					{o.payment ? (
						<p>
							{o.payment.brand} •••• {o.payment.last4} · {tDynamic(`payment.status.${o.payment.status}`, o.payment.status)}
						</p>
					) : (
						<p>—</p>
					)}
				</section>
				<section aria-labelledby="od-history">
					<h2 id="od-history">{t("order.history")}</h2>
					<ol class="timeline">
						{o.statusHistory.map((h, i) => (
							<li key={i}>
								<StatusBadge status={h.status} /> {formatDate(h.at)}
								{h.reason ? ` · ${reasonText(h.reason)}` : ""}
							</li>
						))}
					</ol>
				</section>
			</div>
		</div>
	);
}

/** Each parcel shipped: its carrier, tracking number and tracking link, and what it holds. */
export function Parcels(props: { order: Order }) {
	const o = props.order;
	const names = new Map(o.items.map(i => [i.itemId, i.name]));
	return (
		<section aria-labelledby="od-parcels">
			<h2 id="od-parcels">{t("order.parcels")}</h2>
			<ol class="parcels">
				{(o.fulfilments ?? []).map((f, n) => (
					<li key={f.id} class="parcel">
						<h3>{t("order.parcel", { n: n + 1 })}</h3>
						<dl class="parcel-facts">
							<div>
								<dt>{t("order.parcel.shippedAt")}</dt>
								<dd>{formatDate(f.shippedAt)}</dd>
							</div>
							<div>
								<dt>{t("order.parcel.carrier")}</dt>
								<dd>{f.carrier ? tDynamic(`carrier.${f.carrier}`, f.carrier) : "—"}</dd>
							</div>
							<div>
								<dt>{t("order.parcel.trackingNumber")}</dt>
								<dd>
									{f.trackingNumber ?? t("order.parcel.noTracking")}
									{f.trackingUrl && f.trackingNumber ? (
										<>
											{" · "}
											<a href={f.trackingUrl} target="_blank" rel="noopener noreferrer">
												{t("order.parcel.track", { number: f.trackingNumber })}
											</a>
										</>
									) : null}
								</dd>
							</div>
							<div>
								<dt>{t("order.parcel.contents")}</dt>
								<dd>{f.items.map(i => `${i.quantity} × ${names.get(i.itemId) ?? i.itemId}`).join(", ")}</dd>
							</div>
						</dl>
					</li>
				))}
			</ol>
		</section>
	);
}
