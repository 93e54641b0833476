import { useEffect, useState } from "preact/hooks";
import { get, post } from "../../api/client";
import { session } from "../../api/session";
import type { Order, OrderItem, Page as ListPage, Ticket, TicketMessage, TicketType } from "../../api/types";
import { Empty, ErrorAlert, Field, Loading, Money, Notice, Page, Pagination, Select, StatusBadge, TextArea } from "../../components/ui";
import { formatDate, t, tDynamic, type MessageKey } from "../../i18n";
import { useLoad, usePolling, useSubmit } from "../../lib/hooks";
import { location, navigate } from "../../lib/router";
import { useStore } from "../../lib/store";
import { shortId } from "./orders";

const TYPES: TicketType[] = ["inquiry", "return", "complaint", "feedback"];

export function TicketList() {
	const [page, setPage] = useState(1);
	const list = useLoad(signal => get<ListPage<Ticket>>("/tickets", { page, pageSize: 10 }, { signal }), [page]);
	return (
		<Page
			title={t("support.title")}
			actions={
				<a class="button" href="/support/new">
					{t("support.new")}
				</a>
			}
		>
			{list.error ? <ErrorAlert error={list.error} /> : null}
			{!list.data ? (
				<Loading />
			) : list.data.rows.length === 0 ? (
				<Empty>{t("support.none")}</Empty>
			) : (
				<>
					<TicketsTable tickets={list.data.rows} href={tk => `/support/${tk.id}`} />
					<Pagination page={list.data.page} totalPages={list.data.totalPages} total={list.data.total} onPage={setPage} />
				</>
			)}
		</Page>
	);
}

export function TicketsTable(props: { tickets: Ticket[]; href(t: Ticket): string; staff?: boolean }) {
	return (
		<table class="table">
			<caption class="visually-hidden">{t("support.title")}</caption>
			<thead>
				<tr>
					<th scope="col">{t("ticket.subject")}</th>
					<th scope="col">{t("ticket.type")}</th>
					<th scope="col">{t("ticket.status")}</th>
					{props.staff ? <th scope="col">{t("ticket.priority")}</th> : null}
					{props.staff ? <th scope="col">{t("ticket.assignee")}</th> : null}
					<th scope="col">{t("ticket.updated")}</th>
				</tr>
			</thead>
			<tbody>
				{props.tickets.map(tk => (
					<tr key={tk.id}>
						<th scope="row">
							<a href={props.href(tk)}>{tk.subject}</a>
						</th>
						<td>{tDynamic(`ticket.type.${tk.type}`, tk.type)}</td>
						<td>
							<StatusBadge status={tk.status} kind="ticket" />
							{tk.return ? (
								<>
									{" "}
									<StatusBadge status={tk.return.status} kind="return" />
								</>
							) : null}
						</td>
						{props.staff ? <td>{tDynamic(`ticket.priority.${tk.priority}`, tk.priority)}</td> : null}
						{props.staff ? <td>{tk.assigneeId ? shortId(tk.assigneeId) : t("ticket.unassigned")}</td> : null}
						<td>{formatDate(tk.updatedAt)}</td>
					</tr>
				))}
			</tbody>
		</table>
	);
}

