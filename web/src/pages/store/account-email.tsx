/** Pages reached from the shop's emails (reset, verification, unsubscribe), the forgot-password form and the banner until the address is confirmed. */
import { useEffect, useState } from "preact/hooks";
import { post } from "../../api/client";
import { reloadMe } from "../../api/account";
import { session } from "../../api/session";
import { ErrorAlert, Field, Notice, Page } from "../../components/ui";
import { t } from "../../i18n";
import { useSubmit } from "../../lib/hooks";
import { location } from "../../lib/router";
import { useStore } from "../../lib/store";

function useToken(): string {
	return useStore(location).query.get("token") ?? "";
}

export function ForgotPassword() {
	const [email, setEmail] = useState("");
	const submit = useSubmit(() => post("/auth/password-reset", { email: email.trim() }, { auth: false }));
	return (
		<Page title={t("auth.forgot.title")}>
			<p>{t("auth.forgot.text")}</p>
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
					autoComplete="email"
				/>
				<ErrorAlert error={submit.error} shown={["email"]} />
				{submit.done ? (
					<Notice kind="success" live>
						{t("auth.forgot.sent")}
					</Notice>
				) : null}
				<button type="submit" disabled={submit.busy}>
					{t("auth.forgot.submit")}
				</button>
			</form>
		</Page>
	);
}

export function ResetPassword() {
	const token = useToken();
	const [password, setPassword] = useState("");
	const submit = useSubmit(() => post("/auth/password-reset/confirm", { token, newPassword: password }, { auth: false }));
	if (!token) return <Page title={t("auth.reset.title")}>{<Notice kind="warning">{t("auth.reset.noToken")}</Notice>}</Page>;
	return (
		<Page title={t("auth.reset.title")}>
			{submit.done ? (
				<Notice kind="success" live>
					{t("auth.reset.done")} <a href="/login">{t("nav.signIn")}</a>
				</Notice>
			) : (
				<form
					class="narrow-form"
					onSubmit={e => {
						e.preventDefault();
						void submit.run();
					}}
				>
					<Field
						label={t("account.newPassword")}
						name="newPassword"
						type="password"
						value={password}
						onValue={setPassword}
						errors={submit.fields}
						required
						autoComplete="new-password"
						hint={t("auth.passwordHint")}
					/>
					<ErrorAlert error={submit.error} shown={["newPassword"]} />
					<button type="submit" disabled={submit.busy}>
						{t("auth.reset.submit")}
					</button>
				</form>
			)}
		</Page>
	);
}

export function VerifyEmail() {
	const token = useToken();
	const submit = useSubmit(async () => {
		await post("/auth/verify-email", { token }, { auth: false });
		if (session.get().status === "signedIn") await reloadMe();
	});
	useEffect(() => {
		if (token) void submit.run();
	}, [token]);
	return (
		<Page title={t("auth.verify.title")}>
			{!token ? <Notice kind="warning">{t("auth.reset.noToken")}</Notice> : null}
			{submit.busy ? <p>{t("auth.verify.working")}</p> : null}
			<ErrorAlert error={submit.error} shown={[]} />
			{submit.done ? (
				<Notice kind="success" live>
					{t("auth.verify.done")}
				</Notice>
			) : null}
		</Page>
	);
}

export function Unsubscribe() {
	const token = useToken();
	const submit = useSubmit(() => post("/email/unsubscribe", {}, { auth: false, query: { token } }));
	return (
		<Page title={t("auth.unsubscribe.title")}>
			{submit.done ? (
				<Notice kind="success" live>
					{t("auth.unsubscribe.done")}
				</Notice>
			) : (
				<>
					<p>{t("auth.unsubscribe.text")}</p>
					<ErrorAlert error={submit.error} shown={[]} />
					<button type="button" disabled={submit.busy || !token} onClick={() => void submit.run()}>
						{t("auth.unsubscribe.submit")}
					</button>
				</>
			)}
		</Page>
	);
}

/** Until the address is confirmed: a notice with a button that sends the link again. */
export function VerifyBanner() {
	const state = useStore(session);
	const resend = useSubmit(() => post("/me/verify-email", {}));
	if (state.status !== "signedIn" || state.user?.emailVerified !== false) return null;
	return (
		<div class="verify-banner">
			<Notice kind="info">
				{t("auth.verify.banner")}{" "}
				{resend.done ? (
					<span role="status">{t("auth.verify.resent")}</span>
				) : (
					<button type="button" class="link-button" disabled={resend.busy} onClick={() => void resend.run()}>
						{t("auth.verify.resend")}
					</button>
				)}
				<ErrorAlert error={resend.error} shown={[]} />
			</Notice>
		</div>
	);
}
