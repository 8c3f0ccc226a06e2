// bench/ab.ts, the A/B of honker-ts alone on one of peers.ts's cases: bad arguments are refused
// with a message that names them, and a one-pair run of two environments prints each variant's
// figures. The figures themselves are the benchmark's business, not a test's.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript } from "./_spawn.ts";

const AB = fileURLToPath(new URL("../bench/ab.ts", import.meta.url));

describe("bench/ab.ts", () => {
  it(
    "refuses an unknown argument, runtime or case, and a run with neither --old nor --env, naming why",
    {
      timeout: 60_000,
    },
    async () => {
      const unknown = await runScript(AB, ["--bogus=1"]);
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, /Cannot run the A\/B: unknown argument "--bogus=1"/);
      const neither = await runScript(AB, ["--case=idle-latency"]);
      assert.equal(neither.code, 2, neither.stderr);
      assert.match(neither.stderr, /give either --old=DIR or --env=A,B/);
      const badRuntime = await runScript(AB, ["--env=A=1,A=2", "--runtimes=node,java"]);
      assert.equal(badRuntime.code, 2, badRuntime.stderr);
      assert.match(badRuntime.stderr, /unknown runtime "java"/);
      const badCase = await runScript(AB, ["--env=A=1,A=2", "--case=nope"]);
      assert.equal(badCase.code, 2, badCase.stderr);
      assert.match(badCase.stderr, /has no case "nope"/);
    },
  );

  it("runs both variants of one pair and prints each one's figures", {
    timeout: 300_000,
  }, async () => {
    const run = await runScript(AB, [
      "--env=AB_SIDE=1,AB_SIDE=2",
      "--case=idle-latency",
      "--pairs=1",
    ]);
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    for (const side of ["AB_SIDE=1", "AB_SIDE=2"]) {
      const line = run.stdout.split("\n").find((l) => l.includes(` ${side} `));
      assert.ok(line, `no line for ${side} in:\n${run.stdout}`);
      assert.match(line, /p50 \d+\.\d\d \(\d+\.\d\d\)/);
      assert.match(line, /statements \d+\.\d\d/);
    }
  });
});
