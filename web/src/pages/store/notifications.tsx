import { useState } from "preact/hooks";
import { get, post } from "../../api/client";
import { unreadCount } from "../../api/account";
import type { Notification, Page as ListPage } from "../../api/types";
import { Empty, ErrorAlert, Loading, Page, Pagination } from "../../components/ui";
import { formatDate, t } from "../../i18n";
import { useLoad, useSubmit } from "../../lib/hooks";

function refHref(ref: Notification["ref"]): string | null {
	if (ref.kind === "order") return `/orders/${encodeURIComponent(ref.id)}`;
	if (ref.kind === "ticket") return `/support/${encodeURIComponent(ref.id)}`;
	return null;
}

export function Notifications() {
	const [page, setPage] = useState(1);
	const list = useLoad(signal => get<ListPage<Notification>>("/me/notifications", { page, pageSize: 20 }, { signal }), [page]);
	const read = useSubmit(async (keys, n: Notification) => {
		await post(`/me/notifications/${encodeURIComponent(n.id)}/read`, {}, { idempotencyKey: keys.for({ read: n.id }) });
		if (list.data) list.set({ ...list.data, rows: list.data.rows.map(x => (x.id === n.id ? { ...x, read: true } : x)) });
		unreadCount.set(c => Math.max(0, c - 1));
	});
	return (
		<Page title={t("notifications.title")}>
			{list.error ? <ErrorAlert error={list.error} /> : null}
			<ErrorAlert error={read.error} />
			{!list.data ? (
				<Loading />
			) : list.data.rows.length === 0 ? (
				<Empty>{t("notifications.none")}</Empty>
			) : (
				<>
					<ul class="notification-list">
						{list.data.rows.map(n => {
							const href = refHref(n.ref);
							return (
								<li key={n.id} class={n.read ? "notification" : "notification unread"}>
									<h2 class="notification-title">
										{href ? <a href={href}>{n.title}</a> : n.title}
										{!n.read ? <span class="badge badge-new"> {t("notifications.new")}</span> : null}
									</h2>
									<p>{n.body}</p>
									<p class="hint">{formatDate(n.createdAt)}</p>
									{!n.read ? (
										<button
											type="button"
											class="button-secondary"
											disabled={read.busy}
											onClick={() => void read.run(n)}
											aria-label={t("notifications.markReadOf", { title: n.title })}
										>
											{t("notifications.markRead")}
										</button>
									) : null}
								</li>
							);
						})}
					</ul>
					<Pagination page={list.data.page} totalPages={list.data.totalPages} total={list.data.total} onPage={setPage} />
				</>
			)}
		</Page>
	);
}
