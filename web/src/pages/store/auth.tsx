import { useEffect, useState } from "preact/hooks";
import { completeSignIn, register, signIn } from "../../api/account";
import { ErrorAlert, Field, Loading, Page } from "../../components/ui";
import { t } from "../../i18n";
import { useSubmit } from "../../lib/hooks";
import { location, navigate } from "../../lib/router";
import { useStore } from "../../lib/store";

/** Where to go after signing in: a path of this site only (never another origin). */
export function safeNext(next: string | null): string {
	return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

/**
 * Sign-in happens on the provider's page (/oidc): this route starts the code + PKCE round trip at
 * once, with a button in case leaving the page failed.
 */
export function Login() {
	const next = safeNext(useStore(location).query.get("next"));
	const submit = useSubmit(() => signIn(next));
	useEffect(() => {
		void submit.run();
	}, [next]);
	return (
		<Page title={t("auth.login.title")}>
			<p role="status">{submit.error ? null : t("auth.login.redirecting")}</p>
			<ErrorAlert error={submit.error} />
			<p>
				<button type="button" disabled={submit.busy} onClick={() => void submit.run()}>
					{t("auth.login.submit")}
				</button>
			</p>
			<p>
				<a href="/forgot-password">{t("auth.forgot.link")}</a>
			</p>
			<p>
				{t("auth.login.noAccount")} <a href={`/register${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`}>{t("nav.register")}</a>
			</p>
		</Page>
	);
}

/** The provider's redirect URI: the code exchanged, then on to where the sign-in began. */
export function AuthCallback() {
	const [failed, setFailed] = useState(false);
	useEffect(() => {
		let live = true;
		completeSignIn().then(
			next => live && navigate(safeNext(next), { replace: true }),
			() => live && setFailed(true),
		);
		return () => void (live = false);
	}, []);
	if (!failed) return <Loading />;
	return (
		<Page title={t("auth.callback.failedTitle")}>
			<div class="alert alert-error" role="alert">
				<p>{t("auth.callback.failed")}</p>
			</div>
			<p>
				<a class="button" href="/login">
					{t("nav.signIn")}
				</a>
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
		await register(name.trim(), email.trim(), password, next);
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
