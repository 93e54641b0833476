import { useState } from "preact/hooks";
import { del, patch, post } from "../../api/client";
import type { Category } from "../../api/types";
import { categoryTree, flatten, forgetCategories } from "../../components/catalog";
import { ErrorAlert, Field, Loading, Notice, Page, Select } from "../../components/ui";
import { t } from "../../i18n";
import { useLoad, useSubmit } from "../../lib/hooks";

export function AdminCategories() {
	const tree = useLoad(() => {
		forgetCategories();
		return categoryTree();
	}, []);
	const [editing, setEditing] = useState<Category | null>(null);
	const flat = flatten(tree.data ?? []);
	const reload = () => {
		setEditing(null);
		tree.reload();
	};
	const remove = useSubmit(async (_k, c: Category) => {
		await del(`/categories/${encodeURIComponent(c.id)}`);
		reload();
	});
	return (
		<Page title={t("admin.categories.title")} wide>
			{tree.error ? <ErrorAlert error={tree.error} /> : null}
			<div class="two-columns">
				<section aria-labelledby="cat-list">
					<h2 id="cat-list">{t("admin.categories.tree")}</h2>
					{!tree.data ? (
						<Loading />
					) : (
						<table class="table">
							<caption class="visually-hidden">{t("admin.categories.tree")}</caption>
							<thead>
								<tr>
									<th scope="col">{t("admin.categories.name")}</th>
									<th scope="col">{t("admin.categories.slug")}</th>
									<th scope="col">{t("common.actions")}</th>
								</tr>
							</thead>
							<tbody>
								{flat.map(c => (
									<tr key={c.id}>
										<th scope="row">
											<span class="indent">{"— ".repeat(c.depth)}</span>
											{c.name}
										</th>
										<td>{c.slug}</td>
										<td class="row-actions">
											<button
												type="button"
												class="button-secondary"
												onClick={() => setEditing(c)}
												aria-label={t("admin.categories.editNamed", { name: c.name })}
											>
												{t("common.edit")}
											</button>
											<button
												type="button"
												class="button-danger"
												disabled={remove.busy}
												onClick={() => void remove.run(c)}
												aria-label={t("admin.categories.deleteNamed", { name: c.name })}
											>
												{t("common.delete")}
											</button>
										</td>
									</tr>
								))}
							</tbody>
						</table>
					)}
					<ErrorAlert error={remove.error} />
				</section>
				<CategoryForm key={editing?.id ?? "new"} category={editing} all={flat} onSaved={reload} onCancel={() => setEditing(null)} />
			</div>
		</Page>
	);
}

function CategoryForm(props: { category: Category | null; all: (Category & { depth: number })[]; onSaved(): void; onCancel(): void }) {
	const c = props.category;
	const [name, setName] = useState(c?.name ?? "");
	const [slug, setSlug] = useState(c?.slug ?? "");
	const [parentId, setParentId] = useState(c?.parentId ?? "");
	const submit = useSubmit(async keys => {
		const body = { name: name.trim(), slug: slug.trim(), parentId: parentId || null };
		if (c) await patch(`/categories/${encodeURIComponent(c.id)}`, body);
		else {
			const createBody: Record<string, unknown> = { name: body.name, slug: body.slug };
			if (parentId) createBody.parentId = parentId;
			await post("/categories", createBody, { idempotencyKey: keys.for(createBody) });
		}
		props.onSaved();
	});
	return (
		<section aria-labelledby="cat-form">
			<h2 id="cat-form">{c ? t("admin.categories.editNamed", { name: c.name }) : t("admin.categories.new")}</h2>
			<form
				onSubmit={e => {
					e.preventDefault();
					void submit.run();
				}}
			>
				<Field label={t("admin.categories.name")} name="name" value={name} onValue={setName} errors={submit.fields} required />
				<Field
					label={t("admin.categories.slug")}
					name="slug"
					value={slug}
					onValue={setSlug}
					errors={submit.fields}
					required
					hint={t("admin.categories.slugHint")}
				/>
				<Select
					label={t("admin.categories.parent")}
					name="parentId"
					value={parentId}
					onValue={setParentId}
					errors={submit.fields}
					options={[
						{ value: "", label: t("admin.categories.topLevel") },
						...props.all.filter(x => x.id !== c?.id).map(x => ({ value: x.id, label: `${"— ".repeat(x.depth)}${x.name}` })),
					]}
				/>
				<ErrorAlert error={submit.error} shown={["name", "slug", "parentId"]} />
				{submit.done ? (
					<Notice kind="success" live>
						{t("common.saved")}
					</Notice>
				) : null}
				<button type="submit" disabled={submit.busy}>
					{c ? t("common.save") : t("admin.categories.create")}
				</button>{" "}
				{c ? (
					<button type="button" class="button-secondary" onClick={props.onCancel}>
						{t("common.cancel")}
					</button>
				) : null}
			</form>
		</section>
	);
}
