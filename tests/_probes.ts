/**
 * A Database whose own connection counts the change probes (`PRAGMA data_version` reads) the
 * watcher runs on it. The count is taken on the adapter's driver itself: `db.driver` is the
 * application's view of the connection, which the watcher's probes do not go through.
 *
 * @module
 */

import { open } from "../mod.ts";
import type { Database, OpenOptions } from "../mod.ts";
import { openDriver } from "../adapters/auto.ts";
import { statementLog } from "./_statement_log.ts";

/** Opens `path` with `options`, counting the probes its connection runs. */
export async function openCountingProbes(
  path: string,
  options: Omit<OpenOptions, "driver"> = {},
): Promise<{ db: Database; probes: () => number }> {
  const driver = statementLog(await openDriver(path));
  const db = await open(path, { ...options, driver });
  const probes = () => driver.log.filter((s) => s.sql.includes("data_version")).length;
  return { db, probes };
}
