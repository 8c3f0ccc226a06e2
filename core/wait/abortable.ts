/**
 * An async iterator whose pending `next()` ends promptly on `return()` or abort. An async
 * generator cannot do that: its `return()` waits until the generator reaches a `yield`, so a
 * consumer breaking out of a loop would hang until the next wake.
 *
 * @module
 */

/**
 * Builds the iterator from `step`, which produces the next value or undefined to finish, and
 * must end promptly when the signal it is given aborts. A step that has its value at hand may
 * return it directly: that saves two promise hops per value on hot paths (stream replay).
 */
export function abortableIterator<T>(
  step: (signal: AbortSignal) => T | undefined | Promise<T | undefined>,
  options: { signal?: AbortSignal; onFinish?: () => void } = {},
): AsyncIterableIterator<T> {
  const controller = new AbortController();
  const external = options.signal;
  const onExternalAbort = () => controller.abort(external?.reason);
  if (external?.aborted) controller.abort(external.reason);
  else external?.addEventListener("abort", onExternalAbort, { once: true });
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    external?.removeEventListener("abort", onExternalAbort);
    controller.abort();
    options.onFinish?.();
  };
  // Made once, not per value: `next()` runs once per event of a replay.
  const settle = (value: T | undefined): IteratorResult<T> => {
    if (value !== undefined) return { done: false, value };
    finish();
    return { done: true, value: undefined };
  };
  const fail = (error: unknown): never => {
    finish();
    throw error;
  };
  const iterator: AsyncIterableIterator<T> = {
    next(): Promise<IteratorResult<T>> {
      if (finished || controller.signal.aborted) {
        finish();
        return Promise.resolve({ done: true, value: undefined });
      }
      try {
        const value = step(controller.signal);
        return value instanceof Promise ? value.then(settle, fail) : Promise.resolve(settle(value));
      } catch (error) {
        finish();
        return Promise.reject(error);
      }
    },
    return(): Promise<IteratorResult<T>> {
      finish();
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
