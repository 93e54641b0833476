/**
 * Where the media service keeps files: one small interface, two places.
 *
 *   FileStorage    DATA_DIR/media/<name> on the embedded defaults (one process, its own disk)
 *   GridFsStorage  GridFS in the service's own database (`shop_media`) in the cluster: every
 *                  media node sees every file, and "a database per service" holds
 *
 * Names are `<imageId>/<file>` (lib/media/urls.ts). A name always stands for the same bytes (an
 * original never changes; a rendition is a pure function of it), so writing a name that exists
 * is a no-op, and two nodes racing to write one name are both right (GridFS keeps the oldest).
 */
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import mongoose from "mongoose";

export interface StoredFile {
	stream: Readable;
	length: number;
}

export interface MediaStorage {
	readonly kind: "files" | "gridfs";
	/** Store `data` under `name` unless the name is taken already (same name, same bytes). */
	put(name: string, data: Buffer, contentType: string): Promise<void>;
	/** The file, streamed; null when there is none. */
	open(name: string): Promise<StoredFile | null>;
	/** Remove every file whose name starts with `prefix` (`<imageId>/`); answers how many. */
	removePrefix(prefix: string): Promise<number>;
	/** Names starting with `prefix` (tests and operators). */
	list(prefix: string): Promise<string[]>;
}

const SAFE_NAME = /^[0-9a-f-]{36}\/(?:[a-z]+(?:\.[a-z]+)?)?$/;
function checkedName(name: string): string {
	if (!SAFE_NAME.test(name)) throw new Error(`Not a media file name: ${JSON.stringify(name)}`);
	return name;
}

export class FileStorage implements MediaStorage {
	readonly kind = "files";
	constructor(private readonly root: string) {}

	private pathOf(name: string): string {
		return path.join(this.root, ...checkedName(name).split("/"));
	}

	async put(name: string, data: Buffer): Promise<void> {
		const file = this.pathOf(name);
		await fs.promises.mkdir(path.dirname(file), { recursive: true });
		// Written aside and renamed: a reader sees the whole file or none.
		const temporary = `${file}.${randomUUID()}.tmp`;
		await fs.promises.writeFile(temporary, data);
		await fs.promises.rename(temporary, file);
	}

	async open(name: string): Promise<StoredFile | null> {
		const file = this.pathOf(name);
		try {
			const handle = await fs.promises.open(file, "r");
			const { size } = await handle.stat();
			return { stream: handle.createReadStream(), length: size };
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
			throw err;
		}
	}

	async removePrefix(prefix: string): Promise<number> {
		const dir = this.pathOf(prefix);
		const names = await this.list(prefix);
		await fs.promises.rm(dir, { recursive: true, force: true });
		return names.length;
	}

	async list(prefix: string): Promise<string[]> {
		const dir = this.pathOf(prefix);
		const entries = await fs.promises.readdir(dir).catch(() => [] as string[]);
		return entries.filter(e => !e.endsWith(".tmp")).map(e => `${prefix}${e}`);
	}
}

type GridFsFile = mongoose.mongo.GridFSFile;

export class GridFsStorage implements MediaStorage {
	readonly kind = "gridfs";
	private readonly bucket: mongoose.mongo.GridFSBucket;

	constructor(db: mongoose.mongo.Db, bucketName = "media") {
		this.bucket = new mongoose.mongo.GridFSBucket(db, { bucketName });
	}

	private async filesNamed(name: string): Promise<GridFsFile[]> {
		return this.bucket.find({ filename: checkedName(name) }).toArray();
	}

	async put(name: string, data: Buffer, contentType: string): Promise<void> {
		if ((await this.filesNamed(name)).length > 0) return;
		await pipeline(Readable.from([data]), this.bucket.openUploadStream(name, { metadata: { contentType } }));
		// Another node may have written the same name meanwhile: keep the oldest, whoever looks.
		const copies = (await this.filesNamed(name)).sort((a, b) => a._id.toHexString().localeCompare(b._id.toHexString()));
		for (const extra of copies.slice(1)) await this.bucket.delete(extra._id).catch(() => undefined);
	}

	async open(name: string): Promise<StoredFile | null> {
		const [file] = (await this.filesNamed(name)).sort((a, b) => a._id.toHexString().localeCompare(b._id.toHexString()));
		if (!file) return null;
		return { stream: this.bucket.openDownloadStream(file._id), length: file.length };
	}

	async removePrefix(prefix: string): Promise<number> {
		const files = await this.filesUnder(prefix);
		for (const f of files) await this.bucket.delete(f._id).catch(err => ignoreMissing(err));
		return files.length;
	}

	async list(prefix: string): Promise<string[]> {
		return (await this.filesUnder(prefix)).map(f => f.filename);
	}

	private async filesUnder(prefix: string): Promise<GridFsFile[]> {
		checkedName(prefix);
		const pattern = `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
		return this.bucket.find({ filename: { $regex: pattern } }).toArray();
	}
}

/** A file another node removed first is gone all the same. */
function ignoreMissing(err: unknown): void {
	if (!/FileNotFound|not found/i.test((err as Error).message ?? "")) throw err;
}
