import type { ComponentChildren } from "preact";
import { isMissingRoute } from "../../api/client";
import { ErrorAlert, Notice } from "../../components/ui";
import { t } from "../../i18n";

/** A part of the contract's "Additions to v1" this server does not have yet. */
export function NotOnThisServer() {
	return <Notice kind="info">{t("admin.notAvailable")}</Notice>;
}

/** A list's error: a missing route (an addition not deployed) is said plainly, anything else is an error. */
export function ListError(props: { error: unknown }) {
	if (!props.error) return null;
	if (isMissingRoute(props.error)) return <NotOnThisServer />;
	return <ErrorAlert error={props.error} />;
}

export function Filters(props: { children: ComponentChildren; label: string }) {
	return (
		<form class="filters-bar" role="search" aria-label={props.label} onSubmit={e => e.preventDefault()}>
			{props.children}
		</form>
	);
}
