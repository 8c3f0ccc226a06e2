/**
 * Optional automatic pruning of `_honker_notifications`: honker's `notify()` never prunes, so
 * without it the table grows without bound.
 *
 * @module
 */

import type { DatabaseContext } from "./_context.ts";
import { pruneNotifications } from "./notify.ts";
import type { PruneNotificationsOptions } from "./notify.ts";

/** How often the automatic pruner runs at most. */
export const RETENTION_INTERVAL_MS = 60_000;

/**
 * Prunes once now and then once a minute with `policy`; returns a function that stops it.
 * The timer never keeps the process alive, and a failed prune (say, the file is busy) is
 * simply tried again a minute later.
 */
export function startRetention(
  ctx: DatabaseContext,
  policy: PruneNotificationsOptions,
): () => void {
  const run = () => {
    try {
      pruneNotifications(ctx, policy);
    } catch {
      // Busy or closing: the next round catches up.
    }
  };
  pruneNotifications(ctx, policy); // Validates the policy, and prunes once right away.
  const timer = setInterval(run, RETENTION_INTERVAL_MS);
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}