export function NewTicket() {
	const query = useStore(location).query;
	const [type, setType] = useState<TicketType>((TYPES.includes(query.get("type") as TicketType) ? query.get("type") : "inquiry") as TicketType);
	const [subject, setSubject] = useState("");
	const [message, setMessage] = useState("");
	const [orderId, setOrderId] = useState(query.get("orderId") ?? "");
	const [rating, setRating] = useState("5");
	const [quantities, setQuantities] = useState<Record<string, string>>({});
	const orders = useLoad(signal => get<ListPage<Order>>("/orders", { pageSize: 100 }, { signal }), []);
	const candidates = (orders.data?.rows ?? []).filter(o => type !== "return" || o.status === "delivered");
	const order = candidates.find(o => o.id === orderId);
	useEffect(() => {
		if (type === "return" && !order && candidates[0] && !orderId) setOrderId(candidates[0].id);
	}, [type, orders.data]);
	useEffect(() => {
		// A return claims every item of the order by default; the customer lowers what they keep.
		if (order) setQuantities(Object.fromEntries(order.items.map(i => [i.itemId, String(i.quantity)])));
	}, [order?.id]);

	const submit = useSubmit(async keys => {
		const body: Record<string, unknown> = { type, subject: subject.trim(), message: message.trim() };
		if (orderId) body.orderId = orderId;
		if (type === "return" && order) {
			body.items = order.items
				.map(i => ({ item: i, quantity: Number(quantities[i.itemId] ?? 0) }))
				.filter(x => x.quantity > 0)
				.map(x => ({ itemId: x.item.itemId, quantity: x.quantity }));
		}
		if (type === "feedback") body.rating = Number(rating);
		const ticket = await post<Ticket>("/tickets", body, { idempotencyKey: keys.for(body) });
		navigate(`/support/${encodeURIComponent(ticket.id)}`);
	});

	return (
		<Page title={t("support.new")}>
			<form
				class="narrow-form wide-form"
				onSubmit={e => {
					e.preventDefault();
					void submit.run();
				}}
			>
				<Select
					label={t("ticket.type")}
					name="type"
					value={type}
					onValue={v => setType(v as TicketType)}
					options={TYPES.map(x => ({ value: x, label: t(`ticket.type.${x}` as MessageKey) }))}
					errors={submit.fields}
					required
				/>
				<Select
					label={t("ticket.order")}
					name="orderId"
					value={orderId}
					onValue={setOrderId}
					required={type === "return"}
					hint={type === "return" ? t("ticket.returnHint") : undefined}
					options={[
						...(type === "return" ? [] : [{ value: "", label: t("ticket.noOrder") }]),
						...candidates.map(o => ({
							value: o.id,
							label: `${shortId(o.id)} · ${formatDate(o.createdAt)} · ${tDynamic(`order.status.${o.status}`, o.status)}`,
						})),
					]}
					errors={submit.fields}
				/>
				{type === "return" && orders.data && candidates.length === 0 ? <Notice kind="warning">{t("ticket.noDelivered")}</Notice> : null}
				{type === "return" && order ? (
					<fieldset>
						<legend>{t("ticket.returnItems")}</legend>
						{order.items.map(i => {
							const k = i.itemId;
							return (
								<Field
									key={k}
									label={`${i.name}${i.options ? ` (${Object.values(i.options).join(", ")})` : ""} · ${t("ticket.ofQuantity", { count: i.quantity })}`}
									name={`item-${k}`}
									type="number"
									min={0}
									max={i.quantity}
									value={quantities[k] ?? "0"}
									onValue={v => setQuantities(q => ({ ...q, [k]: v }))}
								/>
							);
						})}
						{submit.fields.items ? <p class="field-error">{submit.fields.items}</p> : null}
					</fieldset>
				) : null}
				{type === "feedback" ? (
					<fieldset>
						<legend>{t("ticket.rating")}</legend>
						<div class="chips">
							{["1", "2", "3", "4", "5"].map(r => (
								<span class="chip" key={r}>
									<input type="radio" id={`rating-${r}`} name="rating" value={r} checked={rating === r} onChange={() => setRating(r)} />
									<label for={`rating-${r}`}>{t("ticket.stars", { count: r })}</label>
								</span>
							))}
						</div>
						{submit.fields.rating ? <p class="field-error">{submit.fields.rating}</p> : null}
					</fieldset>
				) : null}
				<Field label={t("ticket.subject")} name="subject" value={subject} onValue={setSubject} errors={submit.fields} required maxLength={200} />
				<TextArea label={t("ticket.message")} name="message" value={message} onValue={setMessage} errors={submit.fields} required rows={5} />
				<ErrorAlert error={submit.error} shown={["type", "orderId", "subject", "message", "items", "rating"]} />
				<button type="submit" disabled={submit.busy}>
					{t("support.submit")}
				</button>
			</form>
		</Page>
	);
}

/** Poll a ticket's thread while it is open on the screen (new replies appear without a reload). */
export function useTicket(id: string) {
	const ticket = useLoad(signal => get<Ticket>(`/tickets/${encodeURIComponent(id)}`, undefined, { signal }), [id]);
	usePolling(
		async () => {
			if (document.visibilityState !== "visible") return;
			ticket.set(await get<Ticket>(`/tickets/${encodeURIComponent(id)}`));
		},
		Boolean(ticket.data),
		{ first: 3000, factor: 1.3, max: 15000 },
		[id],
	);
	return ticket;
}

export function TicketPage(props: { params: Record<string, string> }) {
	const ticket = useTicket(props.params.id!);
	if (ticket.error && !ticket.data) {
		return (
			<Page title={t("ticket.notFound")}>
				<ErrorAlert error={ticket.error} />
			</Page>
		);
	}
	if (!ticket.data) return <Loading />;
	const tk = ticket.data;
	return (
		<Page title={tk.subject}>
			<TicketSummary ticket={tk} orderHref={id => `/orders/${encodeURIComponent(id)}`} />
			<Thread ticket={tk} />
			{tk.status !== "closed" ? <ReplyForm ticket={tk} onReplied={() => ticket.reload()} /> : <p class="hint">{t("ticket.closedHint")}</p>}
		</Page>
	);
}

