import { useState } from "preact/hooks";
import { get, post } from "../../api/client";
import type { Order, OrderStatus, Page as ListPage } from "../../api/types";
import { Empty, ErrorAlert, Loading, Notice, Page, Pagination, Select } from "../../components/ui";
import { t, type MessageKey } from "../../i18n";
import { useLoad, useSubmit } from "../../lib/hooks";
import { location, replaceQuery } from "../../lib/router";
import { useStore } from "../../lib/store";
import { OrderDetail, OrderStatusLine, OrdersTable, shortId } from "../store/orders";
import { Filters } from "./common";
import { ShipDialog } from "./ship-dialog";

const STATUSES: OrderStatus[] = ["pending", "paid", "partially_shipped", "shipped", "delivered", "cancelled", "refunded"];

export function AdminOrders() {
	const query = useStore(location).query;
	const status = query.get("status") ?? "";
	const page = Number(query.get("page") ?? "1") || 1;
	const setQuery = (change: Record<string, string>) => {
		const next = new URLSearchParams(query);
		for (const [k, v] of Object.entries(change)) {
			if (v) next.set(k, v);
			else next.delete(k);
		}
		replaceQuery(next);
	};
	const list = useLoad(signal => get<ListPage<Order>>("/orders", { all: true, status: status || undefined, page, pageSize: 20 }, { signal }), [status, page]);
	return (
		<Page title={t("admin.orders.title")} wide>
			<Filters label={t("admin.orders.filters")}>
				<Select
					label={t("orders.status")}
					name="status"
					value={status}
					onValue={v => setQuery({ status: v, page: "" })}
					options={[
						{ value: "", label: t("admin.orders.allStatuses") },
						...STATUSES.map(s => ({ value: s, label: t(`order.status.${s}` as MessageKey) })),
					]}
				/>
			</Filters>
			{list.error ? <ErrorAlert error={list.error} /> : null}
			{!list.data ? (
				<Loading />
			) : list.data.rows.length === 0 ? (
				<Empty>{t("orders.none")}</Empty>
			) : (
				<>
					<OrdersTable orders={list.data.rows} href={o => `/admin/orders/${o.id}`} showCustomer />
					<Pagination page={list.data.page} totalPages={list.data.totalPages} total={list.data.total} onPage={p => setQuery({ page: String(p) })} />
				</>
			)}
		</Page>
	);
}

export function AdminOrder(props: { params: Record<string, string> }) {
	const id = props.params.id!;
	const order = useLoad(signal => get<Order>(`/orders/${encodeURIComponent(id)}`, undefined, { signal }), [id]);
	const [confirmCancel, setConfirmCancel] = useState(false);
	const [shipping, setShipping] = useState(false);
	const [shippedNotice, setShippedNotice] = useState(false);
	const step = useSubmit(async (keys, action: "ship" | "deliver" | "cancel") => {
		order.set(await post<Order>(`/orders/${encodeURIComponent(id)}/${action}`, {}, { idempotencyKey: keys.for({ action, id }) }));
		setConfirmCancel(false);
	});
	if (order.error && !order.data) {
		return (
			<Page title={t("order.notFound")}>
				<ErrorAlert error={order.error} />
			</Page>
		);
	}
	if (!order.data) return <Loading />;
	const o = order.data;
	const shipped = o.statusHistory.some(h => h.status === "shipped") || (o.fulfilments?.length ?? 0) > 0;
	return (
		<Page title={t("order.title", { number: shortId(o.id) })} wide>
			<p>
				<a href="/admin/orders">{t("admin.orders.back")}</a>
			</p>
			<OrderStatusLine order={o} />
			<div class="actions">
				{o.status === "paid" || o.status === "partially_shipped" ? (
					<button
						type="button"
						aria-haspopup="dialog"
						onClick={() => {
							setShippedNotice(false);
							setShipping(true);
						}}
					>
						{t("admin.orders.shipParcel")}
					</button>
				) : null}
				{o.status === "paid" || o.status === "partially_shipped" ? (
					<button type="button" class="button-secondary" disabled={step.busy} onClick={() => void step.run("ship")}>
						{t("admin.orders.ship")}
					</button>
				) : null}
				{o.status === "shipped" ? (
					<button type="button" disabled={step.busy} onClick={() => void step.run("deliver")}>
						{t("admin.orders.deliver")}
					</button>
				) : null}
				{(o.status === "pending" || o.status === "paid") && !shipped ? (
					confirmCancel ? (
						<>
							<button type="button" class="button-danger" disabled={step.busy} onClick={() => void step.run("cancel")}>
								{t("order.cancelConfirm")}
							</button>
							<button type="button" class="button-secondary" onClick={() => setConfirmCancel(false)}>
								{t("order.cancelKeep")}
							</button>
						</>
					) : (
						<button type="button" class="button-secondary" onClick={() => setConfirmCancel(true)}>
							{t("order.cancel")}
						</button>
					)
				) : null}
			</div>
			<ErrorAlert error={step.error} />
			{shippedNotice ? (
				<Notice kind="success" live>
					{t("admin.ship.done")}
				</Notice>
			) : null}
			{shipping ? (
				<ShipDialog
					order={o}
					onClose={() => setShipping(false)}
					onShipped={next => {
						order.set(next);
						setShipping(false);
						setShippedNotice(true);
					}}
				/>
			) : null}
			<OrderDetail order={o} />
		</Page>
	);
}
