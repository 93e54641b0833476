import fs from "node:fs";

/**
 * The embedded files hold password hashes, refresh-token hashes and the JWT signing key: DATA_DIR
 * and its folders are the owner's alone (0700), and files are created 0600 (the process umask
 * becomes 077 once a data directory is used: NeDB rewrites its files on every compaction, with
 * no say over their mode).
 */
export function ensurePrivateDir(dir: string): void {
	process.umask(0o077);
	fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
	fs.chmodSync(dir, 0o700);
}
