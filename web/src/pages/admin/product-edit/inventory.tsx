/** The stock of a product sold as itself: set it, or adjust it by a delta. */
import { useState } from "preact/hooks";
import { patch } from "../../../api/client";
import type { Product } from "../../../api/types";
import { ErrorAlert, Field } from "../../../components/ui";
import { t } from "../../../i18n";
import { useSubmit } from "../../../lib/hooks";

export function Inventory(props: { product: Product; onSaved(p: Product): void }) {
	const p = props.product;
	const [stock, setStock] = useState(String(p.stock));
	const [delta, setDelta] = useState("");
	const setTo = useSubmit(async () => props.onSaved(await patch<Product>(`/products/${encodeURIComponent(p.id)}/inventory`, { stock: Number(stock) })));
	const adjust = useSubmit(async () => {
		props.onSaved(await patch<Product>(`/products/${encodeURIComponent(p.id)}/inventory`, { delta: Number(delta) }));
		setDelta("");
	});
	if (p.variants.length > 0) return null;
	return (
		<section aria-labelledby="inv-h">
			<h2 id="inv-h">{t("admin.products.inventory")}</h2>
			<p>{t("admin.products.stockNow", { stock: p.stock, available: p.available })}</p>
			<div class="row">
				<form
					onSubmit={e => {
						e.preventDefault();
						void setTo.run();
					}}
				>
					<Field label={t("admin.products.setStock")} name="stock" type="number" min={0} value={stock} onValue={setStock} errors={setTo.fields} />
					<ErrorAlert error={setTo.error} shown={["stock"]} />
					<button type="submit" class="button-secondary" disabled={setTo.busy}>
						{t("admin.products.setStockSubmit")}
					</button>
				</form>
				<form
					onSubmit={e => {
						e.preventDefault();
						if (delta.trim()) void adjust.run();
					}}
				>
					<Field
						label={t("admin.products.delta")}
						name="delta"
						type="number"
						value={delta}
						onValue={setDelta}
						errors={adjust.fields}
						hint={t("admin.products.deltaHint")}
					/>
					<ErrorAlert error={adjust.error} shown={["delta"]} />
					<button type="submit" class="button-secondary" disabled={adjust.busy}>
						{t("admin.products.adjust")}
					</button>
				</form>
			</div>
		</section>
	);
}
