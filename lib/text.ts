/** Text helpers shared by services. */

/** A string matched literally inside a regular expression. */
export function escapeRegex(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