export function TicketSummary(props: { ticket: Ticket; orderHref(id: string): string | null; staff?: boolean; canReadOrder?: boolean }) {
	const tk = props.ticket;
	// The returned items' names come from the order (when this user may read it).
	const order = useLoad(
		async signal =>
			tk.orderId && tk.items?.length && props.canReadOrder !== false
				? get<Order>(`/orders/${encodeURIComponent(tk.orderId)}`, undefined, { signal }).catch(() => null)
				: null,
		[tk.orderId, tk.items?.length],
	);
	const itemName = (i: { itemId: string; productId: string }): string => {
		const line: OrderItem | undefined = order.data?.items.find(x => x.itemId === i.itemId);
		if (!line) return shortId(i.productId);
		return line.options ? `${line.name} (${Object.values(line.options).join(", ")})` : line.name;
	};
	return (
		<div class="ticket-summary">
			<dl class="facts">
				<div>
					<dt>{t("ticket.type")}</dt>
					<dd>{tDynamic(`ticket.type.${tk.type}`, tk.type)}</dd>
				</div>
				<div>
					<dt>{t("ticket.status")}</dt>
					<dd>
						<StatusBadge status={tk.status} kind="ticket" />
					</dd>
				</div>
				{tk.order ? (
					<div>
						<dt>{t("ticket.order")}</dt>
						<dd>
							{props.orderHref(tk.order.id) ? <a href={props.orderHref(tk.order.id)!}>{shortId(tk.order.id)}</a> : shortId(tk.order.id)}
							{/* The orders service may not have answered in time: then the id alone. */}
							{"status" in tk.order ? (
								<>
									{" "}
									· <StatusBadge status={tk.order.status} /> · <Money amount={tk.order.total} currency={tk.order.currency} />
								</>
							) : null}
						</dd>
					</div>
				) : null}
				{tk.rating ? (
					<div>
						<dt>{t("ticket.rating")}</dt>
						<dd>{t("ticket.stars", { count: tk.rating })}</dd>
					</div>
				) : null}
			</dl>
			{tk.return ? (
				<div class={`return-status return-${tk.return.status}`} role="status">
					<p>
						{t("ticket.returnStatus")} <StatusBadge status={tk.return.status} kind="return" />
					</p>
					{tk.return.status === "approved" && !props.staff ? <p>{t("ticket.returnApprovedHint")}</p> : null}
					{tk.return.reason ? <p>{t("ticket.returnReason", { reason: tk.return.reason })}</p> : null}
				</div>
			) : null}
			{tk.items && tk.items.length > 0 ? (
				<section aria-labelledby="tk-items">
					<h2 id="tk-items">{t("ticket.returnItems")}</h2>
					<ul>
						{tk.items.map((i, n) => (
							<li key={n}>{t("ticket.itemLine", { count: i.quantity, name: itemName(i) })}</li>
						))}
					</ul>
				</section>
			) : null}
		</div>
	);
}

export function Thread(props: { ticket: Ticket }) {
	const me = useStore(session).user;
	const tk = props.ticket;
	// Earlier pages of a long thread, loaded on demand (GET /tickets/:id?before=<cursor>); the newest page comes with the ticket.
	const [older, setOlder] = useState<{ messages: TicketMessage[]; cursor: string | null } | null>(null);
	const cursor = older ? older.cursor : (tk.olderMessages ?? null);
	const loadOlder = useSubmit(async () => {
		if (!cursor) return;
		const page = await get<Ticket>(`/tickets/${encodeURIComponent(tk.id)}`, { before: cursor });
		setOlder(o => ({ messages: [...page.messages, ...(o?.messages ?? [])], cursor: page.olderMessages ?? null }));
	});
	const seen = new Set<string>();
	const messages = [...(older?.messages ?? []), ...tk.messages].filter(m => (seen.has(m.id) ? false : (seen.add(m.id), true)));
	return (
		<section aria-labelledby="tk-thread">
			<h2 id="tk-thread">{t("ticket.thread")}</h2>
			{cursor ? (
				<p>
					<button type="button" class="button-secondary" disabled={loadOlder.busy} onClick={() => void loadOlder.run()}>
						{t("ticket.olderMessages", { shown: messages.length, total: tk.messagesTotal ?? messages.length })}
					</button>
				</p>
			) : null}
			<ErrorAlert error={loadOlder.error} />
			<ol class="thread" aria-live="polite">
				{messages.map(m => (
					<li key={m.id} class={m.authorRole === "customer" ? "message message-customer" : "message message-staff"}>
						<p class="message-meta">
							<strong>{m.authorId === me?.id ? t("ticket.you") : t(`role.${m.authorRole}` as MessageKey)}</strong> · {formatDate(m.at)}
						</p>
						<p class="message-body">{m.body}</p>
					</li>
				))}
			</ol>
		</section>
	);
}

export function ReplyForm(props: { ticket: Ticket; onReplied(): void }) {
	const [message, setMessage] = useState("");
	const submit = useSubmit(async keys => {
		const body = { message: message.trim() };
		await post(`/tickets/${encodeURIComponent(props.ticket.id)}/messages`, body, { idempotencyKey: keys.for({ ...body, ticket: props.ticket.id }) });
		setMessage("");
		props.onReplied();
	});
	return (
		<form
			class="reply-form"
			onSubmit={e => {
				e.preventDefault();
				if (message.trim()) void submit.run();
			}}
		>
			<TextArea label={t("ticket.reply")} name="message" value={message} onValue={setMessage} errors={submit.fields} required rows={3} />
			<ErrorAlert error={submit.error} shown={["message"]} />
			<button type="submit" disabled={submit.busy}>
				{t("ticket.send")}
			</button>
		</form>
	);
}
