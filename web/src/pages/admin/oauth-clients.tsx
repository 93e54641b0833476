/**
 * OAuth clients of the shop's OpenID provider (/oauth-clients, admin only): the list, a new public
 * or confidential client (redirect URIs, grants, scopes), a confidential client's secret shown
 * once (at creation and after a rotation), deletion. The web shop's own client is built in.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { del, get, post } from "../../api/client";
import type { OAuthClient, OAuthClientSecret } from "../../api/types";

/** A secret to show once: the client it belongs to, by its client id and name. */
type ShownSecret = Pick<OAuthClientSecret, "clientId" | "clientSecret"> & { name: string };
import { Checkbox, Empty, ErrorAlert, Field, Loading, Notice, Page, Select, TextArea } from "../../components/ui";
import { t, type MessageKey } from "../../i18n";
import { useLoad, useSubmit } from "../../lib/hooks";

const GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"] as const;
const SCOPES = ["openid", "profile", "email", "offline_access", "catalog:write", "inventory:write", "orders:read", "orders:write", "tickets:write"] as const;
const grantLabel = (g: string) => t(`admin.oauth.grant.${g === GRANT_TYPES[3] ? "device_code" : g}` as MessageKey);

export function AdminOAuthClients() {
	const list = useLoad(async signal => (await get<{ items: OAuthClient[] }>("/oauth-clients", undefined, { signal })).items, []);
	const [secret, setSecret] = useState<ShownSecret | null>(null);
	const rotate = useSubmit(async (_k, c: OAuthClient) => {
		const answer = await post<OAuthClientSecret>(`/oauth-clients/${encodeURIComponent(c.id)}/rotate-secret`);
		setSecret({ ...answer, name: c.name });
	});
	const remove = useSubmit(async (_k, c: OAuthClient) => {
		await del(`/oauth-clients/${encodeURIComponent(c.id)}`);
		setSecret(s => (s?.clientId === c.clientId ? null : s));
		list.reload();
	});
	return (
		<Page title={t("admin.oauth.title")} wide>
			<ErrorAlert error={list.error} />
			{secret ? <SecretOnce secret={secret} onDone={() => setSecret(null)} /> : null}
			{/* Stacked, not two columns: the list has six columns of its own. */}
			<div class="stack">
				<section aria-labelledby="oauth-list">
					<h2 id="oauth-list">{t("admin.oauth.list")}</h2>
					{!list.data ? (
						list.error ? null : (
							<Loading />
						)
					) : list.data.length === 0 ? (
						<Empty>{t("admin.oauth.none")}</Empty>
					) : (
						<table class="table">
							<caption class="visually-hidden">{t("admin.oauth.list")}</caption>
							<thead>
								<tr>
									<th scope="col">{t("admin.oauth.name")}</th>
									<th scope="col">{t("admin.oauth.clientId")}</th>
									<th scope="col">{t("admin.oauth.type")}</th>
									<th scope="col">{t("admin.oauth.grants")}</th>
									<th scope="col">{t("admin.oauth.scopes")}</th>
									<th scope="col">{t("common.actions")}</th>
								</tr>
							</thead>
							<tbody>
								{list.data.map(c => (
									<tr key={c.id}>
										<th scope="row">{c.name}</th>
										<td>
											<code>{c.clientId}</code>
										</td>
										<td>{t(`admin.oauth.type.${c.type}`)}</td>
										<td>{c.grantTypes.map(grantLabel).join(", ")}</td>
										<td>{c.scopes.join(" ") || "—"}</td>
										<td class="row-actions">
											{c.firstParty ? (
												t("admin.oauth.builtIn")
											) : (
												<>
													{c.type === "confidential" ? (
														<button
															type="button"
															class="button-secondary"
															disabled={rotate.busy}
															onClick={() => void rotate.run(c)}
															aria-label={t("admin.oauth.rotateNamed", { name: c.name })}
														>
															{t("admin.oauth.rotate")}
														</button>
													) : null}
													<button
														type="button"
														class="button-danger"
														disabled={remove.busy}
														onClick={() => void remove.run(c)}
														aria-label={t("admin.oauth.deleteNamed", { name: c.name })}
													>
														{t("common.delete")}
													</button>
												</>
											)}
										</td>
									</tr>
								))}
							</tbody>
						</table>
					)}
					<ErrorAlert error={rotate.error} />
					<ErrorAlert error={remove.error} />
				</section>
				<ClientForm
					onCreated={(c, clientSecret) => {
						if (clientSecret) setSecret({ clientId: c.clientId, clientSecret, name: c.name });
						list.reload();
					}}
				/>
			</div>
		</Page>
	);
}

function SecretOnce(props: { secret: ShownSecret; onDone(): void }) {
	return (
		<section class="alert alert-warning secret-once" aria-labelledby="secret-once">
			<h2 id="secret-once">{t("admin.oauth.secretTitle", { name: props.secret.name })}</h2>
			<p>{t("admin.oauth.secretOnce")}</p>
			<dl>
				<dt>{t("admin.oauth.clientId")}</dt>
				<dd>
					<code>{props.secret.clientId}</code>
				</dd>
				<dt>{t("admin.oauth.secret")}</dt>
				<dd>
					<code data-testid="client-secret">{props.secret.clientSecret}</code>
				</dd>
			</dl>
			<button type="button" class="button-secondary" onClick={props.onDone}>
				{t("admin.oauth.secretDone")}
			</button>
		</section>
	);
}

