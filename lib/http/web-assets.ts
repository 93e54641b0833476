/**
 * The web shop's files (storefront at `/`, back office at `/admin`), served by the gateway for
 * every path outside `/api` (the contract's "The web shop" section).
 *
 * - Built files come from `web/dist` (Vite). Hashed files under `/assets/` are immutable and
 *   cached for a year; `index.html` is never cached, so a new build is picked up at once.
 * - Client routes (`/products/123`, `/admin/orders`) fall back to `index.html`; `/api/*` never
 *   does (the gateway answers those itself, 404 or 405), nor does a missing file (`/assets/x.js`,
 *   `/favicon.ico`, anything under `/assets/`).
 * - Every answer carries a Content-Security-Policy without inline scripts.
 */
import fs from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import serveStatic from "serve-static";

import { WEB_DIST } from "../paths.js";
export { WEB_DIST };

export const CONTENT_SECURITY_POLICY = [
	"default-src 'self'",
	"script-src 'self'",
	"style-src 'self'",
	"img-src 'self' data:",
	"font-src 'self'",
	"connect-src 'self'",
	"object-src 'none'",
	"base-uri 'self'",
	"form-action 'self'",
	"frame-ancestors 'none'",
].join("; ");

type Next = (err?: unknown) => void;
export type WebAssetHandler = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

function securityHeaders(res: ServerResponse): void {
	res.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
	res.setHeader("X-Content-Type-Options", "nosniff");
	res.setHeader("Referrer-Policy", "no-referrer");
	res.setHeader("X-Frame-Options", "DENY");
}

/** A handler for requests outside /api: a built file, or index.html for a client route; `next()` when there is no build. */
export function webAssets(dist = WEB_DIST): WebAssetHandler {
	const index = path.join(dist, "index.html");
	const files = serveStatic(dist, {
		index: false,
		fallthrough: true,
		setHeaders(res, file) {
			securityHeaders(res);
			const immutable = file.startsWith(path.join(dist, "assets") + path.sep);
			res.setHeader("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
		},
	});
	return (req, res, next) => {
		if (!fs.existsSync(index)) return next();
		if (req.method !== "GET" && req.method !== "HEAD") return next();
		files(req, res, () => {
			// Not a file: a client route gets the app; a missing asset (a file name with an extension, or
			// anything under /assets/, which only holds built files) is a 404.
			const url = (req.url ?? "/").split("?")[0] ?? "/";
			if (path.extname(url) !== "" || url.startsWith("/assets/")) return next();
			securityHeaders(res);
			res.setHeader("Cache-Control", "no-cache");
			res.setHeader("Content-Type", "text/html; charset=utf-8");
			if (req.method === "HEAD") return res.end();
			fs.createReadStream(index).on("error", next).pipe(res);
		});
	};
}
