import { useEffect, useState } from "preact/hooks";
import { ApiError, del, get, patch, put, type FieldProblem } from "../../api/client";
import { setCart } from "../../api/account";
import type { Cart, CartLine, PromotionRefusalReason, ShippingMethod } from "../../api/types";
import { ErrorAlert, Field, Loading, Money, Notice, Page, Select } from "../../components/ui";
import { t, tDynamic } from "../../i18n";
import { countryOptions, preferredCountry, rememberCountry } from "../../lib/countries";
import { useLoad, useSubmit } from "../../lib/hooks";

/** A cart line's key in PATCH/DELETE /cart/items/:itemId (the variant's id, or the product's). */
export function lineKey(l: CartLine): string {
	return l.itemId;
}

export function OptionsText(props: { options: Record<string, string> | null | undefined }) {
	if (!props.options || Object.keys(props.options).length === 0) return null;
	return (
		<span class="line-options">
			{Object.entries(props.options)
				.map(([k, v]) => `${k}: ${v}`)
				.join(", ")}
		</span>
	);
}

/** The active shipping methods to a country, cheapest first (GET /shipping-methods?country). */
export function useShippingMethods(country: string) {
	return useLoad(async signal => (country ? await get<ShippingMethod[]>("/shipping-methods", { country }, { signal }) : ([] as ShippingMethod[])), [country]);
}

/**
 * The cart priced for a destination: `GET /cart?country&shippingMethodId`. A destination no method
 * ships to (or a method that does not ship there) is a 422 naming `country` or `shippingMethodId`:
 * then the cart without a destination, and the page says that it cannot be shipped there.
 */
export function usePricedCart(country: string, shippingMethodId: string) {
	return useLoad(
		async signal => {
			try {
				return await get<Cart>("/cart", { country: country || undefined, shippingMethodId: shippingMethodId || undefined }, { signal });
			} catch (err) {
				if (err instanceof ApiError && err.status === 422 && (err.fields.country || err.fields.shippingMethodId)) {
					return get<Cart>("/cart", undefined, { signal });
				}
				throw err;
			}
		},
		[country, shippingMethodId],
	);
}

export function Totals(props: { cart: Cart }) {
	const c = props.cart;
	// Catalog prices include tax unless the shop is configured otherwise: then the total adds it on top.
	const taxIncluded = c.total === c.subtotal - c.discount + c.shipping;
	return (
		<dl class="totals">
			<div>
				<dt>{t("cart.subtotal")}</dt>
				<dd>
					<Money amount={c.subtotal} currency={c.currency} />
				</dd>
			</div>
			{c.discount > 0 ? (
				<div>
					<dt>
						{t("cart.discount")}
						{c.promotion ? ` (${c.promotion.code})` : ""}
					</dt>
					<dd>
						−<Money amount={c.discount} currency={c.currency} />
					</dd>
				</div>
			) : null}
			<div>
				<dt>
					{t("cart.shipping")}
					{c.shippingMethod ? ` (${c.shippingMethod.name})` : ""}
				</dt>
				<dd>{c.shippingMethod || c.shipping > 0 ? <Money amount={c.shipping} currency={c.currency} /> : t("cart.shippingTbd")}</dd>
			</div>
			<div>
				<dt>{taxIncluded ? t("cart.taxIncluded") : t("cart.tax")}</dt>
				<dd>
					<Money amount={c.tax} currency={c.currency} />
				</dd>
			</div>
			<div class="total-row">
				<dt>{t("cart.total")}</dt>
				<dd>
					<Money amount={c.total} currency={c.currency} />
				</dd>
			</div>
		</dl>
	);
}

