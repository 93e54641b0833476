/**
 * The catalog in and out as CSV (the columns: lib/domain/catalog-csv.ts).
 *
 * Import: the upload is written to a file as it arrives (never whole in memory; the gateway bounds
 * it by IMPORT_MAX_BYTES), so the request ends at network speed, not at the import's; then the
 * file is read as a stream (UTF-8 checked, csv-parse with a bound on a record) by a job recorded in
 * `import_jobs`, which the client follows with GET /products/import/:jobId; each product with its variants is checked with the API's
 * request rules, compared with the catalog, and written only where it differs, through the
 * API's write path (Catalog.add, Catalog.update, Variants, stock set): SKU claims, outbox events,
 * search index. A file that cannot be read as CSV ends the job `failed`, with the reason.
 * Export: the catalog paged from the collection into csv-stringify, streamed.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Static } from "typebox";
import type { ImportJob as ImportJobSchema } from "../../lib/http/schemas.js";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parse } from "csv-parse";
import { parse as parseSync } from "csv-parse/sync";
import { stringify } from "csv-stringify";
import { Errors } from "moleculer";
import { invalidField, notFound } from "../../lib/errors.js";
import { isId } from "../../lib/contracts/ids.js";
import { CATALOG } from "../../lib/contracts/http/catalog.js";
import type { Collection, CollectionSpec } from "../../lib/store/index.js";
import type { ShopContext } from "../../lib/auth/access.js";
import { NullIsAValueValidator } from "../../lib/broker/validation.js";
import { liveVariants, MAX_VARIANTS } from "../../lib/domain/variants.js";
import {
	CSV_COLUMNS,
	headerProblems,
	parseRow,
	productChanges,
	rowOf,
	rowsOfProduct,
	variantChanges,
	type CsvProblem,
	type ProductRow,
	type VariantRow,
} from "../../lib/domain/catalog-csv.js";
import type { Catalog, StoredProduct } from "./catalog-admin.js";
import type { Variants } from "./variant-admin.js";

/** Longest record read (characters): far above any valid row, far below what would hurt. */
export const MAX_RECORD_CHARS = 256 * 1024;
/** Errors kept per job; the count of rows still says how many there were. */
export const MAX_JOB_ERRORS = 1000;
const PROGRESS_EVERY = 250;

export interface ImportError {
	line: number;
	field: string;
	message: string;
}
export interface ImportJob {
	_id: string;
	state: "running" | "done" | "failed";
	rows: number;
	created: number;
	updated: number;
	unchanged: number;
	errors: ImportError[];
	nodeID: string;
	startedAt: string;
	finishedAt: string | null;
}
export const IMPORT_JOB_COLLECTIONS: Record<string, CollectionSpec> = { import_jobs: { indexes: [{ fields: { nodeID: 1, state: 1 } }] } };

export function publicJob(j: ImportJob): Static<typeof ImportJobSchema> {
	const { _id, state, rows, created, updated, unchanged, errors, startedAt, finishedAt } = j;
	return { id: _id, state, rows, created, updated, unchanged, errors, startedAt, finishedAt };
}

/** Where an upload waits for its job (one file per job, removed when the job ends). */
const spoolFile = (jobId: string) => path.join(os.tmpdir(), `shop-import-${jobId}.csv`);

/** The whole upload written to `file` (only the owner may read it); on an error (413, a client gone) nothing stays. */
async function spool(upload: Readable, file: string): Promise<void> {
	try {
		await pipeline(upload, fs.createWriteStream(file, { flags: "wx", mode: 0o600 }));
	} catch (err) {
		await fs.promises.rm(file, { force: true });
		throw err;
	}
}

/** A reason the whole file is refused (not one row). */
class FileError extends Error {}

/** The header row is looked for in at most this much of the file's start. */
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * The file's first line (or what of it comes first), read before the job starts; the stream is
 * given back whole, so the job reads the file from its first byte.
 */
function firstLine(file: Readable): Promise<{ head: Buffer; file: Readable }> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		const stop = () => {
			file.off("data", onData);
			file.off("end", onEnd);
			file.off("error", reject);
		};
		const onData = (chunk: Buffer) => {
			chunks.push(chunk);
			size += chunk.length;
			if (!chunk.includes(10) && size < MAX_HEADER_BYTES) return;
			stop();
			file.pause();
			const head = Buffer.concat(chunks);
			file.unshift(head);
			resolve({ head, file });
		};
		const onEnd = () => {
			stop();
			const head = Buffer.concat(chunks);
			resolve({ head, file: Readable.from([head]) });
		};
		file.on("data", onData);
		file.on("end", onEnd);
		file.on("error", reject);
	});
}

