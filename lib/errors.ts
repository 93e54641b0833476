/**
 * The errors a client can see, in Moleculer's shape `{ name, message, code, type, data }`.
 * Services throw these; the gateway turns anything else into a plain 500 without details.
 */
import { Errors } from "moleculer";

export interface FieldProblem {
	field: string;
	message: string;
	type?: string;
}

function named<E extends Error>(err: E, name: string): E {
	err.name = name;
	return err;
}

export function validationError(problems: FieldProblem[], message = "Parameters validation error!"): Errors.MoleculerClientError {
	return named(new Errors.MoleculerClientError(message, 422, "VALIDATION_ERROR", problems), "ValidationError");
}
export function invalidField(field: string, message: string, type = "invalid"): Errors.MoleculerClientError {
	return validationError([{ field, message, type }]);
}
/** A request that cannot be taken as it is (a webhook whose signature does not check out). */
export function badRequest(message: string, type = "BAD_REQUEST"): Errors.MoleculerClientError {
	return named(new Errors.MoleculerClientError(message, 400, type), "BadRequestError");
}
export function unauthorized(message = "Authentication required", type = "UNAUTHORIZED"): Errors.MoleculerClientError {
	return named(new Errors.MoleculerClientError(message, 401, type), "UnauthorizedError");
}
export function forbidden(message = "You are not allowed to do this", type = "FORBIDDEN"): Errors.MoleculerClientError {
	return named(new Errors.MoleculerClientError(message, 403, type), "ForbiddenError");
}
/** No route has this path (as opposed to a resource a route did not find). */
export function routeNotFound(): Errors.MoleculerClientError {
	return named(new Errors.MoleculerClientError("Not found", 404, "ROUTE_NOT_FOUND"), "NotFoundError");
}
export function notFound(what: string, id?: string): Errors.MoleculerClientError {
	return named(new Errors.MoleculerClientError(`${what} not found`, 404, "NOT_FOUND", id === undefined ? undefined : { id }), "NotFoundError");
}
export function methodNotAllowed(method: string, allowed: readonly string[]): Errors.MoleculerClientError {
	return named(
		new Errors.MoleculerClientError(`${method} is not allowed here; allowed: ${allowed.join(", ")}`, 405, "METHOD_NOT_ALLOWED", { allowed }),
		"MethodNotAllowedError",
	);
}
export function conflict(message: string, type = "CONFLICT", data?: unknown): Errors.MoleculerClientError {
	return named(new Errors.MoleculerClientError(message, 409, type, data), "ConflictError");
}
export function tooManyRequests(retryAfterSeconds: number, message = "Too many requests"): Errors.MoleculerClientError {
	return named(new Errors.MoleculerClientError(message, 429, "TOO_MANY_REQUESTS", { retryAfter: retryAfterSeconds }), "TooManyRequestsError");
}
export function payloadTooLarge(message: string): Errors.MoleculerClientError {
	return named(new Errors.MoleculerClientError(message, 413, "PAYLOAD_TOO_LARGE"), "PayloadTooLargeError");
}
export function unsupportedMediaType(message: string): Errors.MoleculerClientError {
	return named(new Errors.MoleculerClientError(message, 415, "UNSUPPORTED_MEDIA_TYPE"), "UnsupportedMediaTypeError");
}
export function unavailable(message = "A dependency is unavailable, try again later", data?: unknown): Errors.MoleculerRetryableError {
	return named(new Errors.MoleculerRetryableError(message, 503, "SERVICE_UNAVAILABLE", data), "ServiceUnavailableError");
}