export function ShippingChoice(props: {
	methods: ShippingMethod[];
	value: string;
	onValue(id: string): void;
	currency: string;
	errors?: Record<string, string>;
}) {
	if (props.methods.length === 0) return null;
	return (
		<fieldset class="shipping-methods">
			<legend>{t("cart.shippingMethod")}</legend>
			{props.methods.map(m => (
				<div class="field field-check" key={m.id}>
					<input
						type="radio"
						id={`ship-${m.id}`}
						name="shippingMethodId"
						value={m.id}
						checked={props.value === m.id}
						onChange={() => props.onValue(m.id)}
					/>
					<label for={`ship-${m.id}`}>
						{m.name} · <Money amount={m.price} currency={m.currency} /> · {t("cart.days", { min: m.minDays, max: m.maxDays })}
						{m.freeOver ? (
							<span class="hint">
								{" "}
								{t("cart.freeOver")} <Money amount={m.freeOver} currency={m.currency} />
							</span>
						) : null}
					</label>
				</div>
			))}
			{props.errors?.shippingMethodId ? <p class="field-error">{props.errors.shippingMethodId}</p> : null}
		</fieldset>
	);
}

export function CartPage() {
	const [country, setCountry] = useState(preferredCountry());
	const [methodId, setMethodId] = useState("");
	const methods = useShippingMethods(country);
	const cart = usePricedCart(country, methodId);
	useEffect(() => {
		if (cart.data) setCart(cart.data);
	}, [cart.data]);
	useEffect(() => {
		// The cheapest method (the list comes cheapest first) unless the chosen one still ships there.
		const list = methods.data ?? [];
		if (!list.some(m => m.id === methodId)) setMethodId(list[0]?.id ?? "");
	}, [methods.data]);

	const change = useSubmit(async (_keys, line: CartLine, quantity: number) => {
		const key = encodeURIComponent(lineKey(line));
		if (quantity <= 0) await del(`/cart/items/${key}`);
		else await patch(`/cart/items/${key}`, { quantity });
		cart.reload();
	});
	const clear = useSubmit(async () => {
		await del("/cart");
		cart.reload();
	});

	if (cart.error && !cart.data) {
		return (
			<Page title={t("cart.title")}>
				<ErrorAlert error={cart.error} />
			</Page>
		);
	}
	if (!cart.data) return <Loading />;
	const c = cart.data;
	const checkoutQuery = new URLSearchParams({ country, ...(methodId ? { shippingMethodId: methodId } : {}) });

	return (
		<Page title={t("cart.title")}>
			{c.items.length === 0 ? (
				<>
					<p class="empty">{t("cart.empty")}</p>
					<p>
						<a href="/search">{t("home.browseAll")}</a>
					</p>
				</>
			) : (
				<div class="cart-layout">
					<section aria-labelledby="cart-lines">
						<h2 id="cart-lines" class="visually-hidden">
							{t("cart.lines")}
						</h2>
						<table class="table cart-table">
							<caption class="visually-hidden">{t("cart.lines")}</caption>
							<thead>
								<tr>
									<th scope="col">{t("cart.product")}</th>
									<th scope="col">{t("cart.unitPrice")}</th>
									<th scope="col">{t("cart.quantity")}</th>
									<th scope="col">{t("cart.lineTotal")}</th>
									<th scope="col">
										<span class="visually-hidden">{t("common.actions")}</span>
									</th>
								</tr>
							</thead>
							<tbody>
								{c.items.map(l => (
									<CartRow key={lineKey(l)} line={l} currency={c.currency} busy={change.busy} onQuantity={q => void change.run(l, q)} />
								))}
							</tbody>
						</table>
						<ErrorAlert error={change.error} />
						<button type="button" class="button-secondary" disabled={clear.busy} onClick={() => void clear.run()}>
							{t("cart.clear")}
						</button>
					</section>
					<section class="cart-summary" aria-labelledby="cart-summary-h">
						<h2 id="cart-summary-h">{t("cart.summary")}</h2>
						<Select
							label={t("cart.country")}
							name="country"
							value={country}
							onValue={v => {
								setCountry(v);
								rememberCountry(v);
							}}
							options={countryOptions()}
						/>
						{methods.data ? <ShippingChoice methods={methods.data} value={methodId} onValue={setMethodId} currency={c.currency} /> : null}
						{methods.data && methods.data.length === 0 && !methods.loading ? <Notice kind="warning">{t("cart.noShipping")}</Notice> : null}
						<PromotionForm cart={c} onChange={() => cart.reload()} />
						<Totals cart={c} />
						<a class="button" href={`/checkout?${checkoutQuery}`}>
							{t("cart.checkout")}
						</a>
					</section>
				</div>
			)}
		</Page>
	);
}

