/** Every log line of every broker of this process, captured for a test's assertions. */
import { tapLogLines, type LogRecord } from "../../lib/observability/logging.js";

export interface LogCapture {
	/** Raw JSON lines written so far. */
	readonly lines: string[];
	records(): LogRecord[];
	stop(): void;
}

/** Capture log lines; with `passthrough: false` (the default) captured lines are not printed. */
export function captureLogs(opts: { passthrough?: boolean } = {}): LogCapture {
	const lines: string[] = [];
	const stop = tapLogLines(line => void lines.push(line), { mute: !opts.passthrough });
	return { lines, records: () => lines.map(l => JSON.parse(l) as LogRecord), stop };
}
