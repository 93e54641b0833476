import { useState } from "preact/hooks";
import { get, patch, post } from "../../api/client";
import { session } from "../../api/session";
import type { Page as ListPage, Priority, Ticket, TicketStatus, TicketType } from "../../api/types";
import { Empty, ErrorAlert, Field, Loading, Notice, Page, Pagination, Select } from "../../components/ui";
import { t, type MessageKey } from "../../i18n";
import { useLoad, useSubmit } from "../../lib/hooks";
import { location, replaceQuery } from "../../lib/router";
import { useStore } from "../../lib/store";
import { ReplyForm, Thread, TicketSummary, TicketsTable, useTicket } from "../store/support";
import { shortId } from "../store/orders";
import { Filters } from "./common";

const STATUSES: TicketStatus[] = ["open", "pending", "resolved", "closed"];
const TYPES: TicketType[] = ["inquiry", "return", "complaint", "feedback"];
const PRIORITIES: Priority[] = ["low", "normal", "high", "urgent"];

export function AdminTickets() {
	const me = useStore(session).user!;
	const query = useStore(location).query;
	const status = query.get("status") ?? "";
	const type = query.get("type") ?? "";
	const assignee = query.get("assignee") ?? "";
	const page = Number(query.get("page") ?? "1") || 1;
	const setQuery = (change: Record<string, string>) => {
		const next = new URLSearchParams(query);
		for (const [k, v] of Object.entries(change)) {
			if (v) next.set(k, v);
			else next.delete(k);
		}
		replaceQuery(next);
	};
	const list = useLoad(
		signal =>
			get<ListPage<Ticket>>(
				"/tickets",
				{ status: status || undefined, type: type || undefined, assigneeId: assignee === "me" ? me.id : undefined, page, pageSize: 20 },
				{ signal },
			),
		[status, type, assignee, page],
	);
	return (
		<Page title={t("admin.support.title")} wide>
			<Filters label={t("admin.support.filters")}>
				<Select
					label={t("ticket.status")}
					name="status"
					value={status}
					onValue={v => setQuery({ status: v, page: "" })}
					options={[{ value: "", label: t("admin.support.any") }, ...STATUSES.map(s => ({ value: s, label: t(`ticket.status.${s}` as MessageKey) }))]}
				/>
				<Select
					label={t("ticket.type")}
					name="type"
					value={type}
					onValue={v => setQuery({ type: v, page: "" })}
					options={[{ value: "", label: t("admin.support.any") }, ...TYPES.map(s => ({ value: s, label: t(`ticket.type.${s}` as MessageKey) }))]}
				/>
				<Select
					label={t("ticket.assignee")}
					name="assignee"
					value={assignee}
					onValue={v => setQuery({ assignee: v, page: "" })}
					options={[
						{ value: "", label: t("admin.support.anyone") },
						{ value: "me", label: t("admin.support.me") },
					]}
				/>
			</Filters>
			{list.error ? <ErrorAlert error={list.error} /> : null}
			{!list.data ? (
				<Loading />
			) : list.data.rows.length === 0 ? (
				<Empty>{t("support.none")}</Empty>
			) : (
				<>
					<TicketsTable tickets={list.data.rows} href={tk => `/admin/support/${tk.id}`} staff />
					<Pagination page={list.data.page} totalPages={list.data.totalPages} total={list.data.total} onPage={p => setQuery({ page: String(p) })} />
				</>
			)}
		</Page>
	);
}