/** Why the file's first line is not a catalog's header, or null when it is. */
function headerRefusal(head: Buffer): string | null {
	const end = head.indexOf(10);
	let line: string;
	try {
		line = new TextDecoder("utf-8", { fatal: true }).decode(end === -1 ? head : head.subarray(0, end));
	} catch {
		return "The file is not UTF-8 text.";
	}
	if (line.trim() === "") return "The file is empty: it has no header row.";
	let cells: string[];
	try {
		cells = ((parseSync(line, { relax_quotes: false }) as string[][])[0] ?? []).map(c => c.trim());
	} catch (err) {
		return `The header row is not CSV: ${(err as Error).message}`;
	}
	const problems = headerProblems(cells);
	return problems.length ? `The header is not a catalog's: ${problems.map(p => p.message).join(" ")}` : null;
}

type Check = (params: object) => true | CsvProblem[] | Promise<true | CsvProblem[]>;
const validator = new NullIsAValueValidator();
const { id: _productId, ...variantSchema } = CATALOG["products.createVariant"];
const checkProduct = validator.compile(CATALOG["products.create"]) as Check;
const checkVariant = validator.compile(variantSchema) as Check;

async function problemsOf(check: Check, params: object): Promise<CsvProblem[]> {
	const result = await check(params);
	return result === true ? [] : result.map(p => ({ field: p.field, message: p.message }));
}

/** What a refused write says, as a row's errors. */
function writeProblems(err: unknown): CsvProblem[] {
	if (err instanceof Errors.MoleculerClientError) {
		const data = err.data as CsvProblem[] | { field?: string } | undefined;
		if (Array.isArray(data)) return data.map(p => ({ field: p.field, message: p.message }));
		return [{ field: data?.field ?? "row", message: err.message }];
	}
	throw err;
}

interface Group {
	sku: string;
	product: { line: number; row: ProductRow } | null;
	variants: { line: number; row: VariantRow }[];
}

/** The UTF-8 text of a byte stream; a byte sequence that is not UTF-8 fails it. */
function utf8Text(): Transform {
	const decoder = new TextDecoder("utf-8", { fatal: true });
	const fail = () => new FileError("The file is not UTF-8 text; save it as CSV UTF-8 and import it again.");
	return new Transform({
		transform(chunk: Buffer, _enc, done) {
			try {
				done(null, decoder.decode(chunk, { stream: true }));
			} catch {
				done(fail());
			}
		},
		flush(done) {
			try {
				done(null, decoder.decode());
			} catch {
				done(fail());
			}
		},
	});
}

function fileFailure(err: unknown): string {
	if (err instanceof FileError) return err.message;
	const e = err as { code?: string | number; type?: string; message?: string };
	if (e.code === "CSV_MAX_RECORD_SIZE")
		return `A row is longer than ${MAX_RECORD_CHARS / 1024} KiB: the file is not a catalog CSV (or a quote is never closed).`;
	if (e.code === "CSV_QUOTE_NOT_CLOSED") return "A quoted cell is never closed: the file ends inside quotes.";
	if (typeof e.code === "string" && e.code.startsWith("CSV_")) return `The file is not valid CSV: ${e.message}`;
	if (e.code === 413 || e.type === "PAYLOAD_TOO_LARGE") return "The file is larger than the upload limit.";
	return `The file could not be read: ${e.message ?? String(err)}`;
}

export class CatalogImports {
	constructor(
		private readonly catalog: Catalog,
		private readonly variants: Variants,
		readonly jobs: Collection<ImportJob>,
		private readonly nodeID: string,
		private readonly logger: { error(...a: unknown[]): void },
	) {}

	/** Jobs this node was running when it stopped: they will not go on. */
	async abandonInterrupted(): Promise<void> {
		const interrupted = await this.jobs.find({ query: { nodeID: this.nodeID, state: "running" } });
		for (const j of interrupted) {
			await fs.promises.rm(spoolFile(j._id), { force: true });
			await this.jobs.updateById(j._id, {
				$set: { state: "failed", finishedAt: new Date().toISOString() },
				$push: {
					errors: {
						line: 0,
						field: "file",
						message: "The import was interrupted by a restart; import the file again (what was done stays, the rest follows).",
					},
				},
			});
		}
	}

	async status(jobId: string) {
		const job = isId(jobId) ? await this.jobs.findById(jobId) : null;
		if (!job) throw notFound("Import", jobId);
		return publicJob(job);
	}

