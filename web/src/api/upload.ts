/**
 * Files in and out with the access token: a multipart upload through XMLHttpRequest, for its
 * upload progress (fetch has none), and a download saved from a blob (a plain link could not
 * carry the Authorization header, and the token never goes into a URL).
 */
import { API, ApiError, NetworkError } from "./client";
import { currentAccessToken } from "./session";

export async function uploadForm<T>(path: string, form: FormData, expectedStatus: number, onProgress: (fraction: number) => void): Promise<T> {
	const token = await currentAccessToken().catch(() => null);
	return new Promise((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		xhr.open("POST", API + path);
		if (token) xhr.setRequestHeader("authorization", `Bearer ${token}`);
		xhr.upload.onprogress = e => e.lengthComputable && onProgress(e.loaded / e.total);
		xhr.onerror = () => reject(new NetworkError("upload failed"));
		xhr.onload = () => {
			let body: unknown = null;
			try {
				body = JSON.parse(xhr.responseText);
			} catch {
				/* not JSON */
			}
			if (xhr.status === expectedStatus) resolve(body as T);
			else reject(new ApiError(xhr.status, body as never, xhr.getResponseHeader("retry-after")));
		};
		xhr.send(form);
	});
}

/** GET `path` with the token and save the answer as `filename`. */
export async function downloadFile(path: string, filename: string): Promise<void> {
	const token = await currentAccessToken().catch(() => null);
	let res: Response;
	try {
		res = await fetch(API + path, { headers: token ? { authorization: `Bearer ${token}` } : {}, credentials: "omit" });
	} catch (err) {
		throw new NetworkError((err as Error)?.message ?? "network error");
	}
	if (!res.ok) {
		const body = (await res.json().catch(() => null)) as never;
		throw new ApiError(res.status, body, res.headers.get("retry-after"));
	}
	const url = URL.createObjectURL(await res.blob());
	try {
		const a = document.createElement("a");
		a.href = url;
		a.download = filename;
		document.body.append(a);
		a.click();
		a.remove();
	} finally {
		setTimeout(() => URL.revokeObjectURL(url), 10_000);
	}
}