const lines = (s: string) =>
	s
		.split(/\r?\n/)
		.map(l => l.trim())
		.filter(Boolean);

/**
 * The API names a bad URI by its index (`redirectUris[1]`): shown at the text box that holds the
 * list, with its line number.
 */
function fieldErrors(fields: Record<string, string>): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [field, message] of Object.entries(fields)) {
		const m = /^(redirectUris|postLogoutRedirectUris)\[(\d+)\]$/.exec(field);
		const key = m ? m[1]! : field;
		if (!(key in out)) out[key] = m ? t("admin.oauth.lineError", { line: Number(m[2]) + 1, message }) : message;
	}
	return out;
}

function ClientForm(props: { onCreated(c: OAuthClient, secret: string | undefined): void }) {
	const [name, setName] = useState("");
	const [type, setType] = useState<"public" | "confidential">("confidential");
	const [redirectUris, setRedirectUris] = useState("");
	const [postLogout, setPostLogout] = useState("");
	const [grants, setGrants] = useState<string[]>(["client_credentials"]);
	const [scopes, setScopes] = useState<string[]>([]);
	const submit = useSubmit(async keys => {
		const body = {
			name: name.trim(),
			type,
			redirectUris: lines(redirectUris),
			postLogoutRedirectUris: lines(postLogout),
			grantTypes: grants,
			scopes,
		};
		const created = await post<OAuthClient & { clientSecret?: string }>("/oauth-clients", body, { idempotencyKey: keys.for(body) });
		props.onCreated(created, created.clientSecret);
		setName("");
		setRedirectUris("");
		setPostLogout("");
	});
	const e = fieldErrors(submit.fields);
	const toggle = (list: string[], set: (v: string[]) => void, value: string) => (on: boolean) => set(on ? [...list, value] : list.filter(x => x !== value));
	return (
		<section aria-labelledby="oauth-form">
			<h2 id="oauth-form">{t("admin.oauth.new")}</h2>
			<form
				onSubmit={ev => {
					ev.preventDefault();
					void submit.run();
				}}
			>
				<Field label={t("admin.oauth.name")} name="name" value={name} onValue={setName} errors={e} required maxLength={100} />
				<Select
					label={t("admin.oauth.type")}
					name="type"
					value={type}
					onValue={v => setType(v as "public" | "confidential")}
					errors={e}
					options={[
						{ value: "confidential", label: t("admin.oauth.type.confidential") },
						{ value: "public", label: t("admin.oauth.type.public") },
					]}
					hint={t("admin.oauth.typeHint")}
				/>
				<TextArea
					label={t("admin.oauth.redirectUris")}
					name="redirectUris"
					value={redirectUris}
					onValue={setRedirectUris}
					errors={e}
					rows={3}
					hint={t("admin.oauth.urisHint")}
				/>
				<TextArea
					label={t("admin.oauth.postLogoutUris")}
					name="postLogoutRedirectUris"
					value={postLogout}
					onValue={setPostLogout}
					errors={e}
					rows={2}
					hint={t("admin.oauth.urisHint")}
				/>
				<CheckGroup legend={t("admin.oauth.grants")} name="grantTypes" error={e.grantTypes}>
					{GRANT_TYPES.map(g => (
						<Checkbox key={g} label={grantLabel(g)} name={`grant-${g}`} checked={grants.includes(g)} onValue={toggle(grants, setGrants, g)} />
					))}
				</CheckGroup>
				<CheckGroup legend={t("admin.oauth.scopes")} name="scopes" error={e.scopes}>
					{SCOPES.map(s => (
						<Checkbox key={s} label={s} name={`scope-${s}`} checked={scopes.includes(s)} onValue={toggle(scopes, setScopes, s)} />
					))}
				</CheckGroup>
				<ErrorAlert error={submit.error} shown={["name", "type", "redirectUris", "postLogoutRedirectUris", "grantTypes", "scopes"]} />
				{submit.done ? (
					<Notice kind="success" live>
						{t("admin.oauth.created")}
					</Notice>
				) : null}
				<button type="submit" disabled={submit.busy}>
					{t("admin.oauth.create")}
				</button>
			</form>
		</section>
	);
}

/** A group of checkboxes with its 422 problem named by the group (aria-describedby on the fieldset). */
function CheckGroup(props: { legend: string; name: string; error: string | undefined; children: ComponentChildren }) {
	const errorId = `${props.name}-error`;
	return (
		<fieldset aria-describedby={props.error ? errorId : undefined} class={props.error ? "field-invalid" : undefined}>
			<legend>{props.legend}</legend>
			{props.children}
			{props.error ? (
				<p class="field-error" id={errorId}>
					{props.error}
				</p>
			) : null}
		</fieldset>
	);
}
