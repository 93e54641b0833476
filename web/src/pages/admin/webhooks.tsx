import { useState } from "preact/hooks";
import { del, get, patch, post } from "../../api/client";
import {
	ALL_WEBHOOK_EVENTS,
	WEBHOOK_EVENT_TYPES,
	type Page as ListPage,
	type WebhookDelivery,
	type WebhookEndpoint,
	type WebhookEndpointWithSecret,
} from "../../api/types";
import { Checkbox, Empty, ErrorAlert, Field, Loading, Notice, Page, StatusBadge, TextArea } from "../../components/ui";
import { formatDate, t } from "../../i18n";
import { useLoad, usePolling, useSubmit } from "../../lib/hooks";
import { navigate } from "../../lib/router";

/** The API's list is paged; an admin's endpoints fit in one page of 100. */
const loadEndpoints = (signal?: AbortSignal) => get<ListPage<WebhookEndpoint>>("/webhooks", { pageSize: 100 }, { signal });

function eventsText(events: string[]): string {
	return events.includes(ALL_WEBHOOK_EVENTS) ? t("admin.webhooks.allEvents") : events.join(", ");
}

/** The signing secret of a creation or a rotation: shown this once. */
function SecretOnce(props: { secret: string }) {
	return (
		<Notice kind="warning" live>
			<p>{t("admin.webhooks.secretOnce")}</p>
			<p>
				{t("admin.webhooks.secret")}: <code class="secret">{props.secret}</code>
			</p>
		</Notice>
	);
}

export function AdminWebhooks() {
	const list = useLoad(signal => loadEndpoints(signal), []);
	const [created, setCreated] = useState<WebhookEndpointWithSecret | null>(null);
	return (
		<Page title={t("admin.webhooks.title")} wide>
			<p>{t("admin.webhooks.intro")}</p>
			{created ? <SecretOnce secret={created.secret} /> : null}
			<section aria-labelledby="wh-list">
				<h2 id="wh-list">{t("admin.webhooks.list")}</h2>
				{list.error ? <ErrorAlert error={list.error} /> : null}
				{!list.data ? (
					<Loading />
				) : list.data.rows.length === 0 ? (
					<Empty>{t("admin.webhooks.none")}</Empty>
				) : (
					<table class="table">
						<caption class="visually-hidden">{t("admin.webhooks.list")}</caption>
						<thead>
							<tr>
								<th scope="col">{t("admin.webhooks.url")}</th>
								<th scope="col">{t("admin.webhooks.events")}</th>
								<th scope="col">{t("admin.webhooks.enabled")}</th>
								<th scope="col">{t("admin.webhooks.description")}</th>
							</tr>
						</thead>
						<tbody>
							{list.data.rows.map(w => (
								<tr key={w.id}>
									<th scope="row">
										<a href={`/admin/webhooks/${encodeURIComponent(w.id)}`}>{w.url}</a>
									</th>
									<td>{eventsText(w.events)}</td>
									<td>{w.enabled ? t("common.yes") : t("common.no")}</td>
									<td>{w.description ?? ""}</td>
								</tr>
							))}
						</tbody>
					</table>
				)}
			</section>
			<NewEndpoint
				onCreated={endpoint => {
					setCreated(endpoint);
					list.reload();
				}}
			/>
		</Page>
	);
}

