/** Images for the media tests, made on the spot (sharp, zlib): no fixtures, no downloads. */
import http from "node:http";
import zlib from "node:zlib";
import sharp from "sharp";

export type TestFormat = "jpeg" | "png" | "webp" | "avif";

/** A colourful `width`×`height` image (a gradient, so encoders have something to do). */
export async function makeImage(format: TestFormat, width = 640, height = 480): Promise<Buffer> {
	const raw = Buffer.alloc(width * height * 3);
	for (let y = 0; y < height; y++)
		for (let x = 0; x < width; x++) {
			const at = (y * width + x) * 3;
			raw[at] = (x * 255) / width;
			raw[at + 1] = (y * 255) / height;
			raw[at + 2] = 128;
		}
	const img = sharp(raw, { raw: { width, height, channels: 3 } });
	return img.toFormat(format === "jpeg" ? "jpeg" : format).toBuffer();
}

/** A JPEG carrying GPS coordinates in its EXIF, and orientation 6 (the camera held upright). */
export async function jpegWithGps(width = 400, height = 200): Promise<Buffer> {
	const base = await makeImage("jpeg", width, height);
	return sharp(base)
		.withExif({
			IFD0: { Make: "TestPhone" },
			IFD3: { GPSLatitudeRef: "N", GPSLatitude: "40/1 26/1 46/1", GPSLongitudeRef: "W", GPSLongitude: "3/1 42/1 15/1" },
		})
		.withMetadata({ orientation: 6 })
		.jpeg()
		.toBuffer();
}

function chunk(type: string, data: Buffer): Buffer {
	const len = Buffer.alloc(4);
	len.writeUInt32BE(data.length);
	const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(zlib.crc32(body));
	return Buffer.concat([len, body, crc]);
}

/** A valid greyscale PNG of `width`×`height` pixels, all black: tens of KB however many megapixels (a decompression bomb). */
export function bombPng(width = 8000, height = 7500): Buffer {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = 8; // bit depth
	ihdr[9] = 0; // greyscale
	const rows = Buffer.alloc((width + 1) * height); // filter byte 0 and zero pixels per row
	const idat = zlib.deflateSync(rows, { level: 9 });
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk("IHDR", ihdr),
		chunk("IDAT", idat),
		chunk("IEND", Buffer.alloc(0)),
	]);
}

export interface UploadOptions {
	filename?: string;
	contentType?: string;
	alt?: string;
	variantId?: string;
	token?: string;
}

/** POST a multipart upload (fields first, then the file) through fetch. */
export async function uploadImage(baseUrl: string, productId: string, file: Buffer, opts: UploadOptions = {}) {
	const form = new FormData();
	if (opts.alt !== undefined) form.append("alt", opts.alt);
	if (opts.variantId !== undefined) form.append("variantId", opts.variantId);
	form.append("file", new Blob([new Uint8Array(file)], { type: opts.contentType ?? "application/octet-stream" }), opts.filename ?? "image.bin");
	const res = await fetch(`${baseUrl}/api/v1/products/${productId}/images`, {
		method: "POST",
		body: form,
		headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
	});
	const text = await res.text();
	let body: any = text;
	try {
		body = JSON.parse(text);
	} catch {
		/* not JSON */
	}
	return { status: res.status, headers: res.headers, body };
}

/**
 * A multipart upload of `size` bytes through node:http, which reads the answer even when the
 * server answers before the body is sent (fetch would report the closed socket instead).
 */
export function uploadLarge(baseUrl: string, productId: string, size: number, token: string): Promise<{ status: number; body: string; sent: number }> {
	const boundary = "----shoptest";
	const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
	const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
	const url = new URL(`${baseUrl}/api/v1/products/${productId}/images`);
	return new Promise((resolve, reject) => {
		let sent = 0;
		const req = http.request(
			{
				method: "POST",
				host: url.hostname,
				port: url.port,
				path: url.pathname,
				headers: {
					"content-type": `multipart/form-data; boundary=${boundary}`,
					"content-length": head.length + size + tail.length,
					authorization: `Bearer ${token}`,
				},
			},
			res => {
				let body = "";
				res.setEncoding("utf8");
				res.on("data", d => (body += d));
				res.on("end", () => resolve({ status: res.statusCode ?? 0, body, sent }));
			},
		);
		req.on("error", err => (sent > 0 ? undefined : reject(err)));
		req.write(head);
		// A JPEG's first bytes, then filler, in 64 KiB pieces while the server keeps reading.
		const piece = Buffer.alloc(64 * 1024, 0x41);
		piece[0] = 0xff;
		piece[1] = 0xd8;
		piece[2] = 0xff;
		const pump = () => {
			while (sent < size) {
				const n = Math.min(piece.length, size - sent);
				sent += n;
				if (!req.write(piece.subarray(0, n))) return void req.once("drain", pump);
			}
			req.end(tail);
		};
		pump();
	});
}

/** The EXIF GPS IFD pointer (tag 0x8825), little-endian as sharp writes it. */
export const GPS_IFD_TAG = Buffer.from([0x25, 0x88]);

/** A request with the path exactly as given (no URL normalisation of `..`). */
export function rawRequest(
	baseUrl: string,
	method: string,
	path: string,
	headers: Record<string, string> = {},
	body?: string,
): Promise<{ status: number; body: string }> {
	const url = new URL(baseUrl);
	return new Promise((resolve, reject) => {
		const req = http.request(
			{ method, host: url.hostname, port: url.port, path, headers: body ? { "content-type": "application/json", ...headers } : headers },
			res => {
				let body = "";
				res.on("data", d => (body += d));
				res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
			},
		);
		req.on("error", reject);
		req.end(body);
	});
}

export const rawGet = (baseUrl: string, path: string, headers: Record<string, string> = {}) => rawRequest(baseUrl, "GET", path, headers);