export function AdminTicket(props: { params: Record<string, string> }) {
	const me = useStore(session).user!;
	const id = props.params.id!;
	const ticket = useTicket(id);
	const update = useSubmit(async (_k, change: Record<string, unknown>) => {
		ticket.set(await patch<Ticket>(`/tickets/${encodeURIComponent(id)}`, change));
	});
	if (ticket.error && !ticket.data) {
		return (
			<Page title={t("ticket.notFound")}>
				<ErrorAlert error={ticket.error} />
			</Page>
		);
	}
	if (!ticket.data) return <Loading />;
	const tk = ticket.data;
	const admin = me.roles.includes("admin");
	return (
		<Page title={tk.subject} wide>
			<p>
				<a href="/admin/support">{t("admin.support.back")}</a>
			</p>
			<div class="ticket-layout">
				<div>
					<TicketSummary ticket={tk} staff canReadOrder={admin} orderHref={oid => (admin ? `/admin/orders/${encodeURIComponent(oid)}` : null)} />
					<Thread ticket={tk} />
					<ReplyForm ticket={tk} onReplied={() => ticket.reload()} />
				</div>
				<aside class="ticket-side" aria-labelledby="tk-manage">
					<h2 id="tk-manage">{t("admin.support.manage")}</h2>
					{/* Details are missing when the users service did not answer in time, and null for an erased account. */}
					{tk.customer && "name" in tk.customer && tk.customer.name !== null ? (
						<p>
							{t("orders.customer")}: {tk.customer.name} ({tk.customer.email})
						</p>
					) : null}
					<p>
						{t("ticket.assignee")}:{" "}
						{tk.assigneeId ? (tk.assigneeId === me.id ? t("admin.support.me") : shortId(tk.assigneeId)) : t("ticket.unassigned")}
					</p>
					<div class="actions">
						{tk.assigneeId !== me.id ? (
							<button type="button" class="button-secondary" disabled={update.busy} onClick={() => void update.run({ assigneeId: me.id })}>
								{t("admin.support.assignMe")}
							</button>
						) : (
							<button type="button" class="button-secondary" disabled={update.busy} onClick={() => void update.run({ assigneeId: null })}>
								{t("admin.support.unassign")}
							</button>
						)}
					</div>
					<Select
						label={t("ticket.status")}
						name="status"
						value={tk.status}
						onValue={v => void update.run({ status: v })}
						options={STATUSES.map(s => ({ value: s, label: t(`ticket.status.${s}` as MessageKey) }))}
						errors={update.fields}
					/>
					<Select
						label={t("ticket.priority")}
						name="priority"
						value={tk.priority}
						onValue={v => void update.run({ priority: v })}
						options={PRIORITIES.map(s => ({ value: s, label: t(`ticket.priority.${s}` as MessageKey) }))}
						errors={update.fields}
					/>
					<ErrorAlert error={update.error} shown={["status", "priority"]} />
					{tk.type === "return" && tk.return?.status === "requested" ? <ReturnDecision ticket={tk} onDecided={ticket.set} /> : null}
				</aside>
			</div>
		</Page>
	);
}

function ReturnDecision(props: { ticket: Ticket; onDecided(t: Ticket): void }) {
	const [reason, setReason] = useState("");
	const decide = useSubmit(async (keys, decision: "approve" | "reject") => {
		const body = reason.trim() ? { reason: reason.trim() } : {};
		const res = await post<Ticket>(`/tickets/${encodeURIComponent(props.ticket.id)}/return/${decision}`, body, {
			idempotencyKey: keys.for({ decision, ...body }),
		});
		props.onDecided(res && typeof res === "object" && "messages" in res ? res : await get<Ticket>(`/tickets/${encodeURIComponent(props.ticket.id)}`));
	});
	return (
		<section aria-labelledby="ret-h" class="return-decision">
			<h3 id="ret-h">{t("admin.support.returnDecision")}</h3>
			<Field
				label={t("admin.support.reason")}
				name="reason"
				value={reason}
				onValue={setReason}
				errors={decide.fields}
				hint={t("admin.support.reasonHint")}
			/>
			<ErrorAlert error={decide.error} shown={["reason"]} />
			{decide.done ? (
				<Notice kind="success" live>
					{t("common.saved")}
				</Notice>
			) : null}
			<div class="actions">
				<button type="button" disabled={decide.busy} onClick={() => void decide.run("approve")}>
					{t("admin.support.approve")}
				</button>
				<button type="button" class="button-danger" disabled={decide.busy} onClick={() => void decide.run("reject")}>
					{t("admin.support.reject")}
				</button>
			</div>
		</section>
	);
}
