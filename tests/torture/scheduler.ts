/**
 * Torture role: a scheduler leader candidate (`scheduler.run()` with a short lease). The
 * `@every 1s` task itself is registered by the driver before any role starts.
 *
 * ```sh
 * <runtime> tests/torture/scheduler.ts <db> <name> '{}'
 * ```
 *
 * @module
 */

import { runRole } from "./_role.ts";
import { SCHEDULER_LEASE_S } from "./_shared.ts";

await runRole<Record<string, never>, Record<string, never>>(async ({ db, name, signal }) => {
  await db.scheduler().run({ owner: name, leaseS: SCHEDULER_LEASE_S, signal });
  return {};
});
