/**
 * Catalog import and export (CSV): choose a file, upload it (with its progress), then follow the
 * import job by polling GET /products/import/:jobId: rows done, created, updated, unchanged, and
 * each refused row with its line and field. The job's id stays in the address (`?job=`), so a
 * reload follows the same job. The export is downloaded with the token (no token in a URL).
 */
import { useState } from "preact/hooks";
import { get } from "../../api/client";
import type { ImportJob } from "../../api/types";
import { downloadFile, uploadForm } from "../../api/upload";
import { ErrorAlert, Loading, Notice, Page } from "../../components/ui";
import { formatDate, t } from "../../i18n";
import { useLoad, usePolling, useSubmit } from "../../lib/hooks";
import { location, replaceQuery } from "../../lib/router";
import { useStore } from "../../lib/store";

const jobPath = (id: string) => `/products/import/${encodeURIComponent(id)}`;

export function AdminCatalogImport() {
	const loc = useStore(location);
	const jobId = loc.query.get("job");
	const [file, setFile] = useState<File | null>(null);
	const [progress, setProgress] = useState<number | null>(null);
	const job = useLoad(signal => (jobId ? get<ImportJob>(jobPath(jobId), undefined, { signal }) : Promise.resolve(null)), [jobId]);
	// The job in the address, not the one before it while the new one loads.
	const shown = job.data && job.data.id === jobId ? job.data : undefined;

	usePolling(
		async () => {
			if (!jobId) return false;
			const next = await get<ImportJob>(jobPath(jobId));
			job.set(next);
			return next.state === "running";
		},
		shown?.state === "running",
		{ first: 300, factor: 1.5, max: 3000 },
		[jobId],
	);

	const upload = useSubmit(async () => {
		if (!file) return;
		const form = new FormData();
		form.append("file", file, file.name);
		setProgress(0);
		try {
			const started = await uploadForm<{ jobId: string }>("/products/import", form, 202, setProgress);
			replaceQuery(new URLSearchParams({ job: started.jobId }));
		} finally {
			setProgress(null);
		}
	});
	const download = useSubmit(() => downloadFile("/products/export", "catalog.csv"));
	const fileError = upload.fields.file;

	return (
		<Page title={t("admin.import.title")} wide>
			<p>{t("admin.import.intro")}</p>
			<section aria-labelledby="imp-export">
				<h2 id="imp-export">{t("admin.import.exportTitle")}</h2>
				<p>{t("admin.import.exportHint")}</p>
				<div class="actions">
					<button type="button" class="button-secondary" disabled={download.busy} onClick={() => void download.run()}>
						{t("admin.import.download")}
					</button>
				</div>
				<ErrorAlert error={download.error} />
			</section>
			<form
				class="form"
				aria-labelledby="imp-new"
				noValidate
				onSubmit={e => {
					e.preventDefault();
					void upload.run();
				}}
			>
				<h2 id="imp-new">{t("admin.import.importTitle")}</h2>
				<div class={fileError ? "field field-invalid" : "field"}>
					<label for="imp-file">{t("admin.import.file")}</label>
					<input
						id="imp-file"
						name="file"
						type="file"
						accept=".csv,text/csv"
						aria-invalid={fileError ? "true" : undefined}
						aria-describedby={fileError ? "imp-file-hint imp-file-error" : "imp-file-hint"}
						onChange={e => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)}
					/>
					<p class="hint" id="imp-file-hint">
						{t("admin.import.fileHint")}
					</p>
					{fileError ? (
						<p class="field-error" id="imp-file-error">
							{fileError}
						</p>
					) : null}
				</div>
				{progress !== null ? (
					<p>
						<label for="imp-progress">{t("admin.import.uploading")}</label> <progress id="imp-progress" max={1} value={progress} />
					</p>
				) : null}
				<ErrorAlert error={upload.error} shown={["file"]} />
				<div class="actions">
					<button type="submit" disabled={!file || upload.busy}>
						{t("admin.import.submit")}
					</button>
				</div>
			</form>
			{jobId ? <JobReport job={shown} error={job.error} /> : null}
		</Page>
	);
}

function JobReport(props: { job: ImportJob | undefined; error: unknown }) {
	const { job } = props;
	if (!job) return props.error ? <ErrorAlert error={props.error} /> : <Loading />;
	const counts: [string, number][] = [
		[t("admin.import.rows"), job.rows],
		[t("admin.import.created"), job.created],
		[t("admin.import.updated"), job.updated],
		[t("admin.import.unchanged"), job.unchanged],
		[t("admin.import.errorCount"), job.errors.length],
	];
	return (
		<section aria-labelledby="imp-job">
			<h2 id="imp-job">{t("admin.import.jobTitle")}</h2>
			<div role="status">
				{job.state === "running" ? (
					<Notice kind="info">{t("admin.import.running")}</Notice>
				) : job.state === "done" ? (
					<Notice kind="success">{t("admin.import.done", { date: formatDate(job.finishedAt ?? job.startedAt) })}</Notice>
				) : (
					<Notice kind="warning">{t("admin.import.failed")}</Notice>
				)}
			</div>
			<dl class="facts import-counts">
				{counts.map(([label, n]) => (
					<div key={label}>
						<dt>{label}</dt>
						<dd>{n}</dd>
					</div>
				))}
			</dl>
			{job.errors.length > 0 ? (
				<table class="table import-errors">
					<caption>{t("admin.import.errorsTitle")}</caption>
					<thead>
						<tr>
							<th scope="col">{t("admin.import.line")}</th>
							<th scope="col">{t("admin.import.field")}</th>
							<th scope="col">{t("admin.import.message")}</th>
						</tr>
					</thead>
					<tbody>
						{job.errors.map((e, i) => (
							<tr key={i}>
								<th scope="row">{e.line > 0 ? e.line : t("admin.import.wholeFile")}</th>
								<td>
									<code>{e.field}</code>
								</td>
								<td>{e.message}</td>
							</tr>
						))}
					</tbody>
				</table>
			) : null}
		</section>
	);
}
