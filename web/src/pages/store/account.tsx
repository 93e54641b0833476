import { useState } from "preact/hooks";
import { patch, post } from "../../api/client";
import { reloadMe } from "../../api/account";
import { session } from "../../api/session";
import type { User } from "../../api/types";
import { Checkbox, ErrorAlert, Field, Notice, Page, Select } from "../../components/ui";
import { LANGUAGES, t, type MessageKey } from "../../i18n";
import { useSubmit } from "../../lib/hooks";
import { AddressBook, MyData } from "./privacy";
import { useStore } from "../../lib/store";

const CURRENCIES = ["EUR", "USD", "GBP", "MXN", "CHF", "SEK"];

export function Account() {
	const user = useStore(session).user!;
	return (
		<Page title={t("account.title")}>
			<p>
				{t("account.signedInAs", { email: user.email })} · {t("account.roles")}: {user.roles.map(r => t(`role.${r}` as MessageKey)).join(", ")}
			</p>
			<div class="account-grid">
				<ProfileForm user={user} />
				<PasswordForm />
				<AddressBook />
				<MyData />
			</div>
		</Page>
	);
}

function ProfileForm(props: { user: User }) {
	const u = props.user;
	const [name, setName] = useState(u.name);
	const [language, setLanguage] = useState(u.preferences.language);
	const [currency, setCurrency] = useState(u.preferences.currency);
	const [email, setEmail] = useState(u.preferences.notifications.email);
	const [inApp, setInApp] = useState(u.preferences.notifications.inApp);
	const submit = useSubmit(async () => {
		await patch("/me", { name: name.trim(), preferences: { language, currency, notifications: { email, inApp } } });
		await reloadMe();
	});
	const errors: Record<string, string> = {};
	for (const [k, v] of Object.entries(submit.fields)) errors[k.replace(/^preferences\.(notifications\.)?/, "")] = v;
	return (
		<section aria-labelledby="acc-profile">
			<h2 id="acc-profile">{t("account.profile")}</h2>
			<form
				onSubmit={e => {
					e.preventDefault();
					void submit.run();
				}}
			>
				<Field label={t("auth.name")} name="name" value={name} onValue={setName} errors={errors} required autoComplete="name" />
				<Select
					label={t("account.language")}
					name="language"
					value={language}
					onValue={setLanguage}
					options={LANGUAGES.map(l => ({ value: l, label: t(`language.${l}` as MessageKey) }))}
					errors={errors}
				/>
				<Select
					label={t("account.currency")}
					name="currency"
					value={currency}
					onValue={setCurrency}
					options={CURRENCIES.map(c => ({ value: c, label: c }))}
					errors={errors}
				/>
				<fieldset>
					<legend>{t("account.notifications")}</legend>
					<Checkbox label={t("account.notifyEmail")} name="email" checked={email} onValue={setEmail} errors={errors} />
					<Checkbox label={t("account.notifyInApp")} name="inApp" checked={inApp} onValue={setInApp} errors={errors} />
				</fieldset>
				<ErrorAlert error={submit.error} shown={Object.keys(submit.fields).filter(k => k.replace(/^preferences\.(notifications\.)?/, "") in errors)} />
				{submit.done ? (
					<Notice kind="success" live>
						{t("account.saved")}
					</Notice>
				) : null}
				<button type="submit" disabled={submit.busy}>
					{t("common.save")}
				</button>
			</form>
		</section>
	);
}

function PasswordForm() {
	const [current, setCurrent] = useState("");
	const [next, setNext] = useState("");
	const submit = useSubmit(async keys => {
		const body = { currentPassword: current, newPassword: next };
		await post("/me/password", body, { idempotencyKey: keys.for(body) });
		setCurrent("");
		setNext("");
	});
	return (
		<section aria-labelledby="acc-password">
			<h2 id="acc-password">{t("account.password")}</h2>
			<form
				onSubmit={e => {
					e.preventDefault();
					void submit.run();
				}}
			>
				<input type="text" name="username" autoComplete="username" value={useStore(session).user?.email} hidden readOnly />
				<Field
					label={t("account.currentPassword")}
					name="currentPassword"
					type="password"
					value={current}
					onValue={setCurrent}
					errors={submit.fields}
					required
					autoComplete="current-password"
				/>
				<Field
					label={t("account.newPassword")}
					name="newPassword"
					type="password"
					value={next}
					onValue={setNext}
					errors={submit.fields}
					required
					autoComplete="new-password"
					hint={t("auth.passwordHint")}
				/>
				<ErrorAlert error={submit.error} shown={["currentPassword", "newPassword"]} />
				{submit.done ? (
					<Notice kind="success" live>
						{t("account.passwordChanged")}
					</Notice>
				) : null}
				<button type="submit" disabled={submit.busy}>
					{t("account.changePassword")}
				</button>
			</form>
		</section>
	);
}
