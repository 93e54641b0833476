/**
 * A product's images in the back office: upload (file picker or drag and drop, with progress),
 * alt text per language, order, the variant an image shows, delete.
 */
import { useState } from "preact/hooks";
import { del, patch } from "../../api/client";
import { uploadForm } from "../../api/upload";
import type { Product, ProductImage } from "../../api/types";
import { ErrorAlert } from "../../components/ui";
import { Picture } from "../../components/picture";
import { t } from "../../i18n";
import { useSubmit } from "../../lib/hooks";

const LANGUAGES = ["en", "es"] as const;

/** multipart/form-data with its upload progress. */
const uploadWithProgress = (productId: string, form: FormData, onProgress: (fraction: number) => void) =>
	uploadForm<ProductImage>(`/products/${encodeURIComponent(productId)}/images`, form, 201, onProgress);

const variantLabel = (v: { options: Record<string, string> }) =>
	Object.entries(v.options)
		.map(([k, x]) => `${k}: ${x}`)
		.join(", ");

export function Images(props: { product: Product; onChanged(): void }) {
	const p = props.product;
	const images = p.images ?? [];
	const [progress, setProgress] = useState<number | null>(null);
	const [dragging, setDragging] = useState(false);
	const [alt, setAlt] = useState<Record<string, string>>({});
	const [variantId, setVariantId] = useState("");
	const upload = useSubmit(async (_keys, files: File[]) => {
		for (const file of files) {
			const form = new FormData();
			const given = Object.fromEntries(Object.entries(alt).filter(([, v]) => v.trim()));
			if (Object.keys(given).length) form.append("alt", JSON.stringify(given));
			if (variantId) form.append("variantId", variantId);
			form.append("file", file, file.name);
			setProgress(0);
			try {
				await uploadWithProgress(p.id, form, setProgress);
			} finally {
				setProgress(null);
			}
		}
		setAlt({});
		props.onChanged();
	});
	const take = (list: FileList | null | undefined) => list && list.length > 0 && void upload.run([...list]);
	return (
		<section aria-labelledby="img-h">
			<h2 id="img-h">{t("admin.images.title")}</h2>
			{images.length === 0 ? <p class="hint">{t("admin.images.none")}</p> : null}
			<ol class="admin-images">
				{images.map((image, i) => (
					<ImageRow
						key={`${image.id}:${image.position}:${JSON.stringify(image.alt)}:${image.variantId}`}
						product={p}
						image={image}
						index={i}
						count={images.length}
						onChanged={props.onChanged}
					/>
				))}
			</ol>
			<div
				class={dragging ? "drop-zone drop-zone-active" : "drop-zone"}
				onDragOver={e => {
					e.preventDefault();
					setDragging(true);
				}}
				onDragLeave={() => setDragging(false)}
				onDrop={e => {
					e.preventDefault();
					setDragging(false);
					take(e.dataTransfer?.files);
				}}
			>
				<p>{t("admin.images.drop")}</p>
				<div class="field">
					<label for="img-file">{t("admin.images.choose")}</label>
					<input
						id="img-file"
						type="file"
						accept="image/jpeg,image/png,image/webp,image/avif"
						multiple
						onChange={e => take((e.currentTarget as HTMLInputElement).files)}
					/>
				</div>
				{LANGUAGES.map(lang => (
					<div class="field" key={lang}>
						<label for={`img-alt-${lang}`}>{t("admin.images.altIn", { language: lang })}</label>
						<input
							id={`img-alt-${lang}`}
							value={alt[lang] ?? ""}
							maxLength={500}
							onInput={e => setAlt({ ...alt, [lang]: (e.currentTarget as HTMLInputElement).value })}
						/>
					</div>
				))}
				{p.variants.length > 0 ? (
					<div class="field">
						<label for="img-variant">{t("admin.images.variant")}</label>
						<select id="img-variant" value={variantId} onChange={e => setVariantId((e.currentTarget as HTMLSelectElement).value)}>
							<option value="">{t("admin.images.wholeProduct")}</option>
							{p.variants.map(v => (
								<option key={v.id} value={v.id}>
									{variantLabel(v)}
								</option>
							))}
						</select>
					</div>
				) : null}
				{progress !== null ? (
					<p>
						<label for="img-progress">{t("admin.images.uploading")}</label> <progress id="img-progress" max={1} value={progress} />
					</p>
				) : null}
				<ErrorAlert error={upload.error} />
			</div>
		</section>
	);
}

function ImageRow(props: { product: Product; image: ProductImage; index: number; count: number; onChanged(): void }) {
	const { product: p, image } = props;
	const base = `/products/${encodeURIComponent(p.id)}/images/${encodeURIComponent(image.id)}`;
	const [alt, setAlt] = useState<Record<string, string>>({ ...image.alt });
	const change = useSubmit(async (_keys, body: Record<string, unknown>) => {
		await patch(base, body);
		props.onChanged();
	});
	const remove = useSubmit(async () => {
		await del(base);
		props.onChanged();
	});
	const name = t("admin.images.number", { n: props.index + 1 });
	return (
		<li class="admin-image">
			<Picture image={image} fallbackAlt={p.name} sizes="120px" presets={["thumb"]} />
			<div>
				{LANGUAGES.map(lang => (
					<div class="field" key={lang}>
						<label for={`alt-${image.id}-${lang}`}>{t("admin.images.altOf", { name, language: lang })}</label>
						<input
							id={`alt-${image.id}-${lang}`}
							value={alt[lang] ?? ""}
							maxLength={500}
							onInput={e => setAlt({ ...alt, [lang]: (e.currentTarget as HTMLInputElement).value })}
						/>
					</div>
				))}
				{p.variants.length > 0 ? (
					<div class="field">
						<label for={`var-${image.id}`}>{t("admin.images.variantOf", { name })}</label>
						<select
							id={`var-${image.id}`}
							value={image.variantId ?? ""}
							onChange={e => void change.run({ variantId: (e.currentTarget as HTMLSelectElement).value || null })}
						>
							<option value="">{t("admin.images.wholeProduct")}</option>
							{p.variants.map(v => (
								<option key={v.id} value={v.id}>
									{variantLabel(v)}
								</option>
							))}
						</select>
					</div>
				) : null}
				<div class="row-actions">
					<button
						type="button"
						class="button-secondary"
						disabled={change.busy}
						onClick={() => void change.run({ alt: Object.fromEntries(Object.entries(alt).filter(([, v]) => v.trim())) })}
						aria-label={t("admin.images.saveAlt", { name })}
					>
						{t("common.save")}
					</button>
					<button
						type="button"
						class="button-secondary"
						disabled={change.busy || props.index === 0}
						onClick={() => void change.run({ position: props.index - 1 })}
						aria-label={t("admin.images.up", { name })}
					>
						↑
					</button>
					<button
						type="button"
						class="button-secondary"
						disabled={change.busy || props.index === props.count - 1}
						onClick={() => void change.run({ position: props.index + 1 })}
						aria-label={t("admin.images.down", { name })}
					>
						↓
					</button>
					<button
						type="button"
						class="button-danger"
						disabled={remove.busy}
						onClick={() => void remove.run()}
						aria-label={t("admin.images.delete", { name })}
					>
						{t("common.delete")}
					</button>
				</div>
				<ErrorAlert error={change.error ?? remove.error} />
			</div>
		</li>
	);
}
