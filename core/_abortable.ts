/**
 * An async iterator whose pending `next()` ends promptly on `return()` or abort. An async
 * generator cannot do that: its `return()` waits until the generator reaches a `yield`, so a
 * consumer breaking out of a loop would hang until the next wake.
 *
 * @module
 */

/**
 * Builds the iterator from `step`, which produces the next value or undefined to finish, and
 * must end promptly when the signal it is given aborts.
 */
export function abortableIterator<T>(
  step: (signal: AbortSignal) => Promise<T | undefined>,
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
  const iterator: AsyncIterableIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      if (finished || controller.signal.aborted) {
        finish();
        return { done: true, value: undefined };
      }
      try {
        const value = await step(controller.signal);
        if (value === undefined) {
          finish();
          return { done: true, value: undefined };
        }
        return { done: false, value };
      } catch (error) {
        finish();
        throw error;
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