function NewEndpoint(props: { onCreated(endpoint: WebhookEndpointWithSecret): void }) {
	const [url, setUrl] = useState("");
	const [all, setAll] = useState(false);
	const [events, setEvents] = useState<string[]>([]);
	const [description, setDescription] = useState("");
	const create = useSubmit(async keys => {
		const body = { url: url.trim(), events: all ? [ALL_WEBHOOK_EVENTS] : events, ...(description.trim() ? { description: description.trim() } : {}) };
		const endpoint = await post<WebhookEndpointWithSecret>("/webhooks", body, { idempotencyKey: keys.for(body) });
		setUrl("");
		setAll(false);
		setEvents([]);
		setDescription("");
		props.onCreated(endpoint);
	});
	const eventsError = create.fields.events;
	return (
		<form
			class="form"
			aria-labelledby="wh-new"
			noValidate
			onSubmit={e => {
				e.preventDefault();
				void create.run();
			}}
		>
			<h2 id="wh-new">{t("admin.webhooks.new")}</h2>
			<Field
				label={t("admin.webhooks.url")}
				name="url"
				type="url"
				inputMode="url"
				value={url}
				onValue={setUrl}
				errors={create.fields}
				required
				placeholder="https://"
			/>
			<fieldset class={eventsError ? "field field-invalid" : "field"} aria-describedby={eventsError ? "wh-events-error" : undefined}>
				<legend>{t("admin.webhooks.events")}</legend>
				<Checkbox label={t("admin.webhooks.allEvents")} name="events-all" checked={all} onValue={setAll} />
				{WEBHOOK_EVENT_TYPES.map(type => (
					<Checkbox
						key={type}
						label={type}
						name={`event-${type}`}
						checked={all || events.includes(type)}
						disabled={all}
						onValue={on => setEvents(list => (on ? [...list, type] : list.filter(e => e !== type)))}
					/>
				))}
				{eventsError ? (
					<p class="field-error" id="wh-events-error">
						{eventsError}
					</p>
				) : null}
			</fieldset>
			<TextArea
				label={t("admin.webhooks.description")}
				name="description"
				value={description}
				onValue={setDescription}
				errors={create.fields}
				rows={2}
				maxLength={500}
			/>
			<ErrorAlert error={create.error} shown={["url", "events", "description"]} />
			<div class="actions">
				<button type="submit" disabled={create.busy}>
					{t("admin.webhooks.create")}
				</button>
			</div>
		</form>
	);
}

