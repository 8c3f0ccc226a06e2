/**
 * The idle cost of an open dashboard against an idle worker: the CPU time this process spends
 * over a quiet period with one browser's event stream open on the dashboard, then with one
 * `work()` loop waiting on an empty queue, each on its own fresh file with nothing committed.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { open } from "../mod.ts";
import { dashboard } from "../dashboard/mod.ts";

/** CPU milliseconds per second of wall time spent while `idle` holds its resources open. */
async function cpuWhile(
  periodMs: number,
  idle: () => Promise<() => Promise<void>>,
): Promise<number> {
  const stop = await idle();
  await new Promise((r) => setTimeout(r, 300)); // let start-up work (watcher, first reads) pass
  const cpu = process.cpuUsage();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, periodMs));
  const used = process.cpuUsage(cpu);
  const wallS = (performance.now() - started) / 1000;
  await stop();
  return (used.user + used.system) / 1000 / wallS;
}

/** CPU ms per s: an idle dashboard with one live page open, and an idle worker. */
export async function idleCosts(
  periodMs: number,
): Promise<{ dashboardMs: number; workerMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "honker-ts-dashboard-idle-"));
  try {
    const dashboardMs = await cpuWhile(periodMs, async () => {
      const db = await open(join(dir, "dashboard.db"));
      db.queue("emails").enqueue({ seeded: true });
      const handler = dashboard(db);
      const response = await handler(new Request("http://127.0.0.1/live"));
      const reader = response.body!.getReader();
      void (async () => {
        while (!(await reader.read()).done) { /* the browser reads each event */ }
      })().catch(() => {});
      return async () => {
        await reader.cancel();
        db.close();
      };
    });
    const workerMs = await cpuWhile(periodMs, async () => {
      const db = await open(join(dir, "worker.db"));
      const signal = new AbortController();
      const done = db.queue("emails").work(() => {}, { signal: signal.signal });
      return async () => {
        signal.abort();
        await done;
        db.close();
      };
    });
    return { dashboardMs, workerMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
