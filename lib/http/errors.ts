/**
 * Turns any error into what a client may see: the contract's shape, the right status, and
 * nothing internal (no stack, no node id, no action names, no echoed input such as passwords).
 */
export interface ClientErrorBody {
	name: string;
	message: string;
	code: number;
	type: string;
	data?: unknown;
}

interface AnyError {
	name?: string;
	message?: string;
	code?: unknown;
	status?: unknown;
	type?: string;
	data?: unknown;
}

/** Moleculer's "cannot reach it" errors: a 503 whatever code they carry (ServiceNotFoundError is a 404 in Moleculer). */
const UNAVAILABLE = new Set([
	"ServiceNotFoundError",
	"ServiceUnavailableError",
	"RequestRejectedError",
	"ServiceNotAvailableError",
	"RequestTimeoutError",
	"BrokerDisconnectedError",
	"RequestSkippedError",
	"QueueIsFullError",
	"BulkheadError",
	"MaxCallLevelError",
]);

export const UNAVAILABLE_BODY: ClientErrorBody = {
	name: "ServiceUnavailableError",
	message: "A service this request needs is unavailable, try again later",
	code: 503,
	type: "SERVICE_UNAVAILABLE",
};
const INTERNAL_BODY: ClientErrorBody = { name: "InternalServerError", message: "Internal server error", code: 500, type: "INTERNAL_ERROR" };

/** Every 5xx answers one of two fixed bodies: what failed inside (an action, a node, a message) is for the logs. */
export function toClientError(err: unknown): ClientErrorBody {
	const e = (err ?? {}) as AnyError;
	const rawCode = typeof e.code === "number" ? e.code : typeof e.status === "number" ? e.status : 500;

	if (e.name && UNAVAILABLE.has(e.name)) return { ...UNAVAILABLE_BODY };
	// body-parser errors
	if (e.type === "entity.parse.failed") return { name: "BadRequestError", message: "The request body is not valid JSON", code: 400, type: "INVALID_JSON" };
	if (e.type === "entity.too.large")
		return { name: "PayloadTooLargeError", message: "The request body is larger than 1 MiB", code: 413, type: "PAYLOAD_TOO_LARGE" };
	// An upload over its limit (the shop's own error, or busboy's end of the file through moleculer-web).
	if (rawCode === 413)
		return {
			name: "PayloadTooLargeError",
			message: e.name === "PayloadTooLargeError" && e.message ? e.message : "The uploaded file is too large",
			code: 413,
			type: "PAYLOAD_TOO_LARGE",
		};
	// busboy's refusals of a multipart body that is not well formed (moleculer-web passes them on as they are).
	if (rawCode === 500 && typeof e.message === "string" && /^(Malformed|Unexpected end of (form|file|multipart data)|Multipart: )/.test(e.message))
		return { name: "BadRequestError", message: "The multipart body is malformed", code: 400, type: "INVALID_MULTIPART" };
	if (e.type === "encoding.unsupported" || e.type === "charset.unsupported")
		return { name: "UnsupportedMediaTypeError", message: "Unsupported body encoding", code: 415, type: "UNSUPPORTED_MEDIA_TYPE" };

	if (rawCode >= 400 && rawCode < 500) {
		const body: ClientErrorBody = { name: e.name ?? "ClientError", message: e.message ?? "Bad request", code: rawCode, type: e.type ?? "CLIENT_ERROR" };
		if (e.name === "ValidationError" && Array.isArray(e.data)) {
			// fastest-validator echoes the offending value in `actual`: drop it (it may be a password).
			body.data = e.data.map((p: { field?: string; message?: string; type?: string; actual?: unknown }) =>
				// For unknown keys the "actual" value is the list of key names, which is safe to show.
				p.type === "objectStrict"
					? { field: [p.field, String(p.actual)].filter(Boolean).join("."), message: `Unknown field(s): ${String(p.actual)}`, type: p.type }
					: { field: p.field, message: p.message, type: p.type },
			);
		} else if (e.data !== undefined && e.name !== "ServiceNotFoundError") {
			body.data = e.data;
		}
		if (rawCode === 404 && e.name === "NotFoundError" && !e.data) body.message = "Not found";
		return body;
	}
	if (rawCode === 503) return { ...UNAVAILABLE_BODY };
	return { ...INTERNAL_BODY };
}
