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

/** Opens `path` with `options`, counting the probes its connection runs. */
export async function openCountingProbes(
  path: string,
  options: Omit<OpenOptions, "driver"> = {},
): Promise<{ db: Database; probes: () => number }> {
  const driver = await openDriver(path);
  const get = driver.get.bind(driver);
  let count = 0;
  driver.get = ((sql: string, params?: unknown) => {
    if (sql.includes("data_version")) count++;
    return get(sql, params as never);
  }) as typeof driver.get;
  const db = await open(path, { ...options, driver });
  return { db, probes: () => count };
}
