/**
 * The demo's scheduler: `scheduler.run()` leads (ticks the `@every 2s` heartbeat that `main.ts`
 * registered) until stdin closes, then hands the lock back.
 *
 *   deno run -A demo/scheduler.ts <db> <name>
 *
 * @module
 */

import { open } from "../mod.ts";
import { report, roleArgs, runtimeName, stopWhenStdinCloses } from "./_role.ts";

const { path, name } = roleArgs();
const signal = stopWhenStdinCloses();
const db = await open(path);
const running = db.scheduler().run({ owner: `scheduler-${name}`, signal });
report("ready", { runtime: runtimeName(), wake: db.wakeSource });
await running;
// No boundary can fire after run() has returned: main.ts counts boundaries up to here.
report("done", { stoppedAtMs: Date.now() });
db.close();
