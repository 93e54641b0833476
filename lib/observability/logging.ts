/**
 * The shop's logs: Moleculer's Pino logger, one JSON object per line (LOG_FORMAT=json, the
 * default when NODE_ENV=production) or one readable line per entry (LOG_FORMAT=text).
 *
 * Every line carries `nodeID`, `ns` and `mod`/`svc` (Moleculer's logger bindings) and, when it
 * is written while serving a request, `requestId` (the pino `mixin()` reads it from the
 * AsyncLocalStorage that the observability middleware fills, lib/observability/context.ts) and,
 * when tracing is on, `traceId` beside it: the id Jaeger shows for that request's trace.
 *
 * Moleculer loggers are called like `console.log` (`logger.info("Called", params, err)`); pino
 * would keep only the first string. `normalizeArgs` turns such a call into pino's
 * (object, message) form, sanitizing every value on the way (lib/observability/redact.ts), and
 * pino's own `redact` paths are a second net for the shapes this produces.
 */
import { pino, type DestinationStream, type LoggerOptions as PinoOptions } from "pino";
import type { LoggerConfig } from "moleculer";
import { currentRequestId } from "./context.js";
import { REDACTED, sanitize, sanitizeError, scrubText } from "./redact.js";
import { tracingEnabled, zipkinTraceId, type TracingConfig } from "./tracing.js";

export type LogFormat = "json" | "text";

export interface LogRecord {
	level: string;
	time: string;
	msg?: string;
	nodeID?: string;
	ns?: string;
	mod?: string;
	svc?: string;
	requestId?: string;
	traceId?: string;
	data?: unknown;
	err?: Record<string, unknown>;
	[key: string]: unknown;
}

/**
 * Fields a caller built from values that cannot hold a secret (numbers, route patterns, ids), put
 * on the line as top-level fields without being sanitized: the access log's per-request price.
 */
export class TrustedFields {
	constructor(readonly fields: Readonly<Record<string, string | number | boolean | null>>) {}
}

/** Moleculer-style arguments as pino's `(mergingObject, message)`. */
export function normalizeArgs(args: unknown[]): [Record<string, unknown>, string | undefined] {
	// The access log's shape, (message, TrustedFields): no copy, no scan.
	if (args.length === 2 && args[1] instanceof TrustedFields && typeof args[0] === "string") return [{ ...args[1].fields }, args[0]];
	const text: string[] = [];
	const data: unknown[] = [];
	let err: Record<string, unknown> | undefined;
	for (const a of args) {
		if (typeof a === "string") text.push(scrubText(a));
		else if (a instanceof Error) {
			if (err) data.push(sanitizeError(a));
			else err = sanitizeError(a);
		} else if (a === null || a === undefined || typeof a !== "object") text.push(String(a));
		else data.push(sanitize(a));
	}
	const merge: Record<string, unknown> = {};
	if (err) merge.err = err;
	if (data.length === 1) merge.data = data[0];
	else if (data.length > 1) merge.data = data;
	const msg = text.length > 0 ? text.join(" ") : (err?.message as string | undefined);
	return [merge, msg];
}

type Tap = (line: string) => void;
const taps = new Set<Tap>();
let muted = 0;

/** Where log lines go: stdout as they are (json) or formatted (text), and to any capture. */
class LogSink implements DestinationStream {
	private out?: DestinationStream;
	constructor(private readonly format: LogFormat) {}

	write(line: string): void {
		for (const tap of taps) tap(line);
		if (muted > 0) return;
		if (this.format === "text") {
			process.stdout.write(formatLine(line));
			return;
		}
		this.out ??= pino.destination({ dest: 1, sync: true });
		this.out.write(line);
	}
}
const sinks: Partial<Record<LogFormat, LogSink>> = {};

/**
 * Also hand every log line (raw JSON) of every broker of this process to `tap`; with `mute`, lines
 * are not printed meanwhile. Answers the function that stops it (test/helpers/logs.ts captures logs with it).
 */
