/** The back office's Mailbox: every email the shop recorded (without SMTP_URL, the development mailbox). */
import { useState } from "preact/hooks";
import { get } from "../../api/client";
import type { Page as ListPage, MailboxMessage as Mail, MailboxRow as MailRow } from "../../api/types";
import { Empty, ErrorAlert, Loading, Page, Pagination } from "../../components/ui";
import { formatDate, t } from "../../i18n";
import { useDebounced, useLoad } from "../../lib/hooks";
import { Filters } from "./common";

export function AdminMailbox() {
	const [to, setTo] = useState("");
	const [page, setPage] = useState(1);
	const query = useDebounced(to, 250);
	const list = useLoad(signal => get<ListPage<MailRow>>("/mailbox", { to: query.trim() || undefined, page, pageSize: 20 }, { signal }), [query, page]);
	return (
		<Page title={t("admin.mailbox.title")} wide>
			<Filters label={t("admin.mailbox.title")}>
				<div class="field">
					<label for="mb-to">{t("admin.mailbox.to")}</label>
					<input
						id="mb-to"
						type="search"
						value={to}
						onInput={e => {
							setTo((e.currentTarget as HTMLInputElement).value);
							setPage(1);
						}}
					/>
				</div>
			</Filters>
			<ErrorAlert error={list.error} shown={[]} />
			{!list.data ? (
				<Loading />
			) : list.data.rows.length === 0 ? (
				<Empty>{t("admin.mailbox.empty")}</Empty>
			) : (
				<table>
					<thead>
						<tr>
							<th scope="col">{t("admin.mailbox.sent")}</th>
							<th scope="col">{t("admin.mailbox.to")}</th>
							<th scope="col">{t("admin.mailbox.subject")}</th>
							<th scope="col">{t("admin.mailbox.state")}</th>
						</tr>
					</thead>
					<tbody>
						{list.data.rows.map(m => (
							<tr key={m.id}>
								<td>{formatDate(m.sentAt ?? m.createdAt)}</td>
								<td>{m.to}</td>
								<td>
									<a href={`/admin/mailbox/${m.id}`}>{m.subject}</a>
								</td>
								<td>{m.state}</td>
							</tr>
						))}
					</tbody>
				</table>
			)}
			{list.data ? <Pagination page={list.data.page} totalPages={list.data.totalPages} total={list.data.total} onPage={setPage} /> : null}
		</Page>
	);
}

export function AdminMail(props: { params: Record<string, string> }) {
	const mail = useLoad(signal => get<Mail>(`/mailbox/${props.params.id}`, undefined, { signal }), [props.params.id]);
	const m = mail.data;
	return (
		<Page title={m?.subject ?? t("admin.mailbox.title")} wide>
			<p>
				<a href="/admin/mailbox">{t("admin.mailbox.back")}</a>
			</p>
			<ErrorAlert error={mail.error} shown={[]} />
			{!m ? (
				<Loading />
			) : (
				<>
					<p>
						{t("admin.mailbox.to")}: {m.to} · {t("admin.mailbox.state")}: {m.state} · {formatDate(m.sentAt ?? m.createdAt)}
					</p>
					{/* The text version: nothing of the email is interpreted as HTML here. */}
					<pre class="mail-text">{m.text}</pre>
					<details>
						<summary>{t("admin.mailbox.headers")}</summary>
						<pre>{[`Message-ID: ${m.messageId}`, ...Object.entries(m.headers).map(([k, v]) => `${k}: ${v}`)].join("\n")}</pre>
					</details>
				</>
			)}
		</Page>
	);
}
