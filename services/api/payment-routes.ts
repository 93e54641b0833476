/**
 * The gateway's payment routes, outside the JSON API's body handling:
 *
 *   POST /api/v1/payments/webhooks/:provider   the provider's signed webhooks: the body is read
 *        as raw bytes (at most 256 KB) and handed over untouched, so the signature is checked over
 *        exactly what was signed, before anything is parsed (orders.paymentWebhook)
 *   GET|POST /api/v1/payments/simulated/sessions/:id   the simulated provider's confirmation page
 *        (an HTML form that works without JavaScript; also takes JSON), development and tests only
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "moleculer";
import type { ShopConfig } from "../../lib/config.js";
import { API_PREFIX } from "../../lib/http/routes.js";

const MAX_WEBHOOK_BYTES = 256 * 1024;

/** The public routes served here, outside lib/http/routes.ts (their bodies are not JSON to parse). */
export const RAW_BODY_ROUTES: readonly { method: string; path: string }[] = [{ method: "POST", path: "/payments/webhooks/:provider" }];
/** The headers a provider's signature is in. */
const SIGNATURE_HEADERS = ["stripe-signature", "webhook-id", "webhook-timestamp", "webhook-signature"];

type RawRequest = IncomingMessage & { $rawBody?: Buffer; $params?: Record<string, unknown> };
type Next = (err?: unknown) => void;

/** Reads the body as it came, bounded; a larger one is refused (413) before it is read to the end. */
function readRawBody(req: RawRequest, res: ServerResponse, next: Next): void {
	const chunks: Buffer[] = [];
	let size = 0;
	let done = false;
	req.on("data", (chunk: Buffer) => {
		size += chunk.length;
		if (size > MAX_WEBHOOK_BYTES && !done) {
			done = true;
			res.writeHead(413, { "Content-Type": "application/json; charset=utf-8", Connection: "close" });
			res.end(JSON.stringify({ name: "PayloadTooLarge", message: "The webhook body is too large", code: 413, type: "PAYLOAD_TOO_LARGE" }));
			req.destroy();
			return;
		}
		chunks.push(chunk);
	});
	req.on("end", () => {
		if (done) return;
		done = true;
		req.$rawBody = Buffer.concat(chunks);
		next();
	});
	req.on("error", err => {
		if (!done) next(err);
	});
}

function webhookParams(_ctx: Context, _route: unknown, req: RawRequest) {
	const params = req.$params ?? {};
	params.rawBody = (req.$rawBody ?? Buffer.alloc(0)).toString("base64");
	params.headers = Object.fromEntries(SIGNATURE_HEADERS.flatMap(h => (typeof req.headers[h] === "string" ? [[h, req.headers[h]]] : [])));
}

/** The confirmation page answers a form with a page, JSON with JSON. */
function confirmationKind(ctx: Context<unknown, Record<string, unknown>>, _route: unknown, req: IncomingMessage) {
	ctx.meta.wantsHtml = !String(req.headers["content-type"] ?? "").includes("json");
}

function htmlAnswer(ctx: Context<unknown, { $statusCode?: number }>, _route: unknown, _req: IncomingMessage, _res: ServerResponse, data: unknown) {
	ctx.meta.$statusCode ??= 200;
	return data;
}

export function paymentRoutes(cfg: ShopConfig) {
	const base = { mappingPolicy: "restrict", autoAliases: false, authentication: false, authorization: false, callOptions: { timeout: cfg.requestTimeoutMs } };
	const routes: Record<string, unknown>[] = [
		{
			...base,
			path: `${API_PREFIX}/payments/webhooks`,
			bodyParsers: false,
			mergeParams: true,
			use: [readRawBody],
			aliases: { "POST /:provider": "orders.paymentWebhook" },
			onBeforeCall: webhookParams,
		},
	];
	if (cfg.payments.provider === "simulated")
		routes.push({
			...base,
			path: `${API_PREFIX}/payments/simulated`,
			bodyParsers: { json: { limit: "16kb", strict: true }, urlencoded: { extended: false, limit: "16kb" } },
			mergeParams: true,
			aliases: { "GET /sessions/:id": "orders.simulatedConfirmPage", "POST /sessions/:id": "orders.simulatedConfirm" },
			onBeforeCall: confirmationKind,
			onAfterCall: htmlAnswer,
		});
	return routes;
}
