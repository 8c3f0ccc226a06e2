/**
 * A Database whose own connection counts the change probes the watcher runs on it: its
 * `PRAGMA data_version` reads and its reads of the WAL index header (`wake/shm_header.ts`),
 * which answer most probes without a statement. The statements are counted on the adapter's
 * driver itself: `db.driver` is the application's view of the connection, which the watcher's
 * probes do not go through. Header reads are counted per file, so only this Database may look
 * at the file in this process while counting (its workers' look stamps count too).
 *
 * @module
 */

import { open } from "../mod.ts";
import type { Database, OpenOptions } from "../mod.ts";
import { openDriver } from "../adapters/auto.ts";
import { statementLog } from "./_statement_log.ts";
import { shmHeaderReads } from "../wake/shm_header.ts";

/** Opens `path` with `options`, counting the probes its connection runs. */
export async function openCountingProbes(
  path: string,
  options: Omit<OpenOptions, "driver"> = {},
): Promise<{ db: Database; probes: () => number }> {
  const driver = statementLog(await openDriver(path));
  const db = await open(path, { ...options, driver });
  const probes = () =>
    driver.log.filter((s) => s.sql.includes("data_version")).length + shmHeaderReads(path);
  return { db, probes };
}
