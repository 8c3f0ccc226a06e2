/**
 * Which runtime is running: the one place that asks, for `adapters/` (which binding to open by
 * default) and `wake/` (which file watcher works here).
 *
 * @module
 */

/** The runtimes honker-ts knows. */
export type RuntimeKey = "bun" | "deno" | "node";

/** Which runtime is running this code, detected from its globals. */
export function runtimeKey(): RuntimeKey {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}
