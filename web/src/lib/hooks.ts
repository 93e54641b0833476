import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, IdempotencyKeys } from "../api/client";

export interface Loaded<T> {
	data: T | undefined;
	error: unknown;
	loading: boolean;
	reload(): void;
	set(data: T): void;
}

/** Load something when `deps` change; the latest answer wins. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
	const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true });
	const [tick, setTick] = useState(0);
	useEffect(() => {
		const ctrl = new AbortController();
		setState(s => ({ ...s, loading: true }));
		load(ctrl.signal).then(
			data => !ctrl.signal.aborted && setState({ data, error: null, loading: false }),
			error => !ctrl.signal.aborted && (error as Error)?.name !== "AbortError" && setState(s => ({ data: s.data, error, loading: false })),
		);
		return () => ctrl.abort();
	}, [...deps, tick]);
	return {
		...state,
		reload: useCallback(() => setTick(n => n + 1), []),
		set: useCallback((data: T) => setState({ data, error: null, loading: false }), []),
	};
}

export interface Submit<A extends unknown[]> {
	run(...args: A): Promise<boolean>;
	busy: boolean;
	error: unknown;
	/** 422 field problems: `fields["shippingAddress.city"]`. */
	fields: Record<string, string>;
	done: boolean;
	reset(): void;
}

/**
 * A form submit: busy while it runs, the error (and the 422 field errors) when it fails. The
 * function gets an idempotency key that stays the same while the same body is retried.
 */
export function useSubmit<A extends unknown[]>(fn: (keys: IdempotencyKeys, ...args: A) => Promise<unknown>): Submit<A> {
	const keys = useRef(new IdempotencyKeys());
	const [state, setState] = useState<{ busy: boolean; error: unknown; done: boolean }>({ busy: false, error: null, done: false });
	const mounted = useRef(true);
	useEffect(() => () => void (mounted.current = false), []);
	const run = async (...args: A) => {
		setState({ busy: true, error: null, done: false });
		try {
			await fn(keys.current, ...args);
			keys.current.done();
			if (mounted.current) setState({ busy: false, error: null, done: true });
			return true;
		} catch (error) {
			if (mounted.current) setState({ busy: false, error, done: false });
			return false;
		}
	};
	return {
		run,
		...state,
		fields: state.error instanceof ApiError ? state.error.fields : {},
		reset: () => setState({ busy: false, error: null, done: false }),
	};
}

/** Poll `fn` with a growing delay (from `first` ms, ×`factor`, at most `max` ms) while `active`. */
export function usePolling(
	fn: () => Promise<boolean | void>,
	active: boolean,
	opts: { first?: number; factor?: number; max?: number } = {},
	deps: unknown[] = [],
): void {
	const { first = 500, factor = 1.6, max = 5000 } = opts;
	useEffect(() => {
		if (!active) return;
		let delay = first;
		let timer: ReturnType<typeof setTimeout> | undefined;
		let stopped = false;
		const tick = async () => {
			if (stopped) return;
			let again = true;
			try {
				again = (await fn()) !== false;
			} catch {
				/* a failed poll waits longer and tries again */
			}
			if (stopped || !again) return;
			delay = Math.min(max, Math.round(delay * factor));
			timer = setTimeout(tick, delay);
		};
		timer = setTimeout(tick, delay);
		return () => {
			stopped = true;
			clearTimeout(timer);
		};
	}, [active, ...deps]);
}

export function useDebounced<T>(value: T, ms: number): T {
	const [v, setV] = useState(value);
	useEffect(() => {
		const id = setTimeout(() => setV(value), ms);
		return () => clearTimeout(id);
	}, [value, ms]);
	return v;
}
