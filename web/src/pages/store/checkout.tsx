import { useEffect, useState } from "preact/hooks";
import { post } from "../../api/client";
import { refreshBadges } from "../../api/account";
import { session } from "../../api/session";
import type { Order } from "../../api/types";
import { ErrorAlert, Field, Loading, Notice, Page, Select } from "../../components/ui";
import { t } from "../../i18n";
import { countryOptions, preferredCountry, rememberCountry } from "../../lib/countries";
import { useLoad, useSubmit } from "../../lib/hooks";
import { loadAddresses } from "./privacy";
import { location, navigate } from "../../lib/router";
import { useStore } from "../../lib/store";
import { ShippingChoice, Totals, usePricedCart, useShippingMethods } from "./cart";

/** The simulated payment provider's cards are shown where the shop runs for development (a loopback address or the Vite dev server). */
export function showTestCards(): boolean {
	return import.meta.env.DEV || ["localhost", "127.0.0.1", "[::1]"].includes(window.location.hostname);
}

const ADDRESS_FIELDS = ["name", "line1", "line2", "city", "region", "postalCode", "country"] as const;
const CARD_FIELDS = ["cardNumber", "expMonth", "expYear", "cvc"] as const;

export function Checkout() {
	const user = useStore(session).user;
	const query = useStore(location).query;
	const [address, setAddress] = useState<Record<(typeof ADDRESS_FIELDS)[number], string>>({
		name: user?.name ?? "",
		line1: "",
		line2: "",
		city: "",
		region: "",
		postalCode: "",
		country: query.get("country") ?? preferredCountry(),
	});
	// The address book: a saved address fills the form and is sent by its id (the order keeps a copy).
	const saved = useLoad(signal => loadAddresses(signal), []);
	const [savedId, setSavedId] = useState("");
	const pickSaved = (id: string) => {
		setSavedId(id);
		const entry = saved.data?.find(x => x.id === id);
		if (entry) for (const k of ADDRESS_FIELDS) setAddress(s => ({ ...s, [k]: entry[k] ?? "" }));
	};
	useEffect(() => {
		const first = saved.data?.find(x => x.isDefault);
		if (first && !savedId) pickSaved(first.id);
	}, [saved.data]);
	const year = new Date().getFullYear();
	const [card, setCard] = useState({ cardNumber: "", expMonth: "12", expYear: String(year + 2), cvc: "" });
	const [methodId, setMethodId] = useState(query.get("shippingMethodId") ?? "");
	const methods = useShippingMethods(address.country);
	const cart = usePricedCart(address.country, methodId);
	useEffect(() => {
		const list = methods.data ?? [];
		if (list.length > 0 && !list.some(m => m.id === methodId)) setMethodId(list[0]!.id);
	}, [methods.data]);

	const submit = useSubmit(async keys => {
		const shippingAddress: Record<string, string> = {};
		for (const k of ADDRESS_FIELDS) if (address[k].trim()) shippingAddress[k] = address[k].trim();
		const body: Record<string, unknown> = {
			...(savedId ? { shippingAddressId: savedId } : { shippingAddress }),
			payment: {
				method: "card",
				cardNumber: card.cardNumber.replace(/[\s-]/g, ""),
				expMonth: Number(card.expMonth),
				expYear: Number(card.expYear),
				cvc: card.cvc.trim(),
			},
		};
		if (methodId) body.shippingMethodId = methodId;
		// The same key while the same body is sent again (a retry after a lost answer gets the same order).
		const order = await post<Order>("/orders", body, { idempotencyKey: keys.for(body) });
		rememberCountry(address.country);
		void refreshBadges();
		navigate(`/orders/${encodeURIComponent(order.id)}`);
	});
	const errors: Record<string, string> = {};
	for (const [k, v] of Object.entries(submit.fields)) {
		errors[k.replace(/^shippingAddress\./, "addr.").replace(/^payment\./, "card.")] = v;
	}
	const shown = [
		...ADDRESS_FIELDS.map(k => `shippingAddress.${k}`),
		...CARD_FIELDS.map(k => `payment.${k}`),
		"shippingMethodId",
		"shippingAddress",
		"shippingAddressId",
		"payment",
	];
	const a = (k: (typeof ADDRESS_FIELDS)[number]) => (v: string) => {
		setSavedId(""); // edited: a new address
		setAddress(s => ({ ...s, [k]: v }));
	};
	const c = (k: keyof typeof card) => (v: string) => setCard(s => ({ ...s, [k]: v }));

	if (cart.data && cart.data.items.length === 0 && !submit.busy) {
		return (
			<Page title={t("checkout.title")}>
				<p class="empty">{t("cart.empty")}</p>
				<p>
					<a href="/search">{t("home.browseAll")}</a>
				</p>
			</Page>
		);
	}

	return (
		<Page title={t("checkout.title")}>
			<form
				class="checkout-form"
				noValidate
				onSubmit={e => {
					e.preventDefault();
					void submit.run();
				}}
			>
				<div class="checkout-layout">
					<div>
						<fieldset>
							<legend>{t("checkout.address")}</legend>
							{saved.data?.length ? (
								<Select
									label={t("addresses.useSaved")}
									name="shippingAddressId"
									value={savedId}
									onValue={pickSaved}
									options={[
										{ value: "", label: t("addresses.newAddress") },
										...saved.data.map(x => ({ value: x.id, label: x.label ?? `${x.name}, ${x.line1}` })),
									]}
									errors={errors}
								/>
							) : null}
							<Field
								label={t("address.name")}
								name="addr.name"
								value={address.name}
								onValue={a("name")}
								errors={errors}
								required
								autoComplete="name"
							/>
							<Field
								label={t("address.line1")}
								name="addr.line1"
								value={address.line1}
								onValue={a("line1")}
								errors={errors}
								required
								autoComplete="address-line1"
							/>
							<Field
								label={t("address.line2")}
								name="addr.line2"
								value={address.line2}
								onValue={a("line2")}
								errors={errors}
								autoComplete="address-line2"
							/>
							<div class="row">
								<Field
									label={t("address.postalCode")}
									name="addr.postalCode"
									value={address.postalCode}
									onValue={a("postalCode")}
									errors={errors}
									required
									autoComplete="postal-code"
								/>
								<Field
									label={t("address.city")}
									name="addr.city"
									value={address.city}
									onValue={a("city")}
									errors={errors}
									required
									autoComplete="address-level2"
								/>
							</div>
							<Field
								label={t("address.region")}
								name="addr.region"
								value={address.region}
								onValue={a("region")}
								errors={errors}
								autoComplete="address-level1"
							/>
							<Select
								label={t("address.country")}
								name="addr.country"
								value={address.country}
								onValue={a("country")}
								options={countryOptions()}
								errors={errors}
								required
							/>
						</fieldset>
						{methods.data ? (
							<ShippingChoice
								methods={methods.data}
								value={methodId}
								onValue={setMethodId}
								currency={cart.data?.currency ?? "EUR"}
								errors={errors}
							/>
						) : null}
						{methods.data && methods.data.length === 0 && !methods.loading ? <Notice kind="warning">{t("cart.noShipping")}</Notice> : null}
						<fieldset>
							<legend>{t("checkout.payment")}</legend>
							{showTestCards() ? (
								<Notice>
									<p>{t("checkout.testCards")}</p>
									<ul>
										<li>
											<code>4242424242424242</code> {t("checkout.testApproved")}
										</li>
										<li>
											<code>4000000000000002</code> {t("checkout.testDeclined")}
										</li>
									</ul>
								</Notice>
							) : null}
							<Field
								label={t("card.number")}
								name="card.cardNumber"
								value={card.cardNumber}
								onValue={c("cardNumber")}
								errors={errors}
								required
								inputMode="numeric"
								autoComplete="cc-number"
							/>
							<div class="row">
								<Field
									label={t("card.expMonth")}
									name="card.expMonth"
									type="number"
									min={1}
									max={12}
									value={card.expMonth}
									onValue={c("expMonth")}
									errors={errors}
									required
									autoComplete="cc-exp-month"
								/>
								<Field
									label={t("card.expYear")}
									name="card.expYear"
									type="number"
									min={year}
									max={year + 30}
									value={card.expYear}
									onValue={c("expYear")}
									errors={errors}
									required
									autoComplete="cc-exp-year"
								/>
								<Field
									label={t("card.cvc")}
									name="card.cvc"
									value={card.cvc}
									onValue={c("cvc")}
									errors={errors}
									required
									inputMode="numeric"
									autoComplete="cc-csc"
								/>
							</div>
						</fieldset>
					</div>
					<section class="cart-summary" aria-labelledby="co-summary">
						<h2 id="co-summary">{t("cart.summary")}</h2>
						{cart.data ? <Totals cart={cart.data} /> : <Loading />}
						<ErrorAlert error={submit.error} shown={shown} />
						<button type="submit" disabled={submit.busy}>
							{submit.busy ? t("checkout.placing") : t("checkout.place")}
						</button>
					</section>
				</div>
			</form>
		</Page>
	);
}
