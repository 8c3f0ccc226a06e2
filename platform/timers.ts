/**
 * Timers that do not keep the process alive, on every runtime: the one place that knows how.
 * `core/` is handed {@linkcode unrefTimer} through the Database's init (it imports nothing
 * runtime-specific itself).
 *
 * @module
 */

/**
 * Makes a timer from the global `setTimeout`/`setInterval` not keep the process alive: its
 * `unref()` on Node and Bun (an object), `Deno.unrefTimer(id)` on Deno (a number).
 */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  if (typeof timer === "object" && timer !== null) {
    (timer as { unref?: () => void }).unref?.();
    return;
  }
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  deno?.unrefTimer?.(timer as unknown as number);
}
