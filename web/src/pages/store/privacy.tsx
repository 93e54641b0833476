/** Account sections: the address book, and one's data (download it, delete the account). */
import { useState } from "preact/hooks";
import { api, del, get, patch, post } from "../../api/client";
import { signOut } from "../../api/account";
import type { AddressBookEntry } from "../../api/types";
import { Checkbox, ErrorAlert, Field, Notice, Select } from "../../components/ui";
import { t, type MessageKey } from "../../i18n";
import { countryName, countryOptions, preferredCountry } from "../../lib/countries";
import { useLoad, useSubmit } from "../../lib/hooks";
import { navigate } from "../../lib/router";

export type SavedAddress = AddressBookEntry;

const FIELDS = ["name", "line1", "line2", "city", "region", "postalCode"] as const;
const blank = () => ({ name: "", line1: "", line2: "", city: "", region: "", postalCode: "", country: preferredCountry(), label: "" });

export function loadAddresses(signal?: AbortSignal): Promise<SavedAddress[]> {
	return get<{ rows: SavedAddress[] }>("/me/addresses", undefined, { signal }).then(r => r.rows);
}

export function AddressBook() {
	const list = useLoad(signal => loadAddresses(signal), []);
	const [draft, setDraft] = useState(blank());
	const [isDefault, setIsDefault] = useState(false);
	const add = useSubmit(async () => {
		const body: Record<string, unknown> = { country: draft.country, isDefault };
		for (const k of [...FIELDS, "label"] as const) if (draft[k].trim()) body[k] = draft[k].trim();
		await post("/me/addresses", body);
		setDraft(blank());
		list.reload();
	});
	const change = useSubmit(async (_keys, id: string, remove: boolean) => {
		if (remove) await del(`/me/addresses/${id}`);
		else await patch(`/me/addresses/${id}`, { isDefault: true });
		list.reload();
	});
	return (
		<section aria-labelledby="acc-addresses">
			<h2 id="acc-addresses">{t("addresses.title")}</h2>
			{list.data?.length === 0 ? <p>{t("addresses.empty")}</p> : null}
			<ul class="address-list">
				{(list.data ?? []).map(a => (
					<li key={a.id}>
						<strong>{a.label ?? a.name}</strong> {a.isDefault ? <span class="badge">{t("addresses.default")}</span> : null}
						<br />
						{a.name}, {a.line1}
						{a.line2 ? `, ${a.line2}` : ""}, {a.postalCode} {a.city}, {countryName(a.country)}
						<br />
						{!a.isDefault ? (
							<button type="button" class="link-button" onClick={() => void change.run(a.id, false)}>
								{t("addresses.makeDefault")}
							</button>
						) : null}{" "}
						<button type="button" class="link-button" onClick={() => void change.run(a.id, true)}>
							{t("common.remove")}
						</button>
					</li>
				))}
			</ul>
			<ErrorAlert error={change.error} shown={[]} />
			<form
				onSubmit={e => {
					e.preventDefault();
					void add.run();
				}}
			>
				<Field label={t("addresses.label")} name="label" value={draft.label} onValue={v => setDraft({ ...draft, label: v })} errors={add.fields} />
				{FIELDS.map(k => (
					<Field
						key={k}
						label={t(`address.${k}` as MessageKey)}
						name={k}
						value={draft[k]}
						onValue={v => setDraft({ ...draft, [k]: v })}
						errors={add.fields}
						required={k !== "line2" && k !== "region"}
					/>
				))}
				<Select
					label={t("address.country")}
					name="country"
					value={draft.country}
					onValue={v => setDraft({ ...draft, country: v })}
					options={countryOptions()}
					errors={add.fields}
				/>
				<Checkbox label={t("addresses.default")} name="isDefault" checked={isDefault} onValue={setIsDefault} errors={add.fields} />
				<ErrorAlert error={add.error} shown={[...FIELDS, "label", "country", "isDefault"]} />
				<button type="submit" disabled={add.busy}>
					{t("addresses.add")}
				</button>
			</form>
		</section>
	);
}

export function MyData() {
	const [password, setPassword] = useState("");
	const download = useSubmit(async () => {
		const data = await get<unknown>("/me/export");
		const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
		const a = document.createElement("a");
		a.href = url;
		a.download = "my-data.json";
		a.click();
		URL.revokeObjectURL(url);
	});
	const erase = useSubmit(async () => {
		await api("DELETE", "/me", { body: { password } });
		await signOut().catch(() => undefined);
		navigate("/?deleted=1");
	});
	return (
		<section aria-labelledby="acc-data">
			<h2 id="acc-data">{t("data.title")}</h2>
			<p>{t("data.downloadHint")}</p>
			<button type="button" disabled={download.busy} onClick={() => void download.run()}>
				{t("data.download")}
			</button>
			<ErrorAlert error={download.error} shown={[]} />
			<h3>{t("data.delete")}</h3>
			<p>{t("data.deleteText")}</p>
			<form
				onSubmit={e => {
					e.preventDefault();
					void erase.run();
				}}
			>
				<Field
					label={t("auth.password")}
					name="password"
					type="password"
					value={password}
					onValue={setPassword}
					errors={erase.fields}
					required
					autoComplete="current-password"
				/>
				<ErrorAlert error={erase.error} shown={["password"]} />
				{erase.done ? <Notice kind="success">{t("data.deleted")}</Notice> : null}
				<button type="submit" class="danger" disabled={erase.busy}>
					{t("data.deleteConfirm")}
				</button>
			</form>
		</section>
	);
}