export function AdminWebhook(props: { params: Record<string, string> }) {
	const id = props.params.id!;
	const endpoints = useLoad(signal => loadEndpoints(signal), [id]);
	const deliveries = useLoad(signal => get<ListPage<WebhookDelivery>>(`/webhooks/${encodeURIComponent(id)}/deliveries`, { pageSize: 50 }, { signal }), [id]);
	const [secret, setSecret] = useState<string | null>(null);
	const [testSent, setTestSent] = useState(false);
	const [confirmDelete, setConfirmDelete] = useState(false);
	const path = `/webhooks/${encodeURIComponent(id)}`;

	// Follow deliveries still under way (a test event, a retry) without a reload.
	usePolling(
		async () => {
			if (document.visibilityState === "hidden") return true;
			const next = await get<ListPage<WebhookDelivery>>(`${path}/deliveries`, { pageSize: 50 });
			deliveries.set(next);
			return next.rows.some(d => d.state === "pending");
		},
		testSent || (deliveries.data?.rows.some(d => d.state === "pending") ?? false),
		{ first: 500, factor: 1.5, max: 5000 },
		[id, testSent],
	);

	const action = useSubmit(async (keys, what: "enable" | "disable" | "rotate" | "test" | "delete" | { retry: string }) => {
		if (what === "enable" || what === "disable") {
			await patch<WebhookEndpoint>(path, { enabled: what === "enable" });
			endpoints.reload();
		} else if (what === "rotate") {
			const rotated = await post<WebhookEndpointWithSecret>(`${path}/rotate-secret`, {}, { idempotencyKey: keys.for({ rotate: id }) });
			setSecret(rotated.secret);
			endpoints.reload();
		} else if (what === "test") {
			setTestSent(false);
			await post<WebhookDelivery>(`${path}/test`, {}, { idempotencyKey: keys.for({ test: id, at: Date.now() }) });
			setTestSent(true);
			deliveries.reload();
		} else if (what === "delete") {
			await del(path);
			navigate("/admin/webhooks");
		} else {
			await post<WebhookDelivery>(`${path}/deliveries/${encodeURIComponent(what.retry)}/retry`, {}, { idempotencyKey: keys.for(what) });
			deliveries.reload();
		}
	});

	if (endpoints.error && !endpoints.data) {
		return (
			<Page title={t("admin.webhooks.notFound")}>
				<ErrorAlert error={endpoints.error} />
			</Page>
		);
	}
	if (!endpoints.data) return <Loading />;
	const w = endpoints.data.rows.find(e => e.id === id);
	if (!w) {
		return (
			<Page title={t("admin.webhooks.notFound")}>
				<p>
					<a href="/admin/webhooks">{t("admin.webhooks.back")}</a>
				</p>
			</Page>
		);
	}
	return (
		<Page title={t("admin.webhooks.endpoint")} wide>
			<p>
				<a href="/admin/webhooks">{t("admin.webhooks.back")}</a>
			</p>
			<dl class="facts">
				<div>
					<dt>{t("admin.webhooks.url")}</dt>
					<dd>
						<code>{w.url}</code>
					</dd>
				</div>
				<div>
					<dt>{t("admin.webhooks.events")}</dt>
					<dd>{eventsText(w.events)}</dd>
				</div>
				<div>
					<dt>{t("admin.webhooks.enabled")}</dt>
					<dd>{w.enabled ? t("common.yes") : t("common.no")}</dd>
				</div>
				{w.description ? (
					<div>
						<dt>{t("admin.webhooks.description")}</dt>
						<dd>{w.description}</dd>
					</div>
				) : null}
			</dl>
			{!w.enabled && w.disabledReason ? <Notice kind="warning">{t("admin.webhooks.disabledBecause", { reason: w.disabledReason })}</Notice> : null}
			{secret ? <SecretOnce secret={secret} /> : null}
			{testSent ? (
				<Notice kind="success" live>
					{t("admin.webhooks.testSent")}
				</Notice>
			) : null}
			<div class="actions">
				<button type="button" disabled={action.busy} onClick={() => void action.run("test")}>
					{t("admin.webhooks.test")}
				</button>
				<button type="button" class="button-secondary" disabled={action.busy} onClick={() => void action.run(w.enabled ? "disable" : "enable")}>
					{w.enabled ? t("admin.webhooks.disable") : t("admin.webhooks.enable")}
				</button>
				<button
					type="button"
					class="button-secondary"
					disabled={action.busy}
					aria-describedby="wh-rotate-hint"
					onClick={() => void action.run("rotate")}
				>
					{t("admin.webhooks.rotate")}
				</button>
				{confirmDelete ? (
					<>
						<button type="button" class="button-danger" disabled={action.busy} onClick={() => void action.run("delete")}>
							{t("admin.webhooks.deleteConfirm")}
						</button>
						<button type="button" class="button-secondary" onClick={() => setConfirmDelete(false)}>
							{t("common.cancel")}
						</button>
					</>
				) : (
					<button type="button" class="button-secondary" onClick={() => setConfirmDelete(true)}>
						{t("admin.webhooks.delete")}
					</button>
				)}
			</div>
			<p class="hint" id="wh-rotate-hint">
				{t("admin.webhooks.rotateHint")}
			</p>
			<ErrorAlert error={action.error} />
			<section aria-labelledby="wh-deliveries">
				<div class="page-head">
					<h2 id="wh-deliveries">{t("admin.webhooks.deliveries")}</h2>
					<button type="button" class="button-secondary" onClick={() => deliveries.reload()}>
						{t("admin.webhooks.refresh")}
					</button>
				</div>
				{deliveries.error ? <ErrorAlert error={deliveries.error} /> : null}
				{!deliveries.data ? (
					<Loading />
				) : deliveries.data.rows.length === 0 ? (
					<Empty>{t("admin.webhooks.deliveriesNone")}</Empty>
				) : (
					<table class="table deliveries">
						<caption class="visually-hidden">{t("admin.webhooks.deliveries")}</caption>
						<thead>
							<tr>
								<th scope="col">{t("admin.webhooks.event")}</th>
								<th scope="col">{t("admin.webhooks.state")}</th>
								<th scope="col">{t("admin.webhooks.attempts")}</th>
								<th scope="col">{t("admin.webhooks.messageId")}</th>
								<th scope="col">{t("common.actions")}</th>
							</tr>
						</thead>
						<tbody>
							{deliveries.data.rows.map(d => (
								<tr key={d.id}>
									<th scope="row">
										{d.eventType}
										{d.createdAt ? <div class="hint">{formatDate(d.createdAt)}</div> : null}
									</th>
									<td>
										<StatusBadge status={d.state} kind="delivery" />
										{d.state === "pending" && d.nextAttemptAt ? (
											<div class="hint">{t("admin.webhooks.nextAttempt", { date: formatDate(d.nextAttemptAt) })}</div>
										) : null}
									</td>
									<td>
										{d.attempts.length === 0 ? (
											t("admin.webhooks.noAttempts")
										) : (
											<ol class="attempts">
												{d.attempts.map((a, i) => (
													<li key={i}>
														{t("admin.webhooks.attempt", {
															date: formatDate(a.at),
															status: a.status ?? t("admin.webhooks.noAnswer"),
															ms: a.durationMs,
														})}
														{a.error ? ` · ${a.error}` : ""}
													</li>
												))}
											</ol>
										)}
									</td>
									<td>
										<code>{d.webhookId}</code>
									</td>
									<td>
										<button type="button" class="button-secondary" disabled={action.busy} onClick={() => void action.run({ retry: d.id })}>
											{t("admin.webhooks.retry")}
										</button>
									</td>
								</tr>
							))}
						</tbody>
					</table>
				)}
			</section>
		</Page>
	);
}
