import { get } from "../../api/client";
import { isAdmin } from "../../api/account";
import { session } from "../../api/session";
import type { Order, Page as ListPage, Ticket } from "../../api/types";
import { Page } from "../../components/ui";
import { formatNumber, t } from "../../i18n";
import { useLoad } from "../../lib/hooks";
import { useStore } from "../../lib/store";
import { SalesAtAGlance } from "./sales";

export function AdminHome() {
	const user = useStore(session).user;
	const admin = isAdmin(user);
	const paid = useLoad(
		async signal => (admin ? (await get<ListPage<Order>>("/orders", { all: true, status: "paid", pageSize: 1 }, { signal })).total : null),
		[admin],
	);
	const pending = useLoad(
		async signal => (admin ? (await get<ListPage<Order>>("/orders", { all: true, status: "pending", pageSize: 1 }, { signal })).total : null),
		[admin],
	);
	const open = useLoad(async signal => (await get<ListPage<Ticket>>("/tickets", { status: "open", pageSize: 1 }, { signal })).total, []);
	const mine = useLoad(
		async signal => (user ? (await get<ListPage<Ticket>>("/tickets", { status: "open", assigneeId: user.id, pageSize: 1 }, { signal })).total : 0),
		[user?.id],
	);
	const card = (label: string, value: number | null | undefined, href: string) => (
		<li class="stat">
			<a href={href}>
				<span class="stat-value">{value === undefined || value === null ? "…" : formatNumber(value)}</span>
				<span class="stat-label">{label}</span>
			</a>
		</li>
	);
	return (
		<Page title={t("admin.home.title")}>
			<p>{t("admin.home.welcome", { name: user?.name ?? "" })}</p>
			<ul class="stats">
				{admin ? card(t("admin.home.toShip"), paid.data, "/admin/orders?status=paid") : null}
				{admin ? card(t("admin.home.pending"), pending.data, "/admin/orders?status=pending") : null}
				{card(t("admin.home.openTickets"), open.data, "/admin/support?status=open")}
				{card(t("admin.home.myTickets"), mine.data, "/admin/support?status=open&assignee=me")}
			</ul>
			{admin ? <SalesAtAGlance /> : null}
		</Page>
	);
}
