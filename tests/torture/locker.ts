/**
 * Torture role: another process that holds the write lock for seconds, as a migration, a backup
 * or a slow batch job of the application would. It loops: pause a random few seconds,
 * `BEGIN IMMEDIATE` on its own connection, hold the lock a random while (awaiting a timer, so its
 * own event loop keeps running), record the hold inside it, `COMMIT`. Killed mid-hold, it leaves
 * no row: SQLite releases the lock with the process.
 *
 * It prints `holding` and `released` around each hold, so the driver can SIGKILL it mid-hold.
 *
 * ```sh
 * <runtime> tests/torture/locker.ts <db> <name> \
 *   '{"gapMinS":2,"gapMaxS":8,"holdMinS":1,"holdMaxS":6,"busyTimeoutMs":10000}'
 * ```
 *
 * @module
 */

import process from "node:process";
import { runRole, say } from "./_role.ts";
import { sleep } from "../../core/wait/sleep.ts";
import { HOLD_INSERT } from "./_shared.ts";
import type { LockerConfig } from "./_shared.ts";

/** What a locker did. */
interface LockerStats {
  holds: number;
  heldMs: number;
  longestMs: number;
}

const between = (minS: number, maxS: number) => (minS + Math.random() * (maxS - minS)) * 1000;

await runRole<LockerConfig, LockerStats>(async ({ db, config, signal }) => {
  const stats: LockerStats = { holds: 0, heldMs: 0, longestMs: 0 };
  for (;;) {
    await sleep(between(config.gapMinS, config.gapMaxS), signal);
    if (signal.aborted) break;
    // Waits up to busyTimeoutMs for another writer, like any application write.
    db.driver.exec("BEGIN IMMEDIATE");
    const startedAt = Date.now();
    say("holding");
    try {
      // Stopping mid-hold ends the hold early: a clean stop should not wait it out.
      await sleep(between(config.holdMinS, config.holdMaxS), signal);
      const heldMs = Date.now() - startedAt;
      db.driver.run(HOLD_INSERT, [process.pid, startedAt, heldMs]);
      db.driver.exec("COMMIT");
      stats.holds++;
      stats.heldMs += heldMs;
      stats.longestMs = Math.max(stats.longestMs, heldMs);
    } catch (error) {
      db.driver.exec("ROLLBACK");
      throw error;
    }
    say("released");
  }
  return stats;
});