export function tapLogLines(tap: (line: string) => void, opts: { mute?: boolean } = {}): () => void {
	const mine: Tap = line => tap(line);
	taps.add(mine);
	const mutes = opts.mute ? 1 : 0;
	muted += mutes;
	let stopped = false;
	return () => {
		if (stopped) return;
		stopped = true;
		taps.delete(mine);
		muted -= mutes;
	};
}

const LEVEL_COLORS: Record<string, string> = { fatal: "\x1b[41m", error: "\x1b[31m", warn: "\x1b[33m", info: "\x1b[32m", debug: "\x1b[35m", trace: "\x1b[90m" };
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;

/** One JSON log line as one readable line (plus the stack of an error). */
export function formatLine(line: string): string {
	let rec: LogRecord;
	try {
		rec = JSON.parse(line) as LogRecord;
	} catch {
		return line;
	}
	const { level, time, msg, nodeID, ns: _ns, mod, svc: _svc, ver: _ver, requestId, traceId: _traceId, err, ...rest } = rec;
	const lvl = String(level).toUpperCase().padEnd(5);
	const where = `${nodeID ?? ""}/${String(mod ?? "").toUpperCase()}`;
	let out = `[${time}] ${useColor ? `${LEVEL_COLORS[level] ?? ""}${lvl}\x1b[0m` : lvl} ${where}:`;
	if (requestId) out += ` [${requestId}]`;
	if (msg !== undefined) out += ` ${msg}`;
	if (Object.keys(rest).length > 0) out += ` ${JSON.stringify(rest.data !== undefined && Object.keys(rest).length === 1 ? rest.data : rest)}`;
	if (err) {
		const { stack, message: _m, type: _t, ...fields } = err;
		if (Object.keys(fields).length > 0) out += ` ${JSON.stringify(fields)}`;
		if (typeof stack === "string") out += `\n${stack}`;
	}
	return `${out}\n`;
}

/** Fields pino itself blanks out, whatever put them there: the second net behind `sanitize`. */
const REDACT_PATHS = [
	"password",
	"data.password",
	"data.*.password",
	"data.currentPassword",
	"data.newPassword",
	"data.accessToken",
	"data.refreshToken",
	"data.*.accessToken",
	"data.*.refreshToken",
	"data.cardNumber",
	"data.*.cardNumber",
	"data.cvc",
	"data.*.cvc",
	"data.authorization",
	"data.headers.authorization",
	"data.*.headers.authorization",
	"err.data.password",
	"err.data.cardNumber",
	// A validation error repeats the value it refused: a mistyped card number or CVC, a password.
	"err.data[*].actual",
];

/** The `logger` broker option. */
export function loggerOptions(cfg: { logLevel: string; logFormat: LogFormat } & Partial<TracingConfig>): LoggerConfig {
	const traced = cfg.tracingExporter !== undefined && tracingEnabled(cfg as TracingConfig);
	const options: PinoOptions = {
		level: cfg.logLevel,
		base: null,
		timestamp: pino.stdTimeFunctions.isoTime,
		formatters: { level: label => ({ level: label }) },
		// Errors are plain objects already (sanitizeError); pino's serializer would rewrite them.
		serializers: { err: (e: unknown) => e },
		mixin() {
			const requestId = currentRequestId();
			if (!requestId) return {};
			return traced ? { requestId, traceId: zipkinTraceId(requestId) } : { requestId };
		},
		hooks: {
			logMethod(args, method) {
				const [merge, msg] = normalizeArgs(args as unknown[]);
				// A "%" in a message is text, not a placeholder: nothing follows it.
				return msg === undefined ? method.call(this, merge) : method.call(this, merge, msg);
			},
		},
		redact: { paths: REDACT_PATHS, censor: REDACTED },
	};
	sinks[cfg.logFormat] ??= new LogSink(cfg.logFormat);
	return {
		type: "Pino",
		options: {
			level: cfg.logLevel,
			pino: { options, destination: sinks[cfg.logFormat] },
		},
	} as LoggerConfig;
}
