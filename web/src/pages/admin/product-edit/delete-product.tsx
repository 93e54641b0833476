/** Deleting (deactivating) a product, confirmed first. */
import { useState } from "preact/hooks";
import { del } from "../../../api/client";
import type { Product } from "../../../api/types";
import { ErrorAlert } from "../../../components/ui";
import { t } from "../../../i18n";
import { useSubmit } from "../../../lib/hooks";
import { navigate } from "../../../lib/router";

export function DeleteProduct(props: { product: Product }) {
	const [confirming, setConfirming] = useState(false);
	const remove = useSubmit(async () => {
		await del(`/products/${encodeURIComponent(props.product.id)}`);
		navigate("/admin/products");
	});
	return (
		<section aria-labelledby="del-h">
			<h2 id="del-h">{t("admin.products.delete")}</h2>
			<p class="hint">{t("admin.products.deleteHint")}</p>
			{confirming ? (
				<>
					<button type="button" class="button-danger" disabled={remove.busy} onClick={() => void remove.run()}>
						{t("admin.products.deleteConfirm")}
					</button>{" "}
					<button type="button" class="button-secondary" onClick={() => setConfirming(false)}>
						{t("common.cancel")}
					</button>
				</>
			) : (
				<button type="button" class="button-danger" onClick={() => setConfirming(true)}>
					{t("admin.products.delete")}
				</button>
			)}
			<ErrorAlert error={remove.error} />
		</section>
	);
}
