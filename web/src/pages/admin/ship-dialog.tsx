import { useEffect, useRef, useState } from "preact/hooks";
import { post } from "../../api/client";
import { CARRIERS, type Carrier, type Order } from "../../api/types";
import { ErrorAlert, Field, Select } from "../../components/ui";
import { t, type MessageKey } from "../../i18n";
import { useSubmit } from "../../lib/hooks";
import { OptionsText } from "../store/cart";

/** What is left to ship of each line: ordered minus what the parcels so far hold. */
export function remainingByLine(order: Order): Map<string, number> {
	const left = new Map(order.items.map(i => [i.itemId, i.quantity]));
	for (const parcel of order.fulfilments ?? []) {
		for (const item of parcel.items) left.set(item.itemId, (left.get(item.itemId) ?? 0) - item.quantity);
	}
	return left;
}

/** `items[2].quantity` (or `items.2.quantity`) → 2 and `quantity`. */
const ITEM_FIELD = /^items(?:\[(\d+)\]|\.(\d+))\.(\w+)$/;

/**
 * The "Ship" dialog: how many of each line go in this parcel (the rest by default), the carrier and
 * its tracking; POST /orders/:id/fulfilments. Each 422 shows at its field (a line's quantity at its row).
 */
export function ShipDialog(props: { order: Order; onClose(): void; onShipped(order: Order): void }) {
	const o = props.order;
	const left = remainingByLine(o);
	const lines = o.items.filter(i => (left.get(i.itemId) ?? 0) > 0);
	const [quantities, setQuantities] = useState<Record<string, string>>(() => Object.fromEntries(lines.map(i => [i.itemId, String(left.get(i.itemId))])));
	const [carrier, setCarrier] = useState<Carrier>("dhl");
	const [trackingNumber, setTrackingNumber] = useState("");
	const [trackingUrl, setTrackingUrl] = useState("");
	const [sentLines, setSentLines] = useState<string[]>([]);
	const ref = useRef<HTMLDialogElement>(null);

	useEffect(() => {
		const dialog = ref.current;
		if (dialog && !dialog.open) dialog.showModal();
	}, []);

	const ship = useSubmit(async keys => {
		const chosen = lines.filter(i => quantities[i.itemId]?.trim() !== "" && Number(quantities[i.itemId]) !== 0);
		setSentLines(chosen.map(i => i.itemId));
		const body = {
			items: chosen.map(i => ({ itemId: i.itemId, quantity: Number(quantities[i.itemId]) })),
			carrier,
			trackingNumber: trackingNumber.trim(),
			...(trackingUrl.trim() ? { trackingUrl: trackingUrl.trim() } : {}),
		};
		props.onShipped(await post<Order>(`/orders/${encodeURIComponent(o.id)}/fulfilments`, body, { idempotencyKey: keys.for(body) }));
	});

	// The API names a line by its place in the parcel's `items`: show it at that line's quantity.
	const errors: Record<string, string> = {};
	const shown = ["carrier", "trackingNumber", "trackingUrl"];
	for (const [field, message] of Object.entries(ship.fields)) {
		const m = ITEM_FIELD.exec(field);
		const itemId = m ? sentLines[Number(m[1] ?? m[2])] : undefined;
		if (itemId) {
			errors[`quantity-${itemId}`] = message;
			shown.push(field);
		} else errors[field] = message;
	}

	return (
		<dialog ref={ref} class="dialog" aria-labelledby="ship-title" onCancel={() => props.onClose()}>
			<form
				noValidate
				onSubmit={e => {
					e.preventDefault();
					void ship.run();
				}}
			>
				<h2 id="ship-title">{t("admin.ship.title")}</h2>
				<table class="table">
					<caption>{t("admin.ship.lines")}</caption>
					<thead>
						<tr>
							<th scope="col">{t("admin.ship.item")}</th>
							<th scope="col">{t("admin.ship.ordered")}</th>
							<th scope="col">{t("admin.ship.remaining")}</th>
							<th scope="col">{t("admin.ship.inParcel")}</th>
						</tr>
					</thead>
					<tbody>
						{lines.map(i => (
							<tr key={i.itemId}>
								<th scope="row">
									{i.name} <OptionsText options={i.options} />
								</th>
								<td>{i.quantity}</td>
								<td>{left.get(i.itemId)}</td>
								<td>
									<Field
										label={t("admin.ship.quantity", { name: i.name })}
										name={`quantity-${i.itemId}`}
										type="number"
										inputMode="numeric"
										min={0}
										max={left.get(i.itemId)}
										value={quantities[i.itemId] ?? ""}
										onValue={v => setQuantities(q => ({ ...q, [i.itemId]: v }))}
										errors={errors}
									/>
								</td>
							</tr>
						))}
					</tbody>
				</table>
				<Select
					label={t("admin.ship.carrier")}
					name="carrier"
					value={carrier}
					onValue={v => setCarrier(v as Carrier)}
					options={CARRIERS.map(c => ({ value: c, label: t(`carrier.${c}` as MessageKey) }))}
					errors={errors}
					required
				/>
				<Field
					label={t("admin.ship.trackingNumber")}
					name="trackingNumber"
					value={trackingNumber}
					onValue={setTrackingNumber}
					errors={errors}
					maxLength={64}
					required
				/>
				<Field
					label={t("admin.ship.trackingUrl")}
					name="trackingUrl"
					type="url"
					inputMode="url"
					value={trackingUrl}
					onValue={setTrackingUrl}
					errors={errors}
					hint={t("admin.ship.trackingUrlHint")}
					required={carrier === "other"}
				/>
				<ErrorAlert error={ship.error} shown={shown} />
				<div class="actions">
					<button type="submit" disabled={ship.busy}>
						{t("admin.ship.submit")}
					</button>
					<button type="button" class="button-secondary" onClick={() => props.onClose()}>
						{t("common.cancel")}
					</button>
				</div>
			</form>
		</dialog>
	);
}
