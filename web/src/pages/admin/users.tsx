import { useState } from "preact/hooks";
import { del, get, patch } from "../../api/client";
import { session } from "../../api/session";
import type { Page as ListPage, Role, User } from "../../api/types";
import { Checkbox, Empty, ErrorAlert, Field, Loading, Notice, Page, Pagination, Select } from "../../components/ui";
import { formatDate, t, type MessageKey } from "../../i18n";
import { useDebounced, useLoad, useSubmit } from "../../lib/hooks";
import { navigate } from "../../lib/router";
import { useStore } from "../../lib/store";
import { Filters } from "./common";

const ROLES: Role[] = ["customer", "agent", "admin"];

export function AdminUsers() {
	const [q, setQ] = useState("");
	const [role, setRole] = useState("");
	const [page, setPage] = useState(1);
	const query = useDebounced(q, 250);
	const list = useLoad(
		signal => get<ListPage<User>>("/users", { q: query.trim() || undefined, role: role || undefined, page, pageSize: 20 }, { signal }),
		[query, role, page],
	);
	return (
		<Page title={t("admin.users.title")} wide>
			<Filters label={t("admin.users.filters")}>
				<div class="field">
					<label for="au-q">{t("admin.users.search")}</label>
					<input
						id="au-q"
						type="search"
						value={q}
						onInput={e => {
							setQ((e.currentTarget as HTMLInputElement).value);
							setPage(1);
						}}
					/>
				</div>
				<Select
					label={t("admin.users.role")}
					name="role"
					value={role}
					onValue={v => {
						setRole(v);
						setPage(1);
					}}
					options={[{ value: "", label: t("admin.support.any") }, ...ROLES.map(r => ({ value: r, label: t(`role.${r}` as MessageKey) }))]}
				/>
			</Filters>
			{list.error ? <ErrorAlert error={list.error} /> : null}
			{!list.data ? (
				<Loading />
			) : list.data.rows.length === 0 ? (
				<Empty>{t("admin.users.none")}</Empty>
			) : (
				<>
					<table class="table">
						<caption class="visually-hidden">{t("admin.users.title")}</caption>
						<thead>
							<tr>
								<th scope="col">{t("auth.email")}</th>
								<th scope="col">{t("auth.name")}</th>
								<th scope="col">{t("account.roles")}</th>
								<th scope="col">{t("admin.users.active")}</th>
								<th scope="col">{t("admin.users.since")}</th>
							</tr>
						</thead>
						<tbody>
							{list.data.rows.map(u => (
								<tr key={u.id}>
									<th scope="row">
										<a href={`/admin/users/${u.id}`}>{u.email}</a>
									</th>
									<td>{u.name}</td>
									<td>{u.roles.map(r => t(`role.${r}` as MessageKey)).join(", ")}</td>
									<td>{u.active === false ? t("common.no") : t("common.yes")}</td>
									<td>{formatDate(u.createdAt)}</td>
								</tr>
							))}
						</tbody>
					</table>
					<Pagination page={list.data.page} totalPages={list.data.totalPages} total={list.data.total} onPage={setPage} />
				</>
			)}
		</Page>
	);
}

export function AdminUser(props: { params: Record<string, string> }) {
	const id = props.params.id!;
	const user = useLoad(signal => get<User>(`/users/${encodeURIComponent(id)}`, undefined, { signal }), [id]);
	if (user.error && !user.data) {
		return (
			<Page title={t("admin.users.title")}>
				<ErrorAlert error={user.error} />
			</Page>
		);
	}
	if (!user.data) return <Loading />;
	return <UserForm key={user.data.id} user={user.data} onSaved={user.set} />;
}

function UserForm(props: { user: User; onSaved(u: User): void }) {
	const me = useStore(session).user;
	const u = props.user;
	const [name, setName] = useState(u.name);
	const [roles, setRoles] = useState<Role[]>(u.roles);
	const [active, setActive] = useState(u.active !== false);
	const [confirming, setConfirming] = useState(false);
	const save = useSubmit(async () => props.onSaved(await patch<User>(`/users/${encodeURIComponent(u.id)}`, { name: name.trim(), roles, active })));
	const remove = useSubmit(async () => {
		await del(`/users/${encodeURIComponent(u.id)}`);
		navigate("/admin/users");
	});
	return (
		<Page title={u.email}>
			<p>
				<a href="/admin/users">{t("admin.users.back")}</a>
			</p>
			<form
				class="narrow-form"
				onSubmit={e => {
					e.preventDefault();
					void save.run();
				}}
			>
				<Field label={t("auth.name")} name="name" value={name} onValue={setName} errors={save.fields} required />
				<fieldset>
					<legend>{t("account.roles")}</legend>
					{ROLES.map(r => (
						<Checkbox
							key={r}
							label={t(`role.${r}` as MessageKey)}
							name={`role-${r}`}
							checked={roles.includes(r)}
							onValue={on => setRoles(on ? [...roles, r] : roles.filter(x => x !== r))}
						/>
					))}
					{save.fields.roles ? <p class="field-error">{save.fields.roles}</p> : null}
				</fieldset>
				<Checkbox label={t("admin.users.active")} name="active" checked={active} onValue={setActive} errors={save.fields} />
				<ErrorAlert error={save.error} shown={["name", "roles", "active"]} />
				{save.done ? (
					<Notice kind="success" live>
						{t("common.saved")}
					</Notice>
				) : null}
				<button type="submit" disabled={save.busy}>
					{t("common.save")}
				</button>
			</form>
			{me?.id !== u.id ? (
				<section aria-labelledby="del-user">
					<h2 id="del-user">{t("admin.users.delete")}</h2>
					{confirming ? (
						<>
							<button type="button" class="button-danger" disabled={remove.busy} onClick={() => void remove.run()}>
								{t("admin.users.deleteConfirm")}
							</button>{" "}
							<button type="button" class="button-secondary" onClick={() => setConfirming(false)}>
								{t("common.cancel")}
							</button>
						</>
					) : (
						<button type="button" class="button-danger" onClick={() => setConfirming(true)}>
							{t("admin.users.delete")}
						</button>
					)}
					<ErrorAlert error={remove.error} />
				</section>
			) : null}
		</Page>
	);
}
