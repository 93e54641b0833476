import type { ComponentChildren } from "preact";
import { useEffect, useId } from "preact/hooks";
import { ApiError, NetworkError } from "../api/client";
import { formatMoney, t, tDynamic, type MessageKey } from "../i18n";
import { focusPageHeading, location } from "../lib/router";
import { useStore } from "../lib/store";

/** A page: its <h1> (focused after a navigation) and the document title. */
export function Page(props: { title: string; children?: ComponentChildren; actions?: ComponentChildren; wide?: boolean }) {
	const loc = useStore(location);
	useEffect(() => {
		focusPageHeading(`${props.title} · ${t("app.name")}`);
	}, [props.title, loc.key]);
	return (
		<div class={props.wide ? "page page-wide" : "page"}>
			<div class="page-head">
				<h1>{props.title}</h1>
				{props.actions ? <div class="page-actions">{props.actions}</div> : null}
			</div>
			{props.children}
		</div>
	);
}

export function Money(props: { amount: number | undefined | null; currency: string }) {
	if (props.amount === undefined || props.amount === null) return null;
	return <span class="money">{formatMoney(props.amount, props.currency)}</span>;
}

export function Loading() {
	return (
		<p class="loading" role="status">
			{t("common.loading")}
		</p>
	);
}

export function Empty(props: { children: ComponentChildren }) {
	return <p class="empty">{props.children}</p>;
}

/** What an error means to a person: the API's message, or what kind of failure it was. */
export function errorText(err: unknown): string {
	if (err instanceof ApiError) {
		if (err.status === 401) return t("error.signedOut");
		if (err.status === 403) return t("error.forbidden");
		if (err.status === 429) return t("error.tooMany", { seconds: err.retryAfter ?? 60 });
		if (err.status >= 500) return t("error.server");
		if (err.status === 422 && Object.keys(err.fields).length > 0) return t("error.fields");
		return err.message;
	}
	if (err instanceof NetworkError) return t("error.network");
	return t("error.unknown");
}

/**
 * A form's error: the message, plus the 422 field problems that no field on the form shows
 * (`shown` lists the field names the form has).
 */
export function ErrorAlert(props: { error: unknown; shown?: string[] }) {
	if (!props.error) return null;
	const err = props.error;
	const extra = err instanceof ApiError ? Object.entries(err.fields).filter(([f]) => !props.shown?.includes(f)) : [];
	return (
		<div class="alert alert-error" role="alert">
			<p>{errorText(err)}</p>
			{extra.length > 0 ? (
				<ul>
					{extra.map(([f, m]) => (
						<li key={f}>
							<strong>{f}</strong>: {m}
						</li>
					))}
				</ul>
			) : null}
		</div>
	);
}

export function Notice(props: { kind?: "info" | "success" | "warning"; children: ComponentChildren; live?: boolean }) {
	return (
		<div class={`alert alert-${props.kind ?? "info"}`} role={props.live ? "status" : undefined}>
			{props.children}
		</div>
	);
}

type InputProps = {
	label: string;
	min?: number | string;
	max?: number | string;
	maxLength?: number;
	inputMode?: "numeric" | "decimal" | "text" | "email" | "tel" | "search" | "url" | "none";
	placeholder?: string;
	disabled?: boolean;
	readOnly?: boolean;
	name: string;
	value: string | number;
	onValue(value: string): void;
	errors?: Record<string, string>;
	hint?: string;
	type?: string;
	required?: boolean;
	autoComplete?: string;
};

/** A labelled input with the API's 422 message for its field next to it. */
export function Field(props: InputProps) {
	const { label, name, value, onValue, errors, hint, ...rest } = props;
	const id = useId();
	const error = errors?.[name];
	const describedBy = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
	return (
		<div class={error ? "field field-invalid" : "field"}>
			<label for={id}>
				{label}
				{props.required ? <span aria-hidden="true"> *</span> : null}
			</label>
			<input
				{...(rest as Record<string, unknown>)}
				id={id}
				name={name}
				value={value}
				aria-invalid={error ? "true" : undefined}
				aria-describedby={describedBy}
				onInput={e => onValue((e.currentTarget as HTMLInputElement).value)}
			/>
			{hint ? (
				<p class="hint" id={`${id}-hint`}>
					{hint}
				</p>
			) : null}
			{error ? (
				<p class="field-error" id={`${id}-error`}>
					{error}
				</p>
			) : null}
		</div>
	);
}

