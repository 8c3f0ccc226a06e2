/**
 * An async iterator whose pending `next()` ends promptly on `return()` or abort. An async
 * generator cannot do that: its `return()` waits until the generator reaches a `yield`, so a
 * consumer breaking out of a loop would hang until the next wake.
 *
 * @module
 */

/** What `step` may return: the next value, or undefined to finish. */
type Step<T> = (signal: AbortSignal) => T | undefined | Promise<T | undefined>;

/** The iterator's life: its own abort signal, which follows the caller's, and its one end. */
interface Lifetime {
  readonly signal: AbortSignal;
  /** True once finished or aborted: `next()` produces nothing more. */
  over(): boolean;
  /** Ends it (once): stops following the caller's signal, aborts, runs `onFinish`. */
  finish(): void;
}

function lifetime(options: { signal?: AbortSignal; onFinish?: () => void }): Lifetime {
  const controller = new AbortController();
  const external = options.signal;
  const onExternalAbort = () => controller.abort(external?.reason);
  if (external?.aborted) controller.abort(external.reason);
  else external?.addEventListener("abort", onExternalAbort, { once: true });
  let finished = false;
  return {
    signal: controller.signal,
    over: () => finished || controller.signal.aborted,
    finish() {
      if (finished) return;
      finished = true;
      external?.removeEventListener("abort", onExternalAbort);
      controller.abort();
      options.onFinish?.();
    },
  };
}

/** The iterator's `next()`: one step, finishing the lifetime when it ends or throws. */
function stepper<T>(step: Step<T>, life: Lifetime): () => Promise<IteratorResult<T>> {
  // Made once, not per value: `next()` runs once per event of a replay.
  const settle = (value: T | undefined): IteratorResult<T> => {
    if (value !== undefined) return { done: false, value };
    life.finish();
    return { done: true, value: undefined };
  };
  const fail = (error: unknown): never => {
    life.finish();
    throw error;
  };
  return () => {
    if (life.over()) {
      life.finish();
      return Promise.resolve({ done: true, value: undefined });
    }
    try {
      const value = step(life.signal);
      return value instanceof Promise ? value.then(settle, fail) : Promise.resolve(settle(value));
    } catch (error) {
      life.finish();
      return Promise.reject(error);
    }
  };
}

/**
 * Builds the iterator from `step`, which produces the next value or undefined to finish, and
 * must end promptly when the signal it is given aborts. A step that has its value at hand may
 * return it directly: that saves two promise hops per value on hot paths (stream replay).
 */
export function abortableIterator<T>(
  step: (signal: AbortSignal) => T | undefined | Promise<T | undefined>,
  options: { signal?: AbortSignal; onFinish?: () => void } = {},
): AsyncIterableIterator<T> {
  const life = lifetime(options);
  const iterator: AsyncIterableIterator<T> = {
    next: stepper(step, life),
    return(): Promise<IteratorResult<T>> {
      life.finish();
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
