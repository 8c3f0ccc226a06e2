/**
 * Torture role: a scheduler leader candidate. Like an application's boot code, it adds the
 * `@every 1s` task (the same spec every time, also after being SIGKILLed and restarted) and then
 * runs `scheduler.run()` with a short lease as `<name>:<pid>`, so a restarted process is a new
 * owner that must wait out its predecessor's lease.
 *
 * Each add is recorded with the task's next boundary just before and just after it: a re-add
 * that moves the boundary past one that fell due unfired is what drops fires.
 *
 * ```sh
 * <runtime> tests/torture/scheduler.ts <db> <name> '{"busyTimeoutMs":10000}'
 * ```
 *
 * @module
 */

import process from "node:process";
import { runRole } from "./_role.ts";
import {
  READD_INSERT,
  SCHEDULER_LEASE_S,
  TICK_NEXT_SELECT,
  TICK_SPEC,
  TICK_TASK,
} from "./_shared.ts";
import type { RoleTuning } from "./_shared.ts";

await runRole<RoleTuning, Record<string, never>>(async ({ db, name, signal }) => {
  const scheduler = db.scheduler();
  const tick = () =>
    db.driver.get<{ next: number | null; now: number }>(TICK_NEXT_SELECT, [TICK_TASK]);
  const before = tick();
  scheduler.add(TICK_SPEC);
  const after = tick();
  db.transaction((tx) =>
    tx.run(READD_INSERT, [
      process.pid,
      Date.now(),
      before?.now ?? 0,
      before?.next ?? null,
      after?.next ?? null,
    ])
  );
  await scheduler.run({ owner: `${name}:${process.pid}`, leaseS: SCHEDULER_LEASE_S, signal });
  return {};
});
