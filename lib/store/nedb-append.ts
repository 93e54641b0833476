/**
 * NeDB's append-only data file, written through one file descriptor kept open.
 *
 * NeDB appends every write to its data file with `fs.promises.appendFile`: open, write, close,
 * three trips through the thread pool, and the collection's queue waits for all three before its
 * next operation (a third of NeDB's CPU in a checkout profile, and most of the idle time). Here the
 * same lines are written with one `writeSync` on a descriptor opened once: the write is in the
 * operating system when NeDB's promise resolves, as before (NeDB never fsyncs, neither does this),
 * so a process crash loses nothing it did not lose before.
 *
 * Compaction (and the load, which compacts) replaces the file by a rename: the descriptor is closed
 * before it and opened again at the next append, so appends never go to the replaced file.
 */
import fs from "node:fs";
import { createRequire } from "node:module";

// NeDB as moleculer-db loads it (it is moleculer-db's dependency, not the shop's).
const nedbModel = createRequire(createRequire(import.meta.url).resolve("moleculer-db"))("@seald-io/nedb/lib/model.js") as {
	serialize(doc: unknown): string;
};

/** The part of NeDB's Persistence this replaces. */
export interface NedbPersistence {
	inMemoryOnly: boolean;
	filename: string;
	modes: { fileMode: number };
	afterSerialization(line: string): string;
	persistNewStateAsync(docs: unknown[]): Promise<void>;
	persistCachedDatabaseAsync(): Promise<void>;
}

/** Make `persistence` append through a kept-open descriptor; answers the function that closes it (on disconnect). */
export function appendThroughOpenFile(persistence: NedbPersistence): () => void {
	if (persistence.inMemoryOnly) return () => undefined;
	let fd: number | null = null;
	const close = () => {
		if (fd === null) return;
		const open = fd;
		fd = null;
		fs.closeSync(open);
	};
	persistence.persistNewStateAsync = async (docs: unknown[]) => {
		let lines = "";
		for (const doc of docs) lines += `${persistence.afterSerialization(nedbModel.serialize(doc))}\n`;
		if (lines.length === 0) return;
		fd ??= fs.openSync(persistence.filename, "a", persistence.modes.fileMode);
		const bytes = Buffer.from(lines, "utf8");
		for (let written = 0; written < bytes.length;) written += fs.writeSync(fd, bytes, written, bytes.length - written);
	};
	const rewrite = persistence.persistCachedDatabaseAsync.bind(persistence);
	persistence.persistCachedDatabaseAsync = async () => {
		close();
		await rewrite();
	};
	return close;
}
