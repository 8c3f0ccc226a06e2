// `npm run demo` works: demo/main.ts runs five processes on Node, Deno and Bun for a few
// seconds, stops them and proves from the file that nothing was lost.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runtimeKey } from "./_runtime.ts";
import { runScript } from "./_spawn.ts";
import { rmSync } from "node:fs";
import { dirname } from "node:path";

const MAIN = fileURLToPath(new URL("../demo/main.ts", import.meta.url));
const CLI = fileURLToPath(new URL("../cli/main.ts", import.meta.url));
const BIN = fileURLToPath(new URL("../node_modules/.bin/", import.meta.url));

// The demo spans all three runtimes by itself, so one suite runs it.
const skip = runtimeKey() !== "node"
  ? "the demo starts Node, Deno and Bun processes itself; it runs once, from the Node suite"
  : ["node", "deno", "bun"].some((bin) => !existsSync(`${BIN}${bin}`))
  ? "a runtime binary is missing from node_modules/.bin (run npm ci)"
  : undefined;

describe("npm run demo", () => {
  it("demo/main.ts --seconds 5 exits 0 and proves nothing was lost", {
    skip,
    timeout: 120_000,
  }, async () => {
    const result = await runScript(MAIN, ["--seconds", "5", "--keep"]);
    const output = `${result.stdout}\n${result.stderr}`;
    assert.equal(result.code, 0, output);
    assert.match(result.stdout, /^Nothing was lost: /m, output);
    assert.doesNotMatch(result.stdout, /FAIL/, output);
    // Not a terminal: plain lines, no escape sequences.
    assert.ok(!result.stdout.includes("\x1b["), output);
    for (const name of ["processes", "orders", "jobs", "stream", "scheduler", "integrity"]) {
      assert.match(result.stdout, new RegExp(`^  ok   ${name} `, "m"), output);
    }
    // The CLI reads the demo's file: the workers' queue drained, the stream's consumer caught up.
    const kept = /The database is kept at (.+)$/m.exec(result.stdout)?.[1];
    assert.ok(kept, output);
    const stats = await runScript(CLI, ["stats", kept, "--json"]);
    assert.equal(stats.code, 0, stats.stderr);
    const report = JSON.parse(stats.stdout) as {
      queues: Array<{ name: string; pending: number; processing: number; dead: number }>;
      streams: Array<{ consumers: Array<{ lag: number }> }>;
      schedules: unknown[];
    };
    assert.ok(report.streams.length > 0 && report.schedules.length > 0, stats.stdout);
    // Acked jobs are deleted, so a drained queue has no rows left to list: only the scheduler's
    // heartbeat jobs, which nothing consumes, may still be there.
    assert.deepEqual(report.queues.filter((q) => q.name !== "heartbeats"), []);
    for (const c of report.streams.flatMap((s) => s.consumers)) assert.equal(c.lag, 0);
    rmSync(dirname(kept), { recursive: true, force: true });
  });
});