	/** The upload received whole (in a temporary file, as it arrives), then a job started that reads it. */
	async start(file: Readable | null | undefined): Promise<{ jobId: string }> {
		if (!file) throw invalidField("file", "Send the CSV file as the multipart field 'file'.", "required");
		// A file that does not start with the catalog's header is refused at once, not as a failed job.
		const peeked = await firstLine(file);
		const refusal = headerRefusal(peeked.head);
		if (refusal) {
			peeked.file.destroy();
			throw invalidField("file", refusal, "csvHeader");
		}
		const jobId = randomUUID();
		const spooled = spoolFile(jobId);
		await spool(peeked.file, spooled);
		const job: ImportJob = {
			_id: jobId,
			state: "running",
			rows: 0,
			created: 0,
			updated: 0,
			unchanged: 0,
			errors: [],
			nodeID: this.nodeID,
			startedAt: new Date().toISOString(),
			finishedAt: null,
		};
		try {
			await this.jobs.insert(job);
		} catch (err) {
			await fs.promises.rm(spooled, { force: true });
			throw err;
		}
		void this.run(job, fs.createReadStream(spooled))
			.catch(err => this.logger.error(`Import ${job._id} could not record its end:`, err))
			.finally(() => fs.promises.rm(spooled, { force: true }));
		return { jobId: job._id };
	}

	private save(job: ImportJob, end?: "done" | "failed") {
		const { rows, created, updated, unchanged, errors } = job;
		const state = end ?? "running";
		return this.jobs.updateById(job._id, {
			$set: { rows, created, updated, unchanged, errors, state, ...(end && { finishedAt: new Date().toISOString() }) },
		});
	}

	private refuse(job: ImportJob, line: number, problems: readonly CsvProblem[]): void {
		for (const p of problems) if (job.errors.length < MAX_JOB_ERRORS) job.errors.push({ line, ...p });
	}

	private async run(job: ImportJob, file: Readable): Promise<void> {
		const text = utf8Text();
		const parser = parse({ info: true, max_record_size: MAX_RECORD_CHARS, relax_column_count: true, relax_quotes: false, skip_empty_lines: true });
		file.on("error", err => text.destroy(err));
		text.on("error", err => parser.destroy(err));
		file.pipe(text).pipe(parser);
		let header: string[] | null = null;
		let group: Group | null = null;
		try {
			for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
				const line = info.lines;
				if (!header) {
					header = record.map(c => c.trim());
					const problems = headerProblems(header);
					if (problems.length) throw new FileError(`The header (line ${line}) is not a catalog's: ${problems.map(p => p.message).join(" ")}`);
					continue;
				}
				job.rows++;
				const cells = rowOf(header, record);
				if (!cells) {
					this.refuse(job, line, [{ field: "row", message: `The row has ${record.length} cells; the header names ${header.length}.` }]);
					continue;
				}
				const parsed = parseRow(cells);
				if ("problems" in parsed) {
					this.refuse(job, line, parsed.problems);
					continue;
				}
				const row = parsed.row;
				if (row.kind === "variant" && group?.sku === row.sku) {
					group.variants.push({ line, row });
					continue;
				}
				if (group) await this.apply(job, group);
				group =
					row.kind === "product"
						? { sku: row.sku, product: { line, row }, variants: [] }
						: { sku: row.sku, product: null, variants: [{ line, row }] };
				if (job.rows % PROGRESS_EVERY === 0) await this.save(job);
			}
			if (!header) throw new FileError("The file is empty: it has no header row.");
			if (group) await this.apply(job, group);
			await this.save(job, "done");
		} catch (err) {
			file.unpipe();
			file.destroy();
			job.errors.push({ line: 0, field: "file", message: fileFailure(err) });
			await this.save(job, "failed");
		}
	}

	/** One product and the variants that follow it, compared with the catalog and written where they differ. */
	private async apply(job: ImportJob, group: Group): Promise<void> {
		const refuseVariants = (message: string) => group.variants.forEach(v => this.refuse(job, v.line, [{ field: "sku", message }]));
		if (group.variants.length > MAX_VARIANTS) {
			this.refuse(job, group.product?.line ?? group.variants[0]!.line, [
				{ field: "variant_sku", message: `A product has at most ${MAX_VARIANTS} variants.` },
			]);
			return refuseVariants("Its product has too many variant rows.");
		}
		const variants: { line: number; row: VariantRow }[] = [];
		for (const v of group.variants) {
			const { options, price, active, stock } = v.row;
			const problems = await problemsOf(checkVariant, { sku: v.row.variantSku, options, price, active, ...(stock !== undefined && { stock }) });
			if (problems.length)
				this.refuse(
					job,
					v.line,
					problems.map(p => (p.field === "sku" ? { ...p, field: "variant_sku" } : p)),
				);
			else variants.push(v);
		}
		const existing = await this.catalog.products.findOne({ sku: group.sku, deletedAt: null });
		if (group.product) {
			const { line, row } = group.product;
			const params = {
				sku: row.sku,
				name: row.name,
				description: row.description,
				price: row.price ?? 0,
				currency: row.currency,
				categories: row.categories,
				active: row.active,
				...(row.stock !== undefined && { stock: row.stock }),
				...(row.options.length && { options: row.options }),
			};
			const problems = await problemsOf(checkProduct, params);
			if (problems.length) {
				this.refuse(job, line, problems);
				return refuseVariants(`Its product's row (line ${line}) was refused.`);
			}
			row.name = params.name; // as the request rules leave it (trimmed)
			if (!existing) {
				try {
					await this.catalog.addChecked({
						...params,
						variants: variants.map(({ row: { variantSku, options, price, stock, active } }) => ({
							id: randomUUID(),
							sku: variantSku,
							options,
							price,
							stock,
							active,
						})),
					});
					job.created += 1 + variants.length;
				} catch (err) {
					this.refuse(job, line, writeProblems(err));
					refuseVariants(`Its product's row (line ${line}) was refused.`);
				}
				return;
			}
			try {
				job[(await this.updateProduct(existing, row)) ? "updated" : "unchanged"]++;
			} catch (err) {
				this.refuse(job, line, writeProblems(err));
			}
		} else if (!existing) return refuseVariants(`No product has the SKU '${group.sku}'.`);
		const product = await this.catalog.product(existing._id, { includeInactive: true });
		for (const v of variants) {
			try {
				job[await this.upsertVariant(product, v.row)]++;
			} catch (err) {
				this.refuse(job, v.line, writeProblems(err));
			}
		}
	}

	private async updateProduct(p: StoredProduct, row: ProductRow): Promise<boolean> {
		const changes = productChanges(p, row);
		const changed = Object.keys(changes).length > 0;
		if (changed) await this.catalog.update({ id: p._id, ...changes });
		if (liveVariants(p.variants).length === 0 && row.stock !== undefined && row.stock !== p.stock) {
			await this.catalog.adjustStock(p._id, undefined, row.stock);
			return true;
		}
		return changed;
	}

	private async upsertVariant(p: StoredProduct, row: VariantRow): Promise<"created" | "updated" | "unchanged"> {
		const current = liveVariants(p.variants).find(v => v.sku === row.variantSku);
		if (!current) {
			await this.variants.create({ id: p._id, sku: row.variantSku, options: row.options, price: row.price, active: row.active, stock: row.stock ?? 0 });
			return "created";
		}
		const changes = variantChanges(current, row);
		let changed = false;
		if (Object.keys(changes).length) {
			await this.variants.update({ id: p._id, variantId: current.id, ...changes });
			changed = true;
		}
		if (row.stock !== undefined && row.stock !== current.stock) {
			await this.variants.adjustStock({ id: p._id, variantId: current.id, stock: row.stock });
			changed = true;
		}
		return changed ? "updated" : "unchanged";
	}
}

