/**
 * How the main thread hears from a source's worker thread without a timer: the worker bumps a
 * counter in a SharedArrayBuffer and notifies it; `Atomics.waitAsync` resolves on the main thread.
 *
 * @module
 */

/**
 * Calls `onSignal` each time the worker bumps `flags[slot]`, until `stopped()` is true (a
 * notify on the slot ends the pending wait). The counter is read before `onSignal` looks at
 * anything: a signal that lands while `onSignal` runs leaves the counter unequal to the one it
 * was read as, so the next wait returns at once instead of absorbing that signal.
 */
export function followCounter(
  flags: Int32Array,
  slot: number,
  stopped: () => boolean,
  onSignal: () => void,
): void {
  const arm = (seen: number): void => {
    if (stopped()) return;
    const result = Atomics.waitAsync(flags, slot, seen);
    const next = () => {
      if (stopped()) return;
      const now = Atomics.load(flags, slot);
      onSignal();
      arm(now);
    };
    if (result.async) result.value.then(next);
    else queueMicrotask(next);
  };
  arm(Atomics.load(flags, slot));
}