function CartRow(props: { line: CartLine; currency: string; busy: boolean; onQuantity(q: number): void }) {
	const l = props.line;
	const [q, setQ] = useState(String(l.quantity));
	useEffect(() => setQ(String(l.quantity)), [l.quantity]);
	const id = `qty-${lineKey(l)}`;
	return (
		<tr>
			<th scope="row">
				<a href={`/products/${encodeURIComponent(l.productId)}`}>{l.name}</a> <OptionsText options={l.options} />
			</th>
			<td>
				<Money amount={l.unitPrice} currency={props.currency} />
			</td>
			<td>
				<label for={id} class="visually-hidden">
					{t("cart.quantityOf", { name: l.name })}
				</label>
				<input
					id={id}
					class="qty"
					type="number"
					min={0}
					max={99}
					value={q}
					onInput={e => setQ((e.currentTarget as HTMLInputElement).value)}
					onChange={() => {
						const n = Number(q);
						if (Number.isInteger(n) && n !== l.quantity) props.onQuantity(n);
					}}
				/>
			</td>
			<td>
				<Money amount={l.lineTotal} currency={props.currency} />
			</td>
			<td>
				<button
					type="button"
					class="button-secondary"
					disabled={props.busy}
					onClick={() => props.onQuantity(0)}
					aria-label={t("cart.removeItem", { name: l.name })}
				>
					{t("cart.remove")}
				</button>
			</td>
		</tr>
	);
}

/** Why a code is refused, in the user's language (the server's own message when the catalog has no such reason). */
export function refusalText(reason: PromotionRefusalReason | string, message: string): string {
	return tDynamic(`cart.refusal.${reason}`, message);
}

function PromotionForm(props: { cart: Cart; onChange(): void }) {
	const [code, setCode] = useState("");
	const apply = useSubmit(async () => {
		await put("/cart/promotion", { code: code.trim() });
		setCode("");
		props.onChange();
	});
	const remove = useSubmit(async () => {
		await del("/cart/promotion");
		props.onChange();
	});
	const c = props.cart;
	if (c.promotion || c.promotionRefusal) {
		return (
			<div class="promotion-applied">
				{c.promotion ? (
					<p role="status">{t("cart.promotionApplied", { code: c.promotion.code })}</p>
				) : (
					<Notice kind="warning">
						{t("cart.promotionRefused")} {refusalText(c.promotionRefusal!.reason, c.promotionRefusal!.message)}
					</Notice>
				)}
				<button type="button" class="button-secondary" disabled={remove.busy} onClick={() => void remove.run()}>
					{t("cart.promotionRemove")}
				</button>
				<ErrorAlert error={remove.error} />
			</div>
		);
	}
	// The 422 of PUT /cart/promotion names the reason in data[].type: shown at the field in the user's language.
	const fields = { ...apply.fields };
	const problem =
		apply.error instanceof ApiError && Array.isArray(apply.error.data) ? (apply.error.data as FieldProblem[]).find(p => p.field === "code") : undefined;
	if (problem?.type) fields.code = refusalText(problem.type, problem.message);
	return (
		<form
			class="promotion-form"
			onSubmit={e => {
				e.preventDefault();
				if (code.trim()) void apply.run();
			}}
		>
			<Field label={t("cart.promotionCode")} name="code" value={code} onValue={setCode} errors={fields} autoComplete="off" />
			<button type="submit" class="button-secondary" disabled={apply.busy}>
				{t("cart.promotionApply")}
			</button>
			<ErrorAlert error={apply.error} shown={["code"]} />
		</form>
	);
}