/** The catalog (products not deleted, with their live variants) as CSV text, read from the collection a page at a time. */
export function exportCatalog(products: Collection<StoredProduct>): Readable {
	const rows = Readable.from(
		(async function* () {
			yield [...CSV_COLUMNS];
			for await (const p of products.scan({ deletedAt: null }, 500)) yield* rowsOfProduct(p);
		})(),
	);
	const csv = stringify();
	pipeline(rows, csv).catch(() => undefined); // an error ends the stream with it; the gateway reports it
	return csv;
}

type CsvThis = { imports: CatalogImports; catalog: Catalog };

/** The products service's CSV actions (admin). */
export const CSV_ACTIONS = {
	importCsv: {
		roles: ["admin" as const],
		params: CATALOG["products.importCsv"],
		handler(this: CsvThis, ctx: ShopContext<object>) {
			return this.imports.start(ctx.stream as Readable | undefined);
		},
	},
	importStatus: {
		roles: ["admin" as const],
		params: CATALOG["products.importStatus"],
		handler(this: CsvThis, ctx: ShopContext<{ jobId: string }>) {
			return this.imports.status(ctx.params.jobId);
		},
	},
	exportCsv: {
		roles: ["admin" as const],
		params: CATALOG["products.exportCsv"],
		handler(this: CsvThis, ctx: ShopContext<object>) {
			const meta = ctx.meta as { $responseType?: string; $responseHeaders?: Record<string, string> };
			meta.$responseType = "text/csv; charset=utf-8";
			meta.$responseHeaders = { "Content-Disposition": 'attachment; filename="catalog.csv"' };
			return exportCatalog(this.catalog.products);
		},
	},
};
