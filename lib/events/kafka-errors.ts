/** Bounded waits and the errors of the Kafka client, as the bus logs and judges them. */
import { findErrorBy } from "@platformatic/kafka";

/** `promise`, or a rejection naming `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
		timer.unref();
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An error's message with its innermost causes. */
export function describeError(err: unknown): string {
	if (!(err instanceof Error)) return String(err);
	// The client wraps causes in MultipleErrors (an AggregateError): name the innermost ones.
	const leaves: string[] = [];
	const walk = (e: Error) => {
		const nested = e instanceof AggregateError ? e.errors.filter((x): x is Error => x instanceof Error) : [];
		if (nested.length === 0) leaves.push(e.message);
		else nested.forEach(walk);
	};
	walk(err);
	const detail = [...new Set(leaves)].filter(m => m !== err.message).join("; ");
	return detail ? `${err.message} (${detail})` : err.message;
}

/** True when every leaf of a (possibly nested) client error is TOPIC_ALREADY_EXISTS. */
export function onlyTopicsExisted(err: unknown): boolean {
	const leaves: unknown[] = [];
	const walk = (e: unknown) => {
		if (e instanceof AggregateError && e.errors.length > 0) e.errors.forEach(walk);
		else leaves.push(e);
	};
	walk(err);
	return leaves.length > 0 && leaves.every(e => e instanceof Error && findErrorBy(e, "apiId", "TOPIC_ALREADY_EXISTS") !== null);
}