export function TextArea(props: {
	label: string;
	name: string;
	value: string;
	onValue(v: string): void;
	errors?: Record<string, string>;
	required?: boolean;
	rows?: number;
	maxLength?: number;
	hint?: string;
}) {
	const id = useId();
	const error = props.errors?.[props.name];
	const describedBy = [props.hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
	return (
		<div class={error ? "field field-invalid" : "field"}>
			<label for={id}>
				{props.label}
				{props.required ? <span aria-hidden="true"> *</span> : null}
			</label>
			<textarea
				id={id}
				name={props.name}
				value={props.value}
				rows={props.rows ?? 4}
				required={props.required}
				maxLength={props.maxLength}
				aria-invalid={error ? "true" : undefined}
				aria-describedby={describedBy}
				onInput={e => props.onValue((e.currentTarget as HTMLTextAreaElement).value)}
			/>
			{props.hint ? (
				<p class="hint" id={`${id}-hint`}>
					{props.hint}
				</p>
			) : null}
			{error ? (
				<p class="field-error" id={`${id}-error`}>
					{error}
				</p>
			) : null}
		</div>
	);
}

export function Select(props: {
	label: string;
	name: string;
	value: string;
	onValue(v: string): void;
	options: { value: string; label: string; disabled?: boolean }[];
	errors?: Record<string, string>;
	required?: boolean;
	hint?: string;
}) {
	const id = useId();
	const error = props.errors?.[props.name];
	const describedBy = [props.hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
	return (
		<div class={error ? "field field-invalid" : "field"}>
			<label for={id}>
				{props.label}
				{props.required ? <span aria-hidden="true"> *</span> : null}
			</label>
			<select
				id={id}
				name={props.name}
				value={props.value}
				required={props.required}
				aria-invalid={error ? "true" : undefined}
				aria-describedby={describedBy}
				onChange={e => props.onValue((e.currentTarget as HTMLSelectElement).value)}
			>
				{props.options.map(o => (
					<option key={o.value} value={o.value} disabled={o.disabled}>
						{o.label}
					</option>
				))}
			</select>
			{props.hint ? (
				<p class="hint" id={`${id}-hint`}>
					{props.hint}
				</p>
			) : null}
			{error ? (
				<p class="field-error" id={`${id}-error`}>
					{error}
				</p>
			) : null}
		</div>
	);
}

export function Checkbox(props: {
	label: string;
	name: string;
	checked: boolean;
	onValue(v: boolean): void;
	errors?: Record<string, string>;
	disabled?: boolean;
}) {
	const id = useId();
	const error = props.errors?.[props.name];
	return (
		<div class="field field-check">
			<input
				type="checkbox"
				id={id}
				name={props.name}
				checked={props.checked}
				disabled={props.disabled}
				aria-invalid={error ? "true" : undefined}
				aria-describedby={error ? `${id}-error` : undefined}
				onChange={e => props.onValue((e.currentTarget as HTMLInputElement).checked)}
			/>
			<label for={id}>{props.label}</label>
			{error ? (
				<p class="field-error" id={`${id}-error`}>
					{error}
				</p>
			) : null}
		</div>
	);
}

/** Page x of y with previous and next; hidden when everything fits on one page. */
export function Pagination(props: { page: number; totalPages: number; total: number; onPage(page: number): void; label?: string }) {
	if (props.totalPages <= 1) return null;
	return (
		<nav class="pagination" aria-label={props.label ?? t("pagination.label")}>
			<button type="button" class="button-secondary" disabled={props.page <= 1} onClick={() => props.onPage(props.page - 1)}>
				{t("pagination.previous")}
			</button>
			<span aria-live="polite">{t("pagination.status", { page: props.page, pages: props.totalPages, total: props.total })}</span>
			<button type="button" class="button-secondary" disabled={props.page >= props.totalPages} onClick={() => props.onPage(props.page + 1)}>
				{t("pagination.next")}
			</button>
		</nav>
	);
}

export function StatusBadge(props: { status: string; kind?: "order" | "ticket" | "return" | "delivery" }) {
	const key = `${props.kind ?? "order"}.status.${props.status}`;
	return <span class={`badge badge-${props.status}`}>{tDynamic(key, props.status)}</span>;
}

export function msg(key: MessageKey, params?: Record<string, string | number>): string {
	return t(key, params);
}
