/**
 * What an uploaded file is, by its first bytes (never by its name or the Content-Type a client
 * sent). Only the four raster formats the shop serves are recognised; SVG (a document that can
 * carry scripts), text and everything else are not images here.
 */
export type SourceFormat = "jpeg" | "png" | "webp" | "avif";

/** Bytes enough to tell every accepted format apart. */
export const SNIFF_BYTES = 32;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** ISO-BMFF brands of AVIF images and image sequences. */
const AVIF_BRANDS = new Set(["avif", "avis"]);

const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => sig.every((byte, i) => b[at + i] === byte);

export function sniffImageFormat(head: Uint8Array): SourceFormat | null {
	if (head.length >= 3 && startsWith(head, [0xff, 0xd8, 0xff])) return "jpeg";
	if (head.length >= 8 && startsWith(head, PNG_SIGNATURE)) return "png";
	if (head.length >= 12 && ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 12) === "WEBP") return "webp";
	if (head.length >= 12 && ascii(head, 4, 8) === "ftyp") {
		// The major brand, then compatible brands up to the end of the ftyp box (as far as we have it).
		const boxSize = (head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!;
		const end = Math.min(head.length, boxSize >= 16 ? boxSize : 16);
		for (let at = 8; at + 4 <= end; at += 4) {
			if (at === 12) continue; // minor version
			if (AVIF_BRANDS.has(ascii(head, at, at + 4))) return "avif";
		}
	}
	return null;
}

export const CONTENT_TYPES: Record<SourceFormat, string> = { jpeg: "image/jpeg", png: "image/png", webp: "image/webp", avif: "image/avif" };
