/** What an upload may be (the contract: 10 MB, 40 megapixels). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Room for the multipart boundaries and the small fields next to the file, in a declared Content-Length. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
/** Decompression bombs: a few KB of PNG can declare a 60-megapixel canvas (sharp's limitInputPixels). */
export const MAX_INPUT_PIXELS = 40_000_000;
