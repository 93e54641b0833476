import { useState } from "preact/hooks";
import { register, signIn } from "../../api/account";
import { ErrorAlert, Field, Page } from "../../components/ui";
import { t } from "../../i18n";
import { useSubmit } from "../../lib/hooks";
import { location, navigate } from "../../lib/router";
import { useStore } from "../../lib/store";

/** Where to go after signing in: a path of this site only (never another origin). */
export function safeNext(next: string | null): string {
	return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

export function Login() {
	const next = safeNext(useStore(location).query.get("next"));
	const [email, setEmail] = useState("");
	const [password, setPassword] = useState("");
	const submit = useSubmit(async () => {
		await signIn(email.trim(), password);
		navigate(next);
	});
	return (
		<Page title={t("auth.login.title")}>
			<form
				class="narrow-form"
				onSubmit={e => {
					e.preventDefault();
					void submit.run();
				}}
			>
				<Field
					label={t("auth.email")}
					name="email"
					type="email"
					value={email}
					onValue={setEmail}
					errors={submit.fields}
					required
					autoComplete="username"
				/>
				<Field
					label={t("auth.password")}
					name="password"
					type="password"
					value={password}
					onValue={setPassword}
					errors={submit.fields}
					required
					autoComplete="current-password"
				/>
				<ErrorAlert error={submit.error} shown={["email", "password"]} />
				<button type="submit" disabled={submit.busy}>
					{t("auth.login.submit")}
				</button>
			</form>
			<p>
				<a href="/forgot-password">{t("auth.forgot.link")}</a>
			</p>
			<p>
				{t("auth.login.noAccount")} <a href={`/register${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`}>{t("nav.register")}</a>
			</p>
		</Page>
	);
}

export function Register() {
	const next = safeNext(useStore(location).query.get("next"));
	const [name, setName] = useState("");
	const [email, setEmail] = useState("");
	const [password, setPassword] = useState("");
	const submit = useSubmit(async () => {
		await register(name.trim(), email.trim(), password);
		navigate(next);
	});
	return (
		<Page title={t("auth.register.title")}>
			<form
				class="narrow-form"
				onSubmit={e => {
					e.preventDefault();
					void submit.run();
				}}
			>
				<Field label={t("auth.name")} name="name" value={name} onValue={setName} errors={submit.fields} required autoComplete="name" />
				<Field
					label={t("auth.email")}
					name="email"
					type="email"
					value={email}
					onValue={setEmail}
					errors={submit.fields}
					required
					autoComplete="email"
				/>
				<Field
					label={t("auth.password")}
					name="password"
					type="password"
					value={password}
					onValue={setPassword}
					errors={submit.fields}
					required
					autoComplete="new-password"
					hint={t("auth.passwordHint")}
				/>
				<ErrorAlert error={submit.error} shown={["name", "email", "password"]} />
				<button type="submit" disabled={submit.busy}>
					{t("auth.register.submit")}
				</button>
			</form>
			<p>
				{t("auth.register.haveAccount")} <a href={`/login${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`}>{t("nav.signIn")}</a>
			</p>
		</Page>
	);
}
